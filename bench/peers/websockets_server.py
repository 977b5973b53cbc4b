#!/usr/bin/python3
"""Python `websockets` peer for the benchmark (Debian's python3-websockets, 10.4).

Echo, or with --broadcast every message sent to every open connection (the sender included)
through websockets.broadcast(), as its documentation recommends. Compression is off so that
every server does the same work, unless --deflate: then the library's default
compression="deflate" (it accepts the generator's no-context-takeover offer; its own settings
are server/client_max_window_bits 12 and memLevel 5). Everything else is the library's default. asyncio runs one
thread; bench/run pins the process to one core.
"""
import argparse
import asyncio

import websockets

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


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--broadcast", action="store_true")
    parser.add_argument("--deflate", action="store_true")
    # The library follows the client's offer, so with context takeover this is --deflate too.
    parser.add_argument("--deflate-takeover", dest="deflate", action="store_true")
    args = parser.parse_args()
    handler = broadcast if args.broadcast else echo
    async with websockets.serve(handler, args.host, args.port, compression="deflate" if args.deflate else None,
                                backlog=4096) as server:
        port = server.sockets[0].getsockname()[1]
        mode = "broadcast" if args.broadcast else "echo"
        print(f"bench-websockets-server listening on ws://{args.host}:{port} ({mode})",
              flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
