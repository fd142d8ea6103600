"""``imi-mailwatch route FILE.eml``: a dry run for one message that changes nothing.

It decides through the daemon's own path (``decide.decide_message``: classifier,
router, the request's lifecycle), reading the state store when there is one, so a
follow-up alert shows what the daemon will do to the request it already knows.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from imi_mailwatch.clock import AMSTERDAM, SystemClock
from imi_mailwatch.commands import EXIT_OK
from imi_mailwatch.commands.common import (
    JSON,
    MESSAGE_FILE,
    Subparsers,
    add_command,
    arg,
    load_message,
)
from imi_mailwatch.decide import (
    Decision,
    Outcome,
    TaskSettings,
    decide_message,
    module_settings,
    working_day_term,
)
from imi_mailwatch.lifecycle import Transition
from imi_mailwatch.model import Classification, MessageKind, RawMessage, Route
from imi_mailwatch.reading import make_reader, rules_paths, sample_parser
from imi_mailwatch.records import RequestRecord

_KIND_NL = {
    MessageKind.IMI_ALERT: "IMI-melding",
    MessageKind.NOT_IMI: "geen IMI-melding (wordt met rust gelaten)",
    MessageKind.REJECTED: "AFGEWEZEN: lijkt op IMI maar is niet echt (wordt nooit verwerkt)",
}


def register(subparsers: Subparsers) -> None:
    today = arg(
        "--today",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="count the memo's {dagen} from this date (default: today)",
    )
    explain = arg(
        "--explain", action="store_true", help="show every rule's verdict in order and why"
    )
    add_command(subparsers, "route", MESSAGE_FILE, today, JSON, explain, run=run)


@dataclass(frozen=True, slots=True)
class DryRun:
    """What the daemon would do with one message, from the one decision path."""

    classification: Classification
    decision: Decision
    route: Route | None  # set when the rules were consulted
    current: RequestRecord | None  # the request as this installation knows it
    ruleset: Any

    @property
    def request(self) -> RequestRecord | None:
        """The request after the message (the current one when nothing changes)."""
        return self.decision.recording.request or self.current

    def intents(self, action: str) -> list[Mapping[str, Any]]:
        return [i.payload for i in self.decision.recording.intents if i.action == action]

    @property
    def memo(self) -> str | None:
        created = self.intents("create_task")
        return str(created[0]["memo"]) if created else None

    @property
    def memo_lines(self) -> list[str]:
        return [str(p["line"]) for p in self.intents("annotate")]


class _NothingKnown:
    """The state of an installation that has not run yet: no request is known."""

    def get_request(self, request_id: str) -> RequestRecord | None:
        return None

    def alert_history(self, request_id: str) -> list[dict[str, Any]]:
        return []


def evaluate(cfg: Any, data: bytes, now: datetime) -> DryRun:
    """Classify, then decide exactly as the daemon's pipeline does (``decide_message``).

    The state store is read (never written) when it exists, so a follow-up alert
    shows what the daemon will do to the request it knows.
    """
    from imi_mailwatch.rules import load_rules

    reader = make_reader(cfg)
    classification = reader.classify(data)
    ruleset = load_rules(rules_paths(cfg), parse_sample=sample_parser(reader))
    texts_dir = cfg.resolve(cfg.texts.path)
    texts = None
    if texts_dir.is_dir():  # the beheerders' own memo.j2, as the daemon renders it
        from imi_mailwatch.texts import TextBook

        texts = TextBook(texts_dir)
    corsa = cfg.task_sink.corsa
    settings = TaskSettings(
        cfg.memo.template,
        tuple(cfg.beheerders),
        corsa.confidentiality if corsa else None,
        keep_raw_quarantine=False,
        texts=texts,
        modules=module_settings(cfg),
        term=working_day_term(cfg),
        functional_mailbox=cfg.functional_mailbox,
    )
    path = cfg.resolve(cfg.state.path)
    history: Any = _NothingKnown()
    store = None
    if path.is_file():
        from imi_mailwatch.adapters.sqlite_store import SqliteStateStore

        store = history = SqliteStateStore(path, SystemClock(), read_only=True)
    try:
        alert = classification.alert
        current = history.get_request(alert.request_id) if alert and alert.request_id else None
        decision, route = decide_message(
            RawMessage("route", "route", data), classification, history=history,
            router=ruleset, now=now, settings=settings,
        )  # fmt: skip
    finally:
        if store is not None:
            store.close()
    if cfg.routing.mode == "propose" and decision.outcome is Outcome.TASK_CREATED:
        decision = dataclasses.replace(decision, outcome=Outcome.TASK_HELD)  # as the pipeline
    return DryRun(classification, decision, route, current, ruleset)


def as_json(dry: DryRun) -> dict[str, Any]:
    c, route, request = dry.classification, dry.route, dry.request
    a = c.alert
    t = dry.decision.transition
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
        "module": a.module.value if a else None,
        "authentication": c.auth.reason if c.auth else None,
        "outcome": dry.decision.outcome.value,
        "request_known": dry.current is not None,
        "request_status": request.status.value if request else None,
        "request_deadline": request.deadline.isoformat() if request and request.deadline else None,
        "team": request.team_key if request else None,
        "team_name": request.team_name if request else None,
        "org_unit": request.org_unit if request else None,
        "rule": route.rule if route else (request.rule if request else None),
        "default_route": route.is_default if route else (request.is_default if request else None),
        "field": route.field if route else (request.field if request else None),
        "forward_to": route.forward.to if route and route.forward else None,
        "forward_reason": route.forward.reason if route and route.forward else None,
        "memo": dry.memo,
        "memo_lines": dry.memo_lines,
        "followups": _followups(t),
        "problems": list(c.problems),
    }


def _followups(t: Transition | None) -> str | None:
    """What happens to the request's follow-ups: replanned, closed, or nothing."""
    if t is None:
        return None
    if t.closed:
        return "closed"
    return "replanned" if t.replan else "unchanged"


