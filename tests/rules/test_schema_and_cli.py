"""The JSON Schema is shipped up to date; the 'rules' command's output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imi_mailwatch.cli import main
from imi_mailwatch.commands.rules_cmd import schema_text
from tests.rules.conftest import TEAMS, WriteRules

SHIPPED = Path(__file__).resolve().parents[2] / "rules"


def test_shipped_schema_file_is_up_to_date() -> None:
    """rules/schema.json equals 'imi-mailwatch rules schema' (regenerate with -o)."""
    assert (SHIPPED / "schema.json").read_text(encoding="utf-8") == schema_text()


def test_schema_describes_the_vocabulary() -> None:
    """The schema forbids unknown keys and lists member states and alert types."""
    schema = json.loads(schema_text())
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"teams", "regels", "standaard", "voorbeelden"}
    cond = schema["$defs"]["Voorwaarden"]
    assert cond["additionalProperties"] is False
    assert "activiteit_bevat" in cond["properties"]
    text = json.dumps(schema)
    assert '"NL"' in text and '"new_request"' in text


def test_rules_check_ok_prints_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """'rules check rules/' on the shipped rules exits 0."""
    assert main(["rules", "check", str(SHIPPED)]) == 0
    assert "In orde." in capsys.readouterr().out


def test_rules_check_invalid_exits_78_with_dutch_problems(
    write_rules: WriteRules, capsys: pytest.CaptureFixture[str]
) -> None:
    """Invalid rules: exit 78 and every problem on stderr."""
    d = write_rules(a=TEAMS.replace("team: icb", "team: icbb"))
    assert main(["rules", "check", str(d)]) == 78
    err = capsys.readouterr().err
    assert "De routeringsregels zijn ongeldig (1 probleem)" in err
    assert "onbekend team 'icbb' (bedoelde u 'icb'?)" in err


def test_rules_test_failing_example_exits_1(
    write_rules: WriteRules, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failing example: exit 1, the failure marked FOUT."""
    d = write_rules(a=TEAMS, b="voorbeelden:\n  - activiteiten: [x]\n    verwacht_team: natuur\n")
    assert main(["rules", "test", str(d)]) == 1
    out = capsys.readouterr().out
    assert "FOUT" in out and "verwacht team 'natuur'" in out and "1 fout" in out


def test_rules_test_tries_one_alert(capsys: pytest.CaptureFixture[str]) -> None:
    """'rules test --activiteit' explains one made-up alert against every rule."""
    code = main(["rules", "test", str(SHIPPED), "--activiteit", "ZAND- EN GRÍNDWINNING",
                 "--lidstaat", "de"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "Ontgrondingen: GEKOZEN" in out
    assert "Uitkomst: team 'ontgrondingen'" in out


def test_rules_test_tries_an_sdg_module(capsys: pytest.CaptureFixture[str]) -> None:
    """'rules test --module sdg_evidence' routes a made-up SDG alert by its module."""
    assert main(["rules", "test", str(SHIPPED), "--module", "sdg_evidence"]) == 0
    out = capsys.readouterr().out
    assert "IMI-module is sdg_evidence" in out
    assert "via regel 'SDG-bewijsverificatie'" in out


def test_rules_schema_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    """'rules schema' prints the schema as JSON."""
    assert main(["rules", "schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "imi-mailwatch routeringsregels"


def test_rules_test_shows_a_forward(capsys: pytest.CaptureFixture[str]) -> None:
    """'rules test --activiteit' on a forwarding rule names the authority, not a team."""
    code = main(["rules", "test", str(SHIPPED), "--activiteit",
                 "Opslag en verwerking van gevaarlijke stoffen (Brzo)"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "Brzo-bedrijven naar de omgevingsdienst: GEKOZEN -> doorsturen naar" in out
    assert "Uitkomst: doorsturen naar Omgevingsdienst Zuidoost-Brabant (ODZOB)" in out
