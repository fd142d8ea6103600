"""A loaded, valid set of rules: route, explain, and check its own examples. Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from imi_mailwatch.model import Alert, AlertType, Module, Route, Team
from imi_mailwatch.rules.matching import (
    CompiledRule,
    DefaultRoute,
    Facts,
    RuleVerdict,
    explain_rules,
    first_match,
)
from imi_mailwatch.rules.schema import FORWARD as FORWARD_TEAM

ParseSample = Callable[[bytes], Alert | None]

DEFAULT_RULE_NAME = "standaard"


@dataclass(frozen=True, slots=True)
class Example:
    """An example from a rules file: an alert (or .eml bytes) and where it must go."""

    where: str  # "file:line:col: voorbeelden[2]"
    label: str  # its name, or a short description
    expected_team: str
    expected_rule: str | None  # a rule name, "standaard", or None (any rule)
    alert: Alert | None = None
    eml: bytes | None = None
    eml_name: str | None = None


@dataclass(frozen=True, slots=True)
class ExampleResult:
    example: Example
    ok: bool
    skipped: bool
    message: str  # Dutch, with the example's place

    def render_nl(self) -> str:
        return self.message


class RuleSet:
    """Valid rules in order, a default route, the teams and the examples."""

    def __init__(
        self,
        rules: Sequence[CompiledRule],
        default: DefaultRoute,
        *,
        teams: Mapping[str, Team],
        examples: Sequence[Example],
        fingerprint: str,
        files: Sequence[str],
    ) -> None:
        self._rules = tuple(rules)
        self._default = default
        self._teams = MappingProxyType(dict(teams))
        self._examples = tuple(examples)
        self._fingerprint = fingerprint
        self._files = tuple(files)

    def route(self, alert: Alert) -> Route:
        """The first matching rule's route, else the default route (``is_default``)."""
        rule = first_match(self._rules, Facts.of(alert))
        return rule.route if rule is not None else self._default.route

    def explain(self, alert: Alert) -> list[RuleVerdict]:
        """Every rule's verdict in order and why, then the default route's verdict."""
        return explain_rules(self._rules, self._default, Facts.of(alert))

    @property
    def teams(self) -> Mapping[str, Team]:
        return self._teams

    @property
    def fingerprint(self) -> str:
        """SHA-256 over the names and bytes of every file loaded."""
        return self._fingerprint

    @property
    def rules(self) -> tuple[CompiledRule, ...]:
        return self._rules

    @property
    def default_route(self) -> Route:
        return self._default.route

    @property
    def examples(self) -> tuple[Example, ...]:
        return self._examples

    @property
    def files(self) -> tuple[str, ...]:
        return self._files

    def check_examples(self, parse_sample: ParseSample | None = None) -> list[ExampleResult]:
        """Route every example and compare with what it expects.

        An example that names an .eml file is parsed with ``parse_sample``; without
        one it is skipped (and says so).
        """
        return [self._check(example, parse_sample) for example in self._examples]

    def _check(self, example: Example, parse_sample: ParseSample | None) -> ExampleResult:
        alert = example.alert
        if alert is None:
            if parse_sample is None:
                return ExampleResult(
                    example,
                    ok=True,
                    skipped=True,
                    message=f"{example.where}: overgeslagen: '{example.eml_name}' kan hier "
                    "niet worden gelezen (geen meldingslezer beschikbaar)",
                )
            alert = parse_sample(example.eml or b"")
            if alert is None:
                return ExampleResult(
                    example,
                    ok=False,
                    skipped=False,
                    message=f"{example.where}: het voorbeeldbericht '{example.eml_name}' wordt "
                    "niet als IMI-melding herkend",
                )
        route = self.route(alert)
        got_rule = route.rule if route.rule is not None else DEFAULT_RULE_NAME
        got_team = route_team(route)
        wrong: list[str] = []
        if got_team != example.expected_team:
            wrong.append(
                f"verwacht team '{example.expected_team}', maar het ging naar "
                f"{_where_to(route)} ({_by(route)})"
            )
        elif example.expected_rule is not None and got_rule != example.expected_rule:
            wrong.append(f"verwacht regel '{example.expected_rule}', maar {_by(route)} besliste")
        if wrong:
            return ExampleResult(
                example, ok=False, skipped=False, message=f"{example.where}: {'; '.join(wrong)}"
            )
        return ExampleResult(
            example,
            ok=True,
            skipped=False,
            message=f"{example.where}: goed: {example.label} -> {_where_to(route)} ({_by(route)})",
        )


def route_team(route: Route) -> str:
    """The team key a route ends at, or ``doorsturen`` for a request that leaves."""
    return FORWARD_TEAM if route.forward is not None else route.team.key


def _where_to(route: Route) -> str:
    if route.forward is not None:
        return f"doorsturen naar {route.forward.to}"
    return f"team '{route.team.key}'"


def _by(route: Route) -> str:
    return "de standaardroute" if route.is_default else f"regel '{route.rule}'"


def example_alert(
    activities: Sequence[str],
    alert_type: str,
    area: str | None,
    member_state: str | None,
    module: str = "services",
) -> Alert:
    """The synthetic alert an example describes."""
    return Alert(
        alert_type=AlertType(alert_type),
        request_id="voorbeeld",
        legislative_area=area,
        member_state=member_state,
        service_activities=tuple(activities),
        module=Module(module),
    )
