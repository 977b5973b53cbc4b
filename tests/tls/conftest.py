"""Fixtures of the TLS suites: a throwaway PKI per run, duplex-echo serving wss://, clients."""

from __future__ import annotations

import asyncio
import os
import shlex
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import websockets

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import pki as pki_module  # noqa: E402
from support import servers  # noqa: E402

TIMEOUT = 30


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Path:
    """ca.pem, server.*, renewed.*, dns-only.*, rogue.* (see pki.py)."""
    return pki_module.make(tmp_path_factory.mktemp("pki"))


def wss_url(server: servers.ServerProcess, path: str = "/") -> str:
    return f"wss://{server.host}:{server.port}{path}"


@pytest.fixture
def wss_echo(start_server, pki):
    """duplex-echo --cert/--key with the test CA's certificate for 127.0.0.1 and localhost."""
    def start(*flags: str, cert: Path | None = None, key: Path | None = None):
        return start_server.echo("--cert", str(cert or pki / "server.pem"),
                                 "--key", str(key or pki / "server.key"), *flags)
    return start


def client_context(pki: Path, **versions) -> ssl.SSLContext:
    """Python's client context trusting only the test CA (and checking the host name)."""
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    context.set_alpn_protocols(["http/1.1"])
    for attribute, value in versions.items():
        setattr(context, attribute, value)
    return context


def run(coroutine, timeout: float = TIMEOUT):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


async def echo_once(ws, message) -> None:
    await ws.send(message)
    assert await asyncio.wait_for(ws.recv(), TIMEOUT) == message


def connect(url: str, context: ssl.SSLContext, **kwargs):
    return websockets.connect(url, ssl=context, max_size=None, ping_interval=None,
                              open_timeout=TIMEOUT, close_timeout=TIMEOUT, **kwargs)


def peer_serial(ws) -> int:
    """The serial number of the certificate the server presented on this connection."""
    der = ws.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"], input=der,
                         capture_output=True, check=True)
    return int(out.stdout.decode().strip().split("=")[1], 16)


def our_client(url: str, *flags: str) -> subprocess.CompletedProcess:
    """duplex-tls-client (OUR client) against `url`; fails the test on a sanitizer report."""
    command = shlex.split(os.environ["DUPLEX_TLS_CLIENT"]) if "DUPLEX_TLS_CLIENT" in os.environ \
        else [str(servers.REPO / "build" / "release" / "tests" / "tls" / "duplex-tls-client")]
    result = subprocess.run([*command, url, *flags], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60,
                            env=servers.sanitizer_env())
    for mark in servers.SANITIZER_MARKS:
        assert mark not in result.stderr, f"sanitizer report from the client:\n{result.stderr}"
    return result
