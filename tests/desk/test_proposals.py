"""Route proposals (routing.mode: propose) over the daemon as wired: the demo mailbox
through the real pipeline, a fake clock, the state in SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import App, build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir, sample_mailbox
from imi_mailwatch.config import config_from_data
from imi_mailwatch.desk import Actor, Via, apply_command, context_from_app
from imi_mailwatch.desk.service import ActionResult
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.msgid import parse_message_id
from imi_mailwatch.replies import Command, CommandKind
from tests.dutch import english_in, plain
from tests.privacy.helpers import config_data

ID = "184777"  # a demo request the rules send to team milieu
BEHEERDER = Actor("a@example.org", Via.MAIL, frozenset())  # the demo's beheerder
OPEN_NEW = {"184777", "185110", "185201", "185300", "185412"}  # new and still open
ENDED = {"184523", "185002"}  # new, then closed or withdrawn in the same fetch
START = DEMO_NOW.astimezone(UTC)  # Monday 16 November 2026, 10:00 in Amsterdam


def _app(tmp: Path, sink: InMemoryTaskSink, clock: FakeClock, **routing: Any) -> App:
    """The daemon over the demo mailbox, run once; ``routing`` as configured."""
    if not (tmp / "mailbox").exists():
        make_maildir(tmp / "mailbox", sample_mailbox(), start=1763280000)
    data = {**config_data(tmp), "routing": routing}
    cfg = config_from_data(data, {}, base_dir=str(tmp))
    app = build_app(cfg, clock=clock, sink=sink, notifier=InMemoryNotifier())
    app.daemon.run_once()
    return app


def _sent(app: App) -> list[OutgoingMail]:
    assert isinstance(app.notifier, InMemoryNotifier)
    return app.notifier.sent


def _followup(mail: OutgoingMail) -> tuple[str, str]:
    headers = dict(mail.headers)
    return headers.get("X-IMI-Request", ""), headers.get("X-IMI-Followup", "")


def _proposals(app: App, step: str = "proposal") -> list[str]:
    return sorted(rid for rid, kind in map(_followup, _sent(app)) if kind == step)


def _tasks(sink: InMemoryTaskSink, request_id: str = ID) -> list[str]:
    return [t.team.key for t in sink.tasks.values() if t.request_id == request_id]


def _say(app: App, command: Command, request_id: str = ID) -> ActionResult:
    return apply_command(app.store, context_from_app(app), request_id, command, BEHEERDER)


def test_propose_holds_the_task_and_sends_the_proposal_once(tmp_path: Path) -> None:
    """In propose no task is created; each open new request's create intent is held and
    the beheerders get one answerable Dutch proposal: the team, the rule and why, what
    the alert said and the memo; a second pass sends nothing again."""
    sink, clock = InMemoryTaskSink(), FakeClock(DEMO_NOW)
    app = _app(tmp_path, sink, clock, mode="propose")
    try:
        assert sink.tasks == {} and sink.create_calls == 0
        assert {i.request_id for i in app.store.outbox_held()} == OPEN_NEW
        assert _proposals(app) == sorted(OPEN_NEW | ENDED)  # proposed when recorded
        (mail,) = [m for m in _sent(app) if _followup(m) == (ID, "proposal")]
        assert mail.to == ("a@example.org",) and ("Reply-To", "imi@brabant.nl") in mail.headers
        assert mail.subject.startswith(f"[IMI {ID}] Routevoorstel")
        linked = parse_message_id(mail.message_id)  # an answer's In-Reply-To names it
        assert linked is not None and linked.request_id == ID
        for words in (
            "Milieu (VTH",
            "regel Milieu met de omgevingsdiensten",
            "Waarom:",
            "Urząd Marszałkowski",
            "Memo voor Corsa:",
            "AKKOORD",
            "TEAM teamnaam",
        ):
            assert words in mail.text, words  # fmt: skip
        letter = mail.text.split("Waarom:")[0] + mail.text.split("Antwoorddatum:")[1]
        assert english_in(plain(letter)) == []
        clock.advance(timedelta(minutes=30))
        app.daemon.run_once()
        assert _proposals(app) == sorted(OPEN_NEW | ENDED) and sink.tasks == {}
    finally:
        app.close()


def test_akkoord_creates_the_task_once_for_the_proposed_team(tmp_path: Path) -> None:
    """AKKOORD releases the held task: the outbox creates it once, for the proposed
    team; a second AKKOORD creates nothing more."""
    sink, clock = InMemoryTaskSink(), FakeClock(DEMO_NOW)
    app = _app(tmp_path, sink, clock, mode="propose")
    try:
        result = _say(app, Command(CommandKind.APPROVE))
        assert result.ok and "wordt nu aangemaakt" in result.text
        app.daemon.run_once()
        assert _tasks(sink) == ["milieu"]
        assert _say(app, Command(CommandKind.APPROVE)).ok
        app.daemon.run_once()
        assert _tasks(sink) == ["milieu"] and sink.create_calls == 1
        assert ID not in {i.request_id for i in app.store.outbox_held()}
    finally:
        app.close()


def test_akkoord_survives_a_crash_between_recording_and_creating(tmp_path: Path) -> None:
    """A daemon that stops after AKKOORD is recorded but before the task is created
    creates it on its next start, exactly once: the release is durable in the outbox."""
    sink, clock = InMemoryTaskSink(), FakeClock(DEMO_NOW)
    app = _app(tmp_path, sink, clock, mode="propose")
    assert _say(app, Command(CommandKind.APPROVE)).ok
    app.close()  # gone before the outbox ran
    assert sink.tasks == {}
    again = _app(tmp_path, sink, clock, mode="propose")
    try:
        again.daemon.run_once()
        assert _tasks(sink) == ["milieu"] and sink.create_calls == 1
    finally:
        again.close()


def test_team_x_creates_the_task_for_team_x(tmp_path: Path) -> None:
    """TEAM natuur releases the held task, created for team natuur as the rules name it;
    the team first proposed is not told anything, since it never had the request."""
    sink, clock = InMemoryTaskSink(), FakeClock(DEMO_NOW)
    app = _app(tmp_path, sink, clock, mode="propose")
    try:
        before = len(_sent(app))
        result = _say(app, Command(CommandKind.CHOOSE_TEAM, team="natuur"))
        assert result.ok, result.text
        app.daemon.run_once()
        (task,) = [t for t in sink.tasks.values() if t.request_id == ID]
        assert task.team == app.rules.current().teams["natuur"]
        told = {a for m in _sent(app)[before:] for a in (*m.to, *m.cc)}
        assert "vth-milieu@brabant.example" not in told
        state = app.store.desk_state(ID)
        assert state.route_confirmed_at is not None
    finally:
        app.close()


def test_an_unconfirmed_proposal_is_reminded_once_after_working_hours(tmp_path: Path) -> None:
    """With proposal_reminder_hours 8 (working hours 08:30-17:00), a proposal made on
    Monday 10:00 is reminded on Tuesday 09:30, once; a confirmed one is not reminded."""
    sink, clock = InMemoryTaskSink(), FakeClock(DEMO_NOW)
    app = _app(tmp_path, sink, clock, mode="propose", proposal_reminder_hours=8)
    try:
        assert _say(app, Command(CommandKind.APPROVE), "185300").ok
        clock.set(datetime(2026, 11, 17, 8, 29, tzinfo=UTC))  # Tuesday 09:29 local
        app.daemon.run_once()
        assert _proposals(app, "proposal-reminder") == []
        clock.set(datetime(2026, 11, 17, 8, 30, tzinfo=UTC))  # 7 + 1 working hours
        app.daemon.run_once()
        assert _proposals(app, "proposal-reminder") == sorted(OPEN_NEW - {"185300"})
        reminder = next(m for m in _sent(app) if _followup(m) == (ID, "proposal-reminder"))
        assert reminder.subject == f"[IMI {ID}] Herinnering: routevoorstel nog niet bevestigd"
        clock.set(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
        app.daemon.run_once()
        assert _proposals(app, "proposal-reminder") == sorted(OPEN_NEW - {"185300"})
    finally:
        app.close()


def test_reply_date_reminders_go_out_while_the_proposal_waits(tmp_path: Path) -> None:
    """The deadline ladder runs from the moment the request is known: the first reminder
    about the reply date goes out on its day although no beheerder confirmed the route."""
    sink, clock = InMemoryTaskSink(), FakeClock(DEMO_NOW)
    app = _app(tmp_path, sink, clock, mode="propose")
    try:
        planned = [
            f
            for f in app.store.followups_of(ID)
            if f["kind"] == "reminder" and f["status"] == "scheduled"
        ]
        assert planned, "the reminders are planned while the task waits"
        first = min(datetime.fromisoformat(str(f["due_at"])) for f in planned)
        clock.set(first)
        app.daemon.run_once()
        sent = [f for f in app.store.followups_of(ID) if f["status"] == "sent"]
        assert any(f["kind"] == "reminder" for f in sent)
        assert sink.tasks == {} and ID in {i.request_id for i in app.store.outbox_held()}
    finally:
        app.close()


def test_a_request_ended_before_confirmation_gets_no_task(tmp_path: Path) -> None:
    """A request withdrawn in IMI before its route was confirmed drops its held task:
    no reminder of the proposal, and AKKOORD afterwards creates nothing."""
    sink, clock = InMemoryTaskSink(), FakeClock(DEMO_NOW)
    app = _app(tmp_path, sink, clock, mode="propose", proposal_reminder_hours=1)
    try:
        assert "185002" not in {i.request_id for i in app.store.outbox_held()}  # withdrawn
        clock.advance(timedelta(days=2))
        app.daemon.run_once()
        assert "185002" not in _proposals(app, "proposal-reminder")
        assert not _say(app, Command(CommandKind.APPROVE), "185002").ok
        app.daemon.run_once()
        assert _tasks(sink, "185002") == []
    finally:
        app.close()


def test_auto_mode_creates_the_tasks_at_once_as_before(tmp_path: Path) -> None:
    """routing.mode auto (the default): every new request's task is created in the same
    pass, nothing is held and no proposal is sent."""
    sink, clock = InMemoryTaskSink(), FakeClock(DEMO_NOW)
    app = _app(tmp_path, sink, clock)
    try:
        assert app.config.routing.mode == "auto"
        assert {t.request_id for t in sink.tasks.values()} >= OPEN_NEW
        assert app.store.outbox_held() == [] and _proposals(app) == []
        assert _say(app, Command(CommandKind.APPROVE)).ok
        app.daemon.run_once()
        assert _tasks(sink) == ["milieu"]
    finally:
        app.close()


def test_the_web_overview_shows_held_proposals_at_the_top(tmp_path: Path) -> None:
    """The web desk's overview marks a request whose task waits for AKKOORD as a proposal
    (also when a rule chose its team) and lists it first; once confirmed it is not."""
    from imi_mailwatch.web.overview import Selection, overview_rows, select

    sink, clock = InMemoryTaskSink(), FakeClock(DEMO_NOW)
    app = _app(tmp_path, sink, clock, mode="propose")
    try:
        calendar = context_from_app(app).calendar
        rows = select(overview_rows(app.store, calendar), Selection(sort="verzoek"))
        assert [r.request_id for r in rows if r.proposal] == sorted(OPEN_NEW)
        assert [r.request_id for r in rows[: len(OPEN_NEW)]] == sorted(OPEN_NEW)
        assert _say(app, Command(CommandKind.APPROVE)).ok
        rows = overview_rows(app.store, calendar)
        assert ID not in {r.request_id for r in rows if r.proposal}
    finally:
        app.close()


def test_herrouteer_moves_a_held_task_and_akkoord_creates_it_there(tmp_path: Path) -> None:
    """HERROUTEER while the proposal waits moves the request but keeps its task held (no
    memo line, no task yet); the AKKOORD that follows creates it once, for the new team."""
    sink, clock = InMemoryTaskSink(), FakeClock(DEMO_NOW)
    app = _app(tmp_path, sink, clock, mode="propose")
    try:
        assert _say(app, Command(CommandKind.REROUTE, team="natuur")).ok
        app.daemon.run_once()
        assert sink.tasks == {} and ID in {i.request_id for i in app.store.outbox_held()}
        assert _say(app, Command(CommandKind.APPROVE)).ok
        app.daemon.run_once()
        assert _tasks(sink) == ["natuur"] and sink.memos.get(ID) in (None, [])
    finally:
        app.close()


AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (datetime(2026, 11, 16, 10, 0), 4, datetime(2026, 11, 16, 14, 0)),
        (datetime(2026, 11, 16, 10, 0), 8, datetime(2026, 11, 17, 9, 30)),
        (datetime(2026, 11, 20, 16, 0), 2, datetime(2026, 11, 23, 9, 30)),  # over a weekend
        (datetime(2026, 11, 16, 6, 0), 1, datetime(2026, 11, 16, 9, 30)),  # before opening
        (datetime(2026, 11, 16, 18, 0), 1, datetime(2026, 11, 17, 9, 30)),  # after closing
        (datetime(2026, 12, 24, 16, 0), 2, datetime(2026, 12, 28, 9, 30)),  # Christmas
        (datetime(2026, 11, 16, 10, 0), 17, datetime(2026, 11, 18, 10, 0)),  # two days
    ],
)
def test_working_hours_after_a_moment_skip_nights_weekends_and_holidays(
    start: datetime, hours: int, due: datetime
) -> None:
    """The proposal reminder's moment counts only working hours (08:30-17:00, working days)."""
    from imi_mailwatch.deadlines.calendar import BusinessCalendar
    from imi_mailwatch.proposals import after_working_hours

    got = after_working_hours(BusinessCalendar(), start.replace(tzinfo=AMSTERDAM), hours)
    assert got == due.replace(tzinfo=AMSTERDAM)


