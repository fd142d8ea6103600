"""Building real state for the privacy tests: the demo mailbox through the real pipeline."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.app import App, build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir, sample_mailbox
from imi_mailwatch.config import Beheerder, config_from_data
from imi_mailwatch.model import (
    Alert,
    AlertType,
    Classification,
    Disposition,
    MessageKind,
    RawMessage,
    Route,
    Team,
)
from imi_mailwatch.pipeline import Pipeline, TaskOutbox
from imi_mailwatch.ports import TaskSink

RULES = Path(__file__).resolve().parents[2] / "rules"


def config_data(tmp: Path, **privacy: Any) -> dict[str, Any]:
    return {
        "state": {"path": str(tmp / "state.sqlite3")},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp / "mailbox")}],
        "rules": {"paths": [str(RULES)]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a@example.org"}],
        "task_sink": {"kind": "drop_folder", "drop_folder": {"path": str(tmp / "corsa-drop")}},
        "notify": {"kind": "drop_folder", "drop_folder": {"path": str(tmp / "outbox")}},
        "service": {"health_listen": None},
        "privacy": privacy,
    }


def demo_app(tmp: Path, clock: FakeClock | None = None, **privacy: Any) -> App:
    """An app over a Maildir holding the demo's synthetic alerts, already run once."""
    make_maildir(tmp / "mailbox", sample_mailbox(), start=1763280000)
    cfg = config_from_data(config_data(tmp, **privacy), {}, base_dir=str(tmp))
    app = build_app(
        cfg,
        clock=clock or FakeClock(DEMO_NOW),
        sink=InMemoryTaskSink(),
        notifier=InMemoryNotifier(),
    )
    app.daemon.run_once()
    return app


def tables_with_request_id(store: SqliteStateStore) -> list[str]:
    names = [
        str(r["name"])
        for r in store.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not str(r["name"]).startswith("sqlite_")
    ]
    return [
        n
        for n in names
        if "request_id" in {str(c["name"]) for c in store.query(f'PRAGMA table_info("{n}")')}
    ]


def rows_of(store: SqliteStateStore, request_ids: set[str]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row, in every table, that is about one of ``request_ids``."""
    marks = ", ".join("?" for _ in request_ids)
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in tables_with_request_id(store):
        rows = store.query(
            f'SELECT * FROM "{table}" WHERE request_id IN ({marks}) ORDER BY rowid',
            tuple(sorted(request_ids)),
        )
        out[table] = [tuple(r) for r in rows]
    return out


def dump(store: SqliteStateStore) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The whole database, table by table (to show that a dry run changes nothing)."""
    out = []
    for r in store.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ):
        rows: list[sqlite3.Row] = store.query(f'SELECT * FROM "{r["name"]}" ORDER BY rowid')
        out.append((str(r["name"]), [tuple(x) for x in rows]))
    return out


def open_ids(store: SqliteStateStore) -> set[str]:
    return {r.request_id for r in store.requests(open_only=True)}


def final_ids(store: SqliteStateStore) -> set[str]:
    return {r.request_id for r in store.requests() if r.status.is_final}


# -- the real pipeline with a stand-in classifier and router -------------------------------
# (the recording, outbox, audit and quarantine are the real code; only parsing is replaced)

TEAM = Team(
    key="economie",
    name="Team Economie",
    org_unit="ORG-ECO",
    mailbox="team-economie@example.org",
    handlers=("behandelaar@example.org",),
)


class ScriptedClassifier:
    """Classifies the synthetic messages this module writes (b"kind|request|type|deadline")."""

    def classify(self, data: bytes) -> Classification:
        kind, request_id, alert_type, deadline = data.decode().split("|")[:4]
        message_id = f"<{hashlib.sha1(data).hexdigest()}@example.org>"
        if kind == "ordinary":
            return Classification(MessageKind.NOT_IMI, "not an IMI alert", message_id=message_id)
        alert = Alert(
            alert_type=AlertType(alert_type),
            request_id=request_id,
            language="nl",
            requesting_authority="Gemeente Voorbeeldstad",
            member_state="BE",
            service_activities=("Bouwactiviteiten",),
            deadline=date.fromisoformat(deadline) if deadline else None,
            subject="IMI-melding",
            message_id=message_id,
        )
        if kind == "forged":
            return Classification(
                MessageKind.REJECTED, "dmarc=fail", alert=alert, message_id=message_id
            )
        return Classification(MessageKind.IMI_ALERT, alert=alert, message_id=message_id)


class OneTeamRouter:
    def route(self, alert: Alert) -> Route:
        return Route(team=TEAM, field="bouwen", rule="bouw")


class NullSource:
    name = "imi"

    def fetch(self) -> Iterable[RawMessage]:
        return ()

    def acknowledge(self, message: RawMessage, disposition: Disposition) -> None:
        return None

    def wait(self, timeout: float, stop: threading.Event) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass
class Desk:
    """A state store fed through the real pipeline, on a fake clock."""

    store: SqliteStateStore
    clock: FakeClock
    pipeline: Pipeline
    sink: TaskSink
    counter: int = 0

    def feed(
        self, kind: str, request_id: str = "", alert_type: str = "", deadline: str = ""
    ) -> None:
        self.counter += 1
        data = f"{kind}|{request_id}|{alert_type}|{deadline}|{self.counter}".encode()
        raw = RawMessage(source="imi", ref=f"1:{self.counter}", data=data)
        self.pipeline.handle(NullSource(), raw)


def desk(tmp: Path, clock: FakeClock | None = None, sink: TaskSink | None = None) -> Desk:
    clock = clock or FakeClock(DEMO_NOW)
    store = SqliteStateStore(tmp / "state.sqlite3", clock)
    sink = sink or InMemoryTaskSink()
    outbox = TaskOutbox(store, sink, clock)
    pipeline = Pipeline(
        store=store,
        classifier=ScriptedClassifier(),
        router=OneTeamRouter,
        outbox=outbox,
        clock=clock,
        memo_template="Dit is een IMI-verzoek op het gebied van {vakgebied}. {beheerders} {dagen}",
        beheerders=[Beheerder(name="A. Voorbeeld", email="a@example.org")],
    )
    return Desk(store=store, clock=clock, pipeline=pipeline, sink=sink)
