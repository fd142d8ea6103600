"""Load: a backlog of 10,000 alerts in a Maildir, handled by the real daemon process.

    .venv/bin/python bench/bench_load.py [--alerts 10000] [--interval 2]

Runs ``imi-mailwatch run --once`` over the backlog (drop-folder task sink and
notifier) and samples, every ``interval`` seconds, the daemon's resident memory
(VmRSS from /proc), that of its child processes (the PDF helper) and how many
messages the state store has recorded. Prints the samples and a summary
(throughput, RSS at 20 % and at the end of the backlog, beside the floor: a
bare interpreter's RSS) as JSON. Figures go into RELIABILITY.md and BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imi_mailwatch.commands.demo import make_maildir
from tests.faults.corpus import make_corpus
from tests.service.helpers import ENVIRON, write_config


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children_rss_kib(pid: int) -> int:
    """The resident memory of ``pid``'s child processes (the PDF helper)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        total += sum(rss_kib(int(kid)) for kid in kids)
    return total


def floor_rss_kib() -> int:
    """A bare interpreter's resident memory: the floor of any Python daemon."""
    out = subprocess.run(
        [sys.executable, "-c", "print(open('/proc/self/status').read())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(int(line.split()[1]) for line in out.splitlines() if line.startswith("VmRSS:"))


def recorded(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            return int(con.execute("SELECT count(*) FROM messages").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args()
    corpus = make_corpus(args.alerts, today=date.today(), seed=3)
    with tempfile.TemporaryDirectory(prefix="imi-bench-load-") as tmp_name:
        tmp = Path(tmp_name)
        make_maildir(
            tmp / "mailbox",
            [(f"m{i}.eml", item.data) for i, item in enumerate(corpus.items)],
            start=1763280000,
        )
        config = write_config(tmp, logging={"level": "warning", "format": "json"})
        db = tmp / "state" / "state.sqlite3"
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "imi_mailwatch", "run", "--once", "-c", str(config)],
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **ENVIRON},
        )
        samples = []
        while proc.poll() is None:
            samples.append(
                {
                    "s": round(time.monotonic() - started, 1),
                    "recorded": recorded(db),
                    "rss_mib": round(rss_kib(proc.pid) / 1024, 1),
                    "helper_rss_mib": round(children_rss_kib(proc.pid) / 1024, 1),
                }
            )
            time.sleep(args.interval)
        seconds = time.monotonic() - started
        total = recorded(db)
    at_20 = next((s for s in samples if s["recorded"] >= total * 0.2), samples[0])
    busy = [s for s in samples if s["rss_mib"]]
    floor = round(floor_rss_kib() / 1024, 1)
    last = busy[-1]["rss_mib"] if busy else None
    summary = {
        "messages": len(corpus.items),
        "recorded": total,
        "exit_code": proc.returncode,
        "seconds": round(seconds, 1),
        "messages_per_second": round(total / seconds, 1),
        "rss_mib_at_20pct": at_20["rss_mib"],
        "rss_mib_last": last,
        "rss_mib_max": max(s["rss_mib"] for s in busy) if busy else None,
        "helper_rss_mib_max": max((s["helper_rss_mib"] for s in busy), default=None),
        "floor_rss_mib_bare_python": floor,
        "rss_last_over_floor": round(last / floor, 1) if last else None,
        "goal_messages_per_second": 50,
        "goal_rss_mib": 80,
    }
    print(json.dumps({"samples": samples[:: max(1, len(samples) // 20)], "summary": summary}))
    return 0 if proc.returncode == 0 and total == len(corpus.items) else 1


if __name__ == "__main__":
    raise SystemExit(main())
