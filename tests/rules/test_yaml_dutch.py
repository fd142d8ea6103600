"""YAML syntax errors in a rules file come out in Dutch, placed, with the usual cause."""

from __future__ import annotations

import pytest

from imi_mailwatch.errors import ConfigError
from imi_mailwatch.rules import load_rules
from imi_mailwatch.yamlsource import load_yaml
from tests.dutch import english_in
from tests.rules.conftest import TEAMS, WriteRules

RULE = "regels:\n  - naam: Natuur\n    als:\n      activiteit_bevat: natuur\n"
LINE = TEAMS.count("\n") + 1  # the first line after the teams block ("regels:")

CASES = {
    # a tab where spaces belong, at the start of a line and inside the indentation
    "tab": (RULE + "\tdan:\n      team: natuur\n", LINE + 4, 1, "tab-teken"),
    "tab_inside": (RULE + "    dan:\n  \t  team: natuur\n", LINE + 5, None, "tab-teken"),
    # a key without its colon: shown on the key, not on the line after
    "missing_colon": (
        "regels:\n  - naam: Natuur\n    als\n    dan:\n      team: natuur\n",
        LINE + 2,
        5,
        "dubbele punt",
    ),
    # a key that lost its colon inside a block, found only at the next line's colon
    "missing_colon_in_block": (
        "regels:\n  - naam Natuur\n    dan:\n      team: natuur\n",
        LINE + 2,
        None,
        "dubbele punt",
    ),
    "indentation": (
        "regels:\n  - naam: Natuur\n    als:\n        activiteit_bevat: natuur\n"
        "      lidstaat: BE\n",
        LINE + 4,
        None,
        "inspringing",
    ),
    # an unclosed quote: shown where it opens
    "unclosed_quote": (
        'regels:\n  - naam: "Natuur\n    dan:\n      team: natuur\n',
        LINE + 1,
        11,
        "aanhalingsteken",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rules_syntax_error_is_dutch_with_place_and_cause(
    write_rules: WriteRules, case: str
) -> None:
    """Each usual cause (tab, colon, indentation, quote): Dutch, file:line:column, a hint."""
    snippet, line, column, hint = CASES[case]
    d = write_rules(a=TEAMS + snippet)
    with pytest.raises(ConfigError) as info:
        load_rules([d])
    (problem,) = info.value.problems
    assert "YAML-syntaxfout" in problem
    assert hint in problem, problem
    where = f"a.yaml:{line}:" + (f"{column}:" if column else "")
    assert where in problem, problem
    for english in ("found", "cannot", "token", "expected", "mapping", "scalar", "(document)"):
        assert english not in problem, problem
    assert english_in(problem.replace("a.yaml", "")) == [], problem


@pytest.mark.parametrize("loader", ["pure", "libyaml"])
def test_both_parsers_give_the_same_dutch_cause(
    monkeypatch: pytest.MonkeyPatch, loader: str
) -> None:
    """The pure-Python parser and libyaml word errors differently; the Dutch is the same."""
    import yaml

    from imi_mailwatch import yamlsource

    if loader == "libyaml" and not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML without libyaml")
    base = yaml.SafeLoader if loader == "pure" else yaml.CSafeLoader

    class Loader(base):  # type: ignore[misc,valid-type]
        yaml_implicit_resolvers = yamlsource._Yaml12Loader.yaml_implicit_resolvers

    monkeypatch.setattr(yamlsource, "_Yaml12Loader", Loader)
    for text, hint in (
        ("a:\n\tb: 1\n", "tab-teken"),
        ("a:\n  b: 1\n  \tc: 2\n", "tab-teken"),
        ("a:\n    b: 1\n  c: 2\n", "inspringing"),
        ("a: 'open\nb: 2\n", "aanhalingsteken"),
        ("a: 1\nb\nc: 2\n", "dubbele punt"),
        ("a: [1, 2\nb: 3\n", "haken"),
    ):
        (problem,) = load_yaml(text, "x.yaml", lang="nl").problems
        assert hint in problem.message, (text, problem.message)


def test_configuration_errors_for_ops_stay_english() -> None:
    """lang='en' (the ops configuration) keeps the parser's own English text."""
    (problem,) = load_yaml("a:\n\tb: 1\n", "c.yaml").problems
    assert problem.message.startswith("YAML syntax error: ")
