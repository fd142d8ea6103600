"""DeskStore contract (desk state, action log, the desk's mails), over every state adapter."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from imi_mailwatch.clock import FakeClock
from imi_mailwatch.model import OutgoingMail, RequestStatus
from imi_mailwatch.ports import StateStore
from imi_mailwatch.records import (
    ActionEntry,
    Category,
    DeskMailStatus,
    DeskState,
    Handling,
    PurgePlan,
)
from tests.contract.state.conftest import START
from tests.contract.state.samples import later, request


def _entry(request_id: str = "300001", reply: str | None = None, **changes: object) -> ActionEntry:
    values: dict[str, object] = {
        "request_id": request_id,
        "actor": "team@example.org",
        "via": "mail",
        "command": "beantwoord",
        "argument": None,
        "ok": True,
        "result": "Het verzoek staat op beantwoord.",
        "reply_message_id": reply,
        "confirmation_id": "<imi.300001.confirm.1@example.org>",
    }
    values.update(changes)
    return ActionEntry(**values)  # type: ignore[arg-type]


def _mail(n: int = 1, request_id: str = "300001") -> OutgoingMail:
    return OutgoingMail(
        message_id=f"<imi.{request_id}.confirm.{n}@example.org>",
        to=("team@example.org",),
        cc=("beheer@example.org",),
        subject=f"[IMI {request_id}] Bevestiging",
        text="Bevestigd.",
        headers=(("Reply-To", "imi@example.org"),),
    )


def test_the_desk_state_is_empty_until_saved_and_then_read_back_whole(store: StateStore) -> None:
    """desk_state of an unknown request is the empty state; a saved one reads back equal."""
    assert store.desk_state("300001") == DeskState("300001")
    saved = DeskState(
        "300001",
        accepted_at=START,
        answered_at=later(hours=2),
        handled=Handling.FORWARDED,
        paused_until=date(2026, 11, 27),
        claimer="jan@example.org",
        route_confirmed_at=later(hours=1),
    )
    with store.transaction():
        store.desk_save(saved)
    got = store.desk_state("300001")
    assert got.updated_at == START
    assert got == DeskState(**{**_fields(saved), "updated_at": START})
    store.desk_save(DeskState("300001", claimer="piet@example.org"))
    assert store.desk_state("300001").claimer == "piet@example.org"
    assert store.desk_state("300001").handled is None


def _fields(s: DeskState) -> dict[str, object]:
    return {f: getattr(s, f) for f in DeskState.__slots__}


def test_an_action_is_logged_once_per_reply(store: StateStore, clock: FakeClock) -> None:
    """action_add refuses a second action of the same reply Message-ID (a replay changes
    nothing); actions without a reply are all kept, in order, with the store's moment."""
    first = store.action_add(_entry(reply="<r1@example.org>"))
    assert first is not None
    assert store.action_add(_entry(reply="<r1@example.org>", command="hervat")) is None
    clock.advance(timedelta(minutes=5))
    assert store.action_add(_entry(via="cli", actor="cli:beheer")) is not None
    assert store.action_add(_entry(via="cli", actor="cli:beheer")) is not None
    store.action_add(_entry("300002", ok=False, result="Niet toegestaan."))
    log = store.actions_of("300001")
    assert [a.entry.via for a in log] == ["mail", "cli", "cli"]
    assert log[0].at == START and log[1].at == START + timedelta(minutes=5)
    assert log[0].entry == _entry(reply="<r1@example.org>")
    found = store.action_by_reply("<r1@example.org>")
    assert found is not None and found.id == first and found.entry.command == "beantwoord"
    assert store.action_by_reply("<r2@example.org>") is None
    (other,) = store.actions_of("300002")
    assert not other.entry.ok


def test_a_rolled_back_transaction_leaves_no_action_state_or_mail(store: StateStore) -> None:
    """State, action and mail written in one transaction vanish together on an error."""
    with pytest.raises(RuntimeError), store.transaction():
        store.desk_save(DeskState("300001", handled=Handling.ANSWERED))
        store.action_add(_entry(reply="<r1@example.org>"))
        store.desk_mail_add("300001", _mail())
        raise RuntimeError("crash before commit")
    assert store.desk_state("300001") == DeskState("300001")
    assert store.actions_of("300001") == [] and store.desk_mails_of("300001") == []
    assert store.action_add(_entry(reply="<r1@example.org>")) is not None


