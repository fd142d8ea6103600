"""The pipeline end to end on a Maildir: once per request, nothing lost, nothing twice."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from imi_mailwatch import reply_path
from imi_mailwatch.adapters.maildir import MaildirMailSource
from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import App, build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir, sample_mailbox
from imi_mailwatch.config import config_from_data
from imi_mailwatch.errors import MailSourceUnavailableError, TaskSinkUnavailableError
from imi_mailwatch.model import Disposition, RawMessage, TaskRef, TaskRequest, TaskStatus

RULES = Path(__file__).resolve().parents[2] / "rules"
NEW_REQUESTS = {"184523", "184777", "185110", "185201", "185412", "185300", "185002"}


def _app(tmp: Path, state: dict[str, str], sink: InMemoryTaskSink | None = None) -> App:
    data = {
        "state": state,
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp / "mailbox")}],
        "rules": {"paths": [str(RULES)]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a@example.org"}],
        "notify": {"kind": "drop_folder", "drop_folder": {"path": str(tmp / "outbox")}},
        "service": {"health_listen": None},
    }
    cfg = config_from_data(data, {}, base_dir=str(tmp))
    return build_app(
        cfg, clock=FakeClock(DEMO_NOW), sink=sink or InMemoryTaskSink(), notifier=InMemoryNotifier()
    )


@pytest.fixture(params=["sqlite", "postgres"])
def state(request: pytest.FixtureRequest, tmp: Path) -> dict[str, str]:
    """The state section: an SQLite file, or a fresh PostgreSQL database."""
    if request.param == "postgres":
        return {"url": request.getfixturevalue("postgres_url")}
    return {"path": str(tmp / "state.sqlite3")}


@pytest.fixture
def tmp() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="imi-pipeline-"))
    make_maildir(path / "mailbox", sample_mailbox(), start=1763280000)
    yield path


def _sink(app: App) -> InMemoryTaskSink:
    assert isinstance(app.sink, InMemoryTaskSink)
    return app.sink


def test_demo_mailbox_creates_one_task_per_request_and_files_every_message(
    tmp: Path, state: dict[str, str]
) -> None:
    """Each new request gets one task; later alerts annotate it; every message is filed."""
    app = _app(tmp, state)
    app.daemon.run_once()
    sink = _sink(app)
    assert {t.request_id for t in sink.tasks.values()} == NEW_REQUESTS
    assert sink.create_calls == len(NEW_REQUESTS)
    memo_184523 = sink.memos[sink.refs["184523"].ref]
    assert memo_184523[0].startswith("Dit is een IMI-verzoek op het gebied van")
    assert any("toegewezen" in line for line in memo_184523[1:])
    assert any("afgesloten" in line for line in memo_184523[1:])
    box = tmp / "mailbox"
    assert len(list((box / "new").iterdir())) == 1  # the newsletter is left alone
    assert len(list((box / ".IMI.Afgewezen" / "cur").iterdir())) == 1  # the forged alert
    assert len(list((box / ".IMI.Verwerkt" / "cur").iterdir())) == 16
    assert len(list((box / ".IMI.Quarantaine" / "cur").iterdir())) == 1  # no request id
    kept = app.store.quarantine()
    assert sorted(q.kind for q in kept) == ["quarantined", "rejected"]
    assert app.store.get_request("999001") is None  # a forged alert never creates a request
    assert app.store.get_request("184523").status.value == "closed"  # type: ignore[union-attr]


def test_running_twice_does_nothing_twice(tmp: Path, state: dict[str, str]) -> None:
    """A second run over the same mailbox, even with every message put back, adds nothing."""
    app = _app(tmp, state)
    app.daemon.run_once()
    rows = sum(app.store.message_counts().values())
    sink = _sink(app)
    calls = sink.create_calls
    app.close()
    # put every handled message back into the inbox, as a restored mailbox would
    box = tmp / "mailbox"
    for folder in box.glob(".IMI.*/cur"):
        for f in folder.iterdir():
            f.rename(box / "new" / f.name)
    again = _app(tmp, state, sink=sink)
    counts = again.daemon.run_once()
    assert sink.create_calls == calls
    assert sum(again.store.message_counts().values()) == rows
    assert set(counts) == {"duplicate"}


class _AckFails(MaildirMailSource):
    """Crashes once between recording and acknowledging."""

    failed = False

    def acknowledge(self, message: RawMessage, disposition: Disposition) -> None:
        if not self.failed:
            self.failed = True
            raise MailSourceUnavailableError("connection lost before the move")
        super().acknowledge(message, disposition)


def test_the_reply_check_parses_no_message_a_second_time(
    tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsed once: whether an alert answers the daemon's own mail is read from the message
    the alert reader parsed, not from the bytes again; the demo mailbox's outcomes stay."""
    reread: list[int] = []
    real = reply_path.read_headers
    monkeypatch.setattr(reply_path, "read_headers", lambda data: reread.append(1) or real(data))
    app = _app(tmp, {"path": str(tmp / "state.sqlite3")})
    assert app.pipeline.replies is not None
    app.daemon.run_once()
    assert reread == []
    assert {t.request_id for t in _sink(app).tasks.values()} == NEW_REQUESTS


def test_a_crash_between_record_and_acknowledge_loses_and_doubles_nothing(
    tmp: Path, state: dict[str, str]
) -> None:
    """The message recorded but not moved is recognised next time and only moved."""
    app = _app(tmp, state)
    src = _AckFails(
        "imi",
        tmp / "mailbox",
        cursors=app.store,
        processed_folder="IMI/Verwerkt",
        quarantine_folder="IMI/Quarantaine",
        rejected_folder="IMI/Afgewezen",
    )
    app.daemon.sources = [src]
    app.daemon.run_once()  # the batch is recorded, its tasks created; its first ack fails
    assert _sink(app).create_calls == len(NEW_REQUESTS)
    app.daemon.run_once()  # every message only moved: no task twice
    assert _sink(app).create_calls == len(NEW_REQUESTS)
    assert len(list((tmp / "mailbox" / ".IMI.Verwerkt" / "cur").iterdir())) == 16


