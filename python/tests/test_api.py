"""API 1 (python-websockets' asyncio API) and API 2 (the Tornado-style class): what a handler
sees, how connections end, which exceptions say so, ping, backpressure, cancellation."""

import asyncio
import logging

import pytest

import duplex
from duplex.exceptions import ConnectionClosedError, ConnectionClosedOK


def url_of(server, path="/"):
    return f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}{path}"


async def echo(ws):
    async for message in ws:
        await ws.send(message)


def test_request_path_headers_address_id(run):
    seen = {}

    async def handler(ws):
        seen["path"] = ws.request.path
        seen["header"] = ws.request.headers["X-Token"]
        seen["host"] = ws.request.headers.get("host")
        seen["remote"] = ws.remote_address
        seen["id"] = ws.id
        await ws.send("ok")
        await ws.wait_closed()

    async def main():
        async with duplex.serve(handler, "127.0.0.1", 0) as server:
            async with duplex.connect(url_of(server, "/room/1?user=ann"),
                                      additional_headers={"X-Token": "secret"}) as ws:
                assert await ws.recv() == "ok"
                assert ws.remote_address == ("127.0.0.1", server.sockets[0].getsockname()[1])
    run(main)
    assert seen["path"] == "/room/1?user=ann"
    assert seen["header"] == "secret"
    assert seen["host"].startswith("127.0.0.1:")
    assert seen["remote"][0] == "127.0.0.1"
    assert seen["id"].version == 4


def test_handler_return_closes_1000_and_iteration_ends(run):
    async def handler(ws):
        await ws.send("bye")

    async def main():
        async with duplex.serve(handler, "127.0.0.1", 0) as server:
            async with duplex.connect(url_of(server)) as ws:
                received = [m async for m in ws]
                assert received == ["bye"]
                assert ws.close_code == 1000
                with pytest.raises(ConnectionClosedOK) as info:
                    await ws.recv()
                assert info.value.code == 1000
                with pytest.raises(ConnectionClosedOK):
                    await ws.send("late")
    run(main)


def test_close_code_and_reason_reach_both_sides(run):
    server_saw = asyncio.Event()
    codes = {}

    async def handler(ws):
        try:
            await ws.recv()
        except ConnectionClosedError as exc:
            codes["server"] = (exc.code, exc.reason, ws.close_code)
            server_saw.set()

    async def main():
        async with duplex.serve(handler, "127.0.0.1", 0) as server:
            ws = await duplex.connect(url_of(server))
            await ws.close(4001, "custom reason")
            assert ws.close_code == 4001
            await asyncio.wait_for(server_saw.wait(), 5)
    run(main)
    assert codes["server"] == (4001, "custom reason", 4001)


def test_handler_exception_closes_1011_and_is_logged(run_asyncio, caplog):
    async def handler(ws):
        await ws.recv()
        raise ValueError("boom in handler")

    async def main():
        async with duplex.serve(handler, "127.0.0.1", 0) as server:
            async with duplex.connect(url_of(server)) as ws:
                await ws.send("go")
                with pytest.raises(ConnectionClosedError) as info:
                    await ws.recv()
                assert info.value.code == 1011
            # The server goes on.
            async with duplex.connect(url_of(server)) as ws:
                await ws.send("again")
    with caplog.at_level(logging.ERROR, logger="duplex"):
        run_asyncio(main)
    assert "boom in handler" in caplog.text


class Exploding(duplex.WebSocketHandler):
    def on_message(self, message):
        if message == "explode":
            raise RuntimeError("boom in on_message")
        self.send(message)


def test_api2_exception_closes_1011_and_is_logged(run_asyncio, caplog):
    async def main():
        async with duplex.serve(Exploding, "127.0.0.1", 0) as server:
            async with duplex.connect(url_of(server)) as ws:
                await ws.send("fine")
                assert await ws.recv() == "fine"
                await ws.send("explode")
                with pytest.raises(ConnectionClosedError) as info:
                    await ws.recv()
                assert info.value.code == 1011
            async with duplex.connect(url_of(server)) as ws:
                await ws.send("still serving")
                assert await ws.recv() == "still serving"
    with caplog.at_level(logging.ERROR, logger="duplex"):
        run_asyncio(main)
    assert "boom in on_message" in caplog.text


class Recorder(duplex.WebSocketHandler):
    events = []

    def on_open(self, request):
        Recorder.events.append(("open", request.path))
        self.send("welcome")

    def on_message(self, message):
        Recorder.events.append(("message", message))
        if message == "close please":
            self.close(4002, "as asked")

    def on_close(self, code, reason):
        Recorder.events.append(("close", code, reason, self.close_code))


