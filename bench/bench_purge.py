"""How long the daily retention purge takes over a store of realistic size.

Fills a fresh state store through the real pipeline (stand-in parser and router,
as in tests/privacy) with N requests, half of them closed, plus ordinary mail and
rejected mail, then times a dry run and the real purge at the skeleton and at the
deletion date. Usage:

    .venv/bin/python bench/bench_purge.py --requests 2000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import structlog

from imi_mailwatch.privacy.quarantine import resolve
from imi_mailwatch.privacy.retention import RetentionPolicy, purge
from tests.privacy.helpers import desk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    policy = RetentionPolicy()
    with tempfile.TemporaryDirectory() as tmp:
        d = desk(Path(tmp))
        start = time.perf_counter()
        for i in range(args.requests):
            rid = str(600000 + i)
            d.feed("imi", rid, "new_request", "2026-12-20")
            d.feed("imi", rid, "deadline_changed", "2027-01-10")
            if i % 2 == 0:
                d.feed("imi", rid, "closed")
            if i % 10 == 0:
                d.feed("ordinary")
                d.feed("forged", rid, "new_request")
        fill = time.perf_counter() - start
        for item in d.store.quarantine():
            resolve(d.store, item.id)
        size = (Path(tmp) / "state.sqlite3").stat().st_size
        print(f"filled {args.requests} requests in {fill:.1f} s; file {size / 1024:.0f} KiB")
        steps = (
            ("skeleton date", policy.skeleton),
            ("deletion date", policy.delete - policy.skeleton),
        )
        for label, advance in steps:
            d.clock.advance(advance)
            t0 = time.perf_counter()
            planned = purge(d.store, policy, dry_run=True)
            t1 = time.perf_counter()
            applied = purge(d.store, policy)
            t2 = time.perf_counter()
            counts = {k: v for k, v in applied.counts().items() if v}
            assert planned.counts() == applied.counts()
            print(
                f"{label}: dry run {1000 * (t1 - t0):.0f} ms, purge {1000 * (t2 - t1):.0f} ms, "
                f"{counts}"
            )


if __name__ == "__main__":
    main()
