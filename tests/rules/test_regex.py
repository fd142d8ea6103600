"""Rule regular expressions: linear-time matching (RE2), unsupported constructs refused."""

from __future__ import annotations

import pytest

from imi_mailwatch.errors import ConfigError
from imi_mailwatch.model import Alert, AlertType
from imi_mailwatch.rules import load_rules
from tests.rules.conftest import TEAMS, WriteRules

# Each is exponential for a backtracking engine on a long non-matching text.
CATASTROPHIC = [r"^(\w+\s?)+$", r"^(a+)+$", r"(a|aa)+$", r"^(\w|\w\w)*!$", r"(.*a){25}"]


def _rule(pattern: str) -> str:
    return (
        "regels:\n  - naam: Gevaarlijk\n    als:\n"
        f"      activiteit_regex: '{pattern}'\n    dan: {{team: natuur, vakgebied: x}}\n"
    )


@pytest.mark.timeout(120)  # a hang guard only: a backtracking engine never finishes here
@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_backtracking_pattern_routes_a_hostile_activity(
    write_rules: WriteRules, pattern: str
) -> None:
    """ReDoS: a pattern with nested quantifiers routes a 10,000-character activity and ends."""
    ruleset = load_rules([write_rules(a=TEAMS, b=_rule(pattern))])
    hostile = "a" * 10_000 + "!"  # almost matches: the worst case for backtracking
    route = ruleset.route(
        Alert(AlertType.NEW_REQUEST, "1", service_activities=(hostile, "a " * 5_000 + "!"))
    )
    assert route.team.key in {"natuur", "icb"}


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(sloop)\1", "verwijzingen terug zoals \\1 kunnen niet"),
        (r"bouw(?=werk)", "vooruit- of terugkijken"),
        (r"(?<!af)bouw", "vooruit- of terugkijken"),
        (r"(?P<w>a)(?P=w)", "worden niet ondersteund"),
        (r"a++", "twee herhalingstekens achter elkaar"),
    ],
)
def test_constructs_re2_cannot_run_are_refused_in_dutch_with_file_and_line(
    write_rules: WriteRules, pattern: str, reason: str
) -> None:
    """Backreferences and lookaround (backtracking-only constructs) are load errors, placed."""
    d = write_rules(a=TEAMS, b=_rule(pattern))
    with pytest.raises(ConfigError) as info:
        load_rules([d])
    (problem,) = info.value.problems
    assert problem.startswith(f"{d / 'b.yaml'}:4:")
    assert "ongeldige reguliere expressie" in problem
    assert reason in problem


def test_regex_matching_ignores_case_and_accents(write_rules: WriteRules) -> None:
    """A pattern written with capitals and accents matches the normalised activity."""
    ruleset = load_rules([write_rules(a=TEAMS, b=_rule(r"^SLOOPWÉRK\w*$"))])
    alert = Alert(AlertType.NEW_REQUEST, "1", service_activities=("Sloopwerkzaamheden",))
    assert ruleset.route(alert).rule == "Gevaarlijk"
