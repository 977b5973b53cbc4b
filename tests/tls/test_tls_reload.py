"""SIGHUP makes duplex-echo read its certificate and key again: new connections see the new
certificate (its serial), connections already open keep theirs and keep working, and a broken
file is reported and changes nothing."""

import shutil
import signal
import time

import pki as pki_module
from conftest import client_context, connect, echo_once, peer_serial, run, wss_url


def wait_for(server, text: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.stderr():
        assert time.monotonic() < deadline, f"no {text!r} in stderr: {server.stderr()}"
        time.sleep(0.05)


def test_sighup_reloads_the_certificate_for_new_connections(wss_echo, pki, tmp_path):
    cert, key = tmp_path / "live.pem", tmp_path / "live.key"
    shutil.copy(pki / "server.pem", cert)
    shutil.copy(pki / "server.key", key)
    server = wss_echo(cert=cert, key=key)
    context = client_context(pki)

    async def connect_and_check(expected_serial):
        async with connect(wss_url(server), context) as ws:
            assert peer_serial(ws) == expected_serial
            await echo_once(ws, "hello")

    async def go():
        old = await connect(wss_url(server, "/old"), context).__aenter__()
        try:
            assert peer_serial(old) == pki_module.SERVER_SERIAL

            # A renewal replaces both files, then signals.
            shutil.copy(pki / "renewed.pem", cert)
            shutil.copy(pki / "renewed.key", key)
            server.proc.send_signal(signal.SIGHUP)
            wait_for(server, "certificate reloaded")
            await connect_and_check(pki_module.RENEWED_SERIAL)
            await echo_once(old, "the open connection keeps its session")

            # A half-written renewal: the key no longer matches. Nothing changes.
            shutil.copy(pki / "server.key", key)
            server.proc.send_signal(signal.SIGHUP)
            wait_for(server, "reload failed, keeping the old certificate")
            assert "does not match" in server.stderr()
            await connect_and_check(pki_module.RENEWED_SERIAL)
            await echo_once(old, "still fine")
        finally:
            await old.close()

    run(go())
