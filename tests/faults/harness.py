"""Crash consistency of the whole daemon: SIGKILL at random and at the worst moments.

The daemon runs as a real process (``python -m imi_mailwatch run -c CONFIG``)
against Dovecot (IMAP), the Corsa test server and an SMTP server; the two
servers run in processes of their own (tests/faults/servers.py), so they outlive
the daemon and count what reached them. The harness kills the daemon with
SIGKILL, restarts it, and repeats:

- at random moments after start;
- from inside the Corsa server, right after CreateMetaDocument was carried out
  and before its answer is sent (the task exists, the daemon does not know);
- from inside the SMTP server, after DATA was received and before the 250 reply
  (the reminder went out, the daemon has not recorded it).

Afterwards :func:`check` lists every broken promise: a request without exactly
one complete Corsa document, a message not accounted for or in the wrong
folder, a reminder sent twice under different Message-IDs or never sent.

Reminders must fall due while the harness runs: the corpus dates reply dates in
the past and the configuration opens the working hours 00:00-23:59. Weekends
and Dutch holidays are no working days; on such a day the daemon process runs
under libfaketime, set back to the last working day (the relative offset keeps
its clock moving forward across restarts). Only the daemon's clock is moved.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from imi_mailwatch.deadlines.calendar import BusinessCalendar
from tests.faults.corpus import Corpus, make_corpus
from tests.faults.servers import REPO, ServerProcess
from tests.servers.dovecot import DovecotServer, free_port
from tests.service.helpers import corsa_task_sink

RULES = REPO / "rules"
CORSA_PASSWORD = "synthetic-fault-corsa-pw"
CORSA_LICENCE = "LIC-synthetic-faults"
# the Corsa installation profile the harness runs under by default: kenmerk not stored
CORSA_PROFILE = "production"
# what an installation of each profile needs in the configuration
CORSA_EXTRA: dict[str, dict[str, Any]] = {
    "documented": {},
    "production": {
        "extra_fields": {"poststuk.soort_ext": "O", "poststuk.relatie_id": "REL-IMI"},
        "extra_references": {"kanaal": "EMAIL"},
    },
}
ENVIRON = {"IMI_CORSA_PASSWORD": CORSA_PASSWORD, "IMI_CORSA_LICENCE": CORSA_LICENCE}
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
FOLDERS = {
    "handled": "IMI/Verwerkt",
    "quarantined": "IMI/Quarantaine",
    "rejected": "IMI/Afgewezen",
    "ignored": "INBOX",
}
WORK_MARKERS = (b'"message.handled"', b'"task.created"', b'_sent"', b'"corsa.document_created"')
PATIENCE = 240.0  # seconds: a guard against a hang, never a measurement


def days_back_to_working_day(now: datetime | None = None) -> int:
    """How many days the daemon's clock must go back to stand on a Dutch working day."""
    calendar = BusinessCalendar(timezone="Europe/Amsterdam")
    today = (now or datetime.now(UTC)).astimezone(AMSTERDAM).date()
    back = 0
    while not calendar.is_working_day(today - timedelta(days=back)):
        back += 1
    return back


def daemon_env(days_back: int) -> dict[str, str]:
    env = {**os.environ, **ENVIRON}
    if days_back:
        if not os.path.exists(FAKETIME_LIB):
            raise RuntimeError("libfaketime is needed on a weekend or holiday (apt faketime)")
        env.update(
            LD_PRELOAD=FAKETIME_LIB, FAKETIME=f"-{days_back}d", FAKETIME_DONT_FAKE_MONOTONIC="1"
        )
    return env