def test_api2_lifecycle(run):
    async def main():
        Recorder.events = []
        async with duplex.serve(Recorder, "127.0.0.1", 0) as server:
            async with duplex.connect(url_of(server, "/x")) as ws:
                assert await ws.recv() == "welcome"
                await ws.send(b"bin")
                await ws.send("close please")
                with pytest.raises(ConnectionClosedError):
                    await ws.recv()
                assert ws.close_code == 4002
            for _ in range(100):
                if Recorder.events[-1][0] == "close":
                    break
                await asyncio.sleep(0.01)
    run(main)
    assert Recorder.events == [("open", "/x"), ("message", b"bin"), ("message", "close please"),
                               ("close", 4002, "as asked", 4002)]


def test_ping_returns_pong_waiter(run):
    async def main():
        async with duplex.serve(echo, "127.0.0.1", 0) as server:
            async with duplex.connect(url_of(server)) as ws:
                waiter = await ws.ping()
                latency = await asyncio.wait_for(waiter, 5)
                assert 0 <= latency < 5
                waiter = await ws.ping(b"abc")
                await asyncio.wait_for(waiter, 5)
    run(main)


def test_subprotocol_negotiated(run):
    async def handler(ws):
        await ws.send(str(ws.subprotocol))

    async def main():
        async with duplex.serve(handler, "127.0.0.1", 0, subprotocols=["chat", "superchat"]) as server:
            async with duplex.connect(url_of(server), subprotocols=["superchat"]) as ws:
                assert await ws.recv() == "superchat"
                assert ws.subprotocol == "superchat"
            # The server's order of preference wins.
            async with duplex.connect(url_of(server), subprotocols=["superchat", "chat"]) as ws:
                assert await ws.recv() == "chat"
                assert ws.subprotocol == "chat"
            async with duplex.connect(url_of(server), subprotocols=["other"]) as ws:
                assert await ws.recv() == "None"
                assert ws.subprotocol is None
            async with duplex.connect(url_of(server)) as ws:
                assert await ws.recv() == "None"
                assert ws.subprotocol is None
    run(main)


def test_subprotocol_the_client_did_not_offer_fails_the_handshake(run):
    # RFC 6455 4.1: a server answering with a subprotocol the client did not offer fails the
    # connection. A hand-written server, since ours never does that.
    async def main():
        server = await _silent_server(bytearray(), subprotocol="superchat")
        async with server:
            with pytest.raises(duplex.InvalidHandshake, match="superchat"):
                await duplex.connect(url_of(server), subprotocols=["chat"])
    run(main)


def test_process_request_and_origins_refuse_with_status(run):
    def process_request(connection, request):
        if request.path == "/private":
            return connection.respond(403, "no")
        return None

    async def main():
        async with duplex.serve(echo, "127.0.0.1", 0, process_request=process_request) as server:
            with pytest.raises(duplex.InvalidStatus) as info:
                await duplex.connect(url_of(server, "/private"))
            assert info.value.response.status_code == 403
            async with duplex.connect(url_of(server, "/public")) as ws:
                await ws.send("x")
                assert await ws.recv() == "x"
        async with duplex.serve(echo, "127.0.0.1", 0, origins=["https://good.example"]) as server:
            with pytest.raises(duplex.InvalidStatus) as info:
                await duplex.connect(url_of(server), origin="https://evil.example")
            assert info.value.response.status_code == 403
            async with duplex.connect(url_of(server), origin="https://good.example") as ws:
                await ws.send("y")
                assert await ws.recv() == "y"
    run(main)


def test_client_errors(run):
    async def main():
        with pytest.raises(duplex.InvalidURI):
            await duplex.connect("http://127.0.0.1:1/")
        with pytest.raises(duplex.InvalidURI):
            await duplex.connect("ws://[bad")
        with pytest.raises(OSError):
            await duplex.connect("ws://127.0.0.1:1/")
    run(main)


