#!/usr/bin/python3
"""Tornado peer for the benchmark (Debian's python3-tornado, 6.2).

A WebSocketHandler as Tornado's documentation writes it: echo, or with --broadcast every
message sent to every open connection (the sender included), as its chat demo does. No
compression (Tornado's default) unless --deflate: then get_compression_options() returns {}, the
documented way to turn permessage-deflate on with Tornado's defaults (it honours the
generator's no-context-takeover offer). One IOLoop, one thread; bench/run pins the process.
Tornado 6 runs on whatever asyncio loop is current, so --uvloop needs nothing more.
"""
import asyncio

import tornado.web
import tornado.websocket

import python_peer

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


async def main(args):
    global DEFLATE
    DEFLATE = args.deflate
    handler = BroadcastHandler if args.broadcast else EchoHandler
    app = tornado.web.Application([(r"/.*", handler)])
    app.listen(args.port, address=args.host, backlog=4096)
    python_peer.say_listening("bench-tornado-server", args, args.port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    python_peer.run(main, python_peer.parse_args(__doc__))
