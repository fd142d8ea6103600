"""Synthetic records for the state contract suites."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from imi_mailwatch.model import Disposition, MessageKind, RequestStatus, TaskStatus
from imi_mailwatch.ports import StateStore
from imi_mailwatch.records import MessageEntry, RequestRecord
from tests.contract.state.conftest import START


def request(request_id: str = "300001", **changes: Any) -> RequestRecord:
    values: dict[str, Any] = {
        "request_id": request_id,
        "status": RequestStatus.OPEN,
        "team_key": "economie",
        "team_name": "Team Economie",
        "org_unit": "ORG-ECO",
        "team_mailbox": "team@example.org",
        "handlers": ("behandelaar@example.org",),
        "rule": "bouw",
        "field": "bouwen",
        "is_default": False,
        "schedule": None,
        "deadline": date(2026, 12, 1),
        "language": "nl",
        "legislative_area": "Diensten",
        "member_state": "BE",
        "service_activities": ("Bouwactiviteiten",),
        "requesting_authority": "Gemeente Voorbeeldstad",
        "task_status": TaskStatus.PENDING,
        "task_sink": None,
        "task_ref": None,
        "created_at": START,
        "updated_at": START,
        "closed_at": None,
    }
    values.update(changes)
    return RequestRecord(**values)


def message(store: StateStore, n: int, **changes: Any) -> int:
    values: dict[str, Any] = {
        "source": "imi",
        "ref": f"1:{n}",
        "message_id": f"<m{n}@example.org>",
        "content_hash": f"hash{n}",
        "kind": MessageKind.NOT_IMI,
        "disposition": Disposition.IGNORED,
        "reason": None,
        "request_id": None,
        "alert_type": None,
    }
    values.update(changes)
    return store.record_message(MessageEntry(**values))


def later(days: int = 0, hours: int = 0) -> datetime:
    return START + timedelta(days=days, hours=hours)
