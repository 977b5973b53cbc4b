#!/usr/bin/env python3
"""Server RSS per connection with and without permessage-deflate (docs/compression.md):
1,000 python-websockets clients, each sends one 360-byte text message and stays open.
  /usr/bin/python3 tests/compression/measure_memory.py build/release/apps/duplex-echo"""
import asyncio, websockets, subprocess, re, sys, time
BIN = sys.argv[1]
def rss(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1])
async def measure(flags, compression):
    p = subprocess.Popen([BIN, "--port", "0", *flags], stdout=subprocess.PIPE)
    port = int(re.search(rb":(\d+)$", p.stdout.readline().strip()).group(1))
    # warm up one connection so shared streams exist before the baseline
    async with websockets.connect(f"ws://127.0.0.1:{port}", compression=compression) as w:
        await w.send("x" * 300); await w.recv()
    await asyncio.sleep(0.2); before = rss(p.pid)
    conns = []
    for i in range(1000):
        ws = await websockets.connect(f"ws://127.0.0.1:{port}", compression=compression)
        await ws.send("hello " * 60); await ws.recv()
        conns.append(ws)
    await asyncio.sleep(0.3); after = rss(p.pid)
    ext = conns[0].response_headers.get("Sec-WebSocket-Extensions")
    for ws in conns: await ws.close()
    p.terminate(); p.wait()
    return (after - before) * 1024 / 1000, ext
async def main():
    plain = await measure([], None)
    shared = await measure(["--deflate"], "deflate")
    takeover = await measure(["--deflate", "--deflate-takeover"], "deflate")
    print(f"plain: {plain[0]:.0f} B/conn ({plain[1]})")
    print(f"deflate, no takeover: {shared[0]:.0f} B/conn ({shared[1]})")
    print(f"deflate, takeover: {takeover[0]:.0f} B/conn ({takeover[1]})")
asyncio.run(main())
