"""End to end over the daemon as wired (build_app, fake clock): a BEANTWOORD stops the
reminders that would otherwise be sent, and its confirmation goes out once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import App
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW
from imi_mailwatch.desk import Actor, Via, apply_command, context_from_app
from imi_mailwatch.msgid import parse_message_id
from imi_mailwatch.replies import Command, CommandKind, Role
from tests.privacy.helpers import demo_app

ID = "184777"  # a demo request of team milieu, reply date 11-01-2027
TEAM = Actor("vth-milieu@brabant.example", Via.MAIL, frozenset({Role.COLLEAGUE}))
REMINDER_DAY = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)  # its first reminder is due


def _mails_about(app: App, kinds: set[str] | None = None) -> list[str]:
    assert isinstance(app.notifier, InMemoryNotifier)
    found = []
    for mail in app.notifier.sent:
        parsed = parse_message_id(mail.message_id)
        about = parsed is not None and parsed.request_id == ID
        if parsed is not None and about and (kinds is None or parsed.kind in kinds):
            found.append(parsed.kind)
    return found


def _reminders(app: App) -> list[str]:
    return [k for k in _mails_about(app) if k not in {"confirm", "closetask"}]


def test_beantwoord_stops_the_reminders_that_would_otherwise_be_sent(tmp_path: Path) -> None:
    """Two daemons over the same demo mailbox: the one that heard BEANTWOORD sends no
    reminder for the request on the day the other one does; the confirmation is sent
    once, under the Message-ID recorded with the action, and a replay changes nothing."""
    control = demo_app(tmp_path / "control", FakeClock(DEMO_NOW))
    answered = demo_app(tmp_path / "answered", FakeClock(DEMO_NOW))
    try:
        desk = context_from_app(answered)
        reply = "<reply-184777@brabant.example>"
        result = apply_command(answered.store, desk, ID, Command(CommandKind.ANSWERED), TEAM,
                               reply_message_id=reply)  # fmt: skip
        assert result.ok
        answered.daemon.run_once()  # the periodic desk mailer sends the confirmation
        assert _mails_about(answered, {"confirm"}) == ["confirm"]
        again = apply_command(answered.store, desk, ID, Command(CommandKind.ANSWERED), TEAM,
                              reply_message_id=reply)  # fmt: skip
        assert again == result
        for app in (control, answered):
            assert isinstance(app.clock, FakeClock)
            app.clock.set(REMINDER_DAY)
            app.daemon.run_once()
        assert _reminders(control), "the control daemon must remind on this day"
        assert _reminders(answered) == []
        assert _mails_about(answered, {"confirm"}) == ["confirm"]
        (action,) = answered.store.actions_of(ID)
        assert isinstance(answered.notifier, InMemoryNotifier)
        sent = [m for m in answered.notifier.sent if m.message_id == action.entry.confirmation_id]
        assert [m.to for m in sent] == [("vth-milieu@brabant.example",)]
    finally:
        control.close()
        answered.close()


def test_herrouteer_reaches_corsa_and_both_teams_through_the_daemon(tmp_path: Path) -> None:
    """A re-route by a beheerder: the daemon's outbox appends the memo line to the task,
    its desk mailer tells the old and the new team and confirms to the beheerder; the
    next reminder goes to the new team."""
    app = demo_app(tmp_path, FakeClock(DEMO_NOW))
    try:
        beheerder = Actor("a@example.org", Via.MAIL, frozenset({Role.COLLEAGUE}))
        command = Command(CommandKind.REROUTE, team="natuur")
        assert apply_command(app.store, context_from_app(app), ID, command, beheerder).ok
        app.daemon.run_once()
        request = app.store.get_request(ID)
        assert request is not None and request.task_ref is not None
        assert isinstance(app.sink, InMemoryTaskSink)
        assert "Natuur, flora en fauna" in app.sink.memos[request.task_ref][-1]
        assert sorted(_mails_about(app)) == ["confirm", "reroutenew", "rerouteold"]
        assert isinstance(app.clock, FakeClock)
        app.clock.set(REMINDER_DAY)
        app.daemon.run_once()
        assert isinstance(app.notifier, InMemoryNotifier)
        (reminder,) = [
            m for m in app.notifier.sent if ".dm5." in m.message_id and ID in m.message_id
        ]
        assert reminder.to[0] == "natuur@brabant.example"
    finally:
        app.close()
