"""``imi-mailwatch status``: open requests, their deadlines and follow-ups; the quarantine."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from imi_mailwatch.clock import local_minute, local_today, parse_ts
from imi_mailwatch.commands import EXIT_OK
from imi_mailwatch.commands.common import JSON, Subparsers, add_command, arg, using_state
from imi_mailwatch.deadlines import BusinessCalendar, next_followup
from imi_mailwatch.deadlines.calendar import calendar_of
from imi_mailwatch.desk.texts import HANDLED, action_line
from imi_mailwatch.ports import StateStore
from imi_mailwatch.reasons import dutch
from imi_mailwatch.records import Handling
from imi_mailwatch.wording import (
    QUARANTINE_KIND,
    REQUEST_STATUS,
    TASK_STATUS,
    followup_text,
    long_date,
    long_moment,
    term_text,
    word,
)


def register(subparsers: Subparsers) -> None:
    closed = arg("--all", action="store_true", help="also closed and withdrawn requests")
    add_command(subparsers, "status", closed, JSON, run=run)


def collect(
    store: StateStore,
    *,
    include_closed: bool = False,
    calendar: BusinessCalendar | None = None,
) -> dict[str, Any]:
    """The status as data (used by the text output, --json and the demo)."""
    cal = calendar or BusinessCalendar()
    today = local_today(store.now())
    requests = []
    for r in store.requests(open_only=not include_closed):
        nxt = next_followup(store, r.request_id)
        requests.append(
            {
                "request_id": r.request_id,
                "status": r.status.value,
                "team": r.team_name or r.team_key,
                "rule": r.rule,
                "default_route": r.is_default,
                "deadline": r.deadline.isoformat() if r.deadline else None,
                "days_left": (r.deadline - today).days if r.deadline else None,
                "working_days_left": (
                    cal.working_days_between(today, r.deadline) if r.deadline else None
                ),
                "task": {
                    "status": r.task_status.value if r.task_status else None,
                    "sink": r.task_sink,
                    "ref": r.task_ref,
                },
                "next_followup": nxt,
                **desk_facts(store, r.request_id),
            }
        )
    quarantine = [
        {
            "id": q.id,
            "kind": q.kind,
            "reason": q.reason,
            "source": q.source,
            "ref": q.ref,
            "request_id": q.request_id,
            "since": q.created_at.isoformat(),
        }
        for q in store.quarantine()
    ]
    return {
        "today": today.isoformat(),
        "requests": requests,
        "quarantine": quarantine,
        "outbox": store.outbox_counts(),
        "messages": store.message_counts(),
    }


def desk_facts(store: StateStore, request_id: str) -> dict[str, Any]:
    """What people said about the request (imi_mailwatch.desk): its state and every action."""
    d = store.desk_state(request_id)
    return {
        "desk": {
            "accepted_at": d.accepted_at.isoformat() if d.accepted_at else None,
            "handled": d.handled.value if d.handled else None,
            "handled_at": d.answered_at.isoformat() if d.answered_at else None,
            "paused_until": d.paused_until.isoformat() if d.paused_until else None,
            "claimer": d.claimer,
            "route_confirmed_at": (
                d.route_confirmed_at.isoformat() if d.route_confirmed_at else None
            ),
        },
        "actions": [
            {
                "at": a.at.isoformat(),
                "actor": a.entry.actor,
                "via": a.entry.via,
                "command": a.entry.command,
                "argument": a.entry.argument,
                "ok": a.entry.ok,
            }
            for a in store.actions_of(request_id)
        ],
    }


def _minute(value: str | None) -> str:
    at = parse_ts(value)
    return local_minute(at) if at is not None else "?"


def _print_desk(r: dict[str, Any]) -> None:
    d = r["desk"]
    said = []
    if d["accepted_at"]:
        said.append(f"aanvaard {_minute(d['accepted_at'])}")
    if d["handled"]:
        said.append(f"{HANDLED[Handling(d['handled'])]} {_minute(d['handled_at'])}")
    if d["paused_until"]:
        said.append(f"pauze tot en met {long_date(date.fromisoformat(d['paused_until']))}")
    if d["claimer"]:
        said.append(f"opgepakt door {d['claimer']}")
    if said:
        print(f"      in IMI gemeld: {'; '.join(said)}")
    for a in r["actions"]:
        line = action_line(a["command"], a["actor"], a["via"], a["argument"], a["ok"])
        print(f"      actie {_minute(a['at'])}: {line}")


def print_status(data: dict[str, Any]) -> None:
    """The status in Dutch, for the beheerders."""
    reqs = data["requests"]
    today = date.fromisoformat(data["today"])
    print(f"Openstaande IMI-verzoeken ({len(reqs)}), stand van {long_date(today)}:")
    if not reqs:
        print("  (geen)")
    for r in reqs:
        left = r["working_days_left"]
        deadline = date.fromisoformat(r["deadline"]) if r["deadline"] else None
        when = "onbekend" if deadline is None else long_date(deadline)
        if deadline is not None and left is not None:
            when += f" ({term_text(today, deadline, left)})"
        nxt = r["next_followup"]
        nxt_text = "geen"
        if nxt:
            due = parse_ts(nxt["due_at"])
            retry = " (wordt opnieuw verstuurd)" if nxt.get("status") == "sending" else ""
            what = followup_text(nxt["kind"], nxt["step"])
            nxt_text = f"{what}, {long_moment(due)}{retry}" if due else what
        task = r["task"]
        task_text = word(TASK_STATUS, task["status"]) if task["status"] else "nog geen taak"
        if task["ref"]:
            task_text += f", kenmerk {task['ref']}"
        route = " (standaardroute)" if r["default_route"] else ""
        print(f"  {r['request_id']}: {word(REQUEST_STATUS, r['status'])}")
        print(f"      team: {r['team'] or 'nog geen team'}{route}")
        print(f"      antwoorddatum: {when}")
        print(f"      taak in Corsa: {task_text}")
        print(f"      volgende e-mail: {nxt_text}")
        _print_desk(r)
    q = data["quarantine"]
    print(f"\nQuarantaine en afgewezen berichten ({len(q)}):")
    if not q:
        print("  (geen)")
    for item in q:
        rid = f", verzoek {item['request_id']}" if item["request_id"] else ""
        where = f"mailbox {item['source']}, bericht {item['ref']}"
        print(f"  #{item['id']} {word(QUARANTINE_KIND, item['kind'])} ({where}{rid}):")
        print(f"      {dutch(item['reason'])}")
    pending = data["outbox"].get("pending", 0)
    parked = data["outbox"].get("parked", 0)
    if pending or parked:
        print(
            f"\nTaken nog aan te maken in Corsa: {pending}; niet aangemaakt (actie nodig): {parked}"
        )


def run(args: argparse.Namespace) -> int:
    data = using_state(
        args,
        lambda cfg, store: collect(
            store, include_closed=args.all, calendar=calendar_of(cfg.deadlines)
        ),
    )
    if isinstance(data, int):
        return data
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print_status(data)
    return EXIT_OK
