"""RetentionStore contract, over every state adapter: the same snapshot, the same removal."""

from __future__ import annotations

from datetime import timedelta

from imi_mailwatch.clock import FakeClock
from imi_mailwatch.model import Disposition, MessageKind, RequestStatus
from imi_mailwatch.ports import StateStore
from imi_mailwatch.privacy.retention import Category, RetentionPolicy, purge
from imi_mailwatch.records import QuarantineEntry
from tests.contract.state.samples import later, message, request


def fill(store: StateStore) -> None:
    closed = {"status": RequestStatus.CLOSED, "closed_at": later()}
    store.save_request(request("1", **closed))
    store.save_request(request("2", **closed, task_sink="corsa", task_ref="D"))
    store.save_request(request("3"))
    store.outbox_add("2", "create_task", "create:2", {"memo": "m"})
    store.audit("task.created", "2", task_ref="D", memo="weg")
    message(store, 1)
    row = message(store, 2, disposition=Disposition.QUARANTINED)
    store.quarantine_add(row, QuarantineEntry("imi", "1:2", "quarantined", "r", None, b"raw"))
    (q,) = store.quarantine()
    store.quarantine_resolve(q.id)
    store.audit("quarantine.resolved", None)
    store.notice_add("default:2", "default", "t")
    store.notice_add("outage:x", "outage", "t")
    store.notices_bind(["default:2", "outage:x"], "<n@example.org>")
    store.notices_sent("<n@example.org>")


def test_the_snapshot_names_what_the_policy_needs(store: StateStore) -> None:
    """Closed requests, resolved quarantine, ordinary mail, unlinked audit, sent notices."""
    fill(store)
    snap = store.retention_snapshot()
    assert [(r.request_id, r.has_payload, r.reduced) for r in snap.requests] == [
        ("1", False, False), ("2", True, False)
    ]  # fmt: skip
    assert [q.has_raw for q in snap.quarantine] == [True]
    assert len(snap.messages) == 1  # the quarantined message is not ordinary mail
    assert {n.key for n in snap.notices} == {"outage:x"}  # default:2 is about a kept request
    assert len(snap.audit) >= 1


def test_a_purge_reduces_then_deletes_and_leaves_open_requests(
    store: StateStore, clock: FakeClock
) -> None:
    """Skeleton after its days (payload, contacts, audit details gone), then deleted."""
    fill(store)
    policy = RetentionPolicy()
    clock.set(later() + policy.skeleton)
    due = purge(store, policy)
    assert set(due.ids(Category.REQUESTS_REDUCED)) == {"1", "2"}
    skeleton = store.get_request("2")
    assert skeleton is not None and skeleton.handlers == () and skeleton.task_ref == "D"
    assert skeleton.requesting_authority is None and skeleton.team_mailbox is None
    detail = [r["detail"] for r in store.audit_trail("2") if r["action"] == "task.created"]
    assert detail == ['{"task_ref": "D"}']
    assert store.retention_snapshot().requests[1].reduced
    clock.set(later() + policy.delete + timedelta(days=1))
    due = purge(store, policy)
    assert set(due.ids(Category.REQUESTS_DELETED)) == {"1", "2"}
    assert store.get_request("2") is None and store.audit_trail("2") == []
    assert store.get_request("3") is not None
    assert store.quarantine(unresolved_only=False) == [] and store.message_log() == []


def test_replies_about_no_kept_request_are_purged_like_ordinary_mail(store: StateStore) -> None:
    """A reply's record that names no request kept (unlinked, or a forgery) is in the
    snapshot's ordinary mail, whatever its folder; one about a kept request is not."""
    store.save_request(request("3"))
    message(store, 1, kind=MessageKind.REPLY, disposition=Disposition.REJECTED)
    message(store, 2, kind=MessageKind.REPLY, disposition=Disposition.HANDLED)
    message(store, 3, kind=MessageKind.REPLY, disposition=Disposition.HANDLED, request_id="3")
    message(store, 4, kind=MessageKind.IMI_ALERT, disposition=Disposition.HANDLED)
    assert len(store.retention_snapshot().messages) == 2


def test_answers_about_no_known_request_are_purged_like_ordinary_mail(
    store: StateStore, clock: FakeClock
) -> None:
    """A sent answer to a reply that named no request (it holds the sender's address) is
    removed after the days of ordinary mail; one about a request stays with the request,
    and one not yet sent stays."""
    from imi_mailwatch.model import OutgoingMail

    def mail(n: int) -> OutgoingMail:
        return OutgoingMail(to=(f"c{n}@example.org",), subject="s", text="t",
                            message_id=f"<a{n}@example.org>")  # fmt: skip

    store.save_request(request("3"))
    store.desk_mail_add("", mail(1))
    store.desk_mail_add("3", mail(2))
    store.desk_mail_add("", mail(3))
    for n in (1, 2):
        store.desk_mail_done(f"<a{n}@example.org>", sent=True)
    policy = RetentionPolicy()
    clock.set(later() + policy.unrelated_messages + timedelta(days=1))
    due = purge(store, policy)
    assert len(due.ids(Category.DESK_ANSWERS)) == 1
    left = {m.message_id for m in store.desk_mails_of("")} | {
        m.message_id for m in store.desk_mails_of("3")
    }
    assert left == {"<a2@example.org>", "<a3@example.org>"}
