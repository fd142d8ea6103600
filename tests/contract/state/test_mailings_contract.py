"""MailingLog and StatisticsStore contract (scheduled mails, quarterly facts), every adapter."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from imi_mailwatch.model import Disposition, MessageKind, Module, RequestStatus
from imi_mailwatch.ports import MailingLog, StateStore, StatisticsStore
from imi_mailwatch.records import AlertEntry, DeskState, Handling, QuarantineEntry
from tests.contract.state.samples import later, message, request


def _log(store: StateStore) -> Any:
    return cast(MailingLog, store)


def test_a_scheduled_mail_is_claimed_once_and_stays_sent(store: StateStore) -> None:
    """mailing_claim is idempotent by key; defer keeps the Message-ID; sent is final."""
    log = _log(store)
    assert log.mailing("overview:2026-W48:team") is None
    assert log.mailing_claim("overview:2026-W48:team", "<o1@example.org>")
    assert not log.mailing_claim("overview:2026-W48:team", "<o2@example.org>")
    log.mailing_defer("overview:2026-W48:team", 1, later(hours=1), "NotifierUnavailableError")
    row = log.mailing("overview:2026-W48:team")
    assert row["message_id"] == "<o1@example.org>" and row["attempts"] == 1
    assert row["next_attempt_at"] is not None and row["sent_at"] is None
    assert row["last_error"] == "NotifierUnavailableError"
    log.mailing_sent("overview:2026-W48:team")
    first = log.mailing("overview:2026-W48:team")["sent_at"]
    assert first is not None
    log.mailing_sent("overview:2026-W48:team")
    log.mailing_defer("overview:2026-W48:team", 2, later(hours=2), "X")
    again = log.mailing("overview:2026-W48:team")
    assert again["sent_at"] == first and again["attempts"] == 1


def test_a_claim_rolls_back_with_its_transaction(store: StateStore) -> None:
    """A claim inside a failed transaction leaves no trace (the mail is claimed again)."""
    log = _log(store)
    try:
        with store.transaction():
            log.mailing_claim("kwartaal:2026-4", "<k@example.org>")
            raise RuntimeError("crash")
    except RuntimeError:
        pass
    assert log.mailing("kwartaal:2026-4") is None


def test_quarter_facts_give_the_first_moment_of_each_step(store: StateStore) -> None:
    """request_facts: received, accepted, answered from the first such alert; by window."""
    stats = cast(StatisticsStore, store)
    store.save_request(request("1", created_at=later(days=1), deadline=date(2026, 12, 1)))
    store.save_request(request("2", created_at=later(days=2), status=RequestStatus.CLOSED))
    store.save_request(request("3", created_at=later(days=40)))
    for n, (rid, kind, days) in enumerate(
        [
            ("1", "new_request", 0),
            ("1", "allocated", 3),
            ("1", "allocated", 5),
            ("1", "reply_received", 20),
            ("2", "new_request", 2),
            ("2", "forwarded", 4),
        ],
        1,
    ):
        row = message(store, n)
        store.add_alert(row, AlertEntry(rid, kind, None, later(days=days)))
    facts = stats.request_facts(later(), later(days=30))
    assert [f.request_id for f in facts] == ["1", "2"]
    one, two = facts
    assert one.received_at == later() and one.accepted_at == later(days=3)
    assert one.answered_at == later(days=20) and not one.forwarded and not one.final
    assert one.module == "services" and one.team_name == "Team Economie"
    assert one.deadline == date(2026, 12, 1)
    assert two.forwarded and two.final and two.accepted_at is None and two.answered_at is None
    assert stats.request_facts(later(days=30), later(days=60))[0].request_id == "3"


def test_quarter_facts_take_what_the_team_said_and_the_imi_module(store: StateStore) -> None:
    """AANVAARD and BEANTWOORD (the desk) are the moments of acceptance and answer (IMI
    sends the responding authority no alert of its own steps); DOORGESTUURD counts as
    forwarded; the module is the request's IMI module, not its legislative area."""
    stats = cast(StatisticsStore, store)
    store.save_request(request("5", created_at=later(days=1), module=Module.SDG_EVIDENCE))
    store.save_request(request("6", created_at=later(days=1)))
    store.add_alert(message(store, 1), AlertEntry("5", "new_request", None, later(days=1)))
    store.add_alert(message(store, 2), AlertEntry("6", "new_request", None, later(days=1)))
    store.desk_save(DeskState("5", accepted_at=later(days=2), answered_at=later(days=9),
                              handled=Handling.ANSWERED, updated_at=later(days=9)))  # fmt: skip
    store.desk_save(DeskState("6", accepted_at=later(days=3), answered_at=later(days=4),
                              handled=Handling.FORWARDED, updated_at=later(days=4)))  # fmt: skip
    five, six = stats.request_facts(later(), later(days=30))
    assert five.module == "sdg_evidence" and six.module == "services"
    assert five.accepted_at == later(days=2) and five.answered_at == later(days=9)
    assert not five.forwarded
    assert six.accepted_at == later(days=3) and six.answered_at is None and six.forwarded


def test_rejected_messages_are_counted_per_period(store: StateStore) -> None:
    """rejected_between counts rejected (not quarantined) mail recorded in the period."""
    stats = cast(StatisticsStore, store)
    for n, kind in enumerate(["rejected", "quarantined", "rejected"], 1):
        row = message(store, n, kind=MessageKind.IMI_ALERT, disposition=Disposition.QUARANTINED)
        store.quarantine_add(row, QuarantineEntry("imi", f"1:{n}", kind, "reden", None, None))
    assert stats.rejected_between(later(), later(days=1)) == 2
    assert stats.rejected_between(later(days=1), later(days=2)) == 0
