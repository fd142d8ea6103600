"""Service figures: CLI start-up, /metrics and /healthz latency, SIGTERM-to-exit time.

    .venv/bin/python bench/bench_service.py [--quarantine 10000] [--rounds 5] [--cli-only]

The CLI figures are whole processes (``--version``, ``health``, ``route`` on a
sample alert) beside the bare interpreter (``python -c pass``), run interleaved.

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


CLI_GOALS = {"--version": 0.15, "health": 0.3, "route": 0.3}


def bench_cli(config: Path, rounds: int) -> dict[str, list[float]]:
    """Whole processes, interleaved: the bare interpreter (the floor) and three commands."""
    sample = next((REPO / "imi_mailwatch" / "demo" / "mailbox").glob("*_nl_new_request.eml"))
    argvs = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "--version": [sys.executable, "-m", "imi_mailwatch", "--version"],
        "health": [sys.executable, "-m", "imi_mailwatch", "health", "-c", str(config)],
        "route": [sys.executable, "-m", "imi_mailwatch", "route", "-c", str(config), str(sample)],
    }
    # as installed: with bytecode (a warm-up round writes it if the tree has none)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: dict[str, list[float]] = {name: [] for name in argvs}
    for round_ in range(rounds + 1):
        for name, argv in argvs.items():
            start = time.perf_counter()
            subprocess.run(argv, cwd=config.parent, capture_output=True, check=False, env=env)
            if round_:
                times[name].append(time.perf_counter() - start)
    return times


def print_cli(times: dict[str, list[float]], rounds: int) -> None:
    floor = statistics.median(times["python -c pass"])
    print(f"CLI as whole processes ({rounds} interleaved runs each)")
    for name, values in times.items():
        median = statistics.median(values)
        goal = CLI_GOALS.get(name)
        verdict = (
            ""
            if goal is None
            else f", goal <= {goal * 1000:.0f} ms: " + ("met" if median <= goal else "missed")
        )
        print(f"  {name:15} {ms(values)}, {median / floor:.1f}x the floor{verdict}")


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
    parser.add_argument("--cli-only", action="store_true", help="only the command-line figures")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="imi-bench-service-"))
    config = write_config(tmp)
    print_cli(bench_cli(config, args.rounds * 2), args.rounds * 2)
    if args.cli_only:
        return 0
    stop = bench_stop(config, args.rounds)
    print(f"SIGTERM to exit, idle daemon ({args.rounds} runs): {ms(stop)}")
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
