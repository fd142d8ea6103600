"""Benchmark: what a work bomb under the size limit costs the alert reader.

    .venv/bin/python bench/bench_bombs.py

For each message (synthetic, from tests/alerts/hostile.py): the CPU time of
``AlertReader.classify`` (process time, so the figure does not depend on the load
of the host), the peak of memory allocated meanwhile (tracemalloc, the message
itself excluded) and the outcome. The 25 MB genuine alert is the yardstick:
every bomb must cost less than reading it.
"""

from __future__ import annotations

import logging
import sys
import time
import tracemalloc
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.alerts.hostile import big_attachment, parts_bomb
from tests.alerts.mail import NL_BODY, message, multipart, reader

LIMIT = 30 * 1024 * 1024 - 4096  # just under the default max_message_bytes


def html_bomb() -> bytes:
    """Twelve HTML parts of 256 kB of bare tags, beside a plain-text alert."""
    tags = ("Content-Type: text/html; charset=utf-8", b"<i>" * 85_000)
    plain = ("Content-Type: text/plain; charset=utf-8", NL_BODY.encode())
    return multipart([plain, *[tags] * 12], subtype="mixed")


CASES = {
    "25 MB genuine alert (attachment)": lambda: big_attachment()[1],
    "30 MB of empty MIME parts": lambda: parts_bomb(LIMIT),
    "7 MB of empty MIME parts": lambda: parts_bomb(7 * 1024 * 1024),
    "30 MB of parts with 1 kB headers": lambda: parts_bomb(LIMIT, pad=990),
    "30 MB of 3-byte lines": lambda: message(b"a\r\n" * (LIMIT // 3), cte="7bit"),
    "3 MB of HTML tags in 12 parts": html_bomb,
    "29 MB in 999,000 lines (within)": lambda: message((b"a" * 28 + b"\r\n") * 999_000, cte="7bit"),
}


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    alerts = reader()
    print(f"{'message':36} {'bytes':>11} {'CPU s':>7} {'peak MB':>8}  outcome")
    for name, make in CASES.items():
        data = make()
        tracemalloc.start()
        start = time.process_time()
        c = alerts.classify(data)
        cpu = time.process_time() - start
        _now, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        outcome = c.kind.value + (f": {c.reason}" if c.reason else "")
        print(f"{name:36} {len(data):>11,} {cpu:>7.2f} {peak / 2**20:>8.1f}  {outcome}")


if __name__ == "__main__":
    main()
