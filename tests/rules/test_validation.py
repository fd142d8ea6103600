"""Validation: every problem at once, in Dutch, with file:line:column, path and a suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from imi_mailwatch.errors import ConfigError
from imi_mailwatch.rules import load_rules
from tests.rules.conftest import TEAMS, WriteRules


def problems_of(paths: list[Path]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_rules(paths)
    return info.value.problems


BROKEN = """\
regels:
  - naam: Natuur
    als:
      activiteit_bevatt: natuur
      lidstaat: XX
      meldingstype: [new_reqest]
    dan:
      team: natuurr
      vakgebied: natuur
  - naam: natuur
    als: {}
    dan: {team: natuur, vakgebied: ""}
  - naam: Regex
    als:
      activiteit_regex: "(abc"
    dan: {team: vervoer, vakgebied: x}
voorbeelden:
  - activiteiten: [Natuurbeheer]
    verwacht_team: natur
    verwacht_regel: Regx
"""


def test_every_problem_is_reported_at_once_with_place_and_suggestion(
    write_rules: WriteRules,
) -> None:
    """A file with many mistakes yields one Dutch problem per mistake, each placed."""
    d = write_rules(a_teams=TEAMS, b_regels=BROKEN)
    f = str(d / "b_regels.yaml")
    assert problems_of([d]) == [
        f"{f}:4:7: regels[0].als.activiteit_bevatt: onbekende sleutel 'activiteit_bevatt' "
        "(bedoelde u 'activiteit_bevat'?)",
        f"{f}:5:17: regels[0].als.lidstaat[0]: onbekende lidstaatcode 'XX'; verwacht een "
        "code van twee letters zoals NL, BE, DE",
        f"{f}:6:22: regels[0].als.meldingstype[0]: onbekend meldingstype 'new_reqest' "
        "(bedoelde u 'new_request'?)",
        f"{f}:8:13: regels[0].dan.team: onbekend team 'natuurr' (bedoelde u 'natuur'?)",
        f"{f}:10:11: regels[1].naam: de regelnaam 'natuur' komt al voor in {f}:2:11; geef elke "
        "regel een eigen naam",
        f"{f}:11:10: regels[1].als: een regel zonder voorwaarden past op alles; noem minstens "
        "één van: activiteit_bevat, activiteit_een_van, activiteiten_alle, activiteit_exact, "
        "activiteit_regex, meldingstype, wetgevingsgebied, lidstaat, module (voor alles wat "
        "overblijft is er 'standaard')",
        f"{f}:12:36: regels[1].dan.vakgebied: mag niet leeg zijn",
        f"{f}:15:25: regels[2].als.activiteit_regex[0]: ongeldige reguliere expressie: er "
        "ontbreekt een ')' (bij teken 1)",
        f"{f}:19:20: voorbeelden[0].verwacht_team: onbekend team 'natur' (bedoelde u 'natuur'?)",
        f"{f}:20:21: voorbeelden[0].verwacht_regel: onbekende regel 'Regx' (bedoelde u 'Regex'?)",
    ]


def test_misspelt_key_in_a_team_gets_a_suggestion(write_rules: WriteRules) -> None:
    """A misspelt key under teams.<sleutel> is placed and suggested."""
    d = write_rules(a=TEAMS.replace("    mailbox: natuur@", "    mailbx: natuur@"))
    (problem,) = problems_of([d])
    assert problem.endswith(
        "teams.natuur.mailbx: onbekende sleutel 'mailbx' (bedoelde u 'mailbox'?)"
    )
    assert ":9:5: " in problem


def test_problems_of_several_files_are_reported_together(write_rules: WriteRules) -> None:
    """Problems in different files all come out, in file-name order."""
    d = write_rules(
        a=TEAMS + "regel: []\n",
        b="""\
        teams:
          natuur: {naam: Dubbel, organisatie_eenheid: X}
        standaard: {team: icb}
        """,
    )
    problems = problems_of([d])
    assert len(problems) == 3
    assert "a.yaml:16:1: regel: onbekende sleutel 'regel' (bedoelde u 'regels'?)" in problems[0]
    assert "b.yaml:2:3: teams.natuur: het team 'natuur' bestaat al in" in problems[1]
    assert "b.yaml:3:1: standaard: er mag maar één 'standaard' route zijn" in problems[2]


def test_missing_default_route_is_a_problem(write_rules: WriteRules) -> None:
    """Without a 'standaard' block the set is invalid and says what to add."""
    d = write_rules(a=TEAMS.replace("standaard:\n  team: icb\n", ""))
    (problem,) = problems_of([d])
    assert "standaard: er is geen 'standaard' route" in problem


def test_yaml_syntax_error_is_placed_in_dutch(write_rules: WriteRules) -> None:
    """A YAML syntax error carries its line and column and a Dutch lead-in."""
    d = write_rules(a=TEAMS + "regels:\n  - naam: [onaf\n")
    (problem,) = problems_of([d])
    assert "YAML-syntaxfout" in problem
    assert "a.yaml:18:" in problem or "a.yaml:17:" in problem


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("lidstaat: EL", "gebruik de ISO-code 'GR' in plaats van 'EL'"),
        ("lidstaat: UK", "'UK' is geen lidstaat van de EU/EER"),
        ("lidstaat: de", None),
        ("meldingstype: nieuw", "onbekend meldingstype 'nieuw'; kies uit: new_request"),
        ("activiteit_regex: '*x'", "er staat niets vóór *, + of ?"),
        ("activiteit_bevat: []", "mag niet leeg zijn"),
        ("activiteit_bevat: ['']", "mag niet leeg zijn"),
        ("activiteit_exact: [a, b]", "hier hoort tekst"),
    ],
)
def test_condition_values_are_checked(
    write_rules: WriteRules, snippet: str, expected: str | None
) -> None:
    """Member states, alert types, regular expressions and empty lists are validated."""
    d = write_rules(
        a=TEAMS,
        b=f"regels:\n  - naam: R\n    als:\n      {snippet}\n    dan: {{team: natuur, "
        "vakgebied: x}\n",
    )
    if expected is None:
        assert load_rules([d]).rules[0].name == "R"
        return
    problems = problems_of([d])
    assert any(expected in p and "b.yaml:4:" in p for p in problems), problems


def test_missing_path_and_empty_directory_are_problems(rules_dir: Path) -> None:
    """A path that does not exist, or a directory without .yaml, is reported."""
    problems = problems_of([rules_dir, rules_dir / "weg.yaml"])
    assert problems[0].endswith("deze map bevat geen .yaml-bestanden")
    assert problems[1].endswith("dit bestand of deze map bestaat niet")


def test_schedule_values_are_checked(write_rules: WriteRules) -> None:
    """Reminder steps need distinct days, known recipients and at most one repeat."""
    d = write_rules(
        a=TEAMS,
        b="""\
        regels:
          - naam: R
            als: {lidstaat: BE}
            dan:
              team: natuur
              vakgebied: x
              herinneringen:
                - {werkdagen: -2, aan: [teem]}
                - {werkdagen: -2, herhalen: misschien}
        """,
    )
    problems = problems_of([d])
    assert any("aan[0]: ongeldige waarde; verwacht: 'team'" in p for p in problems), problems
    assert any("herhalen: hier hoort ja/nee" in p for p in problems), problems


def test_a_failing_example_makes_the_set_invalid(write_rules: WriteRules) -> None:
    """load_rules refuses rules whose examples do not reach their team."""
    d = write_rules(
        a=TEAMS,
        b="""\
        regels:
          - naam: Natuur
            als: {activiteit_bevat: natuur}
            dan: {team: natuur, vakgebied: natuur}
        voorbeelden:
          - activiteiten: [Wegvervoer]
            verwacht_team: natuur
        """,
    )
    with pytest.raises(ConfigError) as info:
        load_rules([d])
    assert "kloppen niet" in str(info.value)
    (problem,) = info.value.problems
    assert "b.yaml:6:5: voorbeelden[0]: verwacht team 'natuur', maar het ging naar team " in problem
    assert "(de standaardroute)" in problem
    assert load_rules([d], check_examples=False).check_examples()[0].ok is False


FORWARD_MISTAKES = """\
regels:
  - naam: Zonder reden
    als: {activiteit_een_van: [A]}
    dan: {doorsturen: Omgevingsdienst}
  - naam: Allebei
    als: {activiteit_een_van: [B]}
    dan: {doorsturen: Omgevingsdienst, reden: r, team: natuur, vakgebied: v}
  - naam: Reden zonder doorsturen
    als: {activiteit_een_van: [C]}
    dan: {team: natuur, vakgebied: v, reden: r}
  - naam: Niets
    als: {activiteit_een_van: [D]}
    dan: {behandelaars: [a@voorbeeld.nl]}
  - naam: Optie zonder bevat
    als: {activiteit_een_van: [E], ook_binnen_woord: ja}
    dan: {team: natuur, vakgebied: v}
