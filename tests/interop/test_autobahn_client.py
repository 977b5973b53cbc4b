"""duplex-autobahn-client against a stand-in for the Autobahn|Testsuite fuzzing server, written
with python-websockets: the same three endpoints (/getCaseCount, /runCase?case=N&agent=A,
/updateReports?agent=A) and a few scripted cases that check what the client echoed: a
fragmented text message, a ping, compressed messages (and that the echo came back compressed),
and a close code the client must echo. A Python client that echoes wrongly must fail here too,
so the checks are known to bite."""

from __future__ import annotations

import asyncio
import os
import subprocess
import urllib.parse
from pathlib import Path

import pytest
import websockets
from websockets.extensions.permessage_deflate import PerMessageDeflate

from support import servers

AGENT = "duplex test/1"  # a space and a slash: the client must escape its query
TIMEOUT = 10


async def expect_echo(ws, sent) -> None:
    got = await asyncio.wait_for(ws.recv(), TIMEOUT)
    whole = "".join(sent) if isinstance(sent, list) and isinstance(sent[0], str) else \
        b"".join(sent) if isinstance(sent, list) else sent
    assert type(got) is type(whole), f"{type(whole).__name__} echoed as {type(got).__name__}"
    assert got == whole, f"echo differs: {len(got)} bytes back for {len(whole)}"


async def fragmented_text(ws) -> None:
    await ws.send(["Hel", "lo, ", "wörld ✓"])  # one text message in three frames
    await expect_echo(ws, ["Hel", "lo, ", "wörld ✓"])
    await ws.send([b"\x00\x01", b"", b"\xff" * 300])
    await expect_echo(ws, [b"\x00\x01", b"", b"\xff" * 300])


async def ping(ws) -> None:
    pong = await ws.ping(b"case 2")
    await asyncio.wait_for(pong, TIMEOUT)  # answered with the same payload
    await ws.send(b"after the ping")
    await expect_echo(ws, b"after the ping")


async def compressed(ws) -> None:
    deflate = [e for e in ws.extensions if isinstance(e, PerMessageDeflate)]
    assert deflate, "permessage-deflate was not offered"
    # Record whether each frame the client sends arrives compressed (RSV1).
    rsv1 = []
    decode = deflate[0].decode

    def watching(frame, *, max_size=None):
        rsv1.append(frame.rsv1)
        return decode(frame, max_size=max_size)

    deflate[0].decode = watching
    text = "tomato, candy, egg, cat; " * 4000
    for message in (text, text.encode(), text[:100]):
        await ws.send(message)
        await expect_echo(ws, message)
    assert rsv1[:2] == [True, True], f"large echoes were not compressed: {rsv1}"


async def close_code(ws) -> None:
    await ws.send("closing with 4001 next")
    await expect_echo(ws, "closing with 4001 next")
    await ws.close(4001, "scripted")


CASES = [fragmented_text, ping, compressed, close_code]


class StandIn:
    """The fuzzing server's protocol with CASES; records what happened, in order."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.verdicts: dict[int, str] = {}

    async def handler(self, ws, path=None):
        url = urllib.parse.urlsplit(ws.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        if url.path == "/getCaseCount":
            self.calls.append(("getCaseCount",))
            await ws.send(str(len(CASES)))
        elif url.path == "/runCase":
            n = int(query["case"])
            self.calls.append(("runCase", n, query.get("agent")))
            self.verdicts[n] = await self.run_case(ws, n)
            return
        elif url.path == "/updateReports":
            self.calls.append(("updateReports", query.get("agent")))
        else:
            self.calls.append(("unknown", ws.path))
        await ws.close()

    async def run_case(self, ws, n: int) -> str:
        try:
            await CASES[n - 1](ws)
            expected = 4001 if CASES[n - 1] is close_code else 1000
            await ws.close()  # no-op when the case closed already
            if ws.close_code != expected:
                return f"close code {ws.close_code} echoed, not {expected}"
            return "ok"
        except Exception as e:  # noqa: BLE001 - the verdict says what went wrong
            await ws.close(1011)
            return f"{type(e).__name__}: {e}"

    def expected_calls(self, agent: str) -> list[tuple]:
        return [("getCaseCount",), *[("runCase", n, agent) for n in range(1, len(CASES) + 1)],
                ("updateReports", agent)]


async def run_against_stand_in(client) -> tuple[StandIn, object]:
    stand_in = StandIn()
    async with websockets.serve(stand_in.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        result = await client(f"ws://127.0.0.1:{port}")
    return stand_in, result


def autobahn_client_command() -> list[str]:
    path = os.environ.get("DUPLEX_AUTOBAHN_CLIENT") or \
        str(servers.REPO / "build/release/apps/duplex-autobahn-client")
    return [path]


async def our_client(url: str, *flags: str):
    process = await asyncio.create_subprocess_exec(
        *autobahn_client_command(), url, AGENT, *flags, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=servers.sanitizer_env())
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), err.decode()


def test_our_client_echoes_every_case_and_updates_the_reports():
    stand_in, (status, out, err) = asyncio.run(run_against_stand_in(our_client))
    for mark in servers.SANITIZER_MARKS:
        assert mark not in err, f"sanitizer report from the client:\n{err}"
    assert status == 0, f"client exited {status}\nstdout: {out}\nstderr: {err}"
    assert stand_in.verdicts == {n: "ok" for n in range(1, len(CASES) + 1)}
    assert stand_in.calls == stand_in.expected_calls(AGENT)


def test_our_client_without_deflate_fails_the_compression_case():
    stand_in, (status, out, err) = asyncio.run(
        run_against_stand_in(lambda url: our_client(url, "--no-deflate")))
    assert status == 0, err  # the run itself completes; the suite's verdict is the failure
    assert stand_in.verdicts[3].startswith("AssertionError: permessage-deflate was not offered")
    assert [v for n, v in stand_in.verdicts.items() if n != 3] == ["ok"] * (len(CASES) - 1)


async def python_client(url: str, mangle) -> None:
    """The client protocol in Python, echoing through `mangle`: the stand-in's checks must
    catch a wrong echo."""
    async with websockets.connect(url + "/getCaseCount") as ws:
        count = int(await ws.recv())
    for n in range(1, count + 1):
        agent = urllib.parse.quote(AGENT, safe="")
        async with websockets.connect(f"{url}/runCase?case={n}&agent={agent}",
                                      max_size=None) as ws:
            try:
                async for message in ws:
                    await ws.send(mangle(message))
            except websockets.exceptions.ConnectionClosed:
                pass  # the stand-in gave up on the case (1011): its verdict says why
    async with websockets.connect(f"{url}/updateReports?agent=x") as ws:
        await ws.wait_closed()


@pytest.mark.parametrize("name, mangle", [
    ("text as binary", lambda m: m.encode() if isinstance(m, str) else m),
    ("a byte lost", lambda m: m[:-1] if len(m) > 1 else m),
])
def test_the_stand_in_fails_a_wrong_echo(name, mangle):
    stand_in, _ = asyncio.run(run_against_stand_in(lambda url: python_client(url, mangle)))
    failed = [n for n, v in stand_in.verdicts.items() if v != "ok"]
    assert failed, f"{name}: every case passed with a wrong echo: {stand_in.verdicts}"