class _CreatesThenFails(InMemoryTaskSink):
    """Creates the document, then loses the answer: the crash the outbox must survive."""

    def create(self, task: TaskRequest) -> TaskRef:
        ref = super().create(task)
        if self.create_calls == 1:
            raise TaskSinkUnavailableError("answer lost after the document was created")
        return ref


def test_lost_answer_after_create_does_not_create_a_second_task(
    tmp: Path, state: dict[str, str]
) -> None:
    """When create reached the sink but its answer was lost, the retry finds the task."""
    sink = _CreatesThenFails()
    app = _app(tmp, state, sink=sink)
    app.daemon.run_once()
    app.clock.advance(3600)  # type: ignore[attr-defined]
    app.daemon.run_periodic()
    assert sink.create_calls == len(NEW_REQUESTS)
    assert {t.request_id for t in sink.tasks.values()} == NEW_REQUESTS
    rec = app.store.get_request("184523")
    assert rec is not None and rec.task_status is TaskStatus.CREATED


def test_task_sink_outage_keeps_intent_and_delivers_later(tmp: Path, state: dict[str, str]) -> None:
    """With the sink down, messages are still filed; the tasks follow once it is back."""
    sink = InMemoryTaskSink()
    sink.fail_next = 10_000
    app = _app(tmp, state, sink=sink)
    app.daemon.run_once()
    assert sink.create_calls == 0
    assert app.store.outbox_counts().get("pending", 0) >= len(NEW_REQUESTS)
    assert len(list((tmp / "mailbox" / ".IMI.Verwerkt" / "cur").iterdir())) == 16
    sink.fail_next = 0
    for _ in range(5):
        app.clock.advance(3600)  # type: ignore[attr-defined]
        app.daemon.run_periodic()
    assert sink.create_calls == len(NEW_REQUESTS)
    assert app.store.outbox_counts().get("pending", 0) == 0


def test_a_message_that_breaks_the_code_is_quarantined_and_the_loop_goes_on(
    tmp: Path, state: dict[str, str]
) -> None:
    """An unexpected error on one message quarantines it with its class; the rest is handled."""
    app = _app(tmp, state)
    real = app.pipeline.classifier

    class Exploding:
        def classify(self, data: bytes):  # type: ignore[no-untyped-def]
            if b"185110" in data or b"MTg1MTEw" in data:
                raise ValueError("parser bug")
            return real.classify(data)

    app.pipeline.classifier = Exploding()
    app.daemon.run_once()
    reasons = [q.reason for q in app.store.quarantine()]
    assert "internal error: ValueError" in reasons
    assert len({t.request_id for t in _sink(app).tasks.values()}) == len(NEW_REQUESTS) - 1


def test_broken_rules_in_a_running_daemon_mail_the_beheerders_once(
    tmp: Path, state: dict[str, str]
) -> None:
    """A broken edit of the live rules: the old rules stay, one mail to the beheerders."""
    rules = tmp / "rules"
    shutil.copytree(RULES, rules)
    data = {
        "state": state,
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp / "mailbox")}],
        "rules": {"paths": [str(rules)]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a@example.org"}],
        "service": {"health_listen": None},
    }
    notifier = InMemoryNotifier()
    app = build_app(
        config_from_data(data, {}, base_dir=str(tmp)),
        clock=FakeClock(DEMO_NOW),
        sink=InMemoryTaskSink(),
        notifier=notifier,
    )
    regels = rules / "10-regels.yaml"
    regels.write_text(regels.read_text().replace("team: milieu", "team: milieuu", 1))
    for _ in range(3):
        os.utime(regels)
        app.daemon.run_periodic()
    broken = [m for m in notifier.sent if "regels" in m.subject.lower()]
    assert len(broken) == 1, [m.subject for m in notifier.sent]
    assert "bedoelde u 'milieu'" in broken[0].text
    app.daemon.run_once()  # the last good rules still route the mailbox
    assert {t.request_id for t in _sink(app).tasks.values()} == NEW_REQUESTS


def test_outcome_says_task_queued_while_the_sink_is_down_not_task_created(
    tmp: Path, state: dict[str, str]
) -> None:
    """Truth in logs and metrics: a task waiting in the outbox is `task_queued`, not created."""
    from structlog.testing import capture_logs

    sink = InMemoryTaskSink()
    sink.fail_next = 10_000
    app = _app(tmp, state, sink=sink)
    with capture_logs() as logs:
        counts = app.daemon.run_once()
    assert "task_created" not in counts
    assert counts["task_queued"] == len(NEW_REQUESTS)
    handled = [e["outcome"] for e in logs if e["event"] == "message.handled"]
    assert "task_created" not in handled
    sink.fail_next = 0
    with capture_logs() as logs:
        for _ in range(5):
            app.clock.advance(3600)  # type: ignore[attr-defined]
            app.daemon.run_periodic()
    created = {e["request_id"] for e in logs if e["event"] == "task.created"}
    assert created == NEW_REQUESTS


def test_outcome_says_task_created_when_the_sink_took_it_at_once(
    tmp: Path, state: dict[str, str]
) -> None:
    """With the sink up, a new request's message is `task_created` (the task exists)."""
    app = _app(tmp, state)
    counts = app.daemon.run_once()
    assert counts["task_created"] == len(NEW_REQUESTS)
    assert "task_queued" not in counts
