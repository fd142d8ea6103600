"""Service figures: health command, /metrics and /healthz latency, SIGTERM-to-exit time.

    .venv/bin/python bench/bench_service.py [--quarantine 10000] [--rounds 5]

The daemon runs as a real process over an empty Maildir; /metrics is scraped
over loopback from a store holding ``--quarantine`` unresolved quarantine rows.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import SystemClock
from imi_mailwatch.config import config_from_data
from imi_mailwatch.health import HealthServer, check
from imi_mailwatch.metrics import StateCollector
from imi_mailwatch.model import Disposition, MessageKind
from imi_mailwatch.records import MessageEntry, QuarantineEntry

REPO = Path(__file__).resolve().parents[1]


def write_config(tmp: Path) -> Path:
    for sub in ("new", "cur", "tmp"):
        (tmp / "mailbox" / sub).mkdir(parents=True, exist_ok=True)
    data = {
        "state": {"path": "state.sqlite3"},
        "logging": {"format": "json"},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": "mailbox"}],
        "rules": {"paths": [str(REPO / "rules")]},
        "notify": {"kind": "drop_folder", "drop_folder": {"path": "outbox"}},
        "service": {"health_listen": None},
    }
    path = tmp / "imi-mailwatch.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.1f} ms, max {max(values) * 1000:.1f} ms"


def bench_stop(config: Path, rounds: int) -> list[float]:
    """SIGTERM to process exit for an idle daemon."""
    times = []
    for _ in range(rounds):
        proc = subprocess.Popen(
            [sys.executable, "-m", "imi_mailwatch", "run", "-c", str(config)],
            cwd=config.parent,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if json.loads(line).get("event") == "daemon.state_changed":
                break
        time.sleep(1.0)  # let the first pass finish
        start = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        times.append(time.perf_counter() - start)
        proc.stdout.close()
    return times


def bench_health_command(config: Path, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "imi_mailwatch", "health", "-c", str(config)],
            cwd=config.parent,
            capture_output=True,
            check=False,
        )
        times.append(time.perf_counter() - start)
    return times


def bench_scrape(tmp: Path, quarantine: int, rounds: int) -> tuple[list[float], list[float], int]:
    store = SqliteStateStore(tmp / "scrape.sqlite3", SystemClock())
    with store.transaction():
        for i in range(quarantine):
            row = store.record_message(
                MessageEntry(
                    source="imi",
                    ref=f"m{i}",
                    message_id=f"<m{i}@example.org>",
                    content_hash=f"h{i}",
                    kind=MessageKind.IMI_ALERT,
                    disposition=Disposition.QUARANTINED,
                    reason="synthetic",
                    request_id=None,
                    alert_type=None,
                )
            )
            store.quarantine_add(
                row,
                QuarantineEntry(
                    source="imi",
                    ref=f"m{i}",
                    kind="quarantined",
                    reason="synthetic",
                    request_id=None,
                    raw=None,
                ),
            )
    for n in range(10):
        store.record_health(f"mailbox:box{n}", ok=True)
    cfg = config_from_data(
        {"mailboxes": [{"name": f"box{n}", "kind": "eml_dir", "path": "x"} for n in range(10)]},
        {},
        base_dir=str(tmp),
    )
    server = HealthServer(
        "127.0.0.1:0",
        check=lambda: check(cfg, store, store.now()),
        state=lambda: "running",
        collector=StateCollector(store),
    )
    server.start()
    base = f"http://127.0.0.1:{server.address[1]}"
    scrape, healthz = [], []
    size = 0
    try:
        for _ in range(rounds * 4):
            start = time.perf_counter()
            with urllib.request.urlopen(base + "/metrics") as resp:
                size = len(resp.read())
            scrape.append(time.perf_counter() - start)
            start = time.perf_counter()
            # 503: no heartbeat in this store; the timing is what counts
            with contextlib.suppress(urllib.error.HTTPError):
                urllib.request.urlopen(base + "/healthz").read()
            healthz.append(time.perf_counter() - start)
    finally:
        server.stop()
        store.close()
    return scrape, healthz, size


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quarantine", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="imi-bench-service-"))
    config = write_config(tmp)
    stop = bench_stop(config, args.rounds)
    print(f"SIGTERM to exit, idle daemon ({args.rounds} runs): {ms(stop)}")
    health = bench_health_command(config, args.rounds)
    print(f"imi-mailwatch health, whole process ({args.rounds} runs): {ms(health)}")
    scrape, healthz, size = bench_scrape(tmp, args.quarantine, args.rounds)
    print(
        f"/metrics, {args.quarantine} quarantined rows, 10 mailboxes ({len(scrape)} scrapes, "
        f"{size} bytes): {ms(scrape)}"
    )
    print(f"/healthz ({len(healthz)} requests): {ms(healthz)}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