def test_route_dry_run_says_the_task_waits_in_propose(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """route --json in propose says what the daemon then does with a new request: its
    task is held (task_held), not created."""
    import yaml

    from tests.core.test_route_truth import route_json

    name, data = sample_mailbox()[0]
    config = tmp_path / "imi-mailwatch.yaml"
    config.write_text(yaml.safe_dump({**config_data(tmp_path), "routing": {"mode": "propose"}}))
    (tmp_path / name).write_bytes(data)
    said = route_json(capsys, config, tmp_path / name)
    assert said["outcome"] == "task_held"
    make_maildir(tmp_path / "mailbox", [(name, data)], start=1763280000)
    app = _app(tmp_path, InMemoryTaskSink(), FakeClock(DEMO_NOW), mode="propose")
    try:
        assert app.daemon.counters.snapshot().get("task_held") == 1
    finally:
        app.close()


def test_the_beheerders_report_leaves_a_waiting_proposal_to_its_own_mail(
    tmp_path: Path,
) -> None:
    """A default-routed request whose task waits for AKKOORD is not also reported as
    'geen regel paste' in the beheerders' report: its proposal mail asks already."""
    sink, clock = InMemoryTaskSink(), FakeClock(DEMO_NOW)
    app = _app(tmp_path, sink, clock, mode="propose")
    try:
        (report,) = [m for m in _sent(app) if "meldingen voor de beheerders" in m.subject]
        for rid in ("185110", "185201", "185412"):  # no rule fits, task held
            assert f"verzoek {rid}: geen regel paste" not in report.text
        assert "verzoek 184523: geen regel paste" in report.text  # closed before confirmed
    finally:
        app.close()


def test_verzoek_akkoord_from_the_cli_releases_the_task_for_the_daemon(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """imi-mailwatch verzoek akkoord ID (a beheerder at a terminal) releases the held task
    in the shared state; the running daemon then creates it, once."""
    import yaml

    from imi_mailwatch.cli import main

    sink, clock = InMemoryTaskSink(), FakeClock(DEMO_NOW)
    app = _app(tmp_path, sink, clock, mode="propose")
    try:
        config = tmp_path / "imi-mailwatch.yaml"
        data = {**config_data(tmp_path), "routing": {"mode": "propose"}}
        config.write_text(yaml.safe_dump(data), encoding="utf-8")
        assert main(["verzoek", "akkoord", ID, "-c", str(config)]) == 0
        assert "wordt nu aangemaakt" in capsys.readouterr().out
        app.daemon.run_once()
        assert _tasks(sink) == ["milieu"] and sink.create_calls == 1
    finally:
        app.close()
