"""A request and its Corsa document kept in step, both ways, against the test server.

The status read-back (a document completed or moved in Corsa) and HERROUTEER's move of
the document (the task outbox's ``reroute``), over a real socket, with a fake clock,
under the documented and the production profile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink
from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.adapters.memory_state import MemoryStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import DeadlinesConfig
from imi_mailwatch.deadlines import BusinessCalendar, FollowUps
from imi_mailwatch.deadlines.plan import steps_from_config
from imi_mailwatch.desk import Actor, DeskContext, Via, apply_command
from imi_mailwatch.model import Team
from imi_mailwatch.outbox import TaskOutbox
from imi_mailwatch.records import DeskMailRow, Handling
from imi_mailwatch.replies import Command, CommandKind, Role
from imi_mailwatch.tasksync.actions import task_actions
from imi_mailwatch.tasksync.readback import COMPONENT, CorsaReadback
from imi_mailwatch.testing.corsa_server import CorsaTestServer
from imi_mailwatch.texts import TextBook
from tests.deadlines.conftest import BEHEERDERS, ESCALATION, make_request

from .conftest import task_request

START = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Amsterdam
RID = "184523"
UNIT_FIELD = "poststuk.v_plaats_id"
TEAMS = {
    "milieu": Team("milieu", "Milieu, afval en bodem (VTH)", "ORG-VTH",
                   "vth-milieu@example.org", ("behandelaar@example.org",)),
    "economie": Team("economie", "Team Economie", "ORG-ECO", "economie@example.org",
                     ("eco-behandelaar@example.org",)),
}  # fmt: skip
BEHEERDER = Actor("cli:beheer", Via.CLI, frozenset({Role.BEHEERDER}))
EVERY = timedelta(minutes=15)


@dataclass
class SyncRig:
    server: CorsaTestServer
    sink: CorsaSoapTaskSink
    clock: FakeClock
    store: MemoryStateStore
    followups: FollowUps
    desk: DeskContext
    outbox: TaskOutbox
    readback: CorsaReadback

    def registered(self) -> str:
        """A request with its reminders planned and its document created in the server."""
        ref = self.sink.create(task_request(RID, unit="ORG-VTH"))
        rec = make_request(RID, org_unit="ORG-VTH", task_sink="corsa", task_ref=ref.ref)
        with self.store.transaction():
            self.store.save_request(rec)
            self.followups.replan(self.store, rec, closed=False)
        return ref.ref

    def later(self, minutes: int = 15) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    def open_reminders(self) -> list[dict[str, Any]]:
        return [
            f
            for f in self.store.followups_of(RID)
            if f["kind"] == "reminder" and f["status"] in ("scheduled", "sending")
        ]

    def mails(self, kind: str) -> list[DeskMailRow]:
        return [m for m in self.store.desk_mails_of(RID) if f".{kind}." in m.message_id]

    def unit(self, object_id: str) -> str:
        return self.server.documents[object_id].fields.get(UNIT_FIELD, "")


def build_rig(server: CorsaTestServer, sink: CorsaSoapTaskSink) -> SyncRig:
    """A desk, follow-ups, the outbox and the read-back over a memory store and ``sink``."""
    clock = FakeClock(START)
    store = MemoryStateStore(clock)
    d = DeadlinesConfig(escalation=ESCALATION)
    calendar = BusinessCalendar(extra_closed_days=d.extra_closed_days)
    followups = FollowUps(store=store, notifier=InMemoryNotifier(), clock=clock,
                          calendar=calendar, schedule=steps_from_config(d.schedule),
                          beheerders=BEHEERDERS, escalation=ESCALATION,
                          domain="brabant.example")  # fmt: skip
    desk = DeskContext(clock=clock, teams=lambda: TEAMS, beheerders=BEHEERDERS,
                       own_domains=("example.org",), domain="brabant.example",
                       reply_to="imi@example.org", planner=followups,
                       calendar=calendar)  # fmt: skip
    outbox = TaskOutbox(store, sink, clock, actions=task_actions())
    readback = CorsaReadback(store, sink, desk, every=EVERY, report_after=timedelta(minutes=30))
    return SyncRig(server, sink, clock, store, followups, desk, outbox, readback)


@pytest.fixture
def rig(make_sink: Callable[..., CorsaSoapTaskSink], server: CorsaTestServer) -> SyncRig:
    """The rig on the test server of each profile."""
    return build_rig(server, make_sink(readback_minutes=15))


@pytest.fixture
def case_rig(
    make_case_sink: Callable[..., CorsaSoapTaskSink], case_server: CorsaTestServer
) -> SyncRig:
    """The rig in case mode on the case-profile test server."""
    return build_rig(case_server, make_case_sink(readback_minutes=15))


def test_a_document_completed_in_corsa_stops_the_reminders_once(rig: SyncRig) -> None:
    """Completed in Corsa: BEANTWOORD through the desk (via corsa, in the action log), the
    reminders stop, the beheerders get one mail, and later passes change nothing."""
    ref = rig.registered()
    assert rig.readback() == 0 and rig.open_reminders()
    rig.server.complete_document(ref, date(2026, 11, 18))
    rig.later()
    assert rig.readback() == 1
    assert rig.store.desk_state(RID).handled is Handling.ANSWERED
    assert rig.open_reminders() == []
    (told,) = rig.mails("corsa")
    assert set(told.mail.to) == {b.email for b in BEHEERDERS}
    assert "afgehandeld" in told.mail.subject.lower() and ref in told.mail.text
    (action,) = rig.store.actions_of(RID)
    assert (action.entry.via, action.entry.command) == ("corsa", "beantwoord")
    assert rig.store.outbox_rows() == []  # nothing is written back to Corsa
    for _ in range(3):
        rig.later()
        assert rig.readback() == 0
    assert len(rig.mails("corsa")) == 1 and len(rig.store.actions_of(RID)) == 1


def test_the_read_back_waits_for_its_interval(rig: SyncRig) -> None:
    """The job reads Corsa at most once per interval, whatever the daemon's cadence."""
    rig.registered()
    rig.readback()
    calls = len(rig.server.calls)
    rig.later(5)
    assert rig.readback() == 0 and len(rig.server.calls) == calls
    rig.later(10)
    rig.readback()
    assert "GetFieldValues" in rig.server.calls[calls:]


