"""The package from the outside: Ctrl-C on a served example closes every client with 1001 and
exits; `python -m duplex URI` is an interactive client."""

import asyncio
import os
import signal
import subprocess
import sys

import pytest
import websockets

from conftest import REPO


def start(argv, **kwargs):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=REPO, **kwargs)


def wait_listening(proc):
    line = proc.stdout.readline().decode()
    assert "listening on ws://" in line, (line, proc.stderr.read().decode() if proc.poll() is not None else "")
    return line.strip().rsplit("ws://", 1)[1]


@pytest.mark.parametrize("example", ["echo.py", "tornado_style.py"])
def test_ctrl_c_closes_clients_with_1001(example, tmp_path):
    # The examples listen on 8765; run a copy on a free port.
    source = (REPO / "examples" / "python" / example).read_text().replace("8765", "0")
    source = source.replace('print("listening on ws://127.0.0.1:0", flush=True)',
                            'print(f"listening on ws://127.0.0.1:{server.port}", flush=True)')
    script = tmp_path / example
    script.write_text(source)
    proc = start([sys.executable, str(script)])
    try:
        address = wait_listening(proc)

        async def main():
            clients = [await websockets.connect(f"ws://{address}/") for _ in range(3)]
            await clients[0].send("hi")
            assert await clients[0].recv() == "hi"
            proc.send_signal(signal.SIGINT)
            for ws in clients:
                await asyncio.wait_for(ws.wait_closed(), 10)
                assert ws.close_code == 1001
        asyncio.run(main())
        assert proc.wait(10) == 0
        assert b"Traceback" not in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()


def test_interactive_client(run_asyncio):
    async def echo(ws, path=None):
        async for message in ws:
            await ws.send(message)

    async def main():
        async with websockets.serve(echo, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "duplex", f"ws://127.0.0.1:{port}/",
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=dict(os.environ))

            async def line() -> str:
                return (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()

            assert await line() == f"Connected to ws://127.0.0.1:{port}/.\n"
            for word in ("hello", "world"):
                proc.stdin.write(f"{word}\n".encode())
                assert await line() == f"< {word}\n"
            proc.stdin.close()  # end of input: the client closes normally
            assert await line() == "Connection closed: 1000.\n"
            assert await asyncio.wait_for(proc.wait(), 10) == 0
    run_asyncio(main)
