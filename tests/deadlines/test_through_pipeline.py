"""Follow-ups driven by real alerts through the pipeline, and what ``status`` shows."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import App, build_app
from imi_mailwatch.cli import main
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir, sample_mailbox
from imi_mailwatch.config import config_from_data

RULES = Path(__file__).resolve().parents[2] / "rules"


def _data(tmp: Path) -> dict[str, object]:
    return {
        "state": {"path": str(tmp / "state.sqlite3")},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp / "mailbox")}],
        "rules": {"paths": [str(RULES)]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a.voorbeeld@example.org"}],
        "notify": {"kind": "drop_folder", "drop_folder": {"path": str(tmp / "outbox")}},
        "deadlines": {"escalation": ["escalatie@example.org"]},
        "service": {"health_listen": None},
    }


@pytest.fixture
def app() -> Iterator[App]:
    tmp = Path(tempfile.mkdtemp(prefix="imi-deadlines-e2e-"))
    make_maildir(tmp / "mailbox", sample_mailbox(), start=1763280000)
    (tmp / "imi-mailwatch.yaml").write_text(yaml.safe_dump(_data(tmp)), encoding="utf-8")
    cfg = config_from_data(_data(tmp), {}, base_dir=str(tmp))
    application = build_app(
        cfg, clock=FakeClock(DEMO_NOW), sink=InMemoryTaskSink(), notifier=InMemoryNotifier()
    )
    application.daemon.run_once()
    yield application
    application.close()


def _notifier(app: App) -> InMemoryNotifier:
    assert isinstance(app.notifier, InMemoryNotifier)
    return app.notifier


def test_alerts_plan_cancel_and_close(app: App) -> None:
    """Open requests are scheduled; closed and withdrawn ones are not; closing mails once."""
    rows = app.store.query("SELECT request_id, kind, status FROM followups")
    open_ids = {r.request_id for r in app.store.requests(open_only=True) if r.deadline}
    scheduled = {r["request_id"] for r in rows if r["status"] == "scheduled"}
    assert open_ids and open_ids <= scheduled
    closing = [m for m in _notifier(app).sent if "afgesloten" in m.subject]
    assert [m.subject.split()[1] for m in closing] == ["184523]"]
    for r in app.store.requests():
        if r.status.is_final:
            kinds = {
                row["kind"]
                for row in rows
                if row["request_id"] == r.request_id and row["status"] == "scheduled"
            }
            assert "reminder" not in kinds


def test_ten_weeks_of_passes_send_each_step_once(app: App) -> None:
    """Passes every three hours for ten weeks: no Message-ID twice, every open request reminded."""
    clock = app.clock
    assert isinstance(clock, FakeClock)
    end = clock.now() + timedelta(weeks=10)
    followups = app.extras["followups"]
    while clock.now() < end:
        clock.advance(timedelta(hours=3))
        followups.run_due()
    ids = [m.message_id for m in _notifier(app).sent if m.message_id.startswith("<imi.")]
    assert len(ids) == len(set(ids))
    reminded = {i.split(".")[1] for i in ids}
    open_ids = {r.request_id for r in app.store.requests(open_only=True) if r.deadline}
    assert open_ids <= reminded


def test_each_created_task_is_told_to_its_team_once(app: App) -> None:
    """Through the daemon: every task the outbox created gives its team one notice, with
    the Corsa number, Reply-To the functional mailbox and the [IMI id] subject."""
    followups = app.extras["followups"]
    for _ in range(3):
        app.daemon.run_once()
        followups.run_due()
    notices = [m for m in _notifier(app).sent if dict(m.headers).get("X-IMI-Followup") == "created"]
    tasks = {
        r.request_id: r.task_ref
        for r in app.store.requests()
        if r.task_ref and r.status.value not in ("closed", "withdrawn")
    }
    assert tasks and sorted(m.subject.split()[1][:-1] for m in notices) == sorted(tasks)
    for mail in notices:
        request_id = mail.subject.split()[1][:-1]
        assert dict(mail.headers)["Reply-To"] == app.config.functional_mailbox
        assert str(tasks[request_id]) in mail.text
        assert "Antwoord met één woord op de eerste regel:" in mail.text


def test_status_shows_state_deadline_team_task_and_next_followup(
    app: App, capsys: pytest.CaptureFixture[str]
) -> None:
    """``status --json`` and the text output name each request's next follow-up."""
    config = Path(app.config.base_dir) / "imi-mailwatch.yaml"
    app.close()
    assert main(["status", "-c", str(config), "--all", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_id = {r["request_id"]: r for r in data["requests"]}
    closed = by_id["184523"]
    assert closed["status"] == "closed"
    assert closed["next_followup"]["kind"] == "archive"
    open_one = next(
        r for r in data["requests"] if r["status"] not in ("closed", "withdrawn") and r["deadline"]
    )
    assert open_one["next_followup"]["kind"] in ("reminder", "acceptance")
    assert open_one["team"] and open_one["task"]["status"] == "created"
    assert isinstance(open_one["working_days_left"], int)
    assert main(["status", "-c", str(config)]) == 0
    text = capsys.readouterr().out
    assert "volgende e-mail: herinnering" in text
    assert datetime.now(UTC).year >= 2026