def test_a_document_moved_in_corsa_moves_the_request_and_its_reminders(rig: SyncRig) -> None:
    """Moved to another unit in Corsa: the team of that unit gets the request through the
    desk's HERROUTEER (history, both teams told), the reminders follow; once."""
    ref = rig.registered()
    rig.server.move_document(ref, "ORG-ECO")
    rig.later()
    assert rig.readback() == 1
    moved = rig.store.get_request(RID)
    assert moved is not None and (moved.team_key, moved.org_unit) == ("economie", "ORG-ECO")
    assert rig.open_reminders()
    team, _ = rig.followups.addresses(moved, ("team",))
    assert team == ("economie@example.org",)
    (action,) = rig.store.actions_of(RID)
    assert (action.entry.via, action.entry.command) == ("corsa", "herrouteer")
    assert len(rig.mails("corsa")) == 1 and rig.mails("reroutenew")
    assert "staat al bij uw team" in rig.mails("reroutenew")[0].mail.text
    assert rig.store.outbox_rows() == []  # no memo line, no move back to Corsa
    rig.later()
    assert rig.readback() == 0 and len(rig.store.actions_of(RID)) == 1


def test_a_move_to_a_unit_no_team_has_is_reported_once(rig: SyncRig) -> None:
    """Moved in Corsa to a unit of no team in the rules: the request stays, the beheerders
    are told once."""
    ref = rig.registered()
    rig.server.units = None  # the installation knows more units than the rules
    rig.server.move_document(ref, "ORG-ONBEKEND")
    for _ in range(3):
        rig.later()
        assert rig.readback() == 0
    request = rig.store.get_request(RID)
    assert request is not None and request.team_key == "milieu"
    notices = [n for n in rig.store.notices_pending() if n["kind"] == "corsa"]
    assert len(notices) == 1 and "ORG-ONBEKEND" in notices[0]["text"]


