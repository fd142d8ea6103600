"""``imi-mailwatch route FILE.eml``: a dry run for one message that changes nothing."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from imi_mailwatch.clock import SystemClock, local_today
from imi_mailwatch.commands.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    load,
    print_config_error,
)
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.logging_setup import configure_logging
from imi_mailwatch.memo import render_memo
from imi_mailwatch.model import Classification, MessageKind, Route
from imi_mailwatch.reading import make_reader, rules_paths, sample_parser

_KIND_NL = {
    MessageKind.IMI_ALERT: "IMI-melding",
    MessageKind.NOT_IMI: "geen IMI-melding (wordt met rust gelaten)",
    MessageKind.REJECTED: "AFGEWEZEN: lijkt op IMI maar is niet echt (wordt nooit verwerkt)",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "route",
        help="show what the daemon would do with one message (changes nothing)",
        description="Dry run: what the message is, the fields read from it, the route and the "
        "rule that decided it, and the memo that would be written.",
    )
    p.add_argument("file", type=Path, metavar="FILE.eml")
    p.add_argument(
        "--today",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="count the memo's {dagen} from this date (default: today)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--explain", action="store_true", help="show every rule's verdict in order and why"
    )
    p.set_defaults(func=run)


def evaluate(
    cfg: Any, data: bytes, today: date
) -> tuple[Classification, Route | None, str | None, Any]:
    """Classify, route and render the memo; returns the ruleset for --explain."""
    from imi_mailwatch.rules import load_rules

    reader = make_reader(cfg)
    classification = reader.classify(data)
    ruleset = load_rules(rules_paths(cfg), parse_sample=sample_parser(reader))
    route = None
    memo = None
    alert = classification.alert
    if classification.kind is MessageKind.IMI_ALERT and alert is not None and alert.request_id:
        route = ruleset.route(alert)
    if route is not None and route.forward is None and alert is not None:  # forward: no task
        memo = render_memo(
            cfg.memo.template,
            field=route.field,
            beheerders=cfg.beheerders,
            today=today,
            deadline=alert.deadline,
        )
    return classification, route, memo, ruleset


def as_json(c: Classification, route: Route | None, memo: str | None) -> dict[str, Any]:
    a = c.alert
    return {
        "kind": c.kind.value,
        "reason": c.reason,
        "alert_type": a.alert_type.value if a else None,
        "request_id": a.request_id if a else None,
        "member_state": a.member_state if a else None,
        "requesting_authority": a.requesting_authority if a else None,
        "service_activities": list(a.service_activities) if a else [],
        "deadline": a.deadline.isoformat() if a and a.deadline else None,
        "language": a.language if a else None,
        "legislative_area": a.legislative_area if a else None,
        "authentication": c.auth.reason if c.auth else None,
        "team": route.team.key if route else None,
        "team_name": route.team.name if route else None,
        "org_unit": route.team.org_unit if route else None,
        "rule": route.rule if route else None,
        "default_route": route.is_default if route else None,
        "field": route.field if route else None,
        "forward_to": route.forward.to if route and route.forward else None,
        "forward_reason": route.forward.reason if route and route.forward else None,
        "memo": memo,
        "problems": list(c.problems),
    }


def run(args: argparse.Namespace) -> int:
    configure_logging("error", "console", stream=sys.stderr)  # stdout is the report
    try:
        cfg = load(args)
        data = args.file.read_bytes()
    except ConfigError as exc:
        print_config_error(exc)
        return EXIT_CONFIG
    except OSError as exc:
        print(f"kan {args.file} niet lezen: {exc.strerror}")
        return EXIT_FAILED
    today = args.today or local_today(SystemClock().now())
    try:
        classification, route, memo, ruleset = evaluate(cfg, data, today)
    except ConfigError as exc:
        print_config_error(exc)
        return EXIT_CONFIG
    if args.json:
        print(json.dumps(as_json(classification, route, memo), ensure_ascii=False, indent=2))
        return EXIT_OK
    print_text(classification, route, memo)
    if args.explain and classification.alert is not None:
        print("\nRegels, in volgorde:")
        for verdict in ruleset.explain(classification.alert):
            print("  " + (verdict.render_nl() if hasattr(verdict, "render_nl") else str(verdict)))
    return EXIT_OK


def print_text(c: Classification, route: Route | None, memo: str | None) -> None:
    print(f"Soort bericht:     {_KIND_NL[c.kind]}")
    if c.reason:
        print(f"Reden:             {c.reason}")
    if c.auth is not None:
        print(
            f"Authenticatie:     {'vertrouwd' if c.auth.trusted else 'NIET vertrouwd'}"
            f" ({c.auth.reason})"
        )
    a = c.alert
    if a is not None:
        rows = [
            ("Meldingstype", a.alert_type.value),
            ("Verzoek-ID", a.request_id),
            ("Taal", a.language),
            ("Wetgevingsgebied", a.legislative_area),
            ("Verzoekende autoriteit", a.requesting_authority),
            ("Lidstaat", a.member_state),
            ("Activiteiten", "; ".join(a.service_activities) or None),
            ("Antwoorddatum", a.deadline.strftime("%d-%m-%Y") if a.deadline else None),
        ]
        for label, value in rows:
            print(f"{label + ':':<24}{value if value else '-'}")
    for problem in c.problems:
        print(f"Niet herkend:      {problem}")
    if route is not None and route.forward is not None:
        print(f"\nDoorsturen:        naar {route.forward.to}, via regel '{route.rule}'")
        print(f"Reden:             {route.forward.reason}")
        print("                   Geen taak in Corsa; de beheerders krijgen bericht dat zij het")
        print("                   verzoek in IMI moeten doorsturen.")
    elif route is not None:
        how = "standaardroute (geen regel paste)" if route.is_default else f"regel '{route.rule}'"
        print(f"\nTeam:              {route.team.name} (eenheid {route.team.org_unit}), via {how}")
        print(f"Vakgebied:         {route.field}")
    if memo is not None:
        print(f"\nMemo:\n{memo}")
