"""Matching: each condition kind, fields present only, first match wins, explain agrees."""

from __future__ import annotations

from pathlib import Path

import pytest

from imi_mailwatch.model import Alert, AlertType, ReminderStep
from imi_mailwatch.rules import RuleSet, load_rules, normalize
from tests.rules.conftest import TEAMS, WriteRules

RULES = """\
regels:
  - naam: Exceptioneel uit buurlanden
    als: {activiteit_bevat: exceptioneel, lidstaat: [BE, DE], meldingstype: [new_request]}
    dan:
      team: vervoer
      vakgebied: exceptioneel transport
      behandelaars: [vervoer.behandelaar@voorbeeld.nl]
      herinneringen:
        - {werkdagen: 1, aan: [team, escalatie], herhalen: ja}
        - {werkdagen: -3, aan: team}
  - naam: Beide beheer
    als: {activiteiten_alle: [Natuurbeheer, Faunabeheer]}
    dan: {team: natuur, vakgebied: natuur en fauna}
  - naam: Precies
    als: {activiteit_exact: "Flora"}
    dan: {team: natuur, vakgebied: flora}
  - naam: Een van
    als: {activiteit_een_van: [Jacht, Visserij]}
    dan: {team: natuur, vakgebied: jacht}
  - naam: Regex
    als: {activiteit_regex: '^wegvervoer\\b'}
    dan: {team: vervoer, vakgebied: wegvervoer}
  - naam: Gebied
    als: {wetgevingsgebied: [Diensten, Services]}
    dan: {team: vervoer, vakgebied: diensten}
  - naam: Vervoer
    als: {activiteit_bevat: [transport, vervoer]}
    dan: {team: vervoer, vakgebied: vervoer}
"""


@pytest.fixture
def ruleset(write_rules: WriteRules) -> RuleSet:
    return load_rules([write_rules(a=TEAMS, b=RULES)])


def alert(*activities: str, **kw: object) -> Alert:
    return Alert(
        alert_type=kw.pop("alert_type", AlertType.NEW_REQUEST),  # type: ignore[arg-type]
        request_id="100001",
        service_activities=activities,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("the_alert", "rule"),
    [
        (alert("Exceptioneel transport", member_state="BE"), "Exceptioneel uit buurlanden"),
        (alert("EXCEPTIONEEL transport", member_state="PL"), "Vervoer"),
        (
            alert("Exceptioneel transport", member_state="DE", alert_type=AlertType.FORWARDED),
            "Vervoer",
        ),
        (alert("Faunabeheer", "natuurbeheer"), "Beide beheer"),
        (alert("Natuurbeheer"), None),
        (alert("flóra"), "Precies"),
        (alert("Flora en fauna"), None),
        (alert("Visserij"), "Een van"),
        (alert("Wegvervoer van goederen"), "Regex"),
        (alert("Internationaal wegvervoer"), None),  # 'vervoer' is only part of a word
        (alert("Internationaal vervoer"), "Vervoer"),
        (alert(legislative_area="SERVICES"), "Gebied"),
        (alert("Transport routier"), "Vervoer"),
        (alert(), None),
        (alert(member_state="BE"), None),
    ],
)
def test_conditions_match_as_documented(
    ruleset: RuleSet, the_alert: Alert, rule: str | None
) -> None:
    """Each condition kind matches case- and accent-insensitively; None means the default."""
    route = ruleset.route(the_alert)
    assert route.rule == rule
    assert route.is_default == (rule is None)


def test_route_carries_team_field_handlers_and_own_schedule(ruleset: RuleSet) -> None:
    """A rule's handlers replace the team's; its schedule is sorted and translated."""
    route = ruleset.route(alert("Exceptioneel transport", member_state="DE"))
    assert route.team.key == "vervoer"
    assert route.team.org_unit == "VERV"
    assert route.team.handlers == ("vervoer.behandelaar@voorbeeld.nl",)
    assert route.field == "exceptioneel transport"
    assert route.schedule == (
        ReminderStep(offset=-3, recipients=("team",)),
        ReminderStep(offset=1, recipients=("team", "escalation"), repeat=True),
    )
    assert ruleset.route(alert("Transport")).schedule is None


def test_default_route_goes_to_the_beheerders_with_unknown_field(ruleset: RuleSet) -> None:
    """Nothing matches: the default team, no rule, a Dutch 'onbekend' field."""
    route = ruleset.route(alert("Uitvaartverzorging"))
    assert route.is_default and route.rule is None
    assert route.team.key == "icb"
    assert "onbekend" in route.field
    assert ruleset.teams["natuur"].handlers == ("behandelaar.natuur@voorbeeld.nl",)


