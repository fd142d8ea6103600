"""Benchmark: reading a reply whole (MIME, first line, command, link, trust, automatic).

The pure part of the reply channel, per message, as the daemon will run it before it
looks at a request. Replies as Outlook for Windows (plain and HTML), Outlook on the
web (HTML only) and an iPhone write them, each with the quoted original below.

    .venv/bin/python bench/bench_replies.py [--rounds 2000]

Then the HTML cut alone over hostile markup of 256 kB (the most of one HTML part the
reader takes): it must stay linear in the markup, whatever the tags hold. And the first line over
plain text of a million characters on one line: bounded, whatever the line holds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imi_mailwatch.alerts.mime import MAX_HTML_BYTES
from imi_mailwatch.replies.body import cut_quoted_html, first_line
from imi_mailwatch.replies.reader import read
from tests.replies.mail import ID_DOMAINS, TRUST_BOTH, iphone, outlook_desktop, outlook_web


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    replies = {
        "outlook_desktop": outlook_desktop("AANVAARD"),
        "outlook_web": outlook_web("Pauze tot 10-12-2026"),
        "iphone": iphone("Ik pak dit op"),
    }
    for name, data in replies.items():
        assert read(data, trust=TRUST_BOTH, id_domains=ID_DOMAINS).actionable
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            read(data, trust=TRUST_BOTH, id_domains=ID_DOMAINS)
            times.append(time.perf_counter() - start)
        times.sort()
        p95 = times[int(len(times) * 0.95)]
        print(
            f"{name:16s} {len(data):6d} bytes  median {statistics.median(times) * 1e6:7.0f} us"
            f"  p95 {p95 * 1e6:7.0f} us  ({args.rounds} rounds)"
        )

    hostile = {
        "'<a' repeated": "<a" * (MAX_HTML_BYTES // 2),
        "'<' repeated": "<" * MAX_HTML_BYTES,
        "tags full of class=": ("<a " + "class=aaaa " * 36 + "x>") * 700,
        "divs full of id=": ("<div " + "id=" * 600 + ">") * 150,
    }
    for name, whole in hostile.items():
        markup = whole[:MAX_HTML_BYTES]
        start = time.perf_counter()
        cut_quoted_html(markup)
        took = time.perf_counter() - start
        print(f"cut_quoted_html {name:22s} {len(markup):7d} chars  {took:.4f} s")

    lines = {
        "'op ' + 'schreef ' x 120,000": "op " + "schreef " * 120_000 + ":",
        "'on x' over 'wrote ' x 150,000": "on x\n" + "wrote " * 150_000 + ":",
    }
    for name, text in lines.items():
        start = time.perf_counter()
        first_line(text)
        took = time.perf_counter() - start
        print(f"first_line {name:32s} {len(text):7d} chars  {took:.4f} s")


if __name__ == "__main__":
    main()
