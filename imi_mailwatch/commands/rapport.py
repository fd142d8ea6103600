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
from imi_mailwatch.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from imi_mailwatch.commands.common import Subparsers, add_command, arg, using_state
from imi_mailwatch.config import Config
from imi_mailwatch.model import OutgoingMail
from imi_mailwatch.ports import StatisticsStore
from imi_mailwatch.quarterly import Quarter, quarterly_mail
from imi_mailwatch.texts import TextBook


def register(subparsers: Subparsers) -> None:
    quarter = arg(
        "--kwartaal",
        metavar="JJJJ-K",
        help="het kwartaal, bijvoorbeeld 2026-4 (standaard: het vorige kwartaal)",
    )
    csv = arg("--csv", type=Path, metavar="BESTAND", help="schrijf de cijfers ook als CSV")
    add_command(subparsers, "rapport", quarter, csv, run=run)


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
    mail = using_state(args, lambda cfg, store: _mail(quarter, cfg, store))
    if isinstance(mail, int):
        return mail
    if args.csv is not None:
        try:
            args.csv.write_bytes(mail.attachments[0].data)
        except OSError as exc:
            print(f"Fout: {args.csv} kan niet worden geschreven ({exc.strerror})", file=sys.stderr)
            return EXIT_FAILED
    print(f"Onderwerp: {mail.subject}")
    print()
    print(mail.text, end="")
    if args.csv is not None:
        print(f"\nDe cijfers staan in {args.csv} (te openen in Excel).")
    return EXIT_OK


def _mail(quarter: Quarter, cfg: Config, store: StatisticsStore) -> OutgoingMail:
    """The quarter's report as the daemon mails it, with the beheerders' own texts."""
    book = TextBook(cfg.resolve(cfg.texts.path), beheerders=cfg.beheerders)
    return quarterly_mail(
        quarter,
        store,
        to=cfg.reports.quarterly_to,
        message_id="<rapport@imi-mailwatch.invalid>",
        beheerders=cfg.beheerders,
        texts=book,
    )


__all__ = ["register", "run"]
