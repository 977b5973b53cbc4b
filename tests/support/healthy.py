"""The check that follows every bad-input case: the same server still serves a real client."""

import asyncio

import websockets


def assert_healthy(port: int, host: str = "127.0.0.1") -> None:
    async def go():
        async with websockets.connect(f"ws://{host}:{port}/healthy", open_timeout=10,
                                      close_timeout=10, ping_interval=None) as ws:
            await ws.send("still serving?")
            assert await asyncio.wait_for(ws.recv(), 10) == "still serving?"
            await ws.send(b"\x00\x01binary")
            assert await asyncio.wait_for(ws.recv(), 10) == b"\x00\x01binary"
        assert ws.close_code == 1000

    asyncio.run(asyncio.wait_for(go(), 30))