"""


def test_forward_rules_and_the_infix_option_are_checked_in_dutch(
    write_rules: WriteRules,
) -> None:
    """doorsturen needs a reason and no team; ook_binnen_woord needs activiteit_bevat."""
    d = write_rules(a_teams=TEAMS, b_regels=FORWARD_MISTAKES)
    found = problems_of([d])
    assert len(found) == 5, found
    assert "regels[0].dan: bij 'doorsturen' hoort een 'reden'" in found[0]
    assert "regels[1].dan: een regel die doorstuurt, heeft geen team, vakgebied" in found[1]
    assert "regels[2].dan: 'reden' hoort bij 'doorsturen'" in found[2]
    assert "regels[3].dan: 'team' en 'vakgebied' ontbreken" in found[3]
    assert "regels[4].als: 'ook_binnen_woord' hoort bij 'activiteit_bevat'" in found[4]


def test_no_team_may_be_called_doorsturen(write_rules: WriteRules) -> None:
    """'doorsturen' is what an example expects of a forwarding rule, so no team has that key."""
    d = write_rules(a_teams=TEAMS, b="teams:\n  doorsturen: {naam: X, organisatie_eenheid: X}\n")
    (problem,) = problems_of([d])
    assert "'doorsturen' is geen teamnaam" in problem
