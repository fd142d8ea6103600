"""The overview of open requests as rows: read from the store, filtered and sorted.

``overview_rows`` reads; ``select`` is pure (rows and the query string's choices in,
rows out). Dutch words come from :mod:`imi_mailwatch.wording`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from imi_mailwatch.clock import local_today, parse_ts
from imi_mailwatch.deadlines import BusinessCalendar
from imi_mailwatch.ports import StateStore
from imi_mailwatch.records import DeskState, RequestRecord
from imi_mailwatch.wording import (
    REQUEST_STATUS,
    TASK_STATUS,
    followup_text,
    term_text,
    word,
)

SORT_KEYS = ("antwoorddatum", "verzoek", "team", "status", "volgende")
SORT_LABELS: Mapping[str, str] = {
    "antwoorddatum": "antwoorddatum",
    "verzoek": "verzoek",
    "team": "team",
    "status": "status",
    "volgende": "volgende e-mail",
}


@dataclass(frozen=True, slots=True)
class OverviewRow:
    request_id: str
    team: str | None
    team_key: str | None
    status: str  # RequestStatus value
    status_text: str
    deadline: date | None
    working_days_left: int | None
    term: str  # "nog 3 werkdagen", "2 werkdagen te laat"
    overdue: bool
    next_at: datetime | None
    next_text: str
    corsa_ref: str | None
    task_text: str
    accepted_at: datetime | None
    answered_at: datetime | None
    proposal: bool  # a route waiting for a beheerder's confirmation (AKKOORD)


@dataclass(frozen=True, slots=True)
class Selection:
    """The query string's choices, validated (unknown values fall back to the default)."""

    team: str | None = None
    status: str | None = None
    sort: str = "antwoorddatum"
    descending: bool = False

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Selection:
        sort = query.get("sorteer", "antwoorddatum")
        status = query.get("status") or None
        return cls(
            team=query.get("team") or None,
            status=status if status in REQUEST_STATUS else None,
            sort=sort if sort in SORT_KEYS else "antwoorddatum",
            descending=query.get("volgorde") == "af",
        )


def _next(nxt: Mapping[str, Any] | None) -> tuple[datetime | None, str]:
    if not nxt:
        return None, "geen"
    return parse_ts(str(nxt["due_at"])), followup_text(str(nxt["kind"]), str(nxt["step"]))


def row_of(
    r: RequestRecord,
    *,
    today: date,
    calendar: BusinessCalendar,
    nxt: Mapping[str, Any] | None,
    desk: DeskState | None = None,
    held: bool = False,
) -> OverviewRow:
    """One request as a row (``desk``: its desk state, when the store keeps one;
    ``held``: its task waits for AKKOORD, routing.mode: propose)."""
    left = calendar.working_days_between(today, r.deadline) if r.deadline else None
    next_at, next_text = _next(nxt)
    task = word(TASK_STATUS, r.task_status.value) if r.task_status else "nog geen taak"
    return OverviewRow(
        request_id=r.request_id,
        team=r.team_name or r.team_key,
        team_key=r.team_key,
        status=r.status.value,
        status_text=word(REQUEST_STATUS, r.status.value),
        deadline=r.deadline,
        working_days_left=left,
        term=term_text(today, r.deadline, left) if r.deadline and left is not None else "",
        overdue=bool(r.deadline and r.deadline < today),
        next_at=next_at,
        next_text=next_text,
        corsa_ref=r.task_ref,
        task_text=task,
        accepted_at=desk.accepted_at if desk else None,
        answered_at=desk.answered_at if desk else None,
        proposal=held or _is_proposal(r, desk),
    )


def _is_proposal(r: RequestRecord, desk: DeskState | None) -> bool:
    """A default route not yet confirmed by a beheerder (AKKOORD, TEAM) is a proposal;
    so is a request whose task waits for AKKOORD (routing.mode: propose, ``held``)."""
    return r.is_default and (desk is None or desk.route_confirmed_at is None)


def overview_rows(store: StateStore, calendar: BusinessCalendar) -> list[OverviewRow]:
    """Every open request as a row, in one consistent read."""
    with store.transaction():
        today = local_today(store.now())
        held = {i.request_id for i in store.outbox_held()}  # routing.mode: propose
        return [
            row_of(
                r,
                today=today,
                calendar=calendar,
                nxt=store.next_followup(r.request_id),
                desk=store.desk_state(r.request_id),
                held=r.request_id in held,
            )
            for r in store.requests(open_only=True)
        ]


def _sort_key(sort: str) -> Any:
    far = date.max
    if sort == "verzoek":
        return lambda r: (r.request_id,)
    if sort == "team":
        return lambda r: ((r.team or "").lower(), r.request_id)
    if sort == "status":
        return lambda r: (r.status_text, r.request_id)
    if sort == "volgende":
        return lambda r: (r.next_at is None, r.next_at or datetime.max, r.request_id)
    return lambda r: (r.deadline is None, r.deadline or far, r.request_id)


def select(rows: list[OverviewRow], sel: Selection) -> list[OverviewRow]:
    """Filter by team and state, sort; proposals waiting for confirmation stay on top."""
    chosen = [
        r
        for r in rows
        if (sel.team is None or r.team_key == sel.team)
        and (sel.status is None or r.status == sel.status)
    ]
    chosen.sort(key=_sort_key(sel.sort), reverse=sel.descending)
    return [r for r in chosen if r.proposal] + [r for r in chosen if not r.proposal]


def teams_of(rows: list[OverviewRow]) -> list[tuple[str, str]]:
    """The teams in the rows as (key, name), by name, for the filter."""
    seen = {r.team_key: r.team or r.team_key for r in rows if r.team_key}
    return sorted(((k, v or k) for k, v in seen.items()), key=lambda kv: kv[1].lower())
