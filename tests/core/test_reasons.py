"""The catalogue of reasons, and the Dutch that staff read in reports and commands."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.cli import main
from imi_mailwatch.config import ReportsConfig
from imi_mailwatch.model import Disposition, MessageKind
from imi_mailwatch.privacy.history import load_history, render_csv, render_text
from imi_mailwatch.reasons import CATALOGUE, dutch, explain
from imi_mailwatch.records import MessageEntry, QuarantineEntry
from imi_mailwatch.reports import BeheerderReports
from tests.deadlines.conftest import BEHEERDERS, make_request
from tests.deadlines.conftest import Desk as DeadlineDesk
from tests.dutch import english_in
from tests.privacy.helpers import desk

_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[.*$\n?", re.MULTILINE)

# every kind of reason text the code writes (alerts/reader.py, alerts/auth.py,
# alerts/budget.py, pipeline.py, deadlines/followups.py, the adapters' errors)
PRODUCED = {
    "sent by imi-mailwatch itself (loop protection)": "loop",
    "automatic reply": "auto_reply",
    "delivery report": "delivery_report",
    "not from an allowed IMI sender": "not_imi_sender",
    "a reply in a conversation, not an alert": "reply",
    "from ec.europa.eu, but not an IMI alert": "not_an_alert",
    "not an IMI alert": "not_imi",
    "IMI alert without a request id": "no_request_id",
    "unreadable message (UnicodeDecodeError): kept for review": "unreadable",
    "more than one From address": "multiple_from",
    "looks like an IMI alert but has more than one From": "multiple_from",
    "looks like an IMI alert but example.org is not an allowed sender": "sender_not_allowed",
    "claims to be from ec.europa.eu but failed authentication: dmarc=fail for ec.europa.eu": (
        "auth_failed"
    ),
    "the forwarded message failed authentication: dmarc=fail for ec.europa.eu": (
        "forward_auth_failed"
    ),
    "failed authentication": "auth_failed",
    "dmarc=fail for ec.europa.eu": "auth_failed",
    "no trusted Authentication-Results (Exchange Online)": "auth_failed",
    "message too large (9000000 bytes, limit 5000000): kept for review": "over_budget_review",
    "too many lines (more than 200,000): kept for review": "over_budget_review",
    "too many MIME parts (more than 500); failed authentication: dmarc=fail for x.eu": (
        "over_budget_auth_failed"
    ),
    "nesting too deep (more than 20 levels); not from an allowed IMI sender": (
        "over_budget_not_imi"
    ),
    "internal error: KeyError": "internal_error",
    "TaskSinkRejectedError: Corsa CreateMetaDocument: HTTP 403": "task_refused",
    "TaskSinkUnavailableError: Corsa Connect: HTTP 503": "task_sink_down",
    "NotifierRejectedError": "mail_refused",
    "NotifierUnavailableError": "mail_down",
    "MailSourceRejectedError": "mailbox_refused",
    "MailSourceUnavailableError": "mailbox_down",
    "no recipients configured": "no_recipients",
    "no recipients": "no_recipients",
    "request no longer open": "request_closed",
    "stopped": "stopped",
    # replies to the daemon's mails (reply_path.py)
    "sender not trusted: dmarc: no dmarc=pass for brabant.nl": "reply_untrusted",
    "no command: unknown": "reply_no_command",
    "applied: beantwoord": "reply_applied",
    "refused: herrouteer": "reply_refused",
    "names no request": "reply_unlinked",
    "names an unknown request": "reply_unlinked",
    "automatic: Auto-Submitted": "reply_automatic",
}


@pytest.mark.parametrize(("text", "code"), sorted(PRODUCED.items()))
def test_every_produced_reason_has_a_catalogue_entry(text: str, code: str) -> None:
    """A reason the code writes is recognised: its code, and a Dutch sentence without English."""
    reason = explain(text)
    assert reason.code == code
    assert reason.sentence.endswith(".")
    assert english_in(reason.text()) == []


def test_catalogue_sentences_are_dutch_and_name_no_classes() -> None:
    """No sentence of the catalogue holds an English word or an exception class name."""
    for entry in CATALOGUE:
        assert english_in(entry.sentence) == [], entry.code


def test_detail_keeps_what_helps_and_drops_class_names() -> None:
    """The failed check stays as detail in brackets; an exception's class name does not."""
    auth = dutch("claims to be from ec.europa.eu but failed authentication: dmarc=fail for x.eu")
    assert auth.endswith("(technisch: dmarc=fail for x.eu).")
    assert "Error" not in dutch("internal error: KeyError")
    assert dutch("TaskSinkRejectedError: Corsa Connect: HTTP 403") == (
        "Corsa weigerde de taak (technisch: Corsa Connect: HTTP 403)."
    )


