"""decide: one classified message in, one Recording out, without a store."""

from __future__ import annotations

from datetime import date

from imi_mailwatch.config import Beheerder
from imi_mailwatch.decide import Outcome, TaskSettings, decide_alert, unreadable
from imi_mailwatch.model import Alert, AlertType, Classification, MessageKind, RawMessage, Route
from tests.privacy.helpers import DEMO_NOW, TEAM

SETTINGS = TaskSettings(
    "Memo {vakgebied}. {beheerders} {dagen}", (Beheerder(name="B", email="b@example.org"),)
)


def alert(kind: AlertType = AlertType.NEW_REQUEST) -> Alert:
    return Alert(alert_type=kind, request_id="300001", deadline=date(2026, 12, 1),
                 subject="IMI", message_id="<a@imi>")  # fmt: skip


def test_a_new_request_is_one_recording_with_its_task_intent() -> None:
    """A new request: the message, the alert, the request, the create intent and the audit."""
    raw = RawMessage(source="imi", ref="1:1", data=b"alert")
    c = Classification(MessageKind.IMI_ALERT, alert=alert(), message_id="<a@imi>")
    route = Route(team=TEAM, field="bouwen", rule="bouw")
    d = decide_alert(raw, c, alert(), current=None, route=route, now=DEMO_NOW, settings=SETTINGS)
    rec = d.recording
    assert d.outcome is Outcome.TASK_CREATED and rec.request is not None
    assert [i.idem_key for i in rec.intents] == ["create:300001"]
    assert [a.event for a in rec.audits] == ["request.routed", "alert.recorded"]
    assert rec.message.request_id == "300001" and rec.alert is not None


def test_a_later_alert_queues_an_annotation_keyed_by_its_message() -> None:
    """A later alert: no new task, an annotate intent whose key names the message row."""
    raw = RawMessage(source="imi", ref="1:1", data=b"alert")
    c = Classification(MessageKind.IMI_ALERT, alert=alert(), message_id="<a@imi>")
    first = decide_alert(raw, c, alert(), current=None,
                         route=Route(team=TEAM, field="bouwen", rule="bouw"), now=DEMO_NOW,
                         settings=SETTINGS)  # fmt: skip
    later = alert(AlertType.ALLOCATED)
    d = decide_alert(raw, c, later, current=first.recording.request, route=None, now=DEMO_NOW,
                     settings=SETTINGS)  # fmt: skip
    assert d.outcome is Outcome.REQUEST_UPDATED
    assert [i.idem_key for i in d.recording.intents] == ["annotate:300001:{row}"]


def test_ordinary_mail_is_a_bare_record_and_a_forgery_is_quarantined() -> None:
    """Ordinary mail: the message only; a rejected alert: with its quarantine item."""
    raw = RawMessage(source="imi", ref="1:2", data=b"x")
    plain = unreadable(raw, Classification(MessageKind.NOT_IMI), keep_raw=True)
    assert plain is not None and plain.outcome is Outcome.IGNORED
    assert plain.recording.quarantine is None and plain.recording.audits == ()
    forged = unreadable(raw, Classification(MessageKind.REJECTED, "dmarc=fail"), keep_raw=False)
    assert forged is not None and forged.outcome is Outcome.REJECTED
    assert forged.recording.quarantine is not None and forged.recording.quarantine.raw is None
