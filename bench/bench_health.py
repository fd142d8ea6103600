"""Benchmark: the start-up check of the state store, and the health endpoint under silent clients.

    .venv/bin/python bench/bench_health.py [--messages 100000] [--silent 1000]

1. ``SqliteStateStore.check_usable`` (``PRAGMA integrity_check`` plus a rolled-back
   write) on a store with ``--messages`` message rows, a fifth as many requests and
   as many audit rows: what the integrity check adds to every start.
2. The health endpoint with ``--silent`` clients connected that send nothing: the
   threads of the process, and the time an ordinary GET /healthz takes meanwhile.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import SystemClock
from imi_mailwatch.health import HealthReport, HealthServer

NOW = "2026-11-16T09:00:00+00:00"


def fill(store: SqliteStateStore, messages: int) -> None:
    with store.transaction():
        for i in range(messages):
            store.execute(
                "INSERT INTO messages (source, ref, message_id, content_hash, kind, disposition, "
                "request_id, recorded_at) VALUES ('imi', ?, ?, ?, 'alert', 'handled', ?, ?)",
                (f"r{i}", f"<m{i}@example.org>", f"{i:064x}", str(100000 + i // 5), NOW),
            )
            store.execute(
                "INSERT INTO audit (at, request_id, action, detail) VALUES (?, ?, 'x', '{}')",
                (NOW, str(100000 + i // 5)),
            )
            if i % 5 == 0:
                store.execute(
                    "INSERT INTO requests (request_id, status, created_at, updated_at) "
                    "VALUES (?, 'open', ?, ?)",
                    (str(100000 + i // 5), NOW, NOW),
                )


def bench_check(messages: int) -> None:
    path = Path(tempfile.mkdtemp(prefix="imi-bench-")) / "state.sqlite3"
    store = SqliteStateStore(path, SystemClock())
    fill(store, messages)
    store.close()
    store = SqliteStateStore(path, SystemClock())
    started = time.perf_counter()
    store.check_usable()
    took = time.perf_counter() - started
    store.close()
    size = path.stat().st_size / 1e6
    print(f"check_usable on {messages} messages ({size:.1f} MB): {took * 1000:.0f} ms")


def bench_endpoint(silent: int) -> None:
    server = HealthServer("127.0.0.1:0", check=lambda: HealthReport(ok=True), state=lambda: "x")
    server.start()
    before = threading.active_count()
    held = [socket.create_connection(server.address) for _ in range(silent)]
    url = f"http://127.0.0.1:{server.address[1]}/healthz"
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as resp:
        resp.read()
    took = time.perf_counter() - started
    print(
        f"{silent} silent clients: threads {before} -> {threading.active_count()}, "
        f"GET /healthz meanwhile {took * 1000:.1f} ms"
    )
    server.stop()
    for s in held:
        s.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100000)
    parser.add_argument("--silent", type=int, default=1000)
    args = parser.parse_args()
    bench_check(args.messages)
    bench_endpoint(args.silent)


if __name__ == "__main__":
    main()
