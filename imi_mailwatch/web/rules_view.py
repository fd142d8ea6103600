"""The rules page: the rules in force, whether they are valid, their examples, a dry run.

The same code as ``rules check``/``rules test`` and ``route --explain``: the rules are
loaded with :func:`imi_mailwatch.rules.load_rules`, the examples checked with
``RuleSet.check_examples``, an uploaded message read and routed with
:func:`imi_mailwatch.commands.route.evaluate`. The page only shows; the rules files
stay the source, under the beheerders' version control.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from imi_mailwatch.config import Config
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.model import Alert, AlertType, MessageKind
from imi_mailwatch.rules import RuleSet, load_rules
from imi_mailwatch.web.app import Desk, error_page, for_users, render
from imi_mailwatch.web.auth import CSRF_FIELD, WebUser, csrf_ok

MAX_UPLOAD = 5 * 1024 * 1024


@dataclass
class RulesState:
    ruleset: RuleSet | None
    problems: list[str] = field(default_factory=list)  # Dutch, as `rules check` prints
    examples: list[tuple[bool, bool, str]] = field(default_factory=list)  # ok, skipped, text
    warnings: list[str] = field(default_factory=list)


@dataclass
class Trial:
    """The outcome of the dry run: the message read, every rule's verdict, the route."""

    facts: list[tuple[str, str]]
    verdicts: list[str]
    outcome: str
    problem: str | None = None


def state(cfg: Config) -> RulesState:
    """The rules in force and their checks (read from the files on every call)."""
    from imi_mailwatch.reading import make_reader, rules_paths, sample_parser
    from imi_mailwatch.rules.lint import warnings

    parse = sample_parser(make_reader(cfg))
    try:
        ruleset = load_rules(rules_paths(cfg), parse_sample=parse, check_examples=False)
    except ConfigError as exc:
        return RulesState(None, problems=list(exc.problems))
    results = ruleset.check_examples(parse)
    return RulesState(
        ruleset,
        examples=[(r.ok, r.skipped, r.message) for r in results],
        warnings=[w.render_nl() for w in warnings(ruleset, parse)],
    )


def _outcome(ruleset: RuleSet, alert: Alert) -> tuple[list[str], str]:
    verdicts = [v.render_nl() for v in ruleset.explain(alert)]
    route = ruleset.route(alert)
    if route.forward is not None:
        return verdicts, (
            f"Doorsturen naar {route.forward.to} via regel '{route.rule}' (geen "
            f"taak; de beheerders krijgen bericht); reden: {route.forward.reason}"
        )
    how = "de standaardroute" if route.is_default else f"regel '{route.rule}'"
    return (
        verdicts,
        f"Team '{route.team.key}' ({route.team.name}) via {how}; vakgebied: {route.field}",
    )


def trial_eml(cfg: Config, data: bytes, now: datetime) -> Trial:
    """An uploaded message through the reader and every rule (``route --explain``)."""
    from imi_mailwatch.commands.route import _KIND_NL, evaluate

    try:
        dry = evaluate(cfg, data, now)
    except ConfigError as exc:
        return Trial([], [], "", problem="De regels zijn ongeldig: " + "; ".join(exc.problems))
    classification, ruleset = dry.classification, dry.ruleset
    a = classification.alert
    facts = [("Soort bericht", _KIND_NL[classification.kind])]
    if classification.reason:
        facts.append(("Reden", classification.reason))
    if a is not None:
        facts += [
            ("Meldingstype", a.alert_type.value),
            ("Verzoek-ID", a.request_id or "-"),
            ("Lidstaat", a.member_state or "-"),
            ("Wetgevingsgebied", a.legislative_area or "-"),
            ("Activiteiten", "; ".join(a.service_activities) or "-"),
            ("Antwoorddatum", a.deadline.strftime("%d-%m-%Y") if a.deadline else "-"),
        ]
    if a is None or classification.kind is not MessageKind.IMI_ALERT:
        return Trial(facts, [], "Geen IMI-melding: er wordt niets gerouteerd.")
    verdicts, outcome = _outcome(ruleset, a)
    return Trial(facts, verdicts, outcome)


def trial_facts(ruleset: RuleSet, activities: list[str], member_state: str | None) -> Trial:
    """Pasted service activities (and a member state) through every rule (``rules test``)."""
    alert = Alert(
        alert_type=AlertType.NEW_REQUEST,
        request_id="proef",
        member_state=member_state.upper() if member_state else None,
        service_activities=tuple(activities),
    )
    verdicts, outcome = _outcome(ruleset, alert)
    facts = [
        ("Activiteiten", "; ".join(activities) or "-"),
        ("Lidstaat", alert.member_state or "-"),
    ]
    return Trial(facts, verdicts, outcome)


@for_users
async def dry_run(request: Request, user: WebUser, desk: Desk) -> Response:
    """POST /regels/proef: the dry run (changes nothing, so a lezer may use it too)."""
    form = await request.form(max_part_size=MAX_UPLOAD)
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        return error_page(
            request, 403, "Geweigerd", "Dit formulier is verlopen of kwam niet van de IMI-desk."
        )
    current = state(desk.cfg)
    upload: Any = form.get("bericht")
    data = await upload.read() if upload is not None and hasattr(upload, "read") else b""
    activities = [
        line.strip() for line in str(form.get("activiteiten") or "").splitlines() if line.strip()
    ]
    member_state = str(form.get("lidstaat") or "").strip() or None
    if data:
        trial = trial_eml(desk.cfg, data, desk.store.now())
    elif current.ruleset is None:
        trial = Trial([], [], "", problem="De regels zijn ongeldig; los eerst de fouten op.")
    elif activities or member_state:
        trial = trial_facts(current.ruleset, activities, member_state)
    else:
        trial = Trial([], [], "", problem="Kies een .eml-bestand of vul activiteiten in.")
    return render(request, "rules.html.j2", title="Regels", state=current, trial=trial)