def write_config(
    tmp: Path,
    *,
    imap: DovecotServer,
    corsa_url: str,
    smtp_port: int,
    reports: dict[str, Any] | None = None,
    corsa_profile: str = CORSA_PROFILE,
) -> Path:
    """The daemon's configuration: IMAP on Dovecot, Corsa, SMTP, always working hours."""
    task_sink = corsa_task_sink(corsa_url, timeout_seconds=20, retry_attempts=2)
    task_sink["corsa"].update(CORSA_EXTRA[corsa_profile])
    data: dict[str, Any] = {
        "state": {"path": "state.sqlite3"},
        "logging": {"level": "info", "format": "json"},
        "mailboxes": [
            {
                "name": "imi",
                "kind": "imap",
                "imap": imap.imap_settings(
                    poll_seconds=1, idle_renew_seconds=30, timeout_seconds=10
                ),
            }
        ],
        "rules": {"paths": [str(RULES)]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "beheer@example.invalid"}],
        "task_sink": task_sink,
        "notify": {
            "kind": "smtp",
            "from_address": "imi@example.invalid",
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
        },
        "deadlines": {"working_hours_start": "00:00", "working_hours_end": "23:59"},
        "service": {"health_listen": None, "drain_seconds": 5},
        "reports": reports or {},
    }
    path = tmp / "imi-mailwatch.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


class Daemon:
    """The daemon as a child process; its output is appended to ``log``."""

    def __init__(self, config: Path, env: dict[str, str], log: Path) -> None:
        self.config, self.env, self.log = config, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> int:
        self._offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "imi_mailwatch", "run", "-c", str(self.config)],
                cwd=self.config.parent,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        self.starts += 1
        return self.proc.pid

    def wait_for_work(self, timeout: float, markers: tuple[bytes, ...] = WORK_MARKERS) -> bool:
        """Wait until this run logged some work (a message, a task, a mail) or ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            with self.log.open("rb") as f:
                f.seek(self._offset)
                if any(marker in f.read() for marker in markers):
                    return True
            time.sleep(0.05)
        return False

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
        self.wait()

    def wait(self, timeout: float = 60) -> int | None:
        if self.proc is None:
            return None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> int | None:
        """SIGTERM and wait for the drain."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
        return self.wait()


@dataclass
class KillLog:
    random: int = 0
    corsa: int = 0
    smtp: int = 0
    starts: int = 0

    @property
    def total(self) -> int:
        return self.random + self.corsa + self.smtp


@dataclass
class Outcome:
    """Everything the checks need, gathered after the last stop."""

    corpus: Corpus
    kills: KillLog
    documents: list[dict[str, Any]]
    received: list[dict[str, Any]]
    folders: dict[str, list[str]]
    messages: list[dict[str, Any]]
    followups: list[dict[str, Any]]
    outbox: list[dict[str, Any]]
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def environment(
    tmp: Path, corsa_profile: str = CORSA_PROFILE
) -> Iterator[tuple[DovecotServer, ServerProcess, ServerProcess]]:
    """Dovecot, the Corsa server process and the SMTP server process; all stopped after."""
    dovecot = DovecotServer().start()
    corsa = smtp = None
    try:
        corsa = ServerProcess("corsa", CORSA_PASSWORD, CORSA_LICENCE, corsa_profile)
        smtp = ServerProcess("smtp", str(free_port()))
        yield dovecot, corsa, smtp
    finally:
        for server in (smtp, corsa):
            if server is not None:
                server.stop()
        dovecot.stop()
        dovecot.cleanup()


def query(db: Path, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Read the daemon's state store (a short read-only connection)."""
    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, args)]
    except sqlite3.OperationalError:
        return []  # not migrated yet
    finally:
        con.close()


Ask = Callable[[str, tuple[Any, ...]], list[dict[str, Any]]]  # SQL with ``?`` placeholders


def settled_state(ask: Ask, corpus: Corpus, dovecot: DovecotServer, now: datetime) -> bool:
    """Every message recorded and acknowledged, the outbox empty, nothing due unsent, only
    the ordinary mail left in INBOX (``ask``: a query on the state, SQLite or PostgreSQL)."""
    rows = ask("SELECT count(*) AS n FROM messages WHERE acknowledged_at IS NOT NULL", ())
    if not rows or rows[0]["n"] < len(corpus.items):
        return False
    if ask("SELECT 1 FROM outbox WHERE status = 'pending'", ()):
        return False
    due = ask(
        "SELECT 1 FROM followups WHERE status IN ('scheduled', 'sending') AND due_at <= ?",
        (now.isoformat(timespec="seconds"),),
    )
    if due:
        return False
    ignored = sum(1 for i in corpus.items if i.disposition == "ignored")
    return len(dovecot.folder_uids("INBOX")) == ignored


