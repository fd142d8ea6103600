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
    """Whole words of an activity, disguised, still match the disguised activity."""
    parts = activity.split(" ")
    start = data.draw(st.integers(0, len(parts) - 1))
    end = data.draw(st.integers(start + 1, len(parts)))
    needle = " ".join(parts[start:end])
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
        if key == "activiteit_bevat":  # whole words
            return any(f" {value} " in f" {a} " for a in norm)
        return value in norm

    expected = next((name for name, key, value in rules if holds(key, value)), None)
    route = rs.route(alert)
    assert route.rule == expected
    assert route.is_default == (expected is None)
    chosen = [v.name for v in rs.explain(alert) if v.chosen]
    assert chosen == [expected or "standaard"]


# letters that RE2's ASCII \\b does not know; digits count as part of a word too
WORD_CHARS = "abeosz\u00f8\u00e6\u0142\u03b1\u0436" + "19"
word_texts = st.text(alphabet=WORD_CHARS, min_size=1, max_size=6)
separators = st.sampled_from([" ", "-", "/", ", ", " (", ") "])


@st.composite
def text_with_words(draw: st.DrawFn) -> str:
    words_ = draw(st.lists(word_texts, min_size=1, max_size=4))
    out = words_[0]
    for word in words_[1:]:
        out += draw(separators) + word
    return out


def inside_a_word_only(activity: str, needle: str) -> bool:
    """Oracle: ``needle`` occurs in ``activity``, but never with word edges on both sides."""
    hits = [i for i in range(len(activity)) if activity.startswith(needle, i)]
    return bool(hits) and all(
        (i > 0 and activity[i - 1].isalnum())
        or (i + len(needle) < len(activity) and activity[i + len(needle)].isalnum())
        for i in hits
    )


@settings(max_examples=150, deadline=None)
@given(data=st.data(), activity=text_with_words(), within=st.booleans())
def test_contains_never_matches_strictly_inside_a_word_unless_asked(
    data: st.DataObject, activity: str, within: bool
) -> None:
    """activiteit_bevat matches whole words only; 'ook_binnen_woord: ja' also matches inside one."""
    start = data.draw(st.integers(0, len(activity) - 1))
    end = data.draw(st.integers(start + 1, len(activity)))
    needle = activity[start:end].strip(" ,/()-")
    if not needle or needle != normalize(needle):
        return
    extra = ", ook_binnen_woord: ja" if within else ""
    lines = [
        "regels:",
        "  - naam: R",
        f"    als: {{activiteit_bevat: ['{needle}']{extra}}}",
        "    dan: {team: a, vakgebied: v}",
    ]
    rs = build_rules([(Path("t.yaml"), TEAMS), (Path("u.yaml"), "\n".join(lines).encode())])
    alert = Alert(AlertType.NEW_REQUEST, "1", service_activities=(activity,))
    matched = rs.route(alert).rule == "R"
    if within:
        assert matched  # the needle was cut from the activity
    else:
        assert matched == (not inside_a_word_only(activity, needle))


@given(st.text(max_size=30))
def test_normalize_is_idempotent(text: str) -> None:
    """normalize(normalize(x)) == normalize(x), and it has no upper case or accents left."""
    once = normalize(text)
    assert normalize(once) == once
    assert Facts.of(Alert(AlertType.NEW_REQUEST, "1", service_activities=(text,))).joined in (
        once,
        "",
    )
