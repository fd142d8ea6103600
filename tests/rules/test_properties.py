"""Property tests for matching: case/accent insensitivity, and the first matching rule wins."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from imi_mailwatch.model import Alert, AlertType
from imi_mailwatch.rules import RuleSet, build_rules, normalize
from imi_mailwatch.rules.matching import Facts

TEAMS = b"""\
teams:
  icb: {naam: ICB, organisatie_eenheid: ICB}
  a: {naam: A, organisatie_eenheid: A}
  b: {naam: B, organisatie_eenheid: B}
standaard: {team: icb}
"""

LETTERS = "abcdeinostuz"
ACCENTS = ["\u0301", "\u0300", "\u0308", "\u0302"]  # acute, grave, diaeresis, circumflex

words = st.text(alphabet=LETTERS, min_size=1, max_size=8)
phrases = st.lists(words, min_size=1, max_size=3).map(" ".join)


@st.composite
def disguised(draw: st.DrawFn, text: str) -> str:
    """``text`` with random upper case, accents and extra spaces: the same after normalize."""
    out = []
    for ch in text:
        if ch == " ":
            out.append(" " * draw(st.integers(1, 3)))
            continue
        shown = ch.upper() if draw(st.booleans()) else ch
        if draw(st.booleans()):
            shown = unicodedata.normalize("NFC", shown + draw(st.sampled_from(ACCENTS)))
        out.append(shown)
    return "".join(out)


def ruleset_of(rules: list[tuple[str, str, str]]) -> RuleSet:
    """rules: (name, condition key, value) -> a RuleSet, loaded from text like a file."""
    lines = ["regels:"]
    for index, (name, key, value) in enumerate(rules):
        team = "a" if index % 2 == 0 else "b"
        lines += [
            f"  - naam: '{name}'",
            f"    als: {{{key}: ['{value}']}}",
            f"    dan: {{team: {team}, vakgebied: v}}",
        ]
    return build_rules([(Path("t.yaml"), TEAMS), (Path("u.yaml"), "\n".join(lines).encode())])


@settings(max_examples=60, deadline=None)
@given(data=st.data(), activity=phrases)
def test_contains_ignores_case_accents_and_spacing(data: st.DataObject, activity: str) -> None:
    """A substring of an activity, disguised, still matches the disguised activity."""
    start = data.draw(st.integers(0, len(activity) - 1))
    end = data.draw(st.integers(start + 1, len(activity)))
    needle = activity[start:end].strip() or activity.strip()
    rs = ruleset_of([("R", "activiteit_bevat", data.draw(disguised(needle)))])
    alert = Alert(AlertType.NEW_REQUEST, "1",
                  service_activities=(data.draw(disguised(activity)),))  # fmt: skip
    assert rs.route(alert).rule == "R"


@settings(max_examples=60, deadline=None)
@given(data=st.data(), activity=phrases)
def test_exact_ignores_case_and_accents(data: st.DataObject, activity: str) -> None:
    """activiteit_exact matches the same text however it is capitalised or accented."""
    rs = ruleset_of([("R", "activiteit_een_van", data.draw(disguised(activity)))])
    alert = Alert(AlertType.NEW_REQUEST, "1",
                  service_activities=(data.draw(disguised(activity)),))  # fmt: skip
    assert rs.route(alert).rule == "R"


@settings(max_examples=80, deadline=None)
@given(
    needles=st.lists(st.tuples(st.sampled_from(["activiteit_bevat", "activiteit_een_van"]), words),
                     min_size=1, max_size=8),
    activities=st.lists(words, max_size=3),
)  # fmt: skip
def test_first_matching_rule_wins(needles: list[tuple[str, str]], activities: list[str]) -> None:
    """route picks the first rule, in file order, whose condition holds; else the default."""
    rules = [(f"r{i}", key, value) for i, (key, value) in enumerate(needles)]
    rs = ruleset_of(rules)
    alert = Alert(AlertType.NEW_REQUEST, "1", service_activities=tuple(activities))
    norm = [normalize(a) for a in activities]

    def holds(key: str, value: str) -> bool:
        if key == "activiteit_bevat":
            return any(value in a for a in norm)
        return value in norm

    expected = next((name for name, key, value in rules if holds(key, value)), None)
    route = rs.route(alert)
    assert route.rule == expected
    assert route.is_default == (expected is None)
    chosen = [v.name for v in rs.explain(alert) if v.chosen]
    assert chosen == [expected or "standaard"]


@given(st.text(max_size=30))
def test_normalize_is_idempotent(text: str) -> None:
    """normalize(normalize(x)) == normalize(x), and it has no upper case or accents left."""
    once = normalize(text)
    assert normalize(once) == once
    assert Facts.of(Alert(AlertType.NEW_REQUEST, "1", service_activities=(text,))).joined in (
        once,
        "",
    )
