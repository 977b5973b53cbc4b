"""The examples in examples/python, served in-process: the talk's broadcast room replays what was
said to each newcomer, then delivers live messages to everyone."""

import asyncio
import importlib.util

import duplex

from conftest import REPO


def load(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "examples" / "python" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_room_replays_then_broadcasts(run):
    room = load("room")

    async def main():
        room.history.clear()
        async with duplex.serve(room.Room, "127.0.0.1", 0) as server:
            url = f"ws://127.0.0.1:{server.port}/"
            async with duplex.connect(url) as ann:
                await ann.send("first")
                assert await ann.recv() == "first"  # the room includes the speaker
                await ann.send("second")
                assert await ann.recv() == "second"
                async with duplex.connect(url) as bob:
                    assert await bob.recv() == "first"  # replay
                    assert await bob.recv() == "second"
                    await bob.send("hello from bob")
                    assert await bob.recv() == "hello from bob"
                    assert await ann.recv() == "hello from bob"
    run(main)


def test_echo_examples(run):
    echo = load("echo")
    tornado_style = load("tornado_style")

    async def main():
        for handler in (echo.echo, tornado_style.EchoHandler):
            async with duplex.serve(handler, "127.0.0.1", 0) as server:
                async with duplex.connect(f"ws://127.0.0.1:{server.port}/") as ws:
                    await ws.send("hi")
                    assert await ws.recv() == "hi"
    run(main)


def test_fragments_and_argument_checks(run_asyncio):
    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    async def main():
        async with duplex.serve(echo, "127.0.0.1", 0) as server:
            async with duplex.connect(f"ws://127.0.0.1:{server.port}/") as ws:
                await ws.send(["frag", "ments"])
                assert await ws.recv() == "fragments"
                await ws.send([b"by", b"tes"])
                assert await ws.recv() == b"bytes"
                try:
                    await ws.send(42)
                except TypeError:
                    pass
                else:
                    raise AssertionError("send(42) should raise TypeError")
        try:
            duplex.serve(echo, "127.0.0.1", 0, pong_timeout=3)
        except TypeError as exc:
            assert "pong_timeout" in str(exc)
        else:
            raise AssertionError("an unknown argument should raise TypeError")
        await asyncio.sleep(0)
    run_asyncio(main)
