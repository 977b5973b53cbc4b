#!/usr/bin/python3
"""A python-websockets (10.4) echo server over TLS: the independent wss:// peer for our client.

    py_wss_echo_server.py --cert FILE --key FILE [--host 127.0.0.1] [--port 0]

Prints `py-wss-echo listening on wss://HOST:PORT`; SIGTERM/SIGINT: close 1001 to all, exit 0.
"""

import argparse
import asyncio
import signal
import ssl
import sys

import websockets


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    return p.parse_args()


async def main(args) -> int:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    context.set_alpn_protocols(["http/1.1"])

    async def echo(ws, _path=None):
        async for message in ws:
            await ws.send(message)

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)

    async with websockets.serve(echo, args.host, args.port, ssl=context, max_size=None,
                                ping_interval=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"py-wss-echo listening on wss://{args.host}:{port}", flush=True)
        await stop
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
