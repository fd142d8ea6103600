"""The export for the coordinator Dienstenwet: the requests of a period, per team.

Two sheets' worth: one row per request received in the period, and per team the
counts, the mean working days to acceptance and to answer, and how many went past
their reply date. As CSV that Dutch Excel opens as it is (UTF-8 with a byte order
mark, ``;`` between fields, dates as ``dd-mm-jjjj``) and as .xlsx (openpyxl).

Days are working days (the configured calendar) counted from the day the request
was received; "te laat" is an answer after the reply date, or no answer yet while
the reply date has passed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from statistics import mean
from typing import Any

from imi_mailwatch.clock import AMSTERDAM, local_today
from imi_mailwatch.deadlines import BusinessCalendar
from imi_mailwatch.ports import StateStore
from imi_mailwatch.wording import REQUEST_STATUS, word

REQUEST_COLUMNS = (
    "verzoek",
    "team",
    "status",
    "ontvangen",
    "antwoorddatum",
    "aanvaard op",
    "beantwoord op",
    "werkdagen tot aanvaarding",
    "werkdagen tot antwoord",
    "te laat",
    "Corsa-kenmerk",
)
TEAM_COLUMNS = (
    "team",
    "verzoeken",
    "aanvaard",
    "beantwoord",
    "gemiddeld werkdagen tot aanvaarding",
    "gemiddeld werkdagen tot antwoord",
    "te laat",
)


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One request of the period; the fields in the order of ``REQUEST_COLUMNS``."""

    request_id: str
    team: str
    status: str
    received: date
    deadline: date | None
    accepted: date | None
    answered: date | None
    days_to_accept: int | None
    days_to_answer: int | None
    overdue: bool
    corsa_ref: str  # "" when the request has no task in Corsa


@dataclass(frozen=True, slots=True)
class TeamRow:
    """One team's figures; the fields in the order of ``TEAM_COLUMNS``."""

    team: str
    count: int
    accepted: int
    answered: int
    mean_days_to_accept: float | None
    mean_days_to_answer: float | None
    overdue: int


def _local(at: datetime | None) -> date | None:
    return at.astimezone(AMSTERDAM).date() if at is not None else None


def _days(cal: BusinessCalendar, start: date, end: date | None) -> int | None:
    return None if end is None else max(0, cal.working_days_between(start, end))


def export_rows(
    store: StateStore, cal: BusinessCalendar, start: date, end: date
) -> list[ExportRow]:
    """The requests received from ``start`` up to and including ``end`` (local days)."""
    rows: list[ExportRow] = []
    with store.transaction():
        today = local_today(store.now())
        requests = [r for r in store.requests() if start <= (_local(r.created_at) or start) <= end]
        desk = {r.request_id: store.desk_state(r.request_id) for r in requests}
    for r in requests:
        received = _local(r.created_at) or start
        state = desk[r.request_id]
        accepted = _local(state.accepted_at)
        answered = _local(state.answered_at)
        late_answer = answered is not None and r.deadline is not None and answered > r.deadline
        still_open = answered is None and not r.status.is_final
        overdue = late_answer or (still_open and r.deadline is not None and r.deadline < today)
        rows.append(
            ExportRow(
                request_id=r.request_id,
                team=r.team_name or r.team_key or "nog geen team",
                status=word(REQUEST_STATUS, r.status.value),
                received=received,
                deadline=r.deadline,
                accepted=accepted,
                answered=answered,
                days_to_accept=_days(cal, received, accepted),
                days_to_answer=_days(cal, received, answered),
                overdue=overdue,
                corsa_ref=r.task_ref or "",
            )
        )
    rows.sort(key=lambda x: (x.received, x.request_id))
    return rows


def per_team(rows: Iterable[ExportRow]) -> list[TeamRow]:
    """The figures per team, by team name."""
    groups: dict[str, list[ExportRow]] = {}
    for row in rows:
        groups.setdefault(row.team, []).append(row)
    out = []
    for team in sorted(groups, key=str.lower):
        rs = groups[team]
        to_accept = [r.days_to_accept for r in rs if r.days_to_accept is not None]
        to_answer = [r.days_to_answer for r in rs if r.days_to_answer is not None]
        out.append(
            TeamRow(
                team=team,
                count=len(rs),
                accepted=sum(1 for r in rs if r.accepted is not None),
                answered=sum(1 for r in rs if r.answered is not None),
                mean_days_to_accept=round(mean(to_accept), 1) if to_accept else None,
                mean_days_to_answer=round(mean(to_answer), 1) if to_answer else None,
                overdue=sum(1 for r in rs if r.overdue),
            )
        )
    return out


def _nl_date(d: date | None) -> str:
    return d.strftime("%d-%m-%Y") if d else ""


def _nl_number(x: float | None) -> str:
    return "" if x is None else f"{x:.1f}".replace(".", ",")


def _cells(row: ExportRow | TeamRow) -> list[Any]:
    """A row's values in the order of its columns (its fields), a yes/no as "ja"/"nee"."""
    values = (getattr(row, f.name) for f in fields(row))
    return [("ja" if v else "nee") if isinstance(v, bool) else v for v in values]


def _csv_value(value: Any) -> str:
    if isinstance(value, date):
        return _nl_date(value)
    if isinstance(value, float):
        return _nl_number(value)
    if value is None:
        return ""
    text = str(value)
    # a cell starting with = + - @ would be a formula in Excel: keep it text
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def render_csv(rows: list[ExportRow], start: date, end: date) -> bytes:
    """The export as CSV for Dutch Excel: BOM, ``;``, dd-mm-jjjj, decimal comma."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow([f"IMI-verzoeken ontvangen van {_nl_date(start)} tot en met {_nl_date(end)}"])
    w.writerow(REQUEST_COLUMNS)
    for r in rows:
        w.writerow([_csv_value(v) for v in _cells(r)])
    w.writerow([])
    w.writerow(["Per team"])
    w.writerow(TEAM_COLUMNS)
    for t in per_team(rows):
        w.writerow([_csv_value(v) for v in _cells(t)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def render_xlsx(rows: list[ExportRow], start: date, end: date) -> bytes:
    """The export as a workbook: the sheets "Verzoeken" and "Per team"."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)

    def cells(ws: Any, values: Iterable[Any]) -> list[Any]:
        out = []
        for value in values:
            if isinstance(value, str):  # text stays text: never a formula
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"
            else:
                cell = WriteOnlyCell(ws, value=value)
                if isinstance(value, date):
                    cell.number_format = "dd-mm-yyyy"
            out.append(cell)
        return out

    title = f"IMI-verzoeken ontvangen van {_nl_date(start)} tot en met {_nl_date(end)}"
    ws = wb.create_sheet("Verzoeken")
    ws.append(cells(ws, [title]))
    ws.append(cells(ws, REQUEST_COLUMNS))
    for r in rows:
        ws.append(cells(ws, _cells(r)))
    teams = wb.create_sheet("Per team")
    teams.append(cells(teams, [title]))
    teams.append(cells(teams, TEAM_COLUMNS))
    for t in per_team(rows):
        teams.append(cells(teams, _cells(t)))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
