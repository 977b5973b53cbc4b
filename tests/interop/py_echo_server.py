#!/usr/bin/python3
"""A python-websockets (10.4) echo server: the independent peer for duplex-interop-client.

It takes duplex-echo's flags and prints the same kind of listening line, so it can also stand in
for duplex-echo when checking the suites themselves. `--break MODE` makes it misbehave on
purpose, to prove that a suite notices:
  corrupt     flips the first byte of every non-empty echo
  bad-exit    exits 3 on SIGTERM
SIGTERM/SIGINT: every client gets close 1001, then exit 0.
"""

import argparse
import asyncio
import signal
import sys

import websockets


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--max-message", type=int, default=16 * 1024 * 1024)
    p.add_argument("--handshake-timeout", type=float, default=10)  # accepted, not enforced
    p.add_argument("--idle-timeout", type=float, default=0)  # accepted for duplex-echo parity
    p.add_argument("--max-backpressure", type=int, default=0)  # likewise
    p.add_argument("--break", dest="broken", choices=["corrupt", "bad-exit"])
    return p.parse_args()


async def main(args) -> int:
    async def echo(ws, _path=None):
        async for message in ws:
            if args.broken == "corrupt" and message:
                if isinstance(message, str):
                    message = chr(ord(message[0]) ^ 1) + message[1:]
                else:
                    message = bytes([message[0] ^ 1]) + message[1:]
            await ws.send(message)

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)

    async with websockets.serve(echo, args.host, args.port, max_size=args.max_message,
                                ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"py-echo listening on ws://{args.host}:{port}", flush=True)
        await stop
        # Leaving the block closes every connection with 1001 (going away).
    return 3 if args.broken == "bad-exit" else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
