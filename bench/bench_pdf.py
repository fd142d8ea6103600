"""The alert PDF: this project's renderer beside plain fpdf2 on the same alerts, in one run.

    .venv/bin/python bench/bench_pdf.py [--rounds 3]

For every sample alert of the demo mailbox (with a Polish requesting authority,
so the Unicode font is needed) it times, per PDF:
- the peer: plain fpdf2 as the renderer used it before (``add_font`` of the
  whole TrueType file and ``multi_cell`` for every line);
- this project's ``render_task_pdf`` (the font cut down once per process, lines
  wrapped by words), in this process;
- the floor: the same lines in the Latin-1 core font with ``cell`` (no wrapping, no
  font to embed).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fpdf import FPDF

from imi_mailwatch.model import TaskRequest
from imi_mailwatch.pdf import find_unicode_font, render_task_pdf, task_job, to_latin1
from tests.corsa.conftest import task_request

SAMPLES = Path(__file__).resolve().parents[1] / "imi_mailwatch" / "demo" / "mailbox"


def plain_fpdf2(task: TaskRequest, font: Path) -> bytes:
    job = task_job(task, font=font)
    pdf = FPDF(format="A4")
    pdf.add_font("body", "", str(font))
    pdf.add_page()
    pdf.set_font("body", size=9)
    lines = [job["title"], *(f"{k}: {v}" for k, v in job["header"]), job["memo"], *job["lines"]]
    for line in lines:
        pdf.multi_cell(pdf.epw, 4.5, line or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def floor(task: TaskRequest, _font: Path) -> bytes:
    job = task_job(task)
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", size=9)
    lines = [job["title"], *(f"{k}: {v}" for k, v in job["header"]), job["memo"], *job["lines"]]
    for line in lines:
        pdf.cell(pdf.epw, 4.5, to_latin1(line)[:120] or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def ours(task: TaskRequest, font: Path) -> bytes:
    return render_task_pdf(task, font=font)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    font = find_unicode_font()
    if font is None:
        print("no Unicode TrueType font on this machine (apt install fonts-dejavu-core)")
        return 1
    base = task_request("123456")
    tasks = [
        dataclasses.replace(base, alert_eml=p.read_bytes()) for p in sorted(SAMPLES.glob("*.eml"))
    ]
    renderers: dict[str, Callable[[TaskRequest, Path], bytes]] = {
        "floor (core font, cell)": floor,
        "plain fpdf2 (peer)": plain_fpdf2,
        "render_task_pdf": ours,
    }
    for render in renderers.values():  # warm-up: imports, the font cut down once
        render(tasks[0], font)
    times: dict[str, list[float]] = {name: [] for name in renderers}
    for _ in range(args.rounds):
        for task in tasks:
            for name, render in renderers.items():
                start = time.perf_counter()
                render(task, font)
                times[name].append(time.perf_counter() - start)
    peer = statistics.median(times["plain fpdf2 (peer)"])
    print(f"{len(tasks)} alerts x {args.rounds} rounds, {font.name}, per PDF (median):")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:25} {median * 1000:6.1f} ms  ({median / peer:.2f}x the peer)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
