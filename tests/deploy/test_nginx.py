"""duplexd behind nginx, as docs/deploy.md sets it up: Debian's nginx runs the documented
configuration (deploy/nginx-duplex.conf and deploy/duplex-proxy.conf, with only its ports,
upstream address and certificate paths replaced), and a tomato thrown over the hub through the
proxy, on ws:// and on wss://, reaches a page on the other.

nginx is started by the test with its own prefix in a temporary directory, on free loopback
ports, in the foreground (`-g 'daemon off;'`), never as the system service.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support import servers  # noqa: E402

DEPLOY = servers.REPO / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TIMEOUT = 15


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def substitute(text: str, replacements: list[tuple[str, str, int]]) -> str:
    """Each (pattern, replacement, expected count): the documented file must still say what the
    test replaces, so a change to it that the test does not follow fails here."""
    for pattern, replacement, count in replacements:
        text, n = re.subn(pattern, replacement, text, flags=re.M)
        assert n == count, f"{pattern!r}: {n} matches in the documented config, expected {count}"
    return text


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


class PortTaken(AssertionError):
    """nginx could not listen: a port free_port() gave was taken before nginx bound it."""


class Nginx:
    """Debian's nginx with the documented site, in the foreground, with its own prefix."""

    def __init__(self, prefix: Path, upstream_port: int):
        self.prefix = prefix
        self.http_port, self.https_port = free_port(), free_port()
        self.cert, key = self_signed_certificate(prefix)
        proxy_conf = prefix / "duplex-proxy.conf"
        shutil.copy(DEPLOY / "duplex-proxy.conf", proxy_conf)
        site = substitute((DEPLOY / "nginx-duplex.conf").read_text(), [
            (r"^\s*listen \[::\]:\d+.*;\n", "", 2),  # loopback only in tests
            (r"listen 80;", f"listen 127.0.0.1:{self.http_port};", 1),
            (r"listen 443 ssl", f"listen 127.0.0.1:{self.https_port} ssl", 1),
            (r"server 127\.0\.0\.1:8080;", f"server 127.0.0.1:{upstream_port};", 1),
            (r"include /etc/nginx/duplex-proxy\.conf;", f"include {proxy_conf};", 2),
            (r"ssl_certificate /\S+;", f"ssl_certificate {self.cert};", 1),
            (r"ssl_certificate_key /\S+;", f"ssl_certificate_key {key};", 1),
        ])
        (prefix / "site.conf").write_text(site)
        # What /etc/nginx/nginx.conf would give the site, with every path in the prefix.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (prefix / "nginx.conf").write_text(f"""{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include /etc/nginx/mime.types;
    include {prefix}/site.conf;
}}
""")
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr",
             "-g", "daemon off;"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            preexec_fn=servers._die_with_parent)
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                output = self.proc.stdout.read().decode()
                kind = PortTaken if "Address already in use" in output else AssertionError
                raise kind(f"nginx exited {self.proc.returncode}:\n{output}")
            try:
                for port in (self.http_port, self.https_port):
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError("nginx did not listen in time")

    def access_log(self) -> str:
        path = self.prefix / "access.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def proxied(tmp_path):
    if not os.access(NGINX, os.X_OK):
        pytest.fail("nginx is not installed (scripts/install-deps installs nginx-light)")
    duplexd = servers.ServerProcess(
        [os.environ.get("DUPLEXD") or servers.REPO / "build/release/apps/duplexd",
         "--host", "127.0.0.1", "--port", "0", "--data", tmp_path / "data"], name="duplexd")
    # free_port() closes its socket before nginx binds (after making a certificate): another
    # test's server or an outgoing connection's local port may take it meanwhile. Other ports,
    # then.
    for tries in range(1, 4):
        nginx_dir = tmp_path / f"nginx{tries}"
        nginx_dir.mkdir()
        try:
            nginx = Nginx(nginx_dir, duplexd.port)
            break
        except PortTaken:
            if tries < 3:
                continue
            duplexd.stop_and_check()
            raise
        except BaseException:
            duplexd.stop_and_check()
            raise
    yield nginx
    nginx.stop()
    duplexd.stop_and_check()


async def hub(url: str, **kwargs):
    ws = await websockets.connect(url, open_timeout=TIMEOUT, **kwargs)
    await ws.send(json.dumps({"id": 1, "connect": {}}))
    reply = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    assert "result" in reply, reply
    return ws


async def reply_to(ws, command_id: int) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if message.get("id") == command_id:
            return message


async def next_publication(ws, channel: str) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        push = message.get("push", {})
        if push.get("channel") == channel and "pub" in push:
            return push["pub"]


def test_page_and_hub_through_nginx_on_ws_and_wss(proxied):
    nginx = proxied
    tls = ssl.create_default_context(cafile=str(nginx.cert))
    plain = f"ws://127.0.0.1:{nginx.http_port}/connection"
    secure = f"wss://127.0.0.1:{nginx.https_port}/connection"

    # The page comes through both servers too.
    for url, context in ((f"http://127.0.0.1:{nginx.http_port}/", None),
                         (f"https://127.0.0.1:{nginx.https_port}/", tls)):
        with urllib.request.urlopen(url, timeout=TIMEOUT, context=context) as response:
            assert response.status == 200
            assert b"<html" in response.read().lower()

    async def throw_through_the_proxy():
        watcher = await hub(secure, ssl=tls)  # a page on wss://
        thrower = await hub(plain)  # and one on ws://
        await watcher.send(json.dumps({"id": 2, "subscribe": {"channel": "demo:throws"}}))
        assert "result" in await reply_to(watcher, 2)
        await thrower.send(json.dumps({"id": 2, "publish": {
            "channel": "demo:throws", "data": {"kind": "tomato", "text": "via nginx"}}}))
        ack = await reply_to(thrower, 2)
        assert ack.get("result", {}).get("offset") == 1, ack
        pub = await next_publication(watcher, "demo:throws")
        assert pub == {"offset": 1, "data": {"kind": "tomato", "text": "via nginx"}}
        # And back the other way, wss:// to ws://.
        await thrower.send(json.dumps({"id": 3, "subscribe": {"channel": "demo:throws"}}))
        assert "result" in await reply_to(thrower, 3)
        await watcher.send(json.dumps({"id": 3, "publish": {
            "channel": "demo:throws", "data": {"kind": "cat"}}}))
        assert (await next_publication(thrower, "demo:throws"))["data"] == {"kind": "cat"}
        await thrower.close()
        await watcher.close()

    asyncio.run(throw_through_the_proxy())
    # nginx really was in the path: it logged both upgrades as 101.
    upgrades = [line for line in nginx.access_log().splitlines()
                if '"GET /connection HTTP/1.1" 101' in line]
    assert len(upgrades) == 2, nginx.access_log()


def test_systemd_unit_is_valid(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (no systemd on this machine)")
    duplexd = os.path.abspath(os.environ.get("DUPLEXD") or
                              servers.REPO / "build/release/apps/duplexd")
    unit = substitute((DEPLOY / "duplexd.service").read_text(),
                      [(r"^ExecStart=/usr/local/bin/duplexd ", f"ExecStart={duplexd} ", 1)])
    (tmp_path / "duplexd.service").write_text(unit)
    result = subprocess.run([analyze, "verify", tmp_path / "duplexd.service"],
                            capture_output=True, text=True)
    # What it says about other units of the machine (missing targets in a container) is not ours.
    about_ours = [line for line in result.stderr.splitlines() if "duplexd.service" in line]
    assert result.returncode == 0 and not about_ours, result.stderr
