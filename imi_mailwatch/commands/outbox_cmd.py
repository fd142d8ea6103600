"""``imi-mailwatch outbox list|retry``: the task outbox for ops.

- ``list [--all] [--json]``: the parked and pending rows (``--all``: every row),
  with row id, action, request id, status, attempts, next attempt and reason;
  never the task's content;
- ``retry ID``: a parked row is made pending again and due at once (a pending
  row that is backing off: due at once); the running daemon's next outbox pass
  carries it out. Audited (who, when) in the state store and logged.

Exit codes: 0 done, 1 no such row or nothing to retry, 78 configuration.
"""

from __future__ import annotations

import argparse
import json

from imi_mailwatch import outbox_admin
from imi_mailwatch.clock import local_minute
from imi_mailwatch.commands import EXIT_FAILED, EXIT_OK
from imi_mailwatch.commands.common import (
    EVERY_ROW,
    ITEM_ID,
    Subparsers,
    add_group,
    arg,
    on_state,
    print_list,
    sub,
)
from imi_mailwatch.config import Config
from imi_mailwatch.ports import StateStore

_ACTIONS = {"create_task": "taak aanmaken", "annotate": "memoregel toevoegen"}
_STATUSES = {
    "pending": "wacht",
    "parked": "geparkeerd",
    "done": "klaar",
    "skipped": "overgeslagen",
}


def _line(row: outbox_admin.OutboxRow) -> str:
    what = _ACTIONS.get(row.action, row.action)
    status = _STATUSES.get(row.status, row.status)
    when = f"; volgende poging {local_minute(row.next_attempt_at)}" if row.next_attempt_at else ""
    reason = f": {row.reason}" if row.reason else ""
    return (
        f"#{row.id} verzoek {row.request_id}, {what}, {status} "
        f"({row.attempts} pogingen{when}){reason}"
    )


def _list(args: argparse.Namespace, _cfg: Config, store: StateStore) -> int:
    found = outbox_admin.rows(store, everything=args.all)
    if args.json:
        print(json.dumps({"rows": [r.as_dict() for r in found]}, ensure_ascii=False))
        return EXIT_OK
    print_list(f"Taken-outbox ({len(found)}):", map(_line, found), "(leeg)")
    return EXIT_OK


def _retry(args: argparse.Namespace, _cfg: Config, store: StateStore) -> int:
    result = outbox_admin.retry(store, args.id)
    if result is None:
        print(f"Geen outbox-regel #{args.id}.")
        return EXIT_FAILED
    if not result.done:
        print(
            f"#{args.id} is al {_STATUSES.get(result.row.status, result.row.status)}; "
            "er is niets opnieuw te proberen."
        )
        return EXIT_FAILED
    print(
        f"#{args.id} (verzoek {result.row.request_id}) wordt bij de volgende ronde van de "
        "daemon opnieuw geprobeerd. Volg het met 'imi-mailwatch outbox list'."
    )
    return EXIT_OK


_SUBCOMMANDS = {
    "list": sub(
        "parked and pending rows (--all: every row)",
        EVERY_ROW,
        arg("--json", action="store_true", help="one JSON object on stdout"),
        run=on_state(_list),
    ),
    "retry": sub(
        "make a parked row due again (audited)", ITEM_ID, run=on_state(_retry, write=True)
    ),
}


def register(subparsers: Subparsers) -> None:
    add_group(subparsers, "outbox", "action", "ACTION", _SUBCOMMANDS)
