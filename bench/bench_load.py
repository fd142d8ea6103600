"""Load: a backlog of alerts handled by the real daemon process, memory and throughput.

    .venv/bin/python bench/bench_load.py --source imap --sink corsa --corpus new --alerts 10000

(the goals: >= 50 new requests/s on one core with no slowdown from the first to
the last thousand, RSS < 80 MiB flat over 10,000 alerts). The defaults,
``.venv/bin/python bench/bench_load.py [--alerts 10000] [--interval 2]``, are a
Maildir backlog of the crash harness's mixed corpus with the drop-folder sink.

Runs ``imi-mailwatch run --once`` over the backlog (``--long``: the long-running
``run``, whose periodic work runs beside the mailbox worker as in production,
stopped with SIGTERM after the last message). The source is a Maildir or a
real Dovecot on loopback (tests/servers/dovecot.py; the messages are written
into its Maildir and indexed before the clock starts, the daemon fetches them
over IMAP and moves them). The task sink is the drop folder or the Corsa test
server (production profile, in a process of its own, as the crash harness runs
it); new requests get their alert PDF either way. ``--corpus new`` is N
new-request alerts with a reply date far ahead; ``faults`` the crash harness's
mix (tests/faults/corpus.py).

Every ``interval`` seconds it samples the daemon's resident memory (VmRSS from
/proc), that of its child processes (the PDF helper) and how many messages the
state store has recorded. Prints the samples and a summary as JSON: throughput
overall, per CPU second of the daemon and its helper (load on the shared machine
does not change that one), per thousand from the store's ``recorded_at`` (whole
seconds: a thousand at 100/s is 10 +- 1 s) and per thousand per CPU second from
the samples (first against last thousand; the Corsa test server's own figure
beside it), RSS at 20 % and at the end beside the floor (a bare interpreter's
RSS), and the load average. ``--sink drop`` with ``--source imap --corpus new``
is the same path without SOAP, the peer that shows what the sink costs.
Figures go into BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imi_mailwatch.commands.demo import make_maildir
from tests.alerts.mail import message
from tests.faults.corpus import make_corpus
from tests.faults.harness import CORSA_EXTRA, CORSA_LICENCE, CORSA_PASSWORD, CORSA_PROFILE
from tests.faults.servers import ServerProcess
from tests.servers.dovecot import DovecotServer
from tests.service.helpers import RULES, corsa_task_sink

ENVIRON = {"IMI_CORSA_PASSWORD": CORSA_PASSWORD, "IMI_CORSA_LICENCE": CORSA_LICENCE}
ENVIRON["IMI_IMAP_PASSWORD"] = "testpass"  # the throw-away Dovecot's synthetic user


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """Resident memory of ``pid`` in KiB: all of it, or ``RssAnon`` (the heap) or
    ``RssFile`` (mapped files: code, shared libraries)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
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


def cpu_seconds(pid: int) -> float:
    """CPU time of ``pid``, its reaped children and its live children (the PDF helper)."""

    def ticks(p: int, fields: slice) -> int:
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            return 0
        return sum(int(v) for v in stat[stat.rindex(")") + 2 :].split()[fields])

    total = ticks(pid, slice(11, 15))  # utime, stime, cutime, cstime
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            total += sum(
                ticks(int(kid), slice(11, 13)) for kid in (task / "children").read_text().split()
            )
    return total / os.sysconf("SC_CLK_TCK")


def per_thousand_cpu(samples: list[dict[str, Any]], key: str) -> list[float]:
    """Messages per CPU second of ``key`` for each full thousand, from the samples."""
    marks = []
    for bound in range(1, samples[-1]["recorded"] + 1, 1000):
        mark = next((s for s in samples if s["recorded"] >= bound), None)
        if mark is not None:
            marks.append(mark)
    rates = []
    for a, b in itertools.pairwise(marks):
        cpu = b[key] - a[key]
        rates.append(round((b["recorded"] - a["recorded"]) / cpu, 1) if cpu > 0 else float("inf"))
    return rates


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
    """Messages recorded."""
    return _count(db, "SELECT count(*) FROM messages")