def test_an_unknown_reason_is_shown_not_hidden() -> None:
    """A text the catalogue does not know gives a Dutch sentence and the text in brackets."""
    reason = explain("something new")
    assert reason.code == "unknown"
    assert reason.text().endswith("(technisch: something new).")


def test_digest_gives_reasons_in_dutch_without_class_names(tmp_path: Path) -> None:
    """The beheerders' report says why in Dutch: no English reason, no NotifierRejectedError."""
    d = DeadlineDesk(tmp_path / "state.sqlite3", datetime(2026, 11, 16, 8, 0, tzinfo=UTC))
    try:
        d.record(make_request())
        with d.store.transaction():
            d.store.execute(
                "UPDATE followups SET status = 'failed', last_error = 'NotifierRejectedError' "
                "WHERE step = 'd-5'"
            )
            row = d.store.record_message(
                MessageEntry(
                    source="imi",
                    ref="1:7",
                    message_id="<x@example.org>",
                    content_hash="h",
                    kind=MessageKind.IMI_ALERT,
                    disposition=Disposition.QUARANTINED,
                    reason="IMI alert without a request id",
                    request_id=None,
                    alert_type=None,
                )
            )
            d.store.quarantine_add(
                row,
                QuarantineEntry(
                    source="imi",
                    ref="1:7",
                    kind="quarantined",
                    reason="IMI alert without a request id",
                    request_id=None,
                    raw=None,
                ),
            )
        notifier = InMemoryNotifier()
        reports = BeheerderReports(
            d.store, notifier, d.clock, beheerders=BEHEERDERS, config=ReportsConfig()
        )
        d.clock.set(datetime(2026, 11, 16, 12, 0, tzinfo=UTC))
        assert reports.run() == 2
        (mail,) = notifier.sent
        assert "geen verzoeknummer" in mail.text
        assert "mailserver weigerde" in mail.text
        assert english_in(mail.text) == [], mail.text
    finally:
        d.close()


def test_status_quarantine_and_history_speak_dutch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """status, quarantine list and history (text, CSV) show no codes or English words."""
    d = desk(tmp_path)
    d.feed("imi", "400001", "new_request", "2026-12-20")
    d.feed("forged", "400002", "new_request")
    d.feed("imi", "", "new_request")
    history = load_history(d.store, "400001")
    d.store.close()
    assert history is not None
    cfg = tmp_path / "imi-mailwatch.yaml"
    cfg.write_text(f"state:\n  path: {tmp_path / 'state.sqlite3'}\n", encoding="utf-8")
    outputs = {}
    for args in (["status"], ["status", "--all"], ["quarantine", "list"], ["history", "400001"]):
        assert main([*args, "-c", str(cfg)]) == 0
        out = capsys.readouterr().out
        outputs[" ".join(args)] = _LOG_LINE.sub("", out)  # structlog's console lines: ops
    outputs["history text"] = render_text(history)
    rows = list(csv.DictReader(io.StringIO(render_csv(history))))
    outputs["history csv"] = "\n".join(f"{r['soort']} {r['omschrijving']}" for r in rows)
    for name, out in outputs.items():
        assert english_in(out) == [], (name, out)
    assert "zondag 20 december 2026" in outputs["status"]
