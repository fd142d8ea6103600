"""``imi-mailwatch purge [--dry-run]``: apply the retention policy now, or show what it would do."""

from __future__ import annotations

import argparse
import json

from imi_mailwatch.commands import EXIT_OK
from imi_mailwatch.commands.common import JSON, Subparsers, add_command, arg, using_state
from imi_mailwatch.privacy.retention import DUTCH, Category, PurgePlan, RetentionPolicy, purge

MAX_IDS = 50  # ids listed per category; the count is always complete


def register(subparsers: Subparsers) -> None:
    dry_run = arg("--dry-run", action="store_true", help="only list what would be removed")
    add_command(subparsers, "purge", dry_run, JSON, run=run)


def as_data(result: PurgePlan, *, dry_run: bool) -> dict[str, object]:
    return {
        "at": result.now.isoformat(),
        "dry_run": dry_run,
        "counts": result.counts(),
        "ids": {c.value: list(result.ids(c)) for c in Category if result.ids(c)},
    }


def print_plan(result: PurgePlan, *, dry_run: bool) -> None:
    stamp = f"{result.now:%Y-%m-%d %H:%M} UTC"
    if dry_run:
        print(f"Bewaarbeleid, proefrun op {stamp}: er wordt niets verwijderd.")
    else:
        print(f"Bewaarbeleid toegepast op {stamp}.")
    verb = "zou gaan" if dry_run else "verwerkt"
    for category in Category:
        ids = result.ids(category)
        print(f"  {category.value:<19} {len(ids):>5}  {DUTCH[category]} ({verb})")
        if ids:
            shown = ", ".join(ids[:MAX_IDS])
            more = f" en {len(ids) - MAX_IDS} meer" if len(ids) > MAX_IDS else ""
            print(f"  {'':<19}        {shown}{more}")
    if result.empty:
        print(
            "Niets te verwijderen: open verzoeken en onopgeloste quarantaine blijven altijd staan."
        )


def run(args: argparse.Namespace) -> int:
    result = using_state(
        args,
        lambda cfg, store: purge(
            store, RetentionPolicy.from_config(cfg.privacy), dry_run=args.dry_run
        ),
        write=not args.dry_run,
    )
    if isinstance(result, int):
        return result
    if args.json:
        print(json.dumps(as_data(result, dry_run=args.dry_run), ensure_ascii=False, indent=2))
    else:
        print_plan(result, dry_run=args.dry_run)
    return EXIT_OK
