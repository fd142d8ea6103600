"""``imi-mailwatch history REQUEST_ID [--pdf FILE] [--csv FILE]``: the audit trail of a request."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from imi_mailwatch.adapters.private_files import write_private
from imi_mailwatch.commands import EXIT_FAILED, EXIT_OK
from imi_mailwatch.commands.common import Subparsers, add_command, arg, using_state
from imi_mailwatch.privacy.history import load_history, render_csv, render_pdf, render_text


def register(subparsers: Subparsers) -> None:
    add_command(
        subparsers,
        "history",
        arg("request_id", metavar="REQUEST_ID"),
        arg("--pdf", metavar="FILE", help="also write the history as a PDF"),
        arg("--csv", metavar="FILE", help="also write the history as CSV"),
        run=run,
    )


def run(args: argparse.Namespace) -> int:
    got = using_state(
        args, lambda cfg, store: (cfg, load_history(store, args.request_id), store.now())
    )
    if isinstance(got, int):
        return got
    cfg, history, now = got
    if history is None:
        print(
            f"Verzoek {args.request_id} is niet bekend: nooit ontvangen, of al verwijderd "
            "volgens het bewaarbeleid."
        )
        return EXIT_FAILED
    print(render_text(history), end="")
    try:
        if args.pdf:
            pdf = render_pdf(history, font=cfg.task_sink.pdf_font, now=now)
            write_private(Path(args.pdf), pdf)
            print(f"PDF opgeslagen: {args.pdf}")
        if args.csv:
            write_private(Path(args.csv), render_csv(history).encode("utf-8"))
            print(f"CSV opgeslagen: {args.csv}")
    except OSError as exc:
        print(f"Kan het bestand niet schrijven: {exc.strerror} ({exc.filename})", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