def settled(db: Path, corpus: Corpus, dovecot: DovecotServer, now: datetime) -> bool:
    """``settled_state`` of the SQLite state file ``db``."""
    return settled_state(lambda sql, args: query(db, sql, args), corpus, dovecot, now)


def run_crash(
    tmp: Path,
    *,
    alerts: int,
    kills: int,
    seed: int = 7,
    progress: bool = False,
    corsa_profile: str = CORSA_PROFILE,
) -> Outcome:
    """Feed ``alerts`` messages through the daemon while killing it ``kills`` times.

    The kills take turns: right after a Corsa document was created, right after
    the SMTP server took a mail (each falls back to a random moment when the
    daemon does not get there within a few seconds), and at a random moment.
    """
    rng = random.Random(seed)
    days_back = days_back_to_working_day()
    today = (datetime.now(UTC) - timedelta(days=days_back)).astimezone(AMSTERDAM).date()
    corpus = make_corpus(alerts, today=today, seed=seed)
    started = time.monotonic()
    with environment(tmp, corsa_profile) as (dovecot, corsa, smtp):
        dovecot.append(i.data for i in corpus.items)
        config = write_config(
            tmp,
            imap=dovecot,
            corsa_url=corsa.info["url"],
            smtp_port=smtp.info["port"],
            corsa_profile=corsa_profile,
        )
        env = {**daemon_env(days_back), "IMI_IMAP_PASSWORD": dovecot.password}
        daemon = Daemon(config, env, tmp / "daemon.log")
        db = tmp / "state.sqlite3"
        log = KillLog()
        for n in range(kills):
            pid = daemon.start()
            kind = ("corsa", "smtp", "random")[n % 3]
            if kind != "random":
                server = corsa if kind == "corsa" else smtp
                server.command("arm_kill", pid=pid)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    daemon.wait(timeout=12.0)
                server.command("disarm")
                if not daemon.alive():
                    setattr(log, kind, getattr(log, kind) + 1)
                    if progress:
                        print(f"kill {n + 1}/{kills}: {kind}", flush=True)
                    continue
            # a random moment once the daemon is at work (startup alone proves little)
            daemon.wait_for_work(timeout=20.0)
            time.sleep(rng.uniform(0.0, 1.5))
            daemon.kill()
            log.random += 1
            if progress:
                print(f"kill {n + 1}/{kills}: random", flush=True)
        # the last run: let it finish everything, then stop it properly; once it has
        # started (its signal handlers are installed before daemon.started): when the
        # runs before finished the work, a SIGTERM during its imports would end it at once
        daemon.start()
        daemon.wait_for_work(timeout=PATIENCE, markers=(b'"daemon.started"',))
        deadline = time.monotonic() + PATIENCE
        fake_now = lambda: datetime.now(UTC) - timedelta(days=days_back)  # noqa: E731
        while time.monotonic() < deadline and not settled(db, corpus, dovecot, fake_now()):
            if not daemon.alive():
                raise AssertionError(f"the daemon died on its own; see {daemon.log}")
            time.sleep(0.5)
        time.sleep(1.0)  # a last periodic pass (reports, follow-ups) after settling
        code = daemon.stop()
        log.starts = daemon.starts
        folders = {name: dovecot.folder_message_ids(f) for name, f in FOLDERS.items()}
        outcome = Outcome(
            corpus=corpus,
            kills=log,
            documents=corsa.command("state")["documents"],
            received=smtp.command("state")["received"],
            folders=folders,
            messages=query(db, "SELECT * FROM messages"),
            followups=query(db, "SELECT * FROM followups"),
            outbox=query(db, "SELECT id, request_id, action, status, attempts FROM outbox"),
            seconds=time.monotonic() - started,
            extra={"exit_code": code, "days_back": days_back, "corsa_profile": corsa_profile},
        )
    return outcome


REMINDER_STEP = re.compile(r"d[+-]\d+r?")  # model.ReminderStep.key