def test_a_corsa_outage_changes_nothing_and_is_reported_once(rig: SyncRig) -> None:
    """Corsa down during the read-back: nothing changes; the beheerders are told once per
    outage (after report_after); the next good pass clears the health row."""
    ref = rig.registered()
    rig.server.complete_document(ref, date(2026, 11, 18))
    rig.server.http_error_next(503, times=10_000)
    for _ in range(6):
        rig.later()
        assert rig.readback() == 0
    assert rig.store.desk_state(RID).handled is None and rig.open_reminders()
    outages = [n for n in rig.store.notices_pending() if n["key"].startswith(f"outage:{COMPONENT}")]
    assert len(outages) == 1 and outages[0]["kind"] == "outage"
    assert "Corsa" in outages[0]["text"]
    (health,) = [h for h in rig.store.health() if h.component == COMPONENT]
    assert not health.ok
    rig.server.heal()  # Corsa answers again
    rig.later()
    assert rig.readback() == 1 and rig.store.desk_state(RID).handled is Handling.ANSWERED
    (health,) = [h for h in rig.store.health() if h.component == COMPONENT]
    assert health.ok


def test_herrouteer_moves_the_document_in_corsa(rig: SyncRig) -> None:
    """HERROUTEER: the outbox puts the document's route field on the new unit (the other
    fields kept) and adds the memo line; the read-back does not take it for a move."""
    ref = rig.registered()
    before = dict(rig.server.documents[ref].fields)
    command = Command(CommandKind.REROUTE, team="economie")
    assert apply_command(rig.store, rig.desk, RID, command, BEHEERDER).ok
    assert rig.outbox.drain() == 2
    assert rig.unit(ref) == "ORG-ECO"
    after = rig.server.documents[ref].fields
    assert {k: v for k, v in after.items() if k != UNIT_FIELD} == {
        k: v for k, v in before.items() if k != UNIT_FIELD
    }
    assert "Team Economie" in rig.server.documents[ref].memo
    assert rig.mails("corsamove") == []
    rig.later()
    assert rig.readback() == 0 and len(rig.store.actions_of(RID)) == 1
    assert rig.outbox.drain() == 0  # exactly once


def test_herrouteer_moves_the_document_once_when_the_answer_is_lost(rig: SyncRig) -> None:
    """A lost answer after the update: the retry reads the document at the new unit and
    is done without writing again."""
    ref = rig.registered()
    command = Command(CommandKind.REROUTE, team="economie")
    assert apply_command(rig.store, rig.desk, RID, command, BEHEERDER).ok
    rig.server.lose_response_next("CreateMetaDocument")
    before = rig.server.calls.count("CreateMetaDocument")
    rig.outbox.drain()
    assert rig.unit(ref) == "ORG-ECO"
    writes = rig.server.calls.count("CreateMetaDocument")
    assert writes == before + 1  # the lost one; the retry found it done
    rig.later(60)
    rig.outbox.drain()
    assert rig.server.calls.count("CreateMetaDocument") == writes
    assert [r["status"] for r in rig.store.outbox_rows()] == ["done", "done"]


def test_a_reroute_row_deferred_after_a_lost_answer_writes_once(
    rig: SyncRig, make_sink: Callable[..., CorsaSoapTaskSink]
) -> None:
    """The answer lost and the sink's tries used up: the outbox defers the row; its next
    attempt finds the document at the new unit and finishes without writing again."""
    ref = rig.registered()
    rig.outbox.sink = make_sink(retry_attempts=1)
    command = Command(CommandKind.REROUTE, team="economie")
    assert apply_command(rig.store, rig.desk, RID, command, BEHEERDER).ok
    rig.server.lose_response_next("CreateMetaDocument")
    rig.outbox.drain()
    assert rig.unit(ref) == "ORG-ECO"
    assert [r["status"] for r in rig.store.outbox_rows()] == ["done", "pending"]
    writes = rig.server.calls.count("CreateMetaDocument")
    rig.later(60)
    assert rig.outbox.drain() == 1
    assert rig.server.calls.count("CreateMetaDocument") == writes
    assert [r["status"] for r in rig.store.outbox_rows()] == ["done", "done"]
    assert rig.mails("corsamove") == []


