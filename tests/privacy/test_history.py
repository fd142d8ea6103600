"""The history of one request as text, CSV and PDF, and the store's own minimisation."""

from __future__ import annotations

import csv
import io
import os
import stat
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.lifecycle import apply_alert
from imi_mailwatch.minimise import authority_name
from imi_mailwatch.model import Alert, AlertType, Route
from imi_mailwatch.privacy.history import load_history, render_csv, render_pdf, render_text
from imi_mailwatch.privacy.retention import RetentionPolicy, purge
from tests.privacy.helpers import DEMO_NOW, TEAM, Desk, desk


def _history_desk(tmp: Path) -> Desk:
    d = desk(tmp)
    d.feed("imi", "300001", "new_request", "2026-12-20")
    d.clock.advance(timedelta(days=2))
    d.feed("imi", "300001", "deadline_changed", "2027-01-08")
    d.clock.advance(timedelta(days=20))
    d.feed("imi", "300001", "closed")
    return d


def test_history_lists_every_alert_routing_and_task_action_in_order(tmp_path: Path) -> None:
    """Routing, each alert with its date, the task and its memo lines, oldest first."""
    d = _history_desk(tmp_path)
    h = load_history(d.store, "300001")
    assert h is not None
    kinds = [e.kind for e in h.events]
    assert kinds[:3] == ["request.routed", "alert.recorded", "task.created"]
    assert kinds.count("alert.recorded") == 3 and kinds.count("task.annotated") == 2
    assert [e.at for e in h.events] == sorted(e.at for e in h.events)
    text = render_text(h)
    assert "IMI-verzoek:     300001" in text and "afgesloten" in text
    assert "antwoorddatum vrijdag 8 januari 2027" in text and "Team Economie" in text


def test_history_holds_no_personal_data(tmp_path: Path) -> None:
    """No handler address and no authority name in any form of the history."""
    d = _history_desk(tmp_path)
    h = load_history(d.store, "300001")
    assert h is not None
    for form in (render_text(h), render_csv(h)):
        assert "behandelaar@example.org" not in form
        assert "Voorbeeldstad" not in form


def test_history_csv_has_one_row_per_event(tmp_path: Path) -> None:
    """The CSV reads back with a header and one row per event, with ISO times."""
    d = _history_desk(tmp_path)
    h = load_history(d.store, "300001")
    assert h is not None
    rows = list(csv.DictReader(io.StringIO(render_csv(h))))
    assert len(rows) == len(h.events)
    assert rows[0]["request_id"] == "300001" and rows[0]["soort"] == "routering"
    assert rows[0]["code"] == "request.routed"
    assert rows[0]["tijdstip_iso"].endswith("+01:00")


def test_history_pdf_is_a_pdf(tmp_path: Path) -> None:
    """The PDF renders (with or without a Unicode font)."""
    d = _history_desk(tmp_path)
    h = load_history(d.store, "300001")
    assert h is not None
    assert render_pdf(h, now=d.clock.now()).startswith(b"%PDF")


def test_history_of_a_skeleton_says_so(tmp_path: Path) -> None:
    """After reduction the history still tells what happened, and that details went."""
    d = _history_desk(tmp_path)
    d.clock.advance(timedelta(days=183))
    purge(d.store, RetentionPolicy())
    h = load_history(d.store, "300001")
    assert h is not None and h.reduced
    assert "skelet" in render_text(h)
    assert load_history(d.store, "999999") is None


def test_request_keeps_only_the_authoritys_name() -> None:
    """Contact lines caught with the requesting authority never reach the request record."""
    caught = "Stadt Musterstadt\nHerr Beispiel\n+49 30 1234567"
    alert = Alert(
        alert_type=AlertType.NEW_REQUEST,
        request_id="300002",
        requesting_authority=caught,
        subject="IMI-melding",
    )
    route = Route(team=TEAM, field="bouwen", rule="bouw")
    opened = apply_alert(None, alert, route, DEMO_NOW, DEMO_NOW.date())
    assert opened.record.requesting_authority == "Stadt Musterstadt"
    bare = replace(opened.record, requesting_authority=None)
    later = replace(alert, alert_type=AlertType.ALLOCATED)
    again = apply_alert(bare, later, None, DEMO_NOW, DEMO_NOW.date())
    assert again.record.requesting_authority == "Stadt Musterstadt"


def test_authority_name_cuts_contact_details() -> None:
    """The name stays; addresses, numbers and announced contacts go."""
    assert authority_name("Gemeente Voorbeeldstad") == "Gemeente Voorbeeldstad"
    assert authority_name("Mairie de Lyon - contact: Jean Dupont") == "Mairie de Lyon"
    assert authority_name("Bezirksamt X, Tel. 030 1234567") == "Bezirksamt X"
    assert authority_name("Urząd Miasta\nJan Kowalski\njan@example.pl") == "Urząd Miasta"
    assert authority_name("info@example.org") is None
    assert authority_name(None) is None


def test_store_files_are_private(tmp_path: Path) -> None:
    """The database and its WAL and shared-memory files are readable by their owner only."""
    old = os.umask(0o022)
    try:
        store = SqliteStateStore(tmp_path / "state" / "state.sqlite3", FakeClock())
        store.audit("test.event")
        for name in ("state.sqlite3", "state.sqlite3-wal", "state.sqlite3-shm"):
            mode = stat.S_IMODE((tmp_path / "state" / name).stat().st_mode)
            assert mode == 0o600, (name, oct(mode))
        store.close()
    finally:
        os.umask(old)