def test_a_desk_mail_is_owed_once_and_sent_by_intent_then_sent(store: StateStore) -> None:
    """desk_mail_add is idempotent per Message-ID; an interrupted attempt stays due with
    the same mail; a deferred one waits; sent and failed ones are no longer due."""
    assert store.desk_mail_add("300001", _mail(1))
    assert not store.desk_mail_add("300001", _mail(1))
    store.desk_mail_add("300001", _mail(2))
    due = store.desk_mails_due(START)
    assert [m.message_id for m in due] == [_mail(1).message_id, _mail(2).message_id]
    assert due[0].mail == _mail(1) and due[0].status is DeskMailStatus.PENDING
    store.desk_mail_sending(_mail(1).message_id)  # ... and the process dies
    (again, _) = store.desk_mails_due(START)
    assert again.status is DeskMailStatus.SENDING and again.attempts == 1
    assert again.mail.message_id == _mail(1).message_id
    store.desk_mail_defer(_mail(1).message_id, later(hours=1), "NotifierUnavailableError")
    assert [m.message_id for m in store.desk_mails_due(START)] == [_mail(2).message_id]
    (back, _) = store.desk_mails_due(later(hours=1))
    assert back.last_error == "NotifierUnavailableError" and back.attempts == 1
    store.desk_mail_done(_mail(1).message_id, sent=True)
    store.desk_mail_done(_mail(2).message_id, sent=False, error="NotifierRejectedError")
    assert store.desk_mails_due(later(days=1)) == []
    assert not store.desk_mail_add("300001", _mail(1))
    statuses = [(m.status, m.last_error) for m in store.desk_mails_of("300001")]
    assert statuses == [
        (DeskMailStatus.SENT, None),
        (DeskMailStatus.FAILED, "NotifierRejectedError"),
    ]


def test_deleting_a_request_removes_its_desk_rows(store: StateStore) -> None:
    """Retention that deletes a request leaves none of its desk state, actions or mails."""
    store.save_request(request("300001", status=RequestStatus.CLOSED, closed_at=START))
    store.desk_save(DeskState("300001", claimer="jan@example.org"))
    store.action_add(_entry(reply="<r1@example.org>"))
    store.desk_mail_add("300001", _mail())
    store.action_add(_entry("300002"))
    with store.transaction():
        plan = PurgePlan(START, {Category.REQUESTS_DELETED: ("300001",)})
        store.retention_apply(plan, frozenset())
    assert store.desk_state("300001") == DeskState("300001")
    assert store.actions_of("300001") == [] and store.desk_mails_of("300001") == []
    assert store.action_by_reply("<r1@example.org>") is None
    assert len(store.actions_of("300002")) == 1


def test_the_skeleton_keeps_no_address_in_the_desk_rows(store: StateStore) -> None:
    """Reducing a request to its skeleton clears the claimer, who gave each command, the
    texts given and the sent mails; what was done and when stays."""
    store.save_request(request("300001", status=RequestStatus.CLOSED, closed_at=START))
    store.desk_save(DeskState("300001", claimer="jan@example.org", handled=Handling.ANSWERED))
    store.action_add(_entry(reply="<r1@example.org>"))
    store.action_add(_entry(command="claim", argument="jan@example.org"))
    store.desk_mail_add("300001", _mail(1))
    store.desk_mail_done(_mail(1).message_id, sent=True)
    with store.transaction():
        plan = PurgePlan(START, {Category.REQUESTS_REDUCED: ("300001",)})
        store.retention_apply(plan, frozenset())
    state = store.desk_state("300001")
    assert state.claimer is None and state.handled is Handling.ANSWERED
    actions = store.actions_of("300001")
    assert [a.entry.command for a in actions] == ["beantwoord", "claim"]
    assert all(a.entry.actor == "" and a.entry.result == "" for a in actions)
    assert actions[1].entry.argument is None
    assert store.desk_mails_of("300001") == []
