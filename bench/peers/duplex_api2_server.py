#!/usr/bin/python3
"""duplex's Python package, API 2 (the Tornado-style handler class), as a benchmark peer.

The Tornado peer's code on duplex.WebSocketHandler: `on_message` is called from C++ with no
coroutine, Task or Future per message, and `self.send` queues the frame at once. With
--broadcast `on_open` subscribes the connection to one topic and each message is published to it
(`self.server.publish`: one frame for every subscriber, the sender included). Compression is
off (`compression=None`) unless --deflate. The package comes from PYTHONPATH (bench/run sets it).
"""
import duplex

import python_peer

TOPIC = "all"


class Echo(duplex.WebSocketHandler):
    def on_message(self, message):
        self.send(message)


class Broadcast(duplex.WebSocketHandler):
    def on_open(self, request):
        self.subscribe(TOPIC)

    def on_message(self, message):
        self.server.publish(TOPIC, message)


if __name__ == "__main__":
    python_peer.run_duplex("bench-duplex-api2-server", __doc__, echo=Echo, broadcast=Broadcast)