def run(args: argparse.Namespace) -> int:
    loaded = load_message(args)
    if isinstance(loaded, int):
        return loaded
    cfg, data = loaded
    now = SystemClock().now()
    if args.today is not None:
        now = datetime.combine(args.today, now.astimezone(AMSTERDAM).timetz())
    dry = evaluate(cfg, data, now)
    if args.json:
        print(json.dumps(as_json(dry), ensure_ascii=False, indent=2))
        return EXIT_OK
    print_text(dry)
    alert = dry.classification.alert
    if args.explain and alert is not None:
        if dry.route is None and dry.current is not None:
            print("\nRegels: niet geraadpleegd; het verzoek is al bekend en houdt zijn team.")
        elif dry.route is None:
            print("\nRegels: niet geraadpleegd; pas de melding van het nieuwe verzoek telt.")
        else:
            print("\nRegels, in volgorde:")
            for verdict in dry.ruleset.explain(alert):
                print(
                    "  " + (verdict.render_nl() if hasattr(verdict, "render_nl") else str(verdict))
                )
    return EXIT_OK


_OUTCOME_NL = {
    Outcome.TASK_CREATED: "nieuw verzoek: er wordt een taak aangemaakt",
    Outcome.TASK_QUEUED: "nieuw verzoek: er wordt een taak aangemaakt",
    Outcome.TASK_HELD: "nieuw verzoek: de taak wacht op AKKOORD van een beheerder",
    Outcome.FORWARD: "doorsturen: geen taak, de beheerders krijgen bericht",
    Outcome.REQUEST_UPDATED: "het verzoek wordt vastgelegd of bijgewerkt (geen nieuwe taak)",
    Outcome.NOTED: "alleen vastgelegd; er verandert niets",
    Outcome.IGNORED: "met rust gelaten",
    Outcome.QUARANTINED: "quarantaine",
    Outcome.REJECTED: "afgewezen",
}
_FOLLOWUPS_NL = {
    "closed": "herinneringen vervallen (verzoek afgesloten of ingetrokken)",
    "replanned": "opnieuw gepland vanaf de antwoorddatum",
    "unchanged": "ongewijzigd",
}


def print_text(dry: DryRun) -> None:
    c, route = dry.classification, dry.route
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
            ("IMI-module", a.module.value),
            ("Verzoekende autoriteit", a.requesting_authority),
            ("Lidstaat", a.member_state),
            ("Activiteiten", "; ".join(a.service_activities) or None),
            ("Antwoorddatum", a.deadline.strftime("%d-%m-%Y") if a.deadline else None),
        ]
        for label, value in rows:
            print(f"{label + ':':<24}{value if value else '-'}")
    for problem in c.problems:
        print(f"Niet herkend:      {problem}")
    outcome = _OUTCOME_NL[dry.decision.outcome]
    if dry.decision.outcome is Outcome.REQUEST_UPDATED:
        outcome = (
            "het bestaande verzoek wordt bijgewerkt"
            if dry.current is not None
            else "het verzoek wordt vastgelegd (nog zonder taak)"
        )
    print(f"\nDe daemon:         {outcome}")
    _print_request(dry)
    if route is not None and route.forward is not None:
        print(f"\nDoorsturen:        naar {route.forward.to}, via regel '{route.rule}'")
        print(f"Reden:             {route.forward.reason}")
        print("                   Geen taak in Corsa; de beheerders krijgen bericht dat zij het")
        print("                   verzoek in IMI moeten doorsturen.")
    elif route is not None:
        how = "standaardroute (geen regel paste)" if route.is_default else f"regel '{route.rule}'"
        print(f"\nTeam:              {route.team.name} (eenheid {route.team.org_unit}), via {how}")
        print(f"Vakgebied:         {route.field}")
    if dry.memo is not None:
        print(f"\nMemo:\n{dry.memo}")
    if dry.memo_lines:
        print("\nMemoregels bij de taak:")
        for line in dry.memo_lines:
            print(f"  {line}")


def _print_request(dry: DryRun) -> None:
    alert, current, after = dry.classification.alert, dry.current, dry.request
    if alert is None or not alert.request_id or dry.decision.transition is None:
        return
    if current is None and after is not None and after.team_key is None and dry.route is None:
        print("Verzoek:           onbekend bij deze installatie; het wordt vastgelegd als")
        print("                   wachtend verzoek (zonder team en taak) tot de melding van")
        print("                   het nieuwe verzoek binnenkomt.")
    elif current is not None:
        team = current.team_name or "nog geen team (wachtend verzoek)"
        print(f"Verzoek:           bekend; team {team}")
        if after is not None and after.status is not current.status:
            print(f"Status:            {current.status.value} -> {after.status.value}")
        if after is not None and after.deadline != current.deadline:
            old = f"{current.deadline:%d-%m-%Y}" if current.deadline else "-"
            new = f"{after.deadline:%d-%m-%Y}" if after.deadline else "-"
            print(f"Antwoorddatum:     {old} -> {new}")
    followups = _followups(dry.decision.transition)
    if followups is not None:
        print(f"Opvolging:         {_FOLLOWUPS_NL[followups]}")
