"""The ``reroute`` outbox row's payload, recorded by the desk with the re-route itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from imi_mailwatch.records import RequestRecord

if TYPE_CHECKING:
    from imi_mailwatch.desk.service import DeskContext

REROUTE = "reroute"  # the outbox action


def reroute_payload(
    desk: DeskContext, request: RequestRecord, moved: RequestRecord, key: str
) -> dict[str, Any]:
    """What the outbox needs to move the task, and to tell the beheerders when it cannot
    (their addresses as they were when the re-route was given)."""
    return {
        "org_unit": moved.org_unit,
        "team_key": moved.team_key,
        "team": moved.team_name or moved.team_key or "",
        "old_org_unit": request.org_unit or "",
        "old_team": request.team_name or request.team_key or "",
        "beheerders": list(desk.beheerder_addresses),
        "names": [f"{b.name} ({b.email})" for b in desk.beheerders],
        "domain": desk.domain,
        "reply_to": desk.reply_to,
        "key": key,
    }
