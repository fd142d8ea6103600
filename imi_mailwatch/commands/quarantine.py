"""``imi-mailwatch quarantine list|show|release|resolve``: the beheerders' view of the quarantine.

- ``list [--all]``: the items not yet resolved (with ``--all`` also resolved ones);
- ``show ID``: one item, its reason and a few headers of the kept copy, never the body;
- ``release ID``: the daemon forgets the message, so that it is handled anew once a
  beheerder moves it from the quarantine folder back to the inbox (after a fix of
  the rules or the alert layouts); the item is resolved;
- ``resolve ID``: the beheerder has dealt with it; the retention period of the kept
  copy starts.

Exit codes: 0 done, 1 no such item (or a rejected item for ``release``), 78 configuration.
"""

from __future__ import annotations

import argparse

from imi_mailwatch.clock import AMSTERDAM, local_minute
from imi_mailwatch.commands import EXIT_FAILED, EXIT_OK
from imi_mailwatch.commands.common import (
    EVERY_ROW,
    ITEM_ID,
    Subparsers,
    add_group,
    on_state,
    print_list,
    sub,
)
from imi_mailwatch.config import Config
from imi_mailwatch.ports import StateStore
from imi_mailwatch.privacy.quarantine import find_item, header_lines, release, resolve
from imi_mailwatch.reasons import dutch
from imi_mailwatch.records import QuarantineRecord
from imi_mailwatch.wording import QUARANTINE_KIND, word


def _day(item: QuarantineRecord) -> str:
    return local_minute(item.created_at)


def _line(item: QuarantineRecord) -> str:
    rid = f", verzoek {item.request_id}" if item.request_id else ""
    state = (
        f"opgelost op {item.resolved_at.astimezone(AMSTERDAM):%d-%m-%Y}"
        if item.resolved_at
        else "nog niet opgelost"
    )
    copy = "kopie bewaard" if item.has_raw else "geen kopie bewaard"
    return (
        f"#{item.id} {word(QUARANTINE_KIND, item.kind)} (mailbox {item.source}, bericht "
        f"{item.ref}{rid}; {_day(item)}; {state}; {copy}): {dutch(item.reason)}"
    )


def _list(args: argparse.Namespace, _cfg: Config, store: StateStore) -> int:
    items = store.quarantine(unresolved_only=not args.all)
    print_list(f"Quarantaine en afgewezen berichten ({len(items)}):", map(_line, items), "(geen)")
    return EXIT_OK


def _show(args: argparse.Namespace, _cfg: Config, store: StateStore) -> int:
    found = find_item(store, args.id)
    if found is None:
        return _no_item(args)
    print(_line(found))
    raw = store.quarantine_raw(found.id)
    if raw is None:
        print("  (er is geen kopie van het bericht bewaard)")
        return EXIT_OK
    for name, value in header_lines(raw):
        print(f"  {name}: {value}")
    print("  (de inhoud wordt niet getoond; zie de quarantainemap van de mailbox)")
    return EXIT_OK


def _release(args: argparse.Namespace, cfg: Config, store: StateStore) -> int:
    done = release(store, args.id)
    if done is None:
        return _no_item(args)
    if done.item.kind == "rejected":
        print(
            f"#{args.id} is afgewezen omdat het niet echt van IMI lijkt te komen; "
            "zo'n bericht wordt niet vrijgegeven."
        )
        return EXIT_FAILED
    print(
        f"#{args.id} is vrijgegeven. Verplaats het bericht in de mailbox uit de quarantainemap "
        "terug naar de inbox; de daemon verwerkt het dan opnieuw."
    )
    _retention_note(cfg)
    return EXIT_OK


def _resolve(args: argparse.Namespace, cfg: Config, store: StateStore) -> int:
    done = resolve(store, args.id)
    if done is None:
        return _no_item(args)
    if done.already:
        print(f"#{args.id} was al opgelost.")
        return EXIT_OK
    print(f"#{args.id} is opgelost.")
    _retention_note(cfg)
    return EXIT_OK


def _no_item(args: argparse.Namespace) -> int:
    print(f"Geen quarantaine-item #{args.id}.")
    return EXIT_FAILED


def _retention_note(cfg: Config) -> None:
    days = cfg.privacy.raw_retention_days
    print(f"De bewaarde kopie wordt na {days} dagen verwijderd.")


_SUBCOMMANDS = {
    "list": sub("unresolved items (--all: also resolved ones)", EVERY_ROW, run=on_state(_list)),
    "show": sub("one item: reason and headers, never the body", ITEM_ID, run=on_state(_show)),
    "release": sub(
        "forget the message so it is handled again when moved back",
        ITEM_ID,
        run=on_state(_release, write=True),
    ),
    "resolve": sub(
        "mark an item resolved (starts its retention period)",
        ITEM_ID,
        run=on_state(_resolve, write=True),
    ),
}


def register(subparsers: Subparsers) -> None:
    add_group(subparsers, "quarantine", "action", "ACTION", _SUBCOMMANDS)
