#!/usr/bin/python3
"""Tornado peer for the benchmark (Debian's python3-tornado, 6.2).

A WebSocketHandler as Tornado's documentation writes it: echo, or with --broadcast every
message sent to every open connection (the sender included), as its chat demo does. No
compression (Tornado's default) unless --deflate: then get_compression_options() returns {}, the
documented way to turn permessage-deflate on with Tornado's defaults (it honours the
generator's no-context-takeover offer). One IOLoop, one thread; bench/run pins the process.
"""
import argparse
import asyncio

import tornado.web
import tornado.websocket

CONNECTIONS = set()
DEFLATE = False


class Compression:
    def get_compression_options(self):
        return {} if DEFLATE else None


class EchoHandler(Compression, tornado.websocket.WebSocketHandler):
    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


class BroadcastHandler(Compression, tornado.websocket.WebSocketHandler):
    def open(self):
        CONNECTIONS.add(self)

    def on_close(self):
        CONNECTIONS.discard(self)

    def on_message(self, message):
        binary = isinstance(message, bytes)
        for connection in list(CONNECTIONS):
            try:
                connection.write_message(message, binary=binary)
            except tornado.websocket.WebSocketClosedError:
                CONNECTIONS.discard(connection)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--broadcast", action="store_true")
    parser.add_argument("--deflate", action="store_true")
    # The library follows the client's offer, so with context takeover this is --deflate too.
    parser.add_argument("--deflate-takeover", dest="deflate", action="store_true")
    args = parser.parse_args()
    global DEFLATE
    DEFLATE = args.deflate
    handler = BroadcastHandler if args.broadcast else EchoHandler
    app = tornado.web.Application([(r"/.*", handler)])
    app.listen(args.port, address=args.host, backlog=4096)
    mode = "broadcast" if args.broadcast else "echo"
    print(f"bench-tornado-server listening on ws://{args.host}:{args.port} ({mode})", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
