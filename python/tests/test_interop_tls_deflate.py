"""Interop with python-websockets 10.4 in this process (its client against our server, our client
against its server), with permessage-deflate and over TLS. The repository's interop and bad-input
suites also run against a Python-handler server (ctest python.interop.*, python.badinput)."""

import asyncio
import importlib.util
import ssl

import pytest
import websockets

import duplex

from conftest import REPO


def url_of(server, scheme="ws", host="127.0.0.1"):
    return f"{scheme}://{host}:{server.sockets[0].getsockname()[1]}/"


async def echo(ws, path=None):
    async for message in ws:
        await ws.send(message)


class Echo(duplex.WebSocketHandler):
    def on_message(self, message):
        self.send(message)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("pki", REPO / "tests" / "tls" / "pki.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make(tmp_path_factory.mktemp("pki"))


COMPRESSIBLE = "the room throws tomatoes at the speaker; " * 200


@pytest.mark.parametrize("handler", [echo, Echo], ids=["api1", "api2"])
def test_websockets_client_with_deflate(run, handler):
    async def main():
        async with duplex.serve(handler, "127.0.0.1", 0) as server:
            async with websockets.connect(url_of(server), compression="deflate") as ws:
                assert ws.extensions, "permessage-deflate was not agreed"
                for message in (COMPRESSIBLE, COMPRESSIBLE.encode(), "short", "€" * 5000):
                    await ws.send(message)
                    assert await ws.recv() == message
            async with websockets.connect(url_of(server), compression=None) as ws:
                assert not ws.extensions
                await ws.send(COMPRESSIBLE)
                assert await ws.recv() == COMPRESSIBLE
        async with duplex.serve(handler, "127.0.0.1", 0, compression=None) as server:
            async with websockets.connect(url_of(server), compression="deflate") as ws:
                assert not ws.extensions  # declined
                await ws.send(COMPRESSIBLE)
                assert await ws.recv() == COMPRESSIBLE
    run(main)


def test_our_client_against_websockets_server(run):
    async def main():
        async with websockets.serve(echo, "127.0.0.1", 0, compression="deflate") as server:
            async with duplex.connect(url_of(server)) as ws:
                assert ws.compressed
                for message in (COMPRESSIBLE, b"\x00" * 70000, "", b""):
                    await ws.send(message)
                    assert await ws.recv() == message
            async with duplex.connect(url_of(server), compression=None) as ws:
                assert not ws.compressed
                await ws.send("plain")
                assert await ws.recv() == "plain"
    run(main)


def test_websockets_server_close_code_reaches_our_client(run):
    async def closer(ws, path=None):
        await ws.close(4321, "from websockets")

    async def main():
        async with websockets.serve(closer, "127.0.0.1", 0) as server:
            async with duplex.connect(url_of(server)) as ws:
                with pytest.raises(duplex.ConnectionClosedError) as info:
                    await ws.recv()
                assert (info.value.code, info.value.reason) == (4321, "from websockets")
    run(main)


def test_tls_both_ways(run, pki):
    trusting = ssl.create_default_context(cafile=str(pki / "ca.pem"))

    async def main():
        tls = duplex.server_ssl_context(str(pki / "server.pem"), str(pki / "server.key"))
        async with duplex.serve(echo, "127.0.0.1", 0, ssl=tls) as server:
            url = url_of(server, "wss", "localhost")
            async with duplex.connect(url, ssl=trusting) as ws:
                await ws.send("secret")
                assert await ws.recv() == "secret"
            async with websockets.connect(url, ssl=trusting) as ws:
                await ws.send(COMPRESSIBLE)
                assert await ws.recv() == COMPRESSIBLE
            # Our client refuses a certificate it cannot verify.
            with pytest.raises(ssl.SSLError):
                await duplex.connect(url)
        # Our client against python-websockets' TLS server.
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(pki / "server.pem", pki / "server.key")
        async with websockets.serve(echo, "127.0.0.1", 0, ssl=server_context) as server:
            async with duplex.connect(url_of(server, "wss", "localhost"), ssl=trusting) as ws:
                await ws.send("over tls")
                assert await ws.recv() == "over tls"
    run(main)


def test_tls_rogue_certificate_refused(run_asyncio, pki):
    trusting = ssl.create_default_context(cafile=str(pki / "ca.pem"))

    async def main():
        async with duplex.serve(echo, "127.0.0.1", 0,
                                ssl=(str(pki / "rogue.pem"), str(pki / "rogue.key"))) as server:
            with pytest.raises(ssl.SSLError):
                await duplex.connect(url_of(server, "wss", "localhost"), ssl=trusting)
            unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            unverified.check_hostname = False
            unverified.verify_mode = ssl.CERT_NONE
            async with duplex.connect(url_of(server, "wss", "localhost"), ssl=unverified) as ws:
                await ws.send("anyway")
                assert await ws.recv() == "anyway"
    run_asyncio(main)


def test_ssl_context_without_files_is_refused_clearly(run_asyncio):
    async def main():
        with pytest.raises(TypeError, match="server_ssl_context"):
            await duplex.serve(echo, "127.0.0.1", 0, ssl=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))
    run_asyncio(main)
