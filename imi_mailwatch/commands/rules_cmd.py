"""``imi-mailwatch rules``: check and test the routing rules, print their JSON Schema.

For the beheerders, so every message is Dutch. Exit codes: 0 in orde (ook met
waarschuwingen), 1 een voorbeeld klopt niet (of, met ``--streng``, er is een
waarschuwing), 78 de regels zijn ongeldig (of de configuratie).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from imi_mailwatch.commands import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from imi_mailwatch.commands.common import Subparsers, add_group, arg, load, sub
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.model import Alert, AlertType, Module
from imi_mailwatch.rules import ParseSample, RuleSet, json_schema, load_rules
from imi_mailwatch.rules.lint import warnings


def schema_text() -> str:
    """The JSON Schema as shipped in rules/schema.json."""
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


def run_schema(args: argparse.Namespace) -> int:
    text = schema_text()
    if args.output is not None:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _parser(args: argparse.Namespace) -> ParseSample | None:
    """The alert reader of the configuration, to read .eml examples; None if unavailable."""
    try:
        from imi_mailwatch.reading import make_reader, sample_parser

        return sample_parser(make_reader(load(args)))
    except ImportError:  # pragma: no cover - the alert reader ships with the package
        return None


def _paths(args: argparse.Namespace) -> list[Path]:
    if args.paths:
        return list(args.paths)
    from imi_mailwatch.reading import rules_paths

    return rules_paths(load(args))


def run_test(args: argparse.Namespace) -> int:
    """``rules test``: ``rules check``, every example shown, and one alert tried."""
    return run(args, verbose=True)


def run(args: argparse.Namespace, *, verbose: bool = False) -> int:
    try:
        paths = _paths(args)
        parse_sample = _parser(args)
    except ConfigError as exc:
        print(f"De configuratie is ongeldig:\n{exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        ruleset = load_rules(paths, parse_sample=parse_sample, check_examples=False)
    except ConfigError as exc:
        print_invalid(exc)
        return EXIT_CONFIG
    results = ruleset.check_examples(parse_sample)
    failed = [r for r in results if not r.ok]
    skipped = [r for r in results if r.skipped]
    for result in results if verbose else failed + skipped:
        print(f"{'  - ' if result.ok else 'FOUT '}{result.message}")
    warned = warnings(ruleset, parse_sample)
    for warning in warned:
        print(f"WAARSCHUWING {warning.render_nl()}")
    if verbose:
        code = _try_one(args, ruleset, parse_sample)
        if code != EXIT_OK:
            return code
    print(
        f"{len(ruleset.rules)} regels, {len(ruleset.teams)} teams uit "
        f"{len(ruleset.files)} bestand(en); voorbeelden: {len(results) - len(failed)} goed, "
        f"{len(failed)} fout" + (f", {len(skipped)} overgeslagen" if skipped else "")
        + f"; {len(warned)} waarschuwing(en)."
    )  # fmt: skip
    return _verdict(failed=bool(failed), warned=bool(warned), strict=args.streng)


def _verdict(*, failed: bool, warned: bool, strict: bool) -> int:
    """The closing line and the exit code: warnings fail only with --streng."""
    if failed:
        print("Niet in orde: pas de regels of de voorbeelden aan (zie docs/regels.md).")
        return EXIT_FAILED
    if warned and strict:
        print("Niet in orde (--streng): los de waarschuwingen op (zie docs/regels.md).")
        return EXIT_FAILED
    if warned:
        print(
            "In orde, met waarschuwingen: de regels worden gebruikt, maar kijk ze na "
            "(met --streng tellen waarschuwingen als fout)."
        )
    else:
        print("In orde.")
    return EXIT_OK


def _try_one(args: argparse.Namespace, ruleset: RuleSet, parse_sample: ParseSample | None) -> int:
    """``rules test --activiteit ... / --bericht``: one alert through every rule."""
    alert: Alert | None = None
    if args.bericht is not None:
        if parse_sample is None:  # pragma: no cover - see _parser
            print("Kan geen .eml lezen: de meldingslezer is niet beschikbaar.", file=sys.stderr)
            return EXIT_FAILED
        try:
            alert = parse_sample(args.bericht.read_bytes())
        except OSError as exc:
            print(f"Kan {args.bericht} niet lezen: {exc.strerror}", file=sys.stderr)
            return EXIT_FAILED
        if alert is None:
            print(f"{args.bericht} wordt niet als IMI-melding herkend.", file=sys.stderr)
            return EXIT_FAILED
    elif args.activiteit or args.lidstaat or args.wetgevingsgebied or args.module != "services":
        alert = Alert(
            alert_type=AlertType(args.meldingstype),
            request_id="test",
            member_state=args.lidstaat.upper() if args.lidstaat else None,
            legislative_area=args.wetgevingsgebied,
            service_activities=tuple(args.activiteit),
            module=Module(args.module),
        )
    if alert is None:
        return EXIT_OK
    print("\nDe melding langs alle regels, in volgorde:")
    for verdict in ruleset.explain(alert):
        print(verdict.render_nl())
    route = ruleset.route(alert)
    if route.forward is not None:
        print(
            f"\nUitkomst: doorsturen naar {route.forward.to} via regel '{route.rule}' (geen "
            f"taak; de beheerders krijgen bericht); reden: {route.forward.reason}\n"
        )
        return EXIT_OK
    how = "de standaardroute" if route.is_default else f"regel '{route.rule}'"
    print(f"\nUitkomst: team '{route.team.key}' ({route.team.name}) via {how}; "
          f"vakgebied: {route.field}\n")  # fmt: skip
    return EXIT_OK


def print_invalid(exc: ConfigError) -> None:
    count = len(exc.problems)
    noun = "probleem" if count == 1 else "problemen"
    print(
        f"De routeringsregels zijn ongeldig ({count} {noun}); ze worden niet gebruikt:",
        file=sys.stderr,
    )
    for problem in exc.problems:
        print(f"  - {problem}", file=sys.stderr)


_PATHS = arg("paths", nargs="*", type=Path, metavar="PAD")
_STRICT = arg(
    "--streng",
    action="store_true",
    help="waarschuwingen (overlappende regels, treffers midden in een woord) tellen als fout: "
    "exit 1",
)
_SUBCOMMANDS = {
    "check": sub(
        "valideer de regels en hun voorbeelden; meldt alleen problemen",
        _PATHS,
        _STRICT,
        run=run,
        description="Valideer de regels en controleer de voorbeelden. Zonder PAD: de paden "
        "uit de configuratie (rules.paths).",
    ),
    "test": sub(
        "valideer de regels, toon elk voorbeeld, of probeer een melding uit",
        _PATHS,
        _STRICT,
        arg(
            "--activiteit",
            action="append",
            default=[],
            metavar="TEKST",
            help="een dienstverleningsactiviteit (mag vaker)",
        ),
        arg("--lidstaat", metavar="CODE", help="lidstaat, bijv. DE"),
        arg(
            "--meldingstype",
            default="new_request",
            choices=[t.value for t in AlertType],
            help="soort melding (standaard new_request)",
        ),
        arg("--wetgevingsgebied", metavar="TEKST"),
        arg(
            "--module",
            choices=[m.value for m in Module],
            default=Module.SERVICES.value,
            help="IMI-module (standaard services)",
        ),
        arg("--bericht", type=Path, metavar="FILE.eml", help="een IMI-melding (.eml)"),
        run=run_test,
        description="Valideer de regels en toon van elk voorbeeld waar het uitkomt. Met "
        "--activiteit (en --lidstaat, --meldingstype, --wetgevingsgebied) of --bericht "
        "wordt één melding langs alle regels gehaald, zoals 'route --explain'.",
    ),
    "schema": sub(
        "print the JSON Schema of a rules file (for editors)",
        arg("-o", "--output", type=Path, metavar="FILE", help="write to FILE"),
        run=run_schema,
        description="Print het JSON Schema van een regelbestand, voor editors met "
        "yaml-language-server (zie de eerste regel van de regelbestanden).",
    ),
}


def register(subparsers: Subparsers) -> None:
    add_group(subparsers, "rules", "rules_command", "SUBCOMMAND", _SUBCOMMANDS)
