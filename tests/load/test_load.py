"""10,000 concurrent connections against one duplex-echo, from a Node `ws` client in another
process: all held open at once, each echoes one message, then all close. Bounded at 120 s.
The server keeps the fd limit it was given (20,000 here); nothing raises it."""

import json
import os
import queue
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from support import servers

HERE = Path(__file__).resolve().parent
COUNT = int(os.environ.get("DUPLEX_LOAD_COUNT", "10000"))
BOUND = 120  # seconds for the whole client run


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def fd_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return " ".join(line.split()[3:5])
    return "?"


def test_ten_thousand_connections(start_server):
    server = start_server.echo()
    rss = {"before": server.vm_rss_kib()}
    fds_before = open_fds(server.pid)
    print(f"\nduplex-echo pid {server.pid}, open-files limit (soft hard): {fd_limit(server.pid)}")

    err = tempfile.TemporaryFile()
    client = subprocess.Popen(
        ["node", HERE / "load_client.mjs", "--url", server.url + "/load", "--count", str(COUNT),
         "--timeout", str(BOUND)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True,
        preexec_fn=servers._die_with_parent)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in client.stdout] + [lines.put(None)],
                     daemon=True).start()

    deadline = time.monotonic() + BOUND + 10
    events = {}
    try:
        while "done" not in events and "failed" not in events:
            left = deadline - time.monotonic()
            assert left > 0, f"load client silent for too long; have {list(events)}"
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                break
            event = json.loads(line)
            events[event["event"]] = event
            if event["event"] == "open":
                # Everything is held open now: look at the server at its fullest.
                rss["with all open"] = server.vm_rss_kib()
                fds_open = open_fds(server.pid)
                print(f"all {event['opened']} open in {event['ms']['open']} ms; "
                      f"server holds {fds_open} fds")
                assert fds_open >= fds_before + COUNT, "the server holds fewer sockets than open"
                client.stdin.write("go\n")
                client.stdin.flush()
        status = client.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
        err.seek(0)
        client_stderr = err.read().decode(errors="replace")

    # The server closes its side of each connection; give it a moment to let go of them all.
    give_up = time.monotonic() + 10
    while open_fds(server.pid) > fds_before and time.monotonic() < give_up:
        time.sleep(0.1)
    fds_after = open_fds(server.pid)
    rss["after close"] = server.vm_rss_kib()
    print("duplex-echo VmRSS: " + ", ".join(f"{k} {v} KiB" for k, v in rss.items()))
    print(f"server fds: before {fds_before}, after {fds_after}")

    done = events.get("done") or events.get("failed") or {}
    print(f"client: {json.dumps(done)}")
    assert "failed" not in events, f"load client failed: {done.get('problems')}\n{client_stderr}"
    assert status == 0, f"load client exited {status}\n{client_stderr}"
    assert done["opened"] == COUNT
    assert done["echoed"] == COUNT
    assert done["closed"] == COUNT
    assert fds_after <= fds_before, "the server kept sockets of closed connections"
    assert server.alive(), "duplex-echo died under load"
