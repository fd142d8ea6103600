"""The beheerders' report asks for actions in words, never for a command on a server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.config import ReportsConfig
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.model import Disposition, MessageKind
from imi_mailwatch.records import MessageEntry, QuarantineEntry
from imi_mailwatch.reports import BeheerderReports
from tests.deadlines.conftest import BEHEERDERS, make_request
from tests.deadlines.conftest import Desk as DeadlineDesk
from tests.dutch import english_in, problems_in

# a command line of this program, or one of its subcommands with an argument
_COMMAND = re.compile(
    r"imi-mailwatch\s+(?:quarantine|status|history|calibrate|purge|rules|route|check-config|"
    r"corsa|health|run|demo)\b|\b(?:quarantine|history|calibrate|status|purge)\s+"
    r"(?:show|list|release|resolve|[A-Z]+\b|\d+)|'[a-z_]+'|\bBESTAND\b"
)


def _quarantine(d: DeadlineDesk, ref: str, kind: str, reason: str) -> None:
    row = d.store.record_message(
        MessageEntry(
            source="imi",
            ref=ref,
            message_id=f"<{ref}@example.org>",
            content_hash=ref,
            kind=MessageKind.IMI_ALERT,
            disposition=Disposition.QUARANTINED,
            reason=reason,
            request_id=None,
            alert_type=None,
        )
    )
    d.store.quarantine_add(
        row,
        QuarantineEntry(source="imi", ref=ref, kind=kind, reason=reason, request_id=None, raw=None),
    )


def test_report_of_every_kind_offers_no_server_command(tmp_path: Path) -> None:
    """Every notice kind in one report: Dutch, actions in words, no command, no English."""
    start = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
    d = DeadlineDesk(tmp_path / "state.sqlite3", start)
    try:
        d.record(make_request())
        d.record(make_request("184600", is_default=True, team_name="ICB (standaardroute)"))
        with d.store.transaction():
            _quarantine(d, "1:7", "quarantined", "IMI alert without a request id")
            _quarantine(d, "1:8", "rejected", "claims to be from ec.europa.eu but failed "
                        "authentication: dmarc=fail for ec.europa.eu")  # fmt: skip
            d.store.execute(
                "UPDATE followups SET status = 'failed', last_error = 'NotifierRejectedError' "
                "WHERE step = 'd-5' AND request_id = '184523'"
            )
            d.store.outbox_add("184523", "create_task", "create:184523", {})
            (item,) = d.store.outbox_due(request_id="184523")
            d.store.outbox_finish(
                item.id, "parked", "TaskSinkRejectedError: Corsa Connect: HTTP 403"
            )
        d.store.record_health("task_sink", ok=False, error="TaskSinkUnavailableError")
        notifier = InMemoryNotifier()
        reports = BeheerderReports(
            d.store, notifier, d.clock, beheerders=BEHEERDERS, config=ReportsConfig()
        )
        with d.store.transaction():
            reports.report_rules_broken(
                ConfigError("rules", ["10-regels.yaml:4:5: onbekend veld 'teams'"])
            )
        d.clock.set(start + timedelta(hours=6))
        assert reports.run() == 7
        (mail,) = notifier.sent
        assert "maandag 16 november 2026 om 09:00" in mail.text
        for title in ("Storing", "quarantaine", "geweigerd", "Corsa", "standaardroute"):
            assert title in mail.text, title
        assert "Wijs het verzoek toe aan het juiste team" in mail.text
        assert "IMI/Quarantaine" in mail.text
        body = mail.text.replace("'teams'", "")  # the rules error quotes the file's own key
        assert _COMMAND.findall(body) == [], mail.text
        assert english_in(body) == [], mail.text
        assert problems_in(body.replace("ICB (standaardroute)", "ICB")) == [], mail.text
    finally:
        d.close()
