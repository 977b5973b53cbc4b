import pytest

# Every bad-input case gets a fresh duplex-echo with short limits, so a crash or a sanitizer
# report is charged to the case that caused it. The fixture's teardown (tests/conftest.py)
# fails the case unless the server then exits 0 on SIGTERM with a clean stderr.
HANDSHAKE_TIMEOUT = 2
MAX_MESSAGE = 65536


@pytest.fixture
def server(start_server):
    echo = start_server.echo("--handshake-timeout", str(HANDSHAKE_TIMEOUT),
                             "--max-message", str(MAX_MESSAGE))
    echo.handshake_timeout = HANDSHAKE_TIMEOUT
    echo.max_message = MAX_MESSAGE
    return echo
