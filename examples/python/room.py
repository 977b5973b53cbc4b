"""The talk's broadcast room: everyone in the room gets every message, and a newcomer first gets
what was said before (the last 100 messages). A publish is framed once in C++ and queued on
every subscriber; Python never loops over the room.

Written as a Tornado-style handler: on_open replays and subscribes in one synchronous step, so
no message can fall between the replay and the live ones.

    .venv/bin/python examples/python/room.py
    .venv/bin/python -m duplex ws://127.0.0.1:8765   (in two terminals)
"""

import asyncio
from collections import deque

import duplex

history = deque(maxlen=100)


class Room(duplex.WebSocketHandler):
    def on_open(self, request):
        for message in history:
            self.send(message)
        self.subscribe("room")

    def on_message(self, message):
        history.append(message)
        self.server.publish("room", message)


async def main():
    async with duplex.serve(Room, "127.0.0.1", 8765) as server:
        print("listening on ws://127.0.0.1:8765", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())  # Ctrl-C: every client gets close 1001
    except KeyboardInterrupt:
        pass
