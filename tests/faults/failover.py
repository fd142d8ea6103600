"""The hot standby under fire: two daemons on one PostgreSQL, the active one SIGKILLed again
and again while alerts keep coming.

Reuses the crash harness (tests/faults/harness.py): Dovecot, the Corsa test
server and the SMTP server in processes of their own, the same corpus and the
same checks. Two daemon processes (nodes ``a`` and ``b``) run with one
configuration against one PostgreSQL database. Each round:

- feeds the next share of the alerts into the mailbox;
- waits until the active node (the lease holder: its pid is in ``imi_lease``)
  is at work, then kills it: from inside the Corsa server right after
  CreateMetaDocument, from inside the SMTP server after DATA, or at a random
  moment (in turn, as the crash harness does);
- measures the takeover: from the kill until the lease row carries a higher
  fencing token (the standby won it), and restarts the killed node, which now
  waits as the standby.

Afterwards both nodes settle the work, are stopped, and :func:`harness.check`
lists every broken promise (a second Corsa document, a reminder twice, an alert
not recorded).
"""

from __future__ import annotations

import contextlib
import random
import statistics
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg.rows import dict_row

from tests.faults.corpus import make_corpus
from tests.faults.harness import (
    AMSTERDAM,
    FOLDERS,
    PATIENCE,
    Ask,
    Daemon,
    KillLog,
    Outcome,
    daemon_env,
    days_back_to_working_day,
    environment,
    settled_state,
    write_config,
)


def pg_query(url: str, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Read the shared state (a short connection); [] before the daemon made its tables."""
    try:
        with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
            return list(conn.execute(sql, args).fetchall())
    except psycopg.errors.UndefinedTable:
        return []


def lease(url: str) -> tuple[int, int] | None:
    """(fencing token, pid of the holder) of the lease row, or None before the first."""
    rows = pg_query(url, "SELECT token, holder FROM imi_lease WHERE name = 'daemon'")
    if not rows:
        return None
    return int(rows[0]["token"]), int(str(rows[0]["holder"]).rsplit(":", 1)[1])


def _ask(url: str) -> Ask:
    """The shared state as ``harness.settled_state`` asks it (``?`` placeholders)."""
    return lambda sql, args: pg_query(url, sql.replace("?", "%s"), args)


def _wait(condition: Any, what: str, patience: float = PATIENCE) -> float:
    """Poll until ``condition()`` holds; the seconds it took (a guard, never a budget)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > patience:
            raise AssertionError(f"{what}: not within {patience:g} s")
        time.sleep(0.05)
    return time.monotonic() - started


def run_failover(
    tmp: Path,
    *,
    url: str,
    alerts: int,
    kills: int,
    lease_seconds: float = 3.0,
    seed: int = 7,
    progress: bool = False,
) -> Outcome:
    """Feed ``alerts`` messages in ``kills + 1`` shares through two nodes, killing the active
    node ``kills`` times. ``extra['takeovers']``: the seconds from each kill to the takeover."""
    rng = random.Random(seed)
    days_back = days_back_to_working_day()
    today = (datetime.now(UTC) - timedelta(days=days_back)).astimezone(AMSTERDAM).date()
    corpus = make_corpus(alerts, today=today, seed=seed)
    size = -(-len(corpus.items) // (kills + 1))  # in order: a reply never before its request
    shares = [corpus.items[k * size : (k + 1) * size] for k in range(kills + 1)]
    started = time.monotonic()
    takeovers: list[float] = []
    with environment(tmp) as (dovecot, corsa, smtp):
        config = write_config(
            tmp, imap=dovecot, corsa_url=corsa.info["url"], smtp_port=smtp.info["port"]
        )
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["state"] = {"url": url, "lease_seconds": lease_seconds}
        config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        env = {**daemon_env(days_back), "IMI_IMAP_PASSWORD": dovecot.password}
        nodes = {name: Daemon(config, env, tmp / f"node-{name}.log") for name in "ab"}
        dovecot.append(i.data for i in shares[0])
        try:
            for node in nodes.values():
                node.start()
            log = KillLog()
            _wait(lambda: lease(url) is not None, "a first node wins the lease")
            for n in range(kills):
                token, pid = lease(url) or (0, 0)
                active = next(d for d in nodes.values() if d.alive() and d.pid == pid)
                kind = ("corsa", "smtp", "random")[n % 3]
                killed_by_server = False
                if kind != "random":
                    server = corsa if kind == "corsa" else smtp
                    server.command("arm_kill", pid=pid)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        active.wait(timeout=8.0)
                    server.command("disarm")
                    killed_by_server = not active.alive()
                if killed_by_server:
                    setattr(log, kind, getattr(log, kind) + 1)
                    killed_at = time.monotonic()  # within the wait's poll: close enough
                else:
                    active.wait_for_work(timeout=10.0)
                    time.sleep(rng.uniform(0.0, 1.0))
                    killed_at = time.monotonic()
                    active.kill()
                    log.random += 1
                active.wait()
                _wait(lambda t=token: (lease(url) or (0, 0))[0] > t, f"takeover after kill {n + 1}")
                takeovers.append(time.monotonic() - killed_at)
                if progress:
                    print(
                        f"kill {n + 1}/{kills}: {kind}, takeover {takeovers[-1]:.1f} s", flush=True
                    )
                if shares[n + 1]:
                    dovecot.append(i.data for i in shares[n + 1])
                active.start()  # back as the standby
            fake_now = lambda: datetime.now(UTC) - timedelta(days=days_back)  # noqa: E731
            _wait(
                lambda: settled_state(_ask(url), corpus, dovecot, fake_now()),
                "the nodes settle the work",
            )
            time.sleep(1.0)  # a last periodic pass (reports, follow-ups) after settling
            codes = {name: node.stop() for name, node in nodes.items()}
        finally:
            for node in nodes.values():
                node.kill()  # an assertion above left them running
        log.starts = sum(node.starts for node in nodes.values())
        outcome = Outcome(
            corpus=corpus,
            kills=log,
            documents=corsa.command("state")["documents"],
            received=smtp.command("state")["received"],
            folders={name: dovecot.folder_message_ids(f) for name, f in FOLDERS.items()},
            messages=pg_query(url, "SELECT * FROM messages"),
            followups=pg_query(url, "SELECT * FROM followups"),
            outbox=pg_query(url, "SELECT id, request_id, action, status, attempts FROM outbox"),
            seconds=time.monotonic() - started,
            extra={"exit_codes": codes, "days_back": days_back, "takeovers": takeovers},
        )
    return outcome


def takeover_figures(seconds: list[float]) -> dict[str, float]:
    """p50 and p95 of the takeover times (nearest rank)."""
    if not seconds:
        return {}
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "takeover_p50_s": round(statistics.median(ordered), 2),
        "takeover_p95_s": round(p95, 2),
        "takeover_max_s": round(ordered[-1], 2),
    }


__all__ = ["run_failover", "takeover_figures"]
