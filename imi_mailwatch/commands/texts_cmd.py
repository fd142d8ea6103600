"""``imi-mailwatch teksten check|voorbeeld``: the beheerders' own texts (docs/teksten.md).

For the beheerders, so every message is Dutch. Exit codes: 0 in orde, 1 een
sjabloon is afgekeurd (of het verzoek is onbekend), 78 de configuratie.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from imi_mailwatch.clock import local_today
from imi_mailwatch.commands import EXIT_FAILED, EXIT_OK
from imi_mailwatch.commands.common import Subparsers, add_group, arg, load, sub, using_state
from imi_mailwatch.config import Config
from imi_mailwatch.deadlines.calendar import calendar_of
from imi_mailwatch.deadlines.mails import (
    Envelope,
    archive_mail,
    closing_mail,
    own_request_mail,
    reminder_mail,
)
from imi_mailwatch.deadlines.notices import (
    CloseReason,
    acceptance_mail,
    close_step,
    task_close_mail,
    task_notice_mail,
)
from imi_mailwatch.deadlines.plan import archive_check_day
from imi_mailwatch.memo import memo_context
from imi_mailwatch.model import OutgoingMail, ReminderStep
from imi_mailwatch.records import RequestRecord
from imi_mailwatch.texts import PER_REQUEST, SPECS, TextBook
from imi_mailwatch.wording import count


def _book(cfg: Config, folder: Path | None) -> TextBook:
    return TextBook(
        folder if folder is not None else cfg.resolve(cfg.texts.path), beheerders=cfg.beheerders
    )


def _check(cfg: Config, folder: Path | None) -> int:
    book = _book(cfg, folder)
    problems = book.problems()
    where = book.directory
    if problems:
        print(f"De teksten in {where} zijn afgekeurd ({count(len(problems), 'fout', 'fouten')}):")
        for problem in problems:
            print(f"  {problem.render()}")
        print("Tot de fout is hersteld, gebruikt imi-mailwatch de standaardtekst.")
        return EXIT_FAILED
    if where is None or not where.is_dir():
        print(f"De map {where} bestaat niet; alle standaardteksten zijn in gebruik.")
        return EXIT_OK
    own = [name for name in SPECS if book.has_own(name)]
    standard = [name for name in SPECS if name not in own]
    print(f"De teksten in {where} zijn in orde.")
    print(f"  eigen tekst: {', '.join(own) or 'geen'}")
    print(f"  standaardtekst: {', '.join(standard) or 'geen'}")
    names = ", ".join(b.name for b in book.beheerders()) or "geen"
    origin = "beheerders.yaml" if book.own_beheerders() else "de configuratie"
    print(f"  beheerders (uit {origin}): {names}")
    return EXIT_OK


def _letter_for(
    name: str, request: RequestRecord, cfg: Config, book: TextBook, now: datetime
) -> OutgoingMail | str:
    """The whole mail a letter template gives for one request, or why there is none."""
    env = Envelope("<voorbeeld@imi-mailwatch.invalid>", ("team@voorbeeld.invalid",))
    calendar = calendar_of(cfg.deadlines)
    today = calendar.local_date(now)
    if name == "herinnering":
        if request.deadline is None:
            return (
                f"Verzoek {request.request_id} heeft geen antwoorddatum: er komt geen herinnering."
            )
        left = calendar.working_days_between(today, request.deadline)
        step = ReminderStep(offset=0, recipients=("team", "escalation"))
        return reminder_mail(
            request, step, env, reply_date=request.deadline, working_days_left=left,
            today=today, beheerders=cfg.beheerders, now=now, domain="imi-mailwatch.invalid",
            status_since=calendar.local_date(request.updated_at), texts=book,
        )  # fmt: skip
    notice = _notice_for(name, request, cfg, book)
    if notice is not None:
        return notice
    closed_on = calendar.local_date(request.closed_at or now)
    if name == "eigen_verzoek":
        done = closed_on if request.status.is_final else None
        return own_request_mail(request, env, closed_on=done, beheerders=cfg.beheerders, texts=book)
    if name == "afsluiting":
        check_on = archive_check_day(calendar, closed_on, cfg.deadlines.archive_followup_months)
        return closing_mail(
            request, env, closed_on=closed_on, archive_check_on=check_on,
            beheerders=cfg.beheerders, texts=book,
        )  # fmt: skip
    return archive_mail(request, env, closed_on=closed_on, beheerders=cfg.beheerders, texts=book)


def _notice_for(
    name: str, request: RequestRecord, cfg: Config, book: TextBook
) -> OutgoingMail | None:
    """The notices to a team about its task, for one request; None for another letter."""
    env = Envelope("<voorbeeld@imi-mailwatch.invalid>", ("team@voorbeeld.invalid",))
    if name == "taakbericht":
        return task_notice_mail(request, env, beheerders=cfg.beheerders, texts=book)
    if name == "aanvaarden":
        return acceptance_mail(request, env, step="acc3", beheerders=cfg.beheerders, texts=book)
    if name == "taak_sluiten":
        step = close_step(CloseReason.WITHDRAWN)
        return task_close_mail(request, env, step=step, beheerders=cfg.beheerders, texts=book)
    return None


def _request(
    args: argparse.Namespace,
) -> tuple[Config, RequestRecord | None, datetime] | int:
    """The configuration, the request asked for (--verzoek) and the store's now; or an exit."""
    if not args.verzoek:
        return load(args), None, datetime.now(UTC)
    got = using_state(args, lambda cfg, store: (cfg, store.get_request(args.verzoek), store.now()))
    if isinstance(got, int):
        return got
    cfg, request, now = got
    if request is None:
        print(f"Verzoek {args.verzoek} is niet bekend.")
        return EXIT_FAILED
    return cfg, request, now


