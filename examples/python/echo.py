"""The websockets-style echo server: python-websockets code with `duplex` as the import.

    make python && .venv/bin/python examples/python/echo.py
    .venv/bin/python -m duplex ws://127.0.0.1:8765
"""

import asyncio

import duplex


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main():
    async with duplex.serve(echo, "127.0.0.1", 8765) as server:
        print("listening on ws://127.0.0.1:8765", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())  # Ctrl-C: every client gets close 1001
    except KeyboardInterrupt:
        pass
