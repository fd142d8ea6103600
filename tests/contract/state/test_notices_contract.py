"""NoticeStore and QuarantineStore contract, over every state adapter."""

from __future__ import annotations

from imi_mailwatch.model import Disposition
from imi_mailwatch.ports import StateStore
from imi_mailwatch.records import QuarantineEntry
from tests.contract.state.samples import START, later, message, request


def test_a_notice_is_kept_once_and_sent_by_its_mail(store: StateStore) -> None:
    """notice_add is idempotent by key; bind, defer and sent follow the Message-ID."""
    assert store.notice_add("quarantine:1", "quarantine", "tekst")
    assert not store.notice_add("quarantine:1", "quarantine", "anders")
    store.notice_add("parked:2", "parked", "tekst 2")
    assert [p["key"] for p in store.notices_pending()] == ["parked:2", "quarantine:1"]
    store.notices_bind(["parked:2", "quarantine:1"], "<n@example.org>")
    store.notices_defer("<n@example.org>", 1, later(hours=1), "TransientError")
    first = store.notices_pending()[0]
    assert first["attempts"] == 1 and first["message_id"] == "<n@example.org>"
    assert store.notices_last_sent() is None
    store.notices_sent("<n@example.org>")
    assert store.notices_pending() == [] and store.notices_last_sent() is not None
    store.notice_forget("parked:2")
    assert store.notice_add("parked:2", "parked", "opnieuw")


def test_pending_notices_summed_up_by_kind_and_the_bound_one(store: StateStore) -> None:
    """notices_pending_kinds gives each unsent kind its oldest moment; notices_pending_bound
    the oldest unsent notice bound to a mail, with its retry bookkeeping."""
    assert store.notices_pending_kinds() == {} and store.notices_pending_bound() is None
    store.notice_add("default:1", "default", "t")
    store.notice_add("quarantine:2", "quarantine", "t")
    store.notice_add("default:3", "default", "t")
    kinds = store.notices_pending_kinds()
    assert kinds.keys() == {"default", "quarantine"}
    assert kinds["default"] == store.notices_pending()[0]["created_at"]
    assert store.notices_pending_bound() is None
    store.notices_bind(["default:1", "quarantine:2"], "<b@example.org>")
    store.notices_defer("<b@example.org>", 2, later(hours=1), "TransientError")
    bound = store.notices_pending_bound()
    assert bound is not None
    assert (bound["message_id"], bound["attempts"], bound["last_error"]) == (
        "<b@example.org>",
        2,
        "TransientError",
    )
    assert bound["next_attempt_at"] is not None
    store.notices_sent("<b@example.org>")
    assert store.notices_pending_bound() is None
    assert store.notices_pending_kinds().keys() == {"default"}


def test_occasions_without_a_notice(store: StateStore) -> None:
    """Parked intents and default-routed requests are listed until they have a notice."""
    store.save_request(request("1", is_default=True, team_name="Beheer"))
    store.outbox_add("2", "create_task", "create:2", {})
    (item,) = store.outbox_due()
    store.outbox_finish(item.id, "parked", "RejectedError")
    assert store.parked_unnoticed() == [{"request_id": "2", "last_error": "RejectedError"}]
    assert store.default_routed_unnoticed() == [{"request_id": "1", "team_name": "Beheer"}]
    store.notice_add("parked:2", "parked", "t")
    store.notice_add("default:1", "default", "t")
    assert store.parked_unnoticed() == [] and store.default_routed_unnoticed() == []


def test_quarantine_is_kept_once_per_message_and_resolved_once(store: StateStore) -> None:
    """quarantine_add is idempotent per message row; resolving keeps the first moment."""
    row = message(store, 1, disposition=Disposition.QUARANTINED)
    store.quarantine_add(row, QuarantineEntry("imi", "1:1", "quarantined", "r", None, b"raw"))
    store.quarantine_add(row, QuarantineEntry("imi", "1:1", "quarantined", "r", None, None))
    (item,) = store.quarantine()
    assert item.has_raw and store.quarantine_raw(item.id) == b"raw"
    assert store.quarantine_counts() == {"quarantined": 1}
    assert [q["id"] for q in store.quarantine_unreported()] == [item.id]
    store.quarantine_reported(item.id)
    assert store.quarantine_unreported() == []
    store.quarantine_resolve(item.id)
    (resolved,) = store.quarantine(unresolved_only=False)
    store.quarantine_resolve(item.id)
    (again,) = store.quarantine(unresolved_only=False)
    assert resolved.resolved_at is not None and again.resolved_at == resolved.resolved_at
    assert store.quarantine() == [] and store.quarantine_counts() == {}


def test_pending_requests_without_a_notice(store: StateStore) -> None:
    """A request known only from follow-ups (no team, not our own) is listed once it is
    older than the bound, until it has a notice; a routed or our own request never is."""
    store.save_request(request("1", team_key=None, team_name=None, task_status=None))
    store.save_request(request("2"))
    store.save_request(request("3", team_key=None, task_status=None, outgoing=True))
    assert store.pending_unnoticed(START) == []
    assert store.pending_unnoticed(later(days=1)) == [{"request_id": "1"}]
    store.notice_add("pending:1", "pending", "t")
    assert store.pending_unnoticed(later(days=1)) == []