def test_a_host_name_is_looked_up_off_the_loop_and_connects(run):
    # "localhost" goes through the client's resolver thread, whose answer is posted to the loop
    # that asyncio drives: it must wake that loop.
    async def main():
        async with duplex.serve(echo, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            async with duplex.connect(f"ws://localhost:{port}/") as ws:
                await ws.send("by name")
                assert await ws.recv() == "by name"
    run(main)


def test_max_size_closes_1009(run):
    async def main():
        async with duplex.serve(echo, "127.0.0.1", 0, max_size=1000) as server:
            async with duplex.connect(url_of(server)) as ws:
                await ws.send("x" * 1000)
                assert len(await ws.recv()) == 1000
                await ws.send("x" * 1001)
                with pytest.raises(ConnectionClosedError) as info:
                    await ws.recv()
                assert info.value.code == 1009
    run(main)


def test_cancelled_recv_loses_no_message(run):
    async def handler(ws):
        await ws.recv()  # "go"
        await ws.send("one")
        await ws.send("two")
        await ws.wait_closed()

    async def main():
        async with duplex.serve(handler, "127.0.0.1", 0) as server:
            async with duplex.connect(url_of(server)) as ws:
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(ws.recv(), 0.05)
                await ws.send("go")
                assert await ws.recv() == "one"
                assert await ws.recv() == "two"
    run(main)


@pytest.mark.parametrize("peer", ["websockets", "duplex"])
def test_send_waits_above_write_limit(run, peer):
    """A peer that stops reading: send() blocks once the queue passes write_limit, and resumes
    when the peer reads again. The peer is a client with max_queue=1, which stops reading from
    its socket while a message waits (python-websockets, or ours)."""
    import websockets

    client = websockets.connect if peer == "websockets" else duplex.connect

    state = {"sent": 0}

    async def handler(ws):
        chunk = b"x" * 65536
        for _ in range(400):  # 25 MiB: far beyond what socket buffers hold
            await ws.send(chunk)
            state["sent"] += 1
        await ws.send("done")
        await ws.wait_closed()

    async def main():
        async with duplex.serve(handler, "127.0.0.1", 0, write_limit=65536) as server:
            async with client(url_of(server), max_size=None, max_queue=1,
                              compression=None) as ws:
                await asyncio.sleep(0.3)
                assert state["sent"] < 400  # send() waited instead of queueing everything
                count = 0
                while (await ws.recv()) != "done":
                    count += 1
                assert count == 400
    run(main, timeout=60)


def test_serve_forever_cancelled_closes_1001(run):
    async def main():
        started = asyncio.Event()
        holder = {}

        async def run_server():
            async with duplex.serve(echo, "127.0.0.1", 0) as server:
                holder["server"] = server
                started.set()
                await server.serve_forever()

        task = asyncio.create_task(run_server())
        await started.wait()
        ws = await duplex.connect(url_of(holder["server"]))
        await ws.send("hi")
        assert await ws.recv() == "hi"
        task.cancel()
        with pytest.raises(ConnectionClosedOK) as info:
            await ws.recv()
        assert info.value.code == 1001
        with pytest.raises(asyncio.CancelledError):
            await task
    run(main)


def test_publish_and_broadcast(run):
    async def handler(ws):
        ws.subscribe("news")
        await ws.send("subscribed")
        async for message in ws:
            if message == "leave":
                ws.unsubscribe("news")
                await ws.send("left")

    async def main():
        async with duplex.serve(handler, "127.0.0.1", 0) as server:
            clients = [await duplex.connect(url_of(server)) for _ in range(5)]
            for ws in clients:
                assert await ws.recv() == "subscribed"
            assert server.publish("news", "headline") == 5
            for ws in clients:
                assert await ws.recv() == "headline"
            await clients[0].send("leave")
            assert await clients[0].recv() == "left"
            assert server.publish("news", b"\x01binary") == 4
            for ws in clients[1:]:
                assert await ws.recv() == b"\x01binary"
            # Any bytes-like is binary; anything else is refused before a frame is built.
            assert server.publish("news", memoryview(bytearray(b"\x02view"))) == 4
            for ws in clients[1:]:
                assert await ws.recv() == b"\x02view"
            with pytest.raises(TypeError, match="not int"):
                server.publish("news", 42)
            for ws in clients:
                await ws.close()
    run(main)


def test_broadcast_to_server_connections(run):
    connections = set()

    async def handler(ws):
        connections.add(ws)
        try:
            await ws.send("in")
            await ws.wait_closed()
        finally:
            connections.discard(ws)

    async def main():
        async with duplex.serve(handler, "127.0.0.1", 0) as server:
            clients = [await duplex.connect(url_of(server)) for _ in range(3)]
            for ws in clients:
                assert await ws.recv() == "in"
            assert duplex.broadcast(connections, "to all") == 3
            for ws in clients:
                assert await ws.recv() == "to all"
            assert duplex.broadcast(connections, bytearray(b"\x03all")) == 3
            for ws in clients:
                assert await ws.recv() == b"\x03all"
            with pytest.raises(TypeError, match="not float"):
                duplex.broadcast(connections, 1.5)
            for ws in clients:
                await ws.close()
    run(main)


def test_reconnecting_iterator(run):
    async def handler(ws):
        await ws.send("hello")
        await ws.close(1012, "restarting")

    async def main():
        duplex.connect.BACKOFF_INITIAL_DELAY = 0.05
        async with duplex.serve(handler, "127.0.0.1", 0) as server:
            connections = 0
            async for ws in duplex.connect(url_of(server)):
                connections += 1
                assert await ws.recv() == "hello"
                with pytest.raises(ConnectionClosedError):
                    await ws.recv()
                if connections == 3:
                    break
            assert connections == 3
    run(main)


def test_concurrent_recv_is_an_error(run):
    async def handler(ws):
        await ws.wait_closed()

    async def main():
        async with duplex.serve(handler, "127.0.0.1", 0) as server:
            async with duplex.connect(url_of(server)) as ws:
                first = asyncio.create_task(ws.recv())
                await asyncio.sleep(0.01)
                with pytest.raises(duplex.ConcurrencyError):
                    await ws.recv()
                first.cancel()
    run(main)


def test_port_in_use_is_an_oserror(run_asyncio):
    import errno

    async def main():
        async with duplex.serve(echo, "127.0.0.1", 0) as server:
            with pytest.raises(OSError) as info:
                await duplex.serve(echo, "127.0.0.1", server.port)
            assert info.value.errno == errno.EADDRINUSE
    run_asyncio(main)


async def _silent_server(received: bytearray, subprotocol=None):
    """A server that completes the handshake and then never sends a byte (it answers no ping,
    and hangs up on a close frame); what the client sends after the handshake is collected in
    `received`."""
    import base64
    import hashlib

    async def serve(reader, writer):
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        key = next(line.split(":", 1)[1].strip() for line in head.split("\r\n")
                   if line.lower().startswith("sec-websocket-key:"))
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        extra = f"Sec-WebSocket-Protocol: {subprotocol}\r\n" if subprotocol else ""
        writer.write((f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
                      ).encode())
        await writer.drain()
        while chunk := await reader.read(4096):
            received.extend(chunk)
            if any(opcode == 0x8 for opcode, _ in _client_frames(bytes(received))):
                break  # the client's close frame: hang up rather than answer it
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


def _client_frames(data: bytes):
    """(opcode, unmasked payload) of each masked client frame with a short payload."""
    frames = []
    while len(data) >= 6:
        opcode, length = data[0] & 0x0F, data[1] & 0x7F
        mask, payload = data[2:6], data[6:6 + length]
        frames.append((opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(payload))))
        data = data[6 + length:]
    return frames


