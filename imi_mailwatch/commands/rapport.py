"""``imi-mailwatch rapport``: the quarterly report for the coordinator Dienstenwet.

For the beheerders, so every message is Dutch. Prints the mail the daemon sends
at the start of a quarter and, with ``--csv``, writes its CSV for Dutch Excel.
Exit codes: 0 in orde, 2 een onjuist kwartaal, 78 de configuratie of de statusopslag.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from imi_mailwatch.clock import local_today
from imi_mailwatch.commands.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, open_state
from imi_mailwatch.quarterly import Quarter, quarterly_mail
from imi_mailwatch.texts import TextBook

HELP = "het kwartaalrapport voor de coördinator Dienstenwet, met de CSV voor Excel"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "rapport",
        help=HELP,
        description="Het kwartaalrapport (docs/teksten.md): de cijfers van de IMI-statistiek.",
    )
    p.add_argument(
        "--kwartaal",
        metavar="JJJJ-K",
        help="het kwartaal, bijvoorbeeld 2026-4 (standaard: het vorige kwartaal)",
    )
    p.add_argument("--csv", type=Path, metavar="BESTAND", help="schrijf de cijfers ook als CSV")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        quarter = (
            Quarter.parse(args.kwartaal)
            if args.kwartaal
            else Quarter.of(local_today(datetime.now(UTC))).previous
        )
    except ValueError as exc:
        print(f"Fout: {exc}", file=sys.stderr)
        return EXIT_USAGE
    opened = open_state(args)
    if isinstance(opened, int):
        return opened
    cfg, store = opened
    try:
        book = TextBook(cfg.resolve(cfg.texts.path), beheerders=cfg.beheerders)
        mail = quarterly_mail(
            quarter,
            store,
            to=cfg.reports.quarterly_to,
            message_id="<rapport@imi-mailwatch.invalid>",
            beheerders=cfg.beheerders,
            texts=book,
        )
        if args.csv is not None:
            try:
                args.csv.write_bytes(mail.attachments[0].data)
            except OSError as exc:
                print(
                    f"Fout: {args.csv} kan niet worden geschreven ({exc.strerror})", file=sys.stderr
                )
                return EXIT_FAILED
    finally:
        store.close()
    print(f"Onderwerp: {mail.subject}")
    print()
    print(mail.text, end="")
    if args.csv is not None:
        print(f"\nDe cijfers staan in {args.csv} (te openen in Excel).")
    return EXIT_OK


__all__ = ["register", "run"]