@pytest.mark.parametrize("how", ["profile", "config"])
def test_a_refused_move_tells_the_beheerders_in_dutch_what_to_move(
    rig: SyncRig, make_sink: Callable[..., CorsaSoapTaskSink], how: str
) -> None:
    """An installation that refuses the update (or ``reroute: false``): the beheerders get
    a Dutch mail naming the document and the unit; the read-back keeps the request at its
    new team, and a later move by hand in Corsa changes nothing more."""
    ref = rig.registered()
    if how == "profile":
        rig.server.profile.modify = False
    else:
        rig.outbox.sink = make_sink(readback_minutes=15, reroute=False)
    command = Command(CommandKind.REROUTE, team="economie")
    assert apply_command(rig.store, rig.desk, RID, command, BEHEERDER).ok
    rig.outbox.drain()
    assert rig.unit(ref) == "ORG-VTH"
    (told,) = rig.mails("corsamove")
    assert set(told.mail.to) == {b.email for b in BEHEERDERS}
    assert "Verplaats de taak in Corsa naar Team Economie" in told.mail.subject
    assert ref in told.mail.text and "ORG-ECO" in told.mail.text
    rig.later()
    assert rig.readback() == 0
    request = rig.store.get_request(RID)
    assert request is not None and request.team_key == "economie"
    rig.server.move_document(ref, "ORG-ECO")  # the beheerder does it in Corsa
    rig.later()
    assert rig.readback() == 0 and len(rig.store.actions_of(RID)) == 1
    assert len(rig.mails("corsamove")) == 1


def test_case_mode_follows_the_case_step_and_mails_what_to_move(case_rig: SyncRig) -> None:
    """Case mode: a step moved in Corsa/Case moves the request; HERROUTEER cannot move
    the step through the Web Service, so the beheerders get the Dutch mail."""
    rig = case_rig
    ref = rig.registered()
    rig.server.move_document(ref, "ORG-ECO")
    assert rig.readback() == 1
    moved = rig.store.get_request(RID)
    assert moved is not None and moved.team_key == "economie"
    command = Command(CommandKind.REROUTE, team="milieu")
    assert apply_command(rig.store, rig.desk, RID, command, BEHEERDER).ok
    rig.outbox.drain()
    (told,) = rig.mails("corsamove")
    assert "Corsa/Case" in told.mail.text and "ORG-VTH" in told.mail.text
    assert rig.unit(ref) == "ORG-ECO"
    rig.later()
    assert rig.readback() == 0  # the step is still at ORG-ECO, as last known
    back = rig.store.get_request(RID)
    assert back is not None and back.team_key == "milieu"


def test_the_mail_to_move_by_hand_uses_the_beheerders_own_text(
    rig: SyncRig, tmp_path: Path
) -> None:
    """With the beheerders' own verplaatsen.j2, the outbox's mail about a refused move is
    theirs (the [IMI nummer] before the subject stays, so a reply still links)."""
    folder = tmp_path / "teksten"
    folder.mkdir()
    (folder / "verplaatsen.j2").write_text(
        "{% block onderwerp %}Zelf verplaatsen: {{ taak }}{% endblock %}\n"
        "{% block tekst %}Zet {{ taak }} op {{ eenheid }} ({{ team }}).{% endblock %}\n",
        encoding="utf-8",
    )
    rig.outbox.texts = TextBook(folder)
    ref = rig.registered()
    rig.server.profile.modify = False
    assert apply_command(rig.store, rig.desk, RID, Command(CommandKind.REROUTE, team="economie"),
                         BEHEERDER).ok  # fmt: skip
    rig.outbox.drain()
    (told,) = rig.mails("corsamove")
    assert told.mail.subject == f"[IMI {RID}] Zelf verplaatsen: {ref}"
    assert told.mail.text.strip() == f"Zet {ref} op ORG-ECO (Team Economie)."
