#!/usr/bin/python3
"""duplex-echo's behaviour written with the duplex Python package: it takes duplex-echo's flags
and prints the same listening line, so the repository's end-to-end suites (tests/interop,
tests/badinput, tests/tls) run unchanged against a Python-handler server (python/CMakeLists.txt
points DUPLEX_ECHO at it). `--api 1` serves with a coroutine handler (websockets style), `--api
2` with a WebSocketHandler class. SIGTERM/SIGINT: every client gets close 1001, then exit 0.
"""

import argparse
import asyncio
import signal

import duplex


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--api", type=int, choices=[1, 2], default=1)
    p.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9001)
    p.add_argument("--max-message", type=int, default=16 * 1024 * 1024)
    p.add_argument("--handshake-timeout", type=float, default=10)
    p.add_argument("--idle-timeout", type=float, default=0)
    p.add_argument("--max-backpressure", type=int, default=0)  # accepted for parity
    p.add_argument("--broadcast", action="store_true")
    p.add_argument("--deflate", action="store_true")
    p.add_argument("--cert")
    p.add_argument("--key")
    return p.parse_args()


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def broadcast(ws):
    path = ws.request.path
    ws.subscribe(path)
    async for message in ws:
        ws.server.publish(path, message)


class Echo(duplex.WebSocketHandler):
    def on_message(self, message):
        self.send(message)


class Broadcast(duplex.WebSocketHandler):
    def on_open(self, request):
        self.path = request.path
        self.subscribe(self.path)

    def on_message(self, message):
        self.server.publish(self.path, message)


async def main(args):
    if args.api == 1:
        handler = broadcast if args.broadcast else echo
    else:
        handler = Broadcast if args.broadcast else Echo
    ssl = (args.cert, args.key or args.cert) if args.cert else None
    async with duplex.serve(handler, args.host, args.port, ssl=ssl,
                            compression="deflate" if args.deflate else None,
                            max_size=args.max_message, open_timeout=args.handshake_timeout,
                            ping_interval=args.idle_timeout or None) as server:
        serving = asyncio.ensure_future(server.serve_forever())
        loop = asyncio.get_running_loop()
        # Before the listening line: whoever reads it may send SIGTERM at once.
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, serving.cancel)
        scheme = "wss" if ssl else "ws"
        print(f"duplex python echo (API {args.api}, {args.loop}) listening on "
              f"{scheme}://{args.host}:{server.port}", flush=True)
        try:
            await serving
        except asyncio.CancelledError:
            pass


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.loop == "uvloop":
        import uvloop

        uvloop.install()
    asyncio.run(main(arguments))
