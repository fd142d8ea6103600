"""The acceptance watch: no AANVAARD some working days after the task, the team is reminded.

After ``deadlines.acceptance_team_days`` working days (default 3) from the created
task the team is reminded; after ``acceptance_beheerders_days`` (default 5) the
beheerders too. AANVAARD (through the desk, as a reply or ``verzoek aanvaard``)
stops it; so do BEANTWOORD and IMI's end of the request. A team that reported the
request forwarded is not told a second time that its task can close.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from imi_mailwatch.config import DeadlinesConfig
from imi_mailwatch.desk import DeskContext, apply_command
from imi_mailwatch.model import RequestStatus
from imi_mailwatch.privacy.history import load_history, render_text
from imi_mailwatch.replies import Command, CommandKind
from tests.deadlines.conftest import BEHEERDERS, Desk, make_request
from tests.desk.conftest import TEAM, TEAMS
from tests.dutch import english_in

FUNCTIONAL = "imi@brabant.example"


def _day(d: int, hour: int = 8) -> datetime:
    return datetime(2026, 11, d, hour, 0, tzinfo=UTC)  # 08:00 UTC is 09:00 in Amsterdam


def _task_created(desk: Desk, **followups: object) -> None:
    """A request whose Corsa task was created on Monday 16 November, 09:00."""
    desk.followups = desk.make_followups(reply_to=FUNCTIONAL, **followups)
    desk.record(make_request())
    with desk.store.transaction():
        desk.followups.task_created(desk.store, "184523")


def _acceptance(desk: Desk) -> list[str]:
    return [m.subject for m in desk.notifier.sent if "Nog niet aanvaard" in m.subject]


def _context(desk: Desk) -> DeskContext:
    return DeskContext(clock=desk.clock, teams=lambda: TEAMS, beheerders=BEHEERDERS,
                       own_domains=("example.org",), domain="brabant.example",
                       reply_to=FUNCTIONAL, planner=desk.followups,
                       calendar=desk.followups.calendar)  # fmt: skip


def test_no_acceptance_reminds_the_team_then_the_beheerders(desk: Desk) -> None:
    """Three working days without AANVAARD: the team; five: the team with the beheerders
    in copy. Each once, on working days, answerable."""
    _task_created(desk)
    for d in (17, 18):
        desk.at(_day(d))
    assert _acceptance(desk) == []
    desk.at(_day(19))  # Thursday: three working days after Monday
    desk.at(_day(20))
    (first,) = [m for m in desk.notifier.sent if "Nog niet aanvaard" in m.subject]
    assert first.subject == "[IMI 184523] Nog niet aanvaard: de taak staat al 3 werkdagen in Corsa"
    assert first.to == ("vth-milieu@example.org", "behandelaar@example.org")
    assert first.cc == ()
    assert first.message_id == "<imi.184523.acc3.20261119@brabant.example>"
    assert "Antwoord met één woord op de eerste regel:" in first.text
    assert "De IMI-beheerders krijgen dit bericht ook." not in first.text
    desk.at(_day(23))  # Monday: five working days after the task
    desk.at(_day(24))
    assert len(_acceptance(desk)) == 2
    second = [m for m in desk.notifier.sent if "Nog niet aanvaard" in m.subject][-1]
    assert "5 werkdagen" in second.subject
    assert second.cc == tuple(b.email for b in BEHEERDERS)
    assert "De IMI-beheerders krijgen dit bericht ook." in second.text
    assert "Alleen voor de IMI-beheerders:" in second.text


def test_aanvaard_through_the_desk_stops_the_watch(desk: Desk) -> None:
    """AANVAARD on Wednesday (through the desk service): no acceptance reminder follows."""
    _task_created(desk)
    desk.clock.set(_day(18, 10))
    result = apply_command(desk.store, _context(desk), "184523", Command(CommandKind.ACCEPT), TEAM)
    assert result.ok, result.text
    assert desk.store.next_followup("184523")["kind"] != "acceptance"  # cancelled at once
    for d in (19, 20, 23, 24):
        desk.at(_day(d))
    assert _acceptance(desk) == []
    rows = [r for r in desk.rows() if r["kind"] == "acceptance"]
    assert [r["status"] for r in rows] == ["cancelled", "cancelled"]


def test_an_answered_or_ended_request_is_not_watched(desk: Desk) -> None:
    """A request IMI reports withdrawn before day three gets no acceptance reminder, and
    the watch is cancelled at once (status shows no reminder of an ended request)."""
    _task_created(desk)
    ended = replace(make_request(), status=RequestStatus.WITHDRAWN, closed_at=_day(17, 9))
    desk.record(ended, closed=True)
    watch = [r["status"] for r in desk.rows() if r["kind"] == "acceptance"]
    assert watch == ["cancelled", "cancelled"]
    for d in (19, 23):
        desk.at(_day(d))
    assert _acceptance(desk) == []


def test_the_watch_follows_its_configuration(desk: Desk) -> None:
    """acceptance_team_days 0 switches the team step off; the defaults are 3 and 5."""
    assert (
        DeadlinesConfig().acceptance_team_days,
        DeadlinesConfig().acceptance_beheerders_days,
    ) == (
        3,
        5,
    )
    _task_created(desk, acceptance_days=(0, 2))
    assert [r["step"] for r in desk.rows() if r["kind"] == "acceptance"] == ["acc2"]
    with desk.store.transaction():  # a second call (the outbox ran again) plans nothing more
        desk.followups.task_created(desk.store, "184523")
    assert len([r for r in desk.rows() if r["kind"] == "acceptance"]) == 1


def test_the_beheerders_step_must_come_after_the_team_step() -> None:
    """A configuration that would warn the beheerders before the team is refused."""
    with pytest.raises(ValidationError, match="acceptance_beheerders_days"):
        DeadlinesConfig(acceptance_team_days=5, acceptance_beheerders_days=3)
    assert DeadlinesConfig(acceptance_team_days=0, acceptance_beheerders_days=3)
    assert DeadlinesConfig(acceptance_team_days=4, acceptance_beheerders_days=0)


def test_history_tells_the_team_mails_in_dutch(desk: Desk) -> None:
    """history shows the task notice, the acceptance watch and the close notice in Dutch
    words, planned and sent, with no codes."""
    _task_created(desk)
    desk.at(_day(16, 9))
    desk.at(_day(19))
    ended = replace(make_request(), status=RequestStatus.WITHDRAWN, closed_at=_day(20, 9))
    desk.record(ended, closed=True)
    desk.at(_day(20, 10))
    history = load_history(desk.store, "184523")
    assert history is not None
    text = render_text(history)
    for words in (
        "Bericht aan het team: taak aangemaakt: verstuurd",
        "Herinnering om te aanvaarden: verstuurd",
        "Bericht aan het team: taak kan dicht: verstuurd",
        "Gepland: een bericht aan het team over de nieuwe taak in Corsa",
        "Gepland: een bericht aan het team dat de taak in Corsa dicht kan (verzoek ingetrokken)",
    ):
        assert words in text, text
    assert "Gebeurtenis (" not in text
    assert english_in(text) == [], english_in(text)


def test_withdrawn_after_doorgestuurd_tells_the_team_once(desk: Desk) -> None:
    """DOORGESTUURD (the team is told the task can close), then IMI's withdrawal:
    no second mail that the task can close."""
    _task_created(desk)
    desk.clock.set(_day(18, 10))
    command = Command(CommandKind.FORWARDED)
    assert apply_command(desk.store, _context(desk), "184523", command, TEAM).ok
    request = desk.store.get_request("184523")
    assert request is not None
    desk.record(
        replace(request, status=RequestStatus.WITHDRAWN, closed_at=_day(19, 9)), closed=True
    )
    told = [r for r in desk.rows() if r["kind"] == "task_close"]
    assert [(r["step"], r["status"]) for r in told] == [("close_forwarded", "scheduled")]
