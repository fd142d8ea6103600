"""``imi-mailwatch corsa``: try the Corsa Web Service with the configured credentials.

For the installer and the beheerders, so the report is Dutch.

- ``corsa check``: WSDL, licence key, Connect, the object kind, fields,
  references and confidentiality against the installation (GetObjectKinds,
  GetFields, GetReferences, GetConfidentialities), each team's to-do list
  (GetDocTodoList2), the lookups (QueryExecute) and Disconnect, one line per
  step with ``ok`` or ``FOUT``. Creates nothing. Exit 0 when every step works,
  1 when one fails, 78 when the configuration is invalid or has no Corsa block.
- ``corsa check --proef UNIT``: a proof registration for that unit, step by
  step (adapters/corsa_check.py), stopping at the first failure with what to
  ask the Corsa administrator; the test document is deleted again.
- ``corsa todo UNIT``: the documents waiting in an organisation unit's task box.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from datetime import date

from imi_mailwatch.adapters.corsa_check import run_proef
from imi_mailwatch.adapters.corsa_soap import CheckStep, CorsaSoapTaskSink
from imi_mailwatch.clock import AMSTERDAM, SystemClock
from imi_mailwatch.commands import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from imi_mailwatch.commands.common import Subparsers, add_group, arg, load, sub
from imi_mailwatch.config import Config
from imi_mailwatch.config_checks import resolve_section_secrets
from imi_mailwatch.errors import ConfigError, MailwatchError
from imi_mailwatch.logging_setup import configure_logging


def _sink(args: argparse.Namespace) -> tuple[Config, CorsaSoapTaskSink] | int:
    configure_logging("info" if args.verbose else "error", "console", stream=sys.stderr)
    cfg = load(args)
    corsa = cfg.task_sink.corsa
    if corsa is None:
        print(
            "FOUT  configuratie: task_sink heeft geen 'corsa'-blok (url, username, password)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    # the only secrets this command needs: Corsa's
    resolve_section_secrets(cfg, ("task_sink", "corsa"), corsa, dict(os.environ))
    sink = CorsaSoapTaskSink(
        corsa,
        clock=SystemClock(),
        stop=threading.Event(),
        pdf_font=cfg.task_sink.pdf_font,
        retry_first_wait=0.5,
        retry_max_wait=2.0,
    )
    return cfg, sink


def team_units(cfg: Config) -> tuple[list[str], CheckStep | None]:
    """The organisation units of the teams in the rules, or a failed step saying why not."""
    from imi_mailwatch.rules import load_rules

    try:
        rules = load_rules([cfg.resolve(p) for p in cfg.rules.paths], check_examples=False)
    except ConfigError as exc:
        first = exc.problems[0] if exc.problems else str(exc).splitlines()[0]
        return [], CheckStep("regels", False, f"teams niet te lezen: {first} (of geef --eenheid)")
    units = sorted({team.org_unit for team in rules.teams.values()})
    return units, None


def format_step(step: CheckStep) -> str:
    """One report line: ``ok    name  detail`` or ``FOUT  name  detail`` (+ what to ask)."""
    mark = "FOUT" if not step.ok else "let op" if step.note else "ok"
    line = f"{mark:<5} {step.name:<18} {step.detail}"
    if step.advice and not step.ok:
        line += f"\n      {'':<18} {step.advice}"
    return line


def run_check(args: argparse.Namespace) -> int:
    made = _sink(args)
    if isinstance(made, int):
        return made
    cfg, sink = made
    steps: list[CheckStep] = []
    units = list(args.eenheid)
    if not units and not args.proef:
        units, problem = team_units(cfg)
        if problem is not None:
            steps.append(problem)
    print(f"Corsa-koppeling controleren: {cfg.task_sink.corsa.url if cfg.task_sink.corsa else ''}")
    try:
        if args.proef:
            print(f"Proefregistratie voor eenheid {args.proef} (werkwijze: {sink.cfg.task_mode})")
            steps = run_proef(sink, args.proef, *_stamp())
        else:
            steps.extend(sink.check(units))
    finally:
        sink.close()
    for step in steps:
        print(format_step(step))
    failed = [s for s in steps if not s.ok]
    if cfg.task_sink.kind != "corsa":
        print(f"let op: task_sink.kind is '{cfg.task_sink.kind}'; de daemon gebruikt Corsa niet")
    if failed:
        print(f"{len(failed)} van {len(steps)} stappen mislukt (zie docs/corsa.md, Problemen)")
        return EXIT_FAILED
    print(f"alle {len(steps)} stappen in orde")
    return EXIT_OK


def _stamp() -> tuple[str, date]:
    now = SystemClock().now().astimezone(AMSTERDAM)
    return now.strftime("%Y%m%d%H%M%S"), now.date()


def run_todo(args: argparse.Namespace) -> int:
    made = _sink(args)
    if isinstance(made, int):
        return made
    _cfg, sink = made
    try:
        rows = sink.todo_list(args.unit)
    except MailwatchError as exc:
        print(f"FOUT  {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        sink.close()
    print(f"{len(rows)} taken te ontvangen in {args.unit}")
    for row in rows:
        print("  " + "  ".join(f"{k}={v}" for k, v in row.items()))
    return EXIT_OK


_VERBOSE = arg("-v", "--verbose", action="store_true", help="toon ook de logregels")
_SUBCOMMANDS = {
    "check": sub(
        "verbind met Corsa en meld per stap wat werkt en wat niet",
        arg(
            "--eenheid",
            action="append",
            default=[],
            metavar="EENHEID",
            help="organisatie-eenheid om te proberen (mag vaker; standaard: die van de teams "
            "in de regels)",
        ),
        arg(
            "--proef",
            metavar="EENHEID",
            help="registreer een duidelijk gemarkeerd proefdocument voor deze eenheid, volg het "
            "stap voor stap en verwijder het weer",
        ),
        _VERBOSE,
        run=run_check,
        description="Leest de WSDL, zet de licentiesleutel, verbindt met de ingestelde "
        "gebruiker, toetst objectsoort, velden, referenties en vertrouwelijkheid aan de "
        "installatie, leest de takenlijst van elk team (of van --eenheid) en zoekt op kenmerk "
        "en onderwerp. Maakt niets aan, behalve met --proef.",
    ),
    "todo": sub(
        "toon de taken die in de taakbak van een organisatie-eenheid klaarstaan",
        arg("unit", metavar="EENHEID"),
        _VERBOSE,
        run=run_todo,
    ),
}


def register(subparsers: Subparsers) -> None:
    add_group(subparsers, "corsa", "corsa_command", "SUBCOMMAND", _SUBCOMMANDS)