def pending_tasks(db: Path) -> int:
    """Task intents not carried out yet (the outbox's pending rows)."""
    return _count(db, "SELECT count(*) FROM outbox WHERE status = 'pending'")


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            return int(con.execute(sql).fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def per_thousand(db: Path) -> list[float]:
    """Messages per second for each full thousand, from the store's ``recorded_at``.

    A thousand's time runs from the last record of the thousand before (the
    first record for the first thousand) to its own last record.
    """
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT recorded_at FROM messages ORDER BY id").fetchall()
    finally:
        con.close()
    stamps = [datetime.fromisoformat(r[0]).timestamp() for r in rows]
    rates = []
    for end in range(999, len(stamps), 1000):
        begin, count = (0, 999) if end == 999 else (end - 1000, 1000)
        span = stamps[end] - stamps[begin]
        rates.append(round(count / span, 1) if span > 0 else float("inf"))
    return rates


def new_requests(n: int) -> list[bytes]:
    """``n`` synthetic new-request alerts, each its own request, reply date far ahead."""
    return [
        message(
            "Geachte IMI-gebruiker,\n\nUw autoriteit heeft een nieuw informatieverzoek "
            f"ontvangen.\n\nVerzoek-ID: {500000 + i}\nWetgevingsgebied: Diensten\n"
            "Verzoekende autoriteit: Testbehoerde Beispielstadt\nLidstaat: Duitsland\n"
            "Dienstverleningsactiviteiten: Bouwactiviteiten; Sloopwerkzaamheden\n"
            "Gevraagde antwoorddatum: 01-01-2030\n",
            subject=f"IMI - Diensten - Nieuw verzoek {500000 + i} ontvangen",
            message_id=f"<load-{i}@imi.ec.europa.eu>",
        )
        for i in range(n)
    ]


@contextlib.contextmanager
def mailbox(kind: str, tmp: Path, messages: list[bytes]) -> Iterator[dict[str, Any]]:
    """The configured mailbox holding ``messages``: a Maildir, or a started Dovecot."""
    if kind == "maildir":
        make_maildir(
            tmp / "mailbox",
            [(f"m{i}.eml", data) for i, data in enumerate(messages)],
            start=1763280000,
        )
        yield {"name": "imi", "kind": "maildir", "path": "mailbox"}
        return
    with DovecotServer() as server:
        server.write_maildir(messages)
        with server.client(timeout=600) as c:
            c.select_folder("INBOX")  # Dovecot indexes the backlog now, not on the clock
        yield {"name": "imi", "kind": "imap", "imap": server.imap_settings(timeout_seconds=60)}


@contextlib.contextmanager
def task_sink(kind: str) -> Iterator[tuple[dict[str, Any], ServerProcess | None]]:
    """The task_sink block: the drop folder, or the Corsa test server in its own process."""
    if kind == "drop":
        yield {"kind": "drop_folder", "drop_folder": {"path": "corsa-drop"}}, None
        return
    server = ServerProcess("corsa", CORSA_PASSWORD, CORSA_LICENCE, CORSA_PROFILE)
    try:
        block = corsa_task_sink(server.info["url"], timeout_seconds=60, retry_attempts=1)
        block["corsa"].update(CORSA_EXTRA[CORSA_PROFILE])
        yield block, server
    finally:
        server.stop()


def write_config(tmp: Path, box: dict[str, Any], sink: dict[str, Any]) -> Path:
    data = {
        "state": {"path": "state/state.sqlite3"},
        "logging": {"level": "warning", "format": "json"},
        "mailboxes": [box],
        "rules": {"paths": [str(RULES)]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a.voorbeeld@example.org"}],
        "task_sink": sink,
        "notify": {"kind": "drop_folder", "drop_folder": {"path": "outbox"}},
        "service": {"health_listen": None},
    }
    path = tmp / "imi-mailwatch.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run_daemon(
    config: Path,
    db: Path,
    interval: float,
    peer: int | None,
    until: int | None = None,
    python: str = sys.executable,
) -> dict[str, Any]:
    """``run --once`` as a child process, sampled until it exits; with ``until``, the
    long-running ``run`` (its periodic work beside the mailbox worker, as in production),
    stopped with SIGTERM once ``until`` messages are recorded, no task intent is pending
    and one more sample taken."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    once = ["--once"] if until is None else []
    proc = subprocess.Popen(
        [python, "-m", "imi_mailwatch", "run", *once, "-c", str(config)],
        cwd=config.parent,
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
                "anon_mib": round(rss_kib(proc.pid, "RssAnon") / 1024, 1),
                "file_mib": round(rss_kib(proc.pid, "RssFile") / 1024, 1),
                "helper_rss_mib": round(children_rss_kib(proc.pid) / 1024, 1),
                "cpu_s": round(cpu_seconds(proc.pid), 2),
                "corsa_cpu_s": round(cpu_seconds(peer), 2) if peer else 0.0,
            }
        )
        # done: one sample after the one that saw the last message recorded and every
        # task carried out (a stop leaves the intents not carried out yet in the outbox)
        if (
            until is not None
            and len(samples) > 1
            and samples[-2]["recorded"] >= until
            and pending_tasks(db) == 0
        ):
            proc.send_signal(signal.SIGTERM)
            proc.wait()
            break
        time.sleep(interval)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the daemon and its reaped helper
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"code": proc.returncode, "seconds": seconds, "cpu": cpu, "samples": samples}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--source", choices=("maildir", "imap"), default="maildir")
    parser.add_argument("--sink", choices=("drop", "corsa"), default="drop")
    parser.add_argument("--corpus", choices=("faults", "new"), default="faults")
    parser.add_argument(
        "--long", action="store_true", help="the long-running daemon, stopped when done"
    )
    parser.add_argument(
        "--daemon-python",
        default=sys.executable,
        help="the interpreter that runs the daemon: a virtualenv made from requirements.lock "
        "measures it as deployed (the development venv loads tools such as rich)",
    )
    args = parser.parse_args()
    load_start = [round(x, 2) for x in os.getloadavg()]
    if args.corpus == "new":
        messages = new_requests(args.alerts)
    else:
        messages = [i.data for i in make_corpus(args.alerts, today=date.today(), seed=3).items]
    with tempfile.TemporaryDirectory(prefix="imi-bench-load-") as tmp_name:
        tmp = Path(tmp_name)
        with mailbox(args.source, tmp, messages) as box, task_sink(args.sink) as (sink, corsa):
            config = write_config(tmp, box, sink)
            db = tmp / "state" / "state.sqlite3"
            peer = corsa.proc.pid if corsa else None
            until = len(messages) if args.long else None
            run = run_daemon(config, db, args.interval, peer, until, args.daemon_python)
            total = recorded(db)
            rates = per_thousand(db)
            documents = len(corsa.command("state")["documents"]) if corsa else None
    samples = run["samples"]
    at_20 = next((s for s in samples if s["recorded"] >= total * 0.2), samples[0])
    busy = [s for s in samples if s["rss_mib"]]
    cpu_rates = per_thousand_cpu(samples, "cpu_s")
    floor = round(floor_rss_kib() / 1024, 1)
    last = busy[-1]["rss_mib"] if busy else None
    summary = {
        "source": args.source,
        "sink": args.sink,
        "corpus": args.corpus,
        "mode": "run (stopped by SIGTERM)" if args.long else "run --once",
        "daemon_python": args.daemon_python,
        "messages": len(messages),
        "recorded": total,
        "corsa_documents": documents,
        "exit_code": run["code"],
        "seconds": round(run["seconds"], 1),
        "messages_per_second": round(total / run["seconds"], 1),
        "daemon_cpu_seconds": round(run["cpu"], 1),
        "messages_per_cpu_second": round(total / run["cpu"], 1) if run["cpu"] else None,
        "per_thousand_per_second": rates,
        "last_over_first_thousand": round(rates[-1] / rates[0], 2) if rates else None,
        "per_thousand_per_cpu_second": cpu_rates,
        "cpu_last_over_first_thousand": (
            round(cpu_rates[-1] / cpu_rates[0], 2) if cpu_rates else None
        ),
        "corsa_server_per_thousand_per_cpu_second": (
            per_thousand_cpu(samples, "corsa_cpu_s") if args.sink == "corsa" else None
        ),
        "rss_mib_at_20pct": at_20["rss_mib"],
        "helper_rss_mib_at_20pct": at_20["helper_rss_mib"],
        "rss_mib_last": last,
        "helper_rss_mib_last": busy[-1]["helper_rss_mib"] if busy else None,
        "last_sample": busy[-1] if busy else None,
        "rss_mib_max": max(s["rss_mib"] for s in busy) if busy else None,
        "helper_rss_mib_max": max((s["helper_rss_mib"] for s in busy), default=None),
        "floor_rss_mib_bare_python": floor,
        "rss_last_over_floor": round(last / floor, 1) if last else None,
        "load_average_start": load_start,
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "goal_messages_per_second": 50,
        "goal_rss_mib": 80,
    }
    print(json.dumps({"samples": samples[:: max(1, len(samples) // 20)], "summary": summary}))
    return 0 if run["code"] == 0 and total == len(messages) else 1


if __name__ == "__main__":
    raise SystemExit(main())
