"""duplex-echo --cert/--key (wss://) against independent clients: Python websockets (with the
test CA, TLS 1.3 and 1.2) and Node ws. Messages match byte for byte, 1 MiB each way included,
and a client that stops reading gets everything once it resumes (backpressure through TLS)."""

import asyncio
import os
import socket
import ssl
import subprocess
import warnings

import pytest

from conftest import HERE, client_context, connect, echo_once, run, wss_url


def test_ready_line_says_wss(wss_echo):
    server = wss_echo()
    assert f"listening on wss://127.0.0.1:{server.port}" in server.stdout()


def test_python_client_echoes_over_tls13(wss_echo, pki):
    server = wss_echo()

    async def go():
        async with connect(wss_url(server, "/echo"), client_context(pki)) as ws:
            tls = ws.transport.get_extra_info("ssl_object")
            assert tls.version() == "TLSv1.3"
            assert tls.selected_alpn_protocol() == "http/1.1"
            await echo_once(ws, "hello over TLS")
            await echo_once(ws, b"\x00\x01\x02binary")
            await echo_once(ws, "")
            await echo_once(ws, os.urandom(1 << 20))
            await echo_once(ws, "é" * (1 << 19))  # 1 MiB of UTF-8
        assert ws.close_code == 1000

    run(go())


def test_python_client_over_tls12_gets_an_ecdhe_aead_cipher(wss_echo, pki):
    server = wss_echo()

    async def go():
        context = client_context(pki, maximum_version=ssl.TLSVersion.TLSv1_2)
        async with connect(wss_url(server), context) as ws:
            tls = ws.transport.get_extra_info("ssl_object")
            assert tls.version() == "TLSv1.2"
            name = tls.cipher()[0]
            assert name.startswith("ECDHE-") and ("GCM" in name or "CHACHA20" in name), name
            await echo_once(ws, os.urandom(70000))

    run(go())


def test_tls11_is_refused_by_the_server(wss_echo, pki):
    server = wss_echo()
    context = client_context(pki)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # that is the point
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("ALL:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLError) as refused:
            context.wrap_socket(raw, server_hostname="localhost")
    # The server's alert, not the client declining to offer TLS 1.1 in the first place.
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION", refused.value


def test_node_ws_client_echoes_over_tls(wss_echo, pki):
    server = wss_echo()
    result = subprocess.run(["node", str(HERE / "node_wss_client.mjs"), wss_url(server, "/node"),
                             str(pki / "ca.pem")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"stdout: {result.stdout}\nstderr: {result.stderr}"
    assert "tls TLSv1.3" in result.stdout
    assert "12 echoes OK" in result.stdout


def test_a_client_that_stops_reading_gets_everything_later(wss_echo, pki):
    # 24 MiB sent without reading: the server's socket buffer fills, so its echoes wait as
    # plaintext and ciphertext (bufferedAmount) until the client reads again.
    server = wss_echo("--max-backpressure", str(64 << 20))
    messages = [os.urandom(1 << 20) for _ in range(24)]

    async def go():
        async with connect(wss_url(server), client_context(pki), max_queue=1) as ws:
            for m in messages:
                await ws.send(m)
            await asyncio.sleep(0.5)
            for i, m in enumerate(messages):
                assert await asyncio.wait_for(ws.recv(), 30) == m, f"echo {i} differs"

    run(go(), timeout=120)