def test_settings_default_to_python_websockets_timing():
    # Both roles' settings hold the C++ connection limits with python-websockets' defaults
    # where they differ (docs/python.md): a ping after 20 idle seconds, 10 s to close.
    from duplex import _core

    for settings in (_core.ServerSettings(), _core.ClientSettings()):
        assert (settings.idle_timeout, settings.close_timeout) == (20, 10)
        assert (settings.max_message_size, settings.max_backpressure) == (2**20, 4 << 20)
        assert (settings.auto_ping, settings.ping_timeout) == (True, 0)
        settings.max_message_size, settings.idle_timeout = 5, 7
        assert (settings.max_message_size, settings.idle_timeout) == (5, 7)


def test_ping_timeout_is_separate_and_closes_with_1011(run):
    # python-websockets' keepalive: a ping after ping_interval, then ping_timeout for the pong,
    # then a close with 1011 (a peer silent for ping_interval twice, without ping_timeout, gets
    # 1001 "idle timeout"). Deadlines are whole loop ticks of a second, so the timing is loose.
    received = bytearray()

    async def main():
        loop = asyncio.get_running_loop()
        server = await _silent_server(received)
        async with server:
            started = loop.time()
            ws = await duplex.connect(url_of(server), ping_interval=1, ping_timeout=1)
            with pytest.raises(ConnectionClosedError):
                await asyncio.wait_for(ws.recv(), 10)
            elapsed = loop.time() - started
        frames = _client_frames(bytes(received))
        assert [opcode for opcode, _ in frames] == [0x9, 0x8]
        close = frames[1][1]
        assert int.from_bytes(close[:2], "big") == 1011
        assert close[2:] == b"keepalive ping timeout"
        assert elapsed < 5
    run(main)
