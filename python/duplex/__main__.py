"""``python -m duplex URI``: an interactive client, like ``python -m websockets``. Prints what
arrives, sends each line typed, and shows how the connection closed."""

from __future__ import annotations

import argparse
import asyncio
import sys

from . import ConnectionClosed, connect


async def _read_lines(queue: asyncio.Queue) -> None:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        await queue.put(line)
        if not line:
            return


async def _session(uri: str) -> int:
    try:
        ws = await connect(uri)
    except Exception as exc:
        print(f"Failed to connect to {uri}: {exc}.", file=sys.stderr)
        return 1
    print(f"Connected to {uri}.", flush=True)
    lines: asyncio.Queue = asyncio.Queue()
    reader = asyncio.create_task(_read_lines(lines))

    async def incoming() -> None:
        try:
            async for message in ws:
                if isinstance(message, str):
                    print(f"< {message}", flush=True)
                else:
                    print(f"< (binary) {message.hex()}", flush=True)
        except ConnectionClosed:
            pass

    receiver = asyncio.create_task(incoming())
    try:
        while True:
            getter = asyncio.create_task(lines.get())
            done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                getter.cancel()
                break
            line = getter.result()
            if not line:  # end of input: close normally
                await ws.close()
                break
            try:
                await ws.send(line.rstrip("\n"))
            except ConnectionClosed:
                break
    finally:
        reader.cancel()
        await ws.wait_closed()
        await receiver
    reason = f" {ws.close_reason}" if ws.close_reason else ""
    print(f"Connection closed: {ws.close_code}{reason}.", flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duplex",
                                     description="Interactive WebSocket client.")
    parser.add_argument("uri", metavar="<uri>", help="ws:// or wss:// URI")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_session(args.uri))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    # The stdin reader thread may still wait for a line: leave without joining it.
    import os

    code = main()
    sys.stdout.flush()
    os._exit(code)
