"""The memo as the pipeline writes it: counted when Corsa is called, one line per alert."""

from __future__ import annotations

import re
import tempfile
from datetime import timedelta
from pathlib import Path

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import App, build_app
from imi_mailwatch.clock import FakeClock, local_today
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir, sample_mailbox
from imi_mailwatch.config import config_from_data
from imi_mailwatch.memo import days_phrase

RULES = Path(__file__).resolve().parents[2] / "rules"


def _app(messages: list[tuple[str, bytes]], clock: FakeClock) -> tuple[App, InMemoryTaskSink]:
    tmp = Path(tempfile.mkdtemp(prefix="imi-memo-"))
    make_maildir(tmp / "mailbox", messages, start=1763280000)
    data = {
        "state": {"path": str(tmp / "state.sqlite3")},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp / "mailbox")}],
        "rules": {"paths": [str(RULES)]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a@example.org"}],
        "notify": {"kind": "drop_folder", "drop_folder": {"path": str(tmp / "outbox")}},
        "service": {"health_listen": None},
    }
    sink = InMemoryTaskSink()
    cfg = config_from_data(data, {}, base_dir=str(tmp))
    return build_app(cfg, clock=clock, sink=sink, notifier=InMemoryNotifier()), sink


def _one(name_part: str) -> tuple[str, bytes]:
    return next(m for m in sample_mailbox() if name_part in m[0])


def test_an_outbox_delayed_by_an_outage_writes_the_days_left_then() -> None:
    """Stale-value class: the memo's {dagen} is counted when Corsa is called, not when the
    alert was recorded."""
    clock = FakeClock(DEMO_NOW)
    app, sink = _app([_one("10_nl_new_request")], clock)
    sink.fail_next = 1000  # Corsa is down while the alert is recorded
    app.daemon.run_once()
    assert sink.tasks == {}
    request = app.store.get_request("184523")
    assert request is not None and request.deadline is not None
    recorded_day = local_today(clock.now())
    clock.advance(timedelta(days=3))
    sink.fail_next = 0
    app.outbox.drain()
    (task,) = sink.tasks.values()
    now_phrase = days_phrase(local_today(clock.now()), request.deadline)
    assert now_phrase in task.memo
    assert days_phrase(recorded_day, request.deadline) not in task.memo


def test_a_second_copy_of_an_alert_adds_no_memo_line() -> None:
    """Copy class: the same alert again under another Message-ID (a beheerder's personal
    forward) adds no second memo line."""
    name, allocated = _one("45_nl_allocated")
    copy = re.sub(rb"Message-ID: <[^>]+>", b"Message-ID: <copy-1@example.org>", allocated)
    copy = copy.replace(b"09:12:00 +0100", b"11:40:00 +0100")
    app, sink = _app(
        [_one("10_nl_new_request"), (name, allocated), ("46_copy.eml", copy)], FakeClock(DEMO_NOW)
    )
    app.daemon.run_once()
    ref = sink.refs["184523"].ref
    assert sum("toegewezen" in line for line in sink.memos[ref]) == 1
    assert app.store.query("SELECT count(*) FROM alerts WHERE request_id = '184523'")[0][0] == 3
