"""A Maildir backlog: fetch and acknowledge every message, beside the bare file operations.

    .venv/bin/python bench/bench_maildir.py [--messages 3000]

The floor reads each file and renames it into the processed folder with a
directory fsync, in delivery order, knowing every name; MaildirMailSource does the
same through fetch() and acknowledge(). Both run in the same process on fresh
copies of the same Maildir. Before the fix, acknowledge listed the whole inbox
for each message (O(N^2) over a backlog).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from imi_mailwatch.adapters.maildir import MaildirMailSource
from imi_mailwatch.adapters.memory import InMemoryCursorStore
from imi_mailwatch.model import Disposition

FOLDERS = {
    "processed_folder": "IMI/Verwerkt",
    "quarantine_folder": "IMI/Quarantaine",
    "rejected_folder": "IMI/Afgewezen",
}


def maildir(n: int) -> Path:
    root = Path(tempfile.mkdtemp(prefix="imi-bench-maildir-"))
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir()
    for i in range(n):
        (root / "new" / f"{1700000000 + i}.M{i}P1.host").write_bytes(
            f"Subject: {i}\r\n\r\nbody {i}\r\n".encode()
        )
    return root


def floor(root: Path) -> int:
    target = root / ".IMI.Verwerkt" / "cur"
    target.mkdir(parents=True)
    names = sorted(os.listdir(root / "new"))
    for name in names:
        (root / "new" / name).read_bytes()
        os.rename(root / "new" / name, target / name)
        fd = os.open(target, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return len(names)


def ours(root: Path) -> int:
    src = MaildirMailSource("imi", root, cursors=InMemoryCursorStore(), **FOLDERS)
    n = 0
    for msg in src.fetch():
        src.acknowledge(msg, Disposition.HANDLED)
        n += 1
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    args = parser.parse_args()
    results = {}
    for name, run in (("floor (bare read + rename + fsync)", floor), ("MaildirMailSource", ours)):
        root = maildir(args.messages)
        start = time.perf_counter()
        count = run(root)
        results[name] = (time.perf_counter() - start) / count
    base = results["floor (bare read + rename + fsync)"]
    print(f"{args.messages} messages, per message:")
    for name, seconds in results.items():
        print(f"  {name:36} {seconds * 1000:6.2f} ms  ({seconds / base:.1f}x the floor)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