def _show(args: argparse.Namespace) -> int:
    name = args.naam
    if name not in SPECS:
        print(f"Onbekende tekst '{name}'. Er zijn: {', '.join(SPECS)}.")
        return EXIT_FAILED
    spec = SPECS[name]
    if args.verzoek and name not in PER_REQUEST:
        print(f"De tekst '{name}' gaat niet over één verzoek; toon hem zonder --verzoek.")
        return EXIT_FAILED
    found = _request(args)
    if isinstance(found, int):
        return found
    cfg, request, now = found
    book = _book(cfg, None)
    for problem in book.problems():
        print(f"Let op: {problem.render()} (de standaardtekst wordt gebruikt)")
    source = "eigen tekst" if book.has_own(name) else "standaardtekst"
    example = f"verzoek {args.verzoek}" if args.verzoek else "voorbeeldgegevens"
    print(f"{spec.purpose[:1].upper()}{spec.purpose[1:]} ({source}, ingevuld met {example}):\n")
    if request is not None and spec.blocks:
        mail = _letter_for(name, request, cfg, book, now)
        if isinstance(mail, str):
            print(mail)
            return EXIT_FAILED
        print(f"Onderwerp: {mail.subject}\n\n{mail.text}", end="")
    elif request is not None:
        context = memo_context(
            field=request.field or "een nog onbekend vakgebied",
            beheerders=cfg.beheerders,
            today=local_today(now),
            deadline=request.deadline,
            request_id=request.request_id,
            team=request.team_name or request.team_key or "(nog geen team)",
        )
        print(book.render(name, **context))
    elif spec.blocks:
        for block, text in book.letter(name, **spec.sample).items():
            print(f"[{block}]")
            print(text.strip() + "\n")
    else:
        print(book.render(name, **spec.sample))
    return EXIT_OK


_SUBCOMMANDS = {
    "check": sub(
        "controleer elk sjabloon (syntaxis, invulvelden, proefinvulling)",
        arg("map", nargs="?", type=Path, metavar="MAP", help="standaard: texts.path"),
        run=lambda args: _check(load(args), args.map),
    ),
    "voorbeeld": sub(
        "toon wat een sjabloon oplevert",
        arg("naam", metavar="NAAM", help=f"een van: {', '.join(SPECS)}"),
        arg("--verzoek", metavar="ID", help="vul in met een echt verzoek"),
        run=_show,
    ),
}


def register(subparsers: Subparsers) -> None:
    add_group(subparsers, "teksten", "texts_command", "OPDRACHT", _SUBCOMMANDS)
