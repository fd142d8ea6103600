"""The export's figures per team, and cells that spreadsheets must not run."""

from __future__ import annotations

import io
from dataclasses import fields
from datetime import date, timedelta

from openpyxl import load_workbook

from imi_mailwatch.app import App
from imi_mailwatch.deadlines.calendar import calendar_of
from imi_mailwatch.records import DeskState
from imi_mailwatch.web.export import (
    REQUEST_COLUMNS,
    TEAM_COLUMNS,
    ExportRow,
    TeamRow,
    export_rows,
    per_team,
    render_csv,
    render_xlsx,
)


def test_days_to_acceptance_and_answer_are_working_days_per_team(demo: App) -> None:
    """Accepted two and answered nine calendar days after receipt (a Monday): 2 and 7
    working days; the team's means and counts follow."""
    store = demo.store
    record = next(r for r in store.requests(open_only=True) if r.team_key and not r.is_default)
    received = record.created_at
    store.desk_save(
        DeskState(
            record.request_id,
            accepted_at=received + timedelta(days=2),
            answered_at=received + timedelta(days=9),
        )
    )
    rows = export_rows(
        store, calendar_of(demo.config.deadlines), date(2026, 1, 1), date(2026, 12, 31)
    )
    row = next(r for r in rows if r.request_id == record.request_id)
    assert (row.days_to_accept, row.days_to_answer, row.overdue) == (2, 7, False)
    team = next(t for t in per_team(rows) if t.team == row.team)
    assert team.accepted == 1 and team.answered == 1
    assert team.mean_days_to_accept == 2.0 and team.mean_days_to_answer == 7.0
    assert sum(t.count for t in per_team(rows)) == len(rows) == len(store.requests())


def test_a_cell_that_looks_like_a_formula_stays_text() -> None:
    """A team name or kenmerk starting with = + - @ is never a formula in CSV or xlsx."""
    row = ExportRow(
        "1",
        '=HYPERLINK("http://x")',
        "open",
        date(2026, 11, 16),
        None,
        None,
        None,
        None,
        None,
        False,
        "@SUM(A1)",
    )
    text = render_csv([row], date(2026, 1, 1), date(2026, 12, 31)).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text
    wb = load_workbook(io.BytesIO(render_xlsx([row], date(2026, 1, 1), date(2026, 12, 31))))
    cell = wb["Verzoeken"].cell(row=3, column=2)
    assert cell.data_type == "s" and cell.value == row.team


def test_every_column_of_the_export_has_its_value() -> None:
    """Each sheet has as many column headings as its rows have values (one a field)."""
    assert len(REQUEST_COLUMNS) == len(fields(ExportRow))
    assert len(TEAM_COLUMNS) == len(fields(TeamRow))
