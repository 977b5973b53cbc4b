"""API 2, Tornado's handler shape: methods called straight from the C++ loop, no coroutine per
message (the fastest way to serve from Python).

    .venv/bin/python examples/python/tornado_style.py
"""

import asyncio

import duplex


class EchoHandler(duplex.WebSocketHandler):
    def on_open(self, request):
        print("open", request.path, self.remote_address)

    def on_message(self, message):
        self.send(message)

    def on_close(self, code, reason):
        print("closed", code, reason)


async def main():
    async with duplex.serve(EchoHandler, "127.0.0.1", 8765) as server:
        print("listening on ws://127.0.0.1:8765", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())  # Ctrl-C: every client gets close 1001
    except KeyboardInterrupt:
        pass