def test_explain_gives_every_rule_in_order_and_the_default(ruleset: RuleSet) -> None:
    """explain lists each rule's verdict with Dutch reasons; the first match is chosen."""
    verdicts = ruleset.explain(alert("Wegvervoer", "Exceptioneel transport", member_state="PL"))
    assert [v.position for v in verdicts] == [1, 2, 3, 4, 5, 6, 7, 0]
    first = verdicts[0]
    assert not first.matched
    assert first.checks == (
        (True, "activiteit 'Exceptioneel transport' bevat 'exceptioneel'"),
        (True, "meldingstype is new_request"),
        (False, "lidstaat is PL, niet BE of DE"),
    )
    assert verdicts[4].chosen and verdicts[4].name == "Regex"
    assert verdicts[6].matched and not verdicts[6].chosen
    assert verdicts[-1].is_default and not verdicts[-1].chosen
    text = "\n".join(v.render_nl() for v in verdicts)
    assert "  5. Regex: GEKOZEN -> team vervoer" in text
    assert "  7. Vervoer: past ook, maar een eerdere regel ging voor" in text
    assert "       - lidstaat is PL, niet BE of DE" in text
    assert "b.yaml:2)" in text


def test_explain_says_when_the_alert_lacks_a_field(ruleset: RuleSet) -> None:
    """A follow-up alert without activities: every activity condition says so."""
    verdicts = ruleset.explain(alert(alert_type=AlertType.ALLOCATED))
    assert (False, "de melding noemt geen dienstverleningsactiviteiten") in verdicts[1].checks
    assert (False, "de melding noemt geen wetgevingsgebied") in verdicts[5].checks
    assert verdicts[-1].chosen
    assert "geen regel paste" in verdicts[-1].render_nl()


def test_route_and_explain_agree_on_the_chosen_rule(ruleset: RuleSet) -> None:
    """The chosen verdict of explain is the rule route picks."""
    for a in (alert("Visserij"), alert("Transport"), alert("x"), alert(member_state="BE")):
        chosen = [v for v in ruleset.explain(a) if v.chosen]
        assert len(chosen) == 1
        route = ruleset.route(a)
        assert chosen[0].name == (route.rule or "standaard")


def test_normalize_folds_case_accents_and_space() -> None:
    """normalize: casefold, strip accents, collapse white space."""
    assert normalize("  Élevage   de\tBÉTAIL ") == "elevage de betail"
    assert normalize("Straße") == "strasse"
    assert normalize("Ontgrondingen") == normalize("ONTGRONDINGEN")


def test_rules_from_several_files_merge_in_file_name_order(write_rules: WriteRules) -> None:
    """Files in a directory load in name order; a file given explicitly comes where given."""
    rule = (
        "regels:\n  - naam: {}\n    als: {{activiteit_bevat: x}}\n"
        "    dan: {{team: {}, vakgebied: a}}\n"
    )
    one, two = rule.format("Eerst", "natuur"), rule.format("Later", "vervoer")
    d = write_rules(a_teams=TEAMS, b=one, c=two)
    ruleset = load_rules([d])
    assert [r.name for r in ruleset.rules] == ["Eerst", "Later"]
    assert [r.position for r in ruleset.rules] == [1, 2]
    assert ruleset.route(alert("x")).rule == "Eerst"
    swapped = load_rules([d / "a_teams.yaml", d / "c.yaml", d / "b.yaml"])
    assert swapped.route(alert("x")).rule == "Later"
    assert swapped.fingerprint != ruleset.fingerprint


def test_fingerprint_is_stable_for_the_same_content(write_rules: WriteRules) -> None:
    """Loading the same files twice gives the same fingerprint."""
    d = write_rules(a=TEAMS)
    assert load_rules([d]).fingerprint == load_rules([d]).fingerprint


def test_example_with_an_eml_file_uses_parse_sample(write_rules: WriteRules) -> None:
    """An example naming an .eml is parsed by parse_sample; skipped without one."""
    d = write_rules(
        a=TEAMS,
        b="""\
        regels:
          - naam: Natuur
            als: {activiteit_bevat: natuur}
            dan: {team: natuur, vakgebied: natuur}
        voorbeelden:
          - bericht: voorbeeld.eml
            verwacht_team: natuur
            verwacht_regel: natuur
        """,
    )
    (d / "voorbeeld.eml").write_bytes(b"Activiteit: Natuur en landschap\n")

    def parse(data: bytes) -> Alert | None:
        return alert(data.decode().split(": ")[1].strip()) if data.startswith(b"Act") else None

    ruleset = load_rules([d], parse_sample=parse)
    (result,) = ruleset.check_examples(parse)
    assert result.ok and not result.skipped
    (skipped,) = ruleset.check_examples(None)
    assert skipped.skipped and "overgeslagen" in skipped.message
    (d / "voorbeeld.eml").write_bytes(b"geen melding")
    with pytest.raises(Exception, match="kloppen niet") as info:
        load_rules([d], parse_sample=parse)
    assert "wordt niet als IMI-melding herkend" in str(info.value)


def test_missing_example_file_is_a_problem(write_rules: WriteRules) -> None:
    """An example naming a missing .eml is a placed validation problem."""
    d = write_rules(a=TEAMS, b="voorbeelden:\n  - bericht: weg.eml\n    verwacht_team: icb\n")
    with pytest.raises(Exception, match="kan het voorbeeldbericht niet lezen") as info:
        load_rules([d])
    assert "b.yaml:2:14: voorbeelden[0].bericht" in str(info.value)


def test_repository_root_is_not_needed(tmp_path: Path) -> None:
    """load_rules works on any path given (no reliance on the working directory)."""
    (tmp_path / "r.yaml").write_text(TEAMS, encoding="utf-8")
    assert load_rules([tmp_path / "r.yaml"]).default_route.team.key == "icb"
