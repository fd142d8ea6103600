"""Backlog of alerts, classified and recorded, no sink: goal >= 500 messages per second.

    .venv/bin/python bench/bench_backlog.py [--messages 2000] [--rounds 3]

A Maildir backlog of synthetic alerts (tests/faults/corpus.py: new requests, later
alerts on them, and a few ordinary, forged and unreadable messages) is handled by
one pass of the daemon's mailbox loop (``Daemon.pass_over``), built by
``build_app`` from a configuration: the alert reader, the rules, the SQLite
state store on disk recording every outcome in its transaction, the Maildir
acknowledge, and, as the nearest thing to no sink, the in-memory task sink and
notifier (no PDF, no Corsa). Logging is on at its default level (info, JSON) into
/dev/null.

Its floor, measured in the same run over the same messages: ``AlertReader.classify``
alone (no store, no source). The ratio is the full pass over the floor. The
pass's CPU time is printed too: the rest of its time is waiting for fsync. Each
round starts from a fresh mailbox and store; the median round is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import build_app
from imi_mailwatch.commands.demo import make_maildir
from imi_mailwatch.config import config_from_data
from imi_mailwatch.logging_setup import configure_logging
from imi_mailwatch.reading import make_reader
from tests.faults.corpus import make_corpus

ROOT = Path(__file__).resolve().parents[1]
GOAL = 500.0


def config_data(tmp: Path) -> dict[str, object]:
    return {
        "state": {"path": str(tmp / "state.sqlite3")},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp / "mailbox")}],
        "rules": {"paths": [str(ROOT / "rules")]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a@example.org"}],
        "notify": {"kind": "drop_folder", "drop_folder": {"path": str(tmp / "outbox")}},
        "service": {"health_listen": None},
    }


def full_pass(messages: list[bytes]) -> tuple[float, float, dict[str, int]]:
    """Seconds (wall, CPU) for one pass of the daemon over a fresh backlog of ``messages``."""
    with tempfile.TemporaryDirectory(prefix="imi-bench-backlog-") as tmp_name:
        tmp = Path(tmp_name)
        make_maildir(
            tmp / "mailbox", [(f"m{i}.eml", d) for i, d in enumerate(messages)], 1763280000
        )
        cfg = config_from_data(config_data(tmp), {}, base_dir=str(tmp))
        app = build_app(cfg, sink=InMemoryTaskSink(), notifier=InMemoryNotifier())
        try:
            (source,) = app.sources
            start, cpu = time.perf_counter(), time.process_time()
            app.daemon.pass_over(source)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            counts = app.daemon.counters.snapshot()
        finally:
            app.store.close()
    return seconds, cpu, counts


def classify_only(messages: list[bytes], tmp: Path) -> float:
    """Seconds for the floor: the configured reader over the same messages."""
    reader = make_reader(config_from_data(config_data(tmp), {}, base_dir=str(tmp)))
    start = time.perf_counter()
    for data in messages:
        reader.classify(data)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with open(os.devnull, "w", encoding="utf-8") as devnull:
        configure_logging("info", "json", stream=devnull)
        corpus = make_corpus(args.messages, today=date.today(), seed=3)
        messages = [item.data for item in corpus.items]
        n = len(messages)
        floors, passes, cpus = [], [], []
        counts: dict[str, int] = {}
        with tempfile.TemporaryDirectory(prefix="imi-bench-backlog-") as tmp_name:
            for _ in range(args.rounds):  # interleaved, so both see the same machine
                floors.append(classify_only(messages, Path(tmp_name)))
                seconds, cpu, counts = full_pass(messages)
                passes.append(seconds)
                cpus.append(cpu)
    floor_rate = n / statistics.median(floors)
    rate = n / statistics.median(passes)
    print(f"{n} messages, {args.rounds} rounds (median); outcomes of the last: {counts}")
    print(f"  floor: AlertReader.classify only        {floor_rate:8,.0f} msg/s")
    print(
        f"  classified and recorded, in-memory sink {rate:8,.0f} msg/s  "
        f"({rate / floor_rate:.2f}x the floor)"
    )
    print(
        f"  (its CPU time alone would allow        {n / statistics.median(cpus):8,.0f} msg/s; "
        "the rest is waiting for the disk)"
    )
    verdict = "met" if rate >= GOAL else "missed"
    print(f"  goal >= {GOAL:,.0f} msg/s: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
