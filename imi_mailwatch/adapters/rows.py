"""Rows of the state stores turned into records, shared by every state adapter.

The state adapters keep rows alike (times as ISO text in UTC, lists and payloads
as JSON), so one converter serves a ``sqlite3.Row`` and a dict of the memory store.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, Protocol, TypeVar, cast

from imi_mailwatch.clock import parse_day, parse_ts
from imi_mailwatch.model import Disposition, MessageKind
from imi_mailwatch.ports.state import FollowUpMatch
from imi_mailwatch.records import (
    DeferredFollowUp,
    DeskMailStatus,
    DeskState,
    FollowUpKind,
    FollowUpRow,
    FollowUpStatus,
    Handling,
    MessageRecord,
    OutboxItem,
    QuarantineRecord,
    QuarterFacts,
    RequestRecord,
)

T = TypeVar("T")


class Row(Protocol):
    """A stored row: a ``sqlite3.Row`` or a dict of the memory store."""

    def __getitem__(self, key: str, /) -> Any: ...


def iso(value: datetime | date | None) -> str | None:
    """A moment (UTC, seconds) or a day as the stores keep it; a naive moment is refused."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime handed to the state store")
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return value.isoformat()


def stored_ts(value: str | None) -> datetime:
    """A timestamp that must be there."""
    parsed = parse_ts(value)
    if parsed is None:
        raise ValueError("a stored timestamp is missing")
    return parsed


def kept_detail(detail: str, keeps: frozenset[str]) -> str:
    """An audit detail (JSON) reduced to the ``keeps`` keys; anything unreadable: ``{}``."""
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return "{}"
    if not isinstance(data, dict):
        return "{}"
    kept = {k: v for k, v in data.items() if k in keeps}
    return detail if kept == data else json.dumps(kept, ensure_ascii=False)


def _listed(value: Any) -> list[Any]:
    return list(json.loads(value or "[]") if isinstance(value, str) else value or ())


def _optional(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: read(value) if value else None


_ENUMS: tuple[type[Enum], ...] = (
    Disposition, MessageKind, FollowUpKind, FollowUpStatus, Handling, DeskMailStatus
)  # fmt: skip
# how a column is read, by the declared type of the field of its name
_READ: dict[str, Callable[[Any], Any]] = {
    "int": int,
    "bool": bool,
    "datetime": stored_ts,
    "datetime | None": parse_ts,
    "date | None": parse_day,
    "tuple[str, ...]": lambda value: tuple(_listed(value)),
    "dict[str, Any]": lambda value: json.loads(value or "{}"),
    **{e.__name__: e for e in _ENUMS},
    **{f"{e.__name__} | None": _optional(e) for e in _ENUMS},
}


def record(cls: type[T], r: Row, **given: Any) -> T:
    """The record ``cls`` (a dataclass) of a stored row: each field from the column of
    its name, read by the field's declared type (times from ISO text, enums from their
    value, lists and payloads from JSON), but those ``given``."""
    values = {
        f.name: given[f.name] if f.name in given else _READ.get(str(f.type), _kept)(r[f.name])
        for f in dataclasses.fields(cast(Any, cls))
    }
    return cls(**values)


def _kept(value: Any) -> Any:
    return value


def message_record(r: Row) -> MessageRecord:
    return record(MessageRecord, r)


def outbox_item(r: Row) -> OutboxItem:
    return record(OutboxItem, r)


def followup_row(r: Row) -> FollowUpRow:
    return record(FollowUpRow, r)


def deferred_followup(r: Row) -> DeferredFollowUp:
    """A scheduled follow-up whose retry waits (``next_attempt_at`` is set)."""
    return record(DeferredFollowUp, r)


def quarantine_record(r: Row, *, has_raw: bool) -> QuarantineRecord:
    """A quarantined message's record (its raw copy stays in the store)."""
    return record(QuarantineRecord, r, has_raw=has_raw)


def followup_where(request_id: str, match: FollowUpMatch) -> dict[str, str]:
    """The columns a follow-up must hold to be one of the request's that ``match`` asks
    about (``FollowUpStore.followup_exists``), as stored."""
    where = {"request_id": request_id, "step": match.get("step")}
    if "kind" in match:
        where["kind"] = match["kind"].value
    if "due_at" in match:
        where["due_at"] = iso(match["due_at"])
    return {column: value for column, value in where.items() if value is not None}


def request_facts(request: RequestRecord, alerts: Sequence[Row], desk: DeskState) -> QuarterFacts:
    """What the quarterly report counts of one request, from its row, its alerts and what
    the team said (AANVAARD, BEANTWOORD, DOORGESTUURD: IMI sends the responding authority
    no alert of its own steps; the alerts count where the desk heard nothing)."""

    def at(a: Row) -> datetime:
        return stored_ts(a["sent_at"] or a["recorded_at"])

    ordered = sorted(alerts, key=at)

    def first(*types: str) -> datetime | None:
        return next((at(a) for a in ordered if a["alert_type"] in types), None)

    answered = desk.answered_at
    return QuarterFacts(
        request_id=request.request_id,
        team_name=request.team_name,
        module=request.module.value,
        received_at=at(ordered[0]) if ordered else request.created_at,
        accepted_at=desk.accepted_at or first("allocated"),
        answered_at=answered if desk.handled is Handling.ANSWERED else first("reply_received"),
        deadline=request.deadline,
        forwarded=desk.handled is Handling.FORWARDED or first("forwarded", "referred") is not None,
        final=request.status.is_final,
    )