def check(o: Outcome) -> list[str]:
    """Every broken promise, as one line each (empty: all held)."""
    problems: list[str] = []
    corpus = o.corpus
    # exactly one complete Corsa document per request (by the request its subject names:
    # an installation may not keep the kenmerk)
    by_request: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in o.documents:
        by_request[d["request"]].append(d)
    for rid in corpus.requests:
        docs = by_request.pop(rid, [])
        if len(docs) != 1:
            problems.append(f"request {rid}: {len(docs)} Corsa documents")
            continue
        d = docs[0]
        if sorted(d["files"]) != [".eml", ".pdf"] or not d["memo"].strip():
            problems.append(f"request {rid}: incomplete document {d['files']}")
    for request, docs in by_request.items():
        problems.append(f"{len(docs)} Corsa documents for unknown request {request!r}")
    # every message accounted for, once, in the right folder
    recorded = {m["message_id"]: m for m in o.messages}
    if len(o.messages) != len(recorded):
        problems.append(f"{len(o.messages) - len(recorded)} messages recorded twice")
    where: dict[str, list[str]] = defaultdict(list)
    for name, ids in o.folders.items():
        for mid in ids:
            where[mid].append(name)
    for item in corpus.items:
        m = recorded.get(item.message_id)
        if m is None:
            problems.append(f"{item.message_id}: not in the state store")
        elif m["disposition"] != item.disposition:
            problems.append(f"{item.message_id}: {m['disposition']}, expected {item.disposition}")
        elif m["acknowledged_at"] is None:
            problems.append(f"{item.message_id}: not acknowledged")
        if where.get(item.message_id) != [item.disposition]:
            problems.append(f"{item.message_id}: in {where.get(item.message_id)}")
    # the outbox is finished
    for row in o.outbox:
        if row["status"] not in ("done", "skipped"):
            problems.append(f"outbox {row['action']} {row['request_id']}: {row['status']}")
    # follow-ups: what the store says was sent arrived; nothing arrived the store does not know
    reminders = [r for r in o.received if r["followup"]]
    arrived = Counter(r["message_id"] for r in reminders)
    sent_ids = {f["message_id"] for f in o.followups if f["status"] == "sent"}
    for mid in sent_ids - set(arrived):
        problems.append(f"follow-up {mid}: recorded as sent, never arrived")
    for mid in set(arrived) - sent_ids:
        problems.append(f"follow-up {mid}: arrived, not recorded as sent (a second identity)")
    for f in o.followups:
        if f["status"] in ("sending", "failed"):
            problems.append(f"follow-up {f['request_id']} {f['step']}: {f['status']}")
    got: dict[str, Counter[str]] = defaultdict(Counter)
    for r in reminders:
        got[r["request"]][r["followup"]] += 1
    for rid, plan in corpus.requests.items():
        kinds = got.get(rid, Counter())
        # the reply-date ladder (d-5, d+0, d+1r, ...), not the task notice, the acceptance
        # watch or the task-may-close letter, which go out whatever the date
        reminder_steps = [s for s in kinds if REMINDER_STEP.fullmatch(s)]
        if plan.closed and kinds["closing"] == 0:
            problems.append(f"request {rid}: closed, no closing mail")
        if corpus.reminder_due(plan) and not reminder_steps:
            problems.append(f"request {rid}: reply date passed, no reminder")
        if plan.deadline > corpus.today and not plan.closed and reminder_steps:
            problems.append(f"request {rid}: a reminder although none was due")
    return problems


def summary(o: Outcome) -> dict[str, Any]:
    """Figures for the report and RELIABILITY.md."""
    arrived = Counter(r["message_id"] for r in o.received if r["followup"])
    return {
        "messages": len(o.corpus.items),
        "requests": len(o.corpus.requests),
        "daemon_starts": o.kills.starts,
        "kills_total": o.kills.total,
        "kills_random": o.kills.random,
        "kills_after_corsa_create": o.kills.corsa,
        "kills_after_smtp_data": o.kills.smtp,
        "corsa_profile": o.extra.get("corsa_profile"),
        "corsa_documents": len(o.documents),
        "corsa_documents_with_kenmerk": sum(1 for d in o.documents if d["kenmerk"]),
        "followups_delivered": sum(arrived.values()),
        "followups_distinct": len(arrived),
        "followups_repeated_same_id": sum(v - 1 for v in arrived.values()),
        "reports_delivered": sum(1 for r in o.received if not r["followup"]),
        "seconds": round(o.seconds, 1),
        "days_back": o.extra.get("days_back"),
    }


__all__ = ["Outcome", "check", "run_crash", "summary"]
