#!/usr/bin/python3
"""aiohttp peer for the benchmark (Debian's python3-aiohttp, 3.8).

A web.WebSocketResponse handler as aiohttp's documentation writes it: echo (send_str for text,
send_bytes for binary), or with --broadcast every message sent to every open connection (the
sender included) by a loop over the open responses, aiohttp having no broadcast of its own.
permessage-deflate is off (WebSocketResponse(compress=False); aiohttp's default is on) unless
--deflate. Access logging is off, as it would be in a benchmark of any server. asyncio (or with
--uvloop, uvloop) runs one thread; bench/run pins the process to one core.
"""
import asyncio

from aiohttp import WSMsgType, web

import python_peer

CONNECTIONS = set()
DEFLATE = False


async def send(ws, message):
    if message.type == WSMsgType.TEXT:
        await ws.send_str(message.data)
    else:
        await ws.send_bytes(message.data)


async def echo(request):
    ws = web.WebSocketResponse(compress=DEFLATE)
    await ws.prepare(request)
    async for message in ws:
        if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
            await send(ws, message)
    return ws


async def broadcast(request):
    ws = web.WebSocketResponse(compress=DEFLATE)
    await ws.prepare(request)
    CONNECTIONS.add(ws)
    try:
        async for message in ws:
            if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                continue
            for peer in list(CONNECTIONS):
                try:
                    await send(peer, message)
                except ConnectionResetError:  # closing under us: its handler removes it
                    pass
    finally:
        CONNECTIONS.discard(ws)
    return ws


async def main(args):
    global DEFLATE
    DEFLATE = args.deflate
    app = web.Application()
    app.router.add_get("/{path:.*}", broadcast if args.broadcast else echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port, backlog=4096)
    await site.start()
    python_peer.say_listening("bench-aiohttp-server", args, args.port)
    try:
        await asyncio.Future()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    python_peer.run(main, python_peer.parse_args(__doc__))
