"""The first screen: an echo server with API 1 and API 2, a client of ours, on asyncio and uvloop."""

import duplex


async def echo(ws):
    async for message in ws:
        await ws.send(message)


class Echo(duplex.WebSocketHandler):
    def on_message(self, message):
        self.send(message)


def url_of(server, path="/"):
    return f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}{path}"


def test_api1_echo_text_and_binary(run):
    async def main():
        async with duplex.serve(echo, "127.0.0.1", 0) as server:
            async with duplex.connect(url_of(server)) as ws:
                await ws.send("hello")
                assert await ws.recv() == "hello"
                await ws.send(b"\x00\x01\xff")
                assert await ws.recv() == b"\x00\x01\xff"
                await ws.send("é€😀")
                assert await ws.recv() == "é€😀"
    run(main)


def test_api2_echo(run):
    async def main():
        async with duplex.serve(Echo, "127.0.0.1", 0) as server:
            async with duplex.connect(url_of(server)) as ws:
                for i in range(100):
                    await ws.send(f"message {i}")
                for i in range(100):
                    assert await ws.recv() == f"message {i}"
                await ws.send(bytearray(b"abc"))
                assert await ws.recv() == b"abc"
    run(main)


def test_large_message_round_trip(run):
    async def main():
        async with duplex.serve(echo, "127.0.0.1", 0, max_size=8 << 20) as server:
            async with duplex.connect(url_of(server), max_size=8 << 20) as ws:
                big = bytes(range(256)) * 16384  # 4 MiB
                await ws.send(big)
                assert await ws.recv() == big
    run(main)
