"""duplexd's command line: --version, --flag=value beside --flag value, one error line (and
"see --help") for a bad flag, startup lines that name what the page really uses, `duplexd token`
minting tokens the hub accepts, `duplexd check-config` naming the wrong line, and one duplexd
per --data directory."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import websockets

import duplexd_service as d
from support import servers


def echo_command() -> str:
    return os.environ.get("DUPLEX_ECHO") or str(servers.REPO / "build/release/apps/duplex-echo")


def test_version_names_the_program_and_a_version():
    for command in (d.duplexd_command(), echo_command()):
        result = d.run_program(command, "--version")
        assert result.returncode == 0
        assert re.fullmatch(r"duplex(d|-echo) \d+\.\d+\.\d+\n", result.stdout), result.stdout


def test_a_bad_flag_is_one_line_that_points_to_help():
    for command, args, error in [
            (d.duplexd_command(), ["--no-such-flag"], "unknown flag --no-such-flag"),
            (d.duplexd_command(), ["--port=abc"], "bad value for --port: abc"),
            (d.duplexd_command(), ["--quiet=yes"], "--quiet takes no value"),
            (echo_command(), ["--port"], "missing value for --port"),
            (echo_command(), ["--log-format=xml"], "bad value for --log-format: xml")]:
        result = d.run_program(command, *args)
        name = os.path.basename(command)
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr == f"{name}: {error} (see {name} --help)\n"


def test_the_benchmark_tools_share_version_and_one_line_errors():
    tools = [(name, os.environ.get(variable) or str(servers.REPO / "build/release/bench" / name))
             for name, variable in [("duplex-loadgen", "DUPLEX_LOADGEN"),
                                    ("duplex-soak", "DUPLEX_SOAK")]]
    tools = [(name, path) for name, path in tools if os.path.exists(path)]
    if not tools:
        pytest.skip("the benchmark tools are not built")
    for name, path in tools:
        version = d.run_program(path, "--version")
        assert re.fullmatch(rf"{name} \d+\.\d+\.\d+\n", version.stdout)
        bad = d.run_program(path, "--port=1", "--bogus")
        assert (bad.returncode, bad.stdout) == (2, "")
        assert bad.stderr == f"{name}: unknown flag --bogus (see {name} --help)\n"
        assert d.run_program(path, "--help").stdout.startswith(f"usage: {name}")


def test_duplexd_help_names_the_proxies_and_the_loops():
    result = d.run_program(d.duplexd_command(), "--help")
    assert result.returncode == 0
    # The hub config's back-end proxies (issue #17) and --threads' default (issue #13).
    assert '"proxies"' in result.stdout and "connect, subscribe," in result.stdout
    assert "publish and rpc" in result.stdout
    assert "--threads N" in result.stdout and "one per core" in result.stdout


def thread_count(server: servers.ServerProcess) -> int:
    return len(os.listdir(f"/proc/{server.pid}/task"))


def test_one_loop_per_core_by_default(tmp_path, monkeypatch):
    """Without --threads, duplexd and duplex-echo run as many loops (threads) as the cores they
    may run on: the same threads as --threads <cores>, and cores - 1 more than --threads 1."""
    # It measures the default, so not the loops that ctest's loops1/loops4 runs ask for.
    monkeypatch.delenv("DUPLEXD_THREADS", raising=False)
    cores = len(os.sched_getaffinity(0))
    started = []

    def threads(program, *flags):
        if program == "duplexd":
            server = d.start(tmp_path / f"d{len(started)}", *flags)
        else:
            server = servers.start_duplex_echo(*flags)
        started.append(server)
        count = thread_count(server)
        server.stop_and_check()
        return count

    try:
        for program in ("duplexd", "duplex-echo"):
            default = threads(program)
            assert default == threads(program, "--threads", str(cores)), program
            assert default - threads(program, "--threads", "1") == cores - 1, program
    finally:
        for server in started:
            if server.alive():
                server.kill()


def test_duplex_echo_help_says_what_it_is():
    result = d.run_program(echo_command(), "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("duplex-echo: a WebSocket server that sends every message back")


def test_flag_equals_value_works_and_startup_lines_name_connection_and_channels(tmp_path):
    data = tmp_path / "data"
    process = servers.ServerProcess(
        [d.duplexd_command(), "--host=127.0.0.1", "--port=0", f"--data={data}",
         *servers.duplexd_loops()], name="duplexd")
    try:
        assert process.host == "127.0.0.1"
        assert f"127.0.0.1:{process.port}/connection and http://" in process.stdout()
        deadline = time.time() + 5
        while "channels:" not in process.stderr() and time.time() < deadline:
            time.sleep(0.05)
        assert f"(channels: {data}/channels.db)" in process.stderr()
        assert "/ws" not in process.stdout() + process.stderr()
        assert "history.db" not in process.stderr()
    finally:
        process.stop_and_check()


def claims_of(token: str) -> dict:
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_token_mints_what_the_hub_accepts(tmp_path):
    result = d.run("token", "--user", "alice", "--secret", d.SECRET, "--ttl", "2h",
                   "--channels", "private:a,private:b")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    claims = claims_of(token)
    assert claims["sub"] == "alice" and claims["channels"] == ["private:a", "private:b"]
    assert abs(claims["exp"] - (time.time() + 7200)) < 60
    # The secret from the environment, no expiry with --ttl 0.
    endless = d.run("token", "--user=bob", "--ttl=0",
                    env=dict(os.environ, DUPLEX_TOKEN_SECRET=d.SECRET)).stdout.strip()
    assert "exp" not in claims_of(endless)

    server = d.start(tmp_path / "data")
    try:
        async def go():
            url = f"ws://127.0.0.1:{server.port}/connection"
            async with websockets.connect(url) as ws:
                await ws.send(json.dumps({"id": 1, "connect": {"token": token}}))
                reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert reply["result"]["user"] == "alice", reply
                await ws.send(json.dumps({"id": 2, "subscribe": {"channel": "private:a"}}))
                assert "result" in json.loads(await asyncio.wait_for(ws.recv(), 10))

        asyncio.run(go())
    finally:
        server.stop_and_check()


def test_token_refuses_what_it_cannot_sign():
    no_secret = d.run("token", "--user", "x", env={"PATH": os.environ.get("PATH", "")})
    assert no_secret.returncode == 2 and "DUPLEX_TOKEN_SECRET" in no_secret.stderr
    assert d.run("token", "--secret", "s").returncode == 2  # no --user
    bad_ttl = d.run("token", "--user", "x", "--secret", "s", "--ttl", "soon")
    assert bad_ttl.returncode == 2 and "bad value for --ttl: soon" in bad_ttl.stderr


def test_check_config_says_ok_or_names_the_wrong_line(tmp_path):
    good = tmp_path / "good.json"
    good.write_text('{"namespaces": {"chat": {"history_size": 10}}}\n')
    result = d.run("check-config", str(good))
    assert (result.returncode, result.stdout) == (0, f"{good}: ok\n")

    cases = [
        ('{"namespaces": {\n  "chat": {"history_size": 10},\n  "news": {\n'
         '    "presence": true,\n    "history_size": -1\n  }\n}}\n', 5, "history_size"),
        ('{"namespaces": {\n  "chat": {"history_size": 10,}\n}}\n', 2, "not JSON"),
        ('{\n  "namespaces": {},\n  "extra": 1\n}\n', 3, "unknown configuration key"),
    ]
    for text, line, words in cases:
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        result = d.run("check-config", str(bad))
        assert result.returncode == 1
        assert result.stderr.startswith(f"{bad}:{line}: "), result.stderr
        assert words in result.stderr

    missing = d.run("check-config", str(tmp_path / "nope.json"))
    assert missing.returncode == 1 and "No such file or directory" in missing.stderr


def test_a_bad_hub_config_stops_startup_naming_the_line(tmp_path):
    bad = tmp_path / "hub.json"
    bad.write_text('{"namespaces": {\n  "chat": {"presense": true}\n}}\n')
    result = d.run("--port", "0", "--data", str(tmp_path / "data"), "--hub-config", str(bad))
    assert result.returncode == 1
    assert "line 2: namespaces.chat.presense: unknown option" in result.stderr


def test_a_second_duplexd_on_the_same_data_directory_refuses_to_start(tmp_path):
    data = tmp_path / "data"
    first = d.start(data)
    try:
        second = d.run("--port", "0", "--data", str(data))
        assert second.returncode == 1
        assert second.stderr == (f"duplexd: {data} is in use by another duplexd "
                                 f"(pid {first.pid}); stop it or give this one another --data\n")
    finally:
        first.stop_and_check()
    # Once the first has stopped, the directory is free again.
    again = d.start(data)
    again.stop_and_check()


def unwritable_data_dir():
    """A directory duplexd may not write in, and the user to run it as: root writes anywhere,
    so as root the test runs duplexd as nobody in a directory that root owns."""
    parent = Path(tempfile.mkdtemp(prefix="duplexd-perm-"))
    parent.chmod(0o755)
    data = parent / "data"
    data.mkdir()
    data.chmod(0o555)
    return parent, data, (65534 if os.geteuid() == 0 else None)


def test_an_unwritable_data_directory_says_permission_denied():
    parent, data, user = unwritable_data_dir()
    try:
        result = subprocess.run([d.duplexd_command(), "--port", "0", "--data", str(data)],
                                capture_output=True, text=True, timeout=10, user=user)
        assert result.returncode == 1
        assert result.stderr == f"duplexd: cannot create {data}/duplexd.lock: permission denied\n"
    finally:
        shutil.rmtree(parent)
