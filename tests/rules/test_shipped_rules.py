"""The shipped example rules in rules/ load, pass their own examples and route the samples."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from imi_mailwatch.model import Alert, AlertType
from imi_mailwatch.rules import load_rules

RULES = Path(__file__).resolve().parents[2] / "rules"

# The fields of the project's synthetic IMI samples (samples/expected.json), and the
# team a provincial desk would send each to.
SAMPLES: list[tuple[str, Alert, str]] = [
    (
        "nl_new_request",
        Alert(
            AlertType.NEW_REQUEST,
            "184523",
            member_state="DE",
            service_activities=("Bouwactiviteiten", "Sloopwerkzaamheden"),
            deadline=date(2026, 12, 14),
        ),
        "icb",  # building is no service the province registered for in IMI
    ),
    (
        "en_new_request",
        Alert(
            AlertType.NEW_REQUEST,
            "184777",
            member_state="PL",
            service_activities=("Waste collection and treatment", "Environmental consultancy"),
        ),
        "milieu",
    ),
    ("nl_allocated", Alert(AlertType.ALLOCATED, "184523"), "icb"),
    (
        "nl_forwarded",
        Alert(
            AlertType.FORWARDED,
            "185002",
            member_state="NL",
            service_activities=("Ontgrondingen", "Zand- en grindwinning"),
        ),
        "ontgrondingen",
    ),
    ("en_deadline_changed", Alert(AlertType.DEADLINE_CHANGED, "184777"), "icb"),
    ("nl_info_requested", Alert(AlertType.INFO_REQUESTED, "184523"), "icb"),
    ("nl_reply_received", Alert(AlertType.REPLY_RECEIVED, "183990"), "icb"),
    ("en_reminder", Alert(AlertType.REMINDER, "184777"), "icb"),
    ("nl_closed", Alert(AlertType.CLOSED, "184523"), "icb"),
    ("en_withdrawn", Alert(AlertType.WITHDRAWN, "185002"), "icb"),
    (
        "de_new_request",
        Alert(
            AlertType.NEW_REQUEST,
            "185110",
            member_state="DE",
            service_activities=("Bauleistungen",),
        ),
        "icb",
    ),
    (
        "fr_new_request",
        Alert(
            AlertType.NEW_REQUEST,
            "185201",
            member_state="FR",
            service_activities=("Transport routier de marchandises",),
        ),
        "icb",  # transport is outside the Services Directive (art. 2(2)(d))
    ),
    (
        "nl_new_request_outlook_forward",
        Alert(
            AlertType.NEW_REQUEST,
            "185300",
            member_state="BE",
            service_activities=("Natuurbeheer", "Faunabeheer"),
        ),
        "natuur",
    ),
    (
        "nl_new_request_html_cp1252",
        Alert(
            AlertType.NEW_REQUEST,
            "185412",
            member_state="BE",
            service_activities=("Wegvervoer", "Exceptioneel transport"),
        ),
        "icb",
    ),
]


def test_shipped_rules_load_and_their_examples_pass() -> None:
    """rules/ is a valid set whose every example reaches its team."""
    ruleset = load_rules([RULES])
    results = ruleset.check_examples()
    assert results, "the shipped rules carry examples"
    assert all(r.ok and not r.skipped for r in results), [r.message for r in results]


@pytest.mark.parametrize(("name", "alert", "team"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_shipped_rules_route_every_sample_sensibly(name: str, alert: Alert, team: str) -> None:
    """Each sample alert goes to its team; alerts without activities go to the beheerders."""
    route = load_rules([RULES]).route(alert)
    assert route.team.key == team
    assert route.is_default == (team == "icb")
    if route.is_default:
        assert route.rule is None
        assert "onbekend" in route.field
    else:
        assert route.rule and route.field


@pytest.mark.parametrize(
    "activity", ["Electronic signature services", "Conseil en carrière", "Taxidermie"]
)
def test_shipped_rules_do_not_misroute_on_part_of_a_word(activity: str) -> None:
    """Substring misroutes of the old examples ('nature' in 'signature') reach the beheerders."""
    route = load_rules([RULES]).route(
        Alert(AlertType.NEW_REQUEST, "1", service_activities=(activity,))
    )
    assert route.is_default, route.rule


def test_shipped_rules_use_exact_values_and_no_transport() -> None:
    """Every shipped rule matches on exact activities (or on an SDG module, whose alerts
    carry none); none is about transport."""
    ruleset = load_rules([RULES])
    for rule in ruleset.rules:
        kinds = {type(c).__name__ for c in rule.conditions}
        assert kinds in ({"ActivityOneOf"}, {"ModuleIn"}), (rule.name, kinds)
        assert "vervoer" not in rule.name.lower() and "transport" not in rule.name.lower()


def test_shipped_rules_files_announce_the_schema_and_say_they_are_an_example() -> None:
    """Every shipped rules file starts with the yaml-language-server $schema line."""
    for path in sorted(RULES.glob("*.yaml")):
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0] == "# yaml-language-server: $schema=schema.json", path
        assert any("VOORBEELD" in line for line in lines[:5]), path
