#!/usr/bin/python3
"""Python `websockets` peer for the benchmark (Debian's python3-websockets, 10.4).

Echo, or with --broadcast every message sent to every open connection (the sender included)
through websockets.broadcast(), as its documentation recommends. Compression is off so that
every server does the same work, unless --deflate: then the library's default
compression="deflate" (it accepts the generator's no-context-takeover offer; its own settings
are server/client_max_window_bits 12 and memLevel 5). Everything else is the library's default.
asyncio (or with --uvloop, uvloop) runs one thread; bench/run pins the process to one core.
"""
import asyncio

import websockets

import python_peer

CONNECTIONS = set()


async def echo(ws, _path=None):
    async for message in ws:
        await ws.send(message)


async def broadcast(ws, _path=None):
    CONNECTIONS.add(ws)
    try:
        async for message in ws:
            websockets.broadcast(CONNECTIONS, message)
    finally:
        CONNECTIONS.discard(ws)


async def main(args):
    handler = broadcast if args.broadcast else echo
    async with websockets.serve(handler, args.host, args.port,
                                compression="deflate" if args.deflate else None,
                                backlog=4096) as server:
        python_peer.say_listening("bench-websockets-server", args,
                                  server.sockets[0].getsockname()[1])
        await asyncio.Future()


if __name__ == "__main__":
    python_peer.run(main, python_peer.parse_args(__doc__))
