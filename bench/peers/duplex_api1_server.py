#!/usr/bin/python3
"""duplex's Python package, API 1 (python-websockets' asyncio API), as a benchmark peer.

The websockets peer's code with the import changed: one coroutine per connection, `async for`
over its messages and `await ws.send()`. With --broadcast every connection subscribes to one
topic and each message is published to it (`server.publish`: one frame built in C++ and queued
on every subscriber, the sender included, with no Python loop over them). Compression is off
(`compression=None`) unless --deflate; everything else is the package's default, as for the
websockets peer. The package comes from PYTHONPATH (bench/run sets it).
"""
import python_peer

TOPIC = "all"


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def broadcast(ws):
    ws.subscribe(TOPIC)
    async for message in ws:
        ws.server.publish(TOPIC, message)


if __name__ == "__main__":
    python_peer.run_duplex("bench-duplex-api1-server", __doc__, echo=echo, broadcast=broadcast)
