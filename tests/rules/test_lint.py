"""'rules check' warns about rules that may misroute silently: overlaps and infix matches."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imi_mailwatch.cli import main
from imi_mailwatch.rules import load_rules
from imi_mailwatch.rules.lint import warnings
from tests.rules.conftest import TEAMS, WriteRules

HERE = Path(__file__).resolve().parent
OLD = HERE / "oude_voorbeeldregels"  # the example rules as shipped before whole-word matching
SHIPPED = HERE.parents[1] / "rules"


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["rules", "check", *args])
    return code, capsys.readouterr().out


def test_old_example_rules_fail_loudly_and_warn_with_file_and_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The old rules relied on parts of words: their examples now fail, and overlaps are named."""
    code, out = _check(capsys, str(OLD))
    assert code == 1
    regels = f"{OLD / '10-regels.yaml'}"
    # 'bouwactiviteit' and 'natuur' were only parts of 'Bouwactiviteiten' and 'Natuurbeheer'
    assert out.count("FOUT ") == 3
    assert f"FOUT {regels}:88:5: voorbeelden[0]: verwacht team 'bouwen'" in out
    assert f"FOUT {regels}:111:5: voorbeelden[5]: verwacht team 'natuur'" in out
    warned = [line for line in out.splitlines() if line.startswith("WAARSCHUWING ")]
    assert len(warned) == 4, warned
    assert warned[0].startswith(
        f"WAARSCHUWING {regels}:11: regel 'Exceptioneel transport uit buurlanden': "
        "'exceptioneel transport' past ook op activiteit 'Exceptioneel transport' van "
        "voorbeeld 'exceptioneel transport uit Polen"
    )
    assert "dat bij regel 'Vervoer over de weg en openbaar vervoer' hoort" in warned[0]
    assert warned[1].startswith(
        f"WAARSCHUWING {regels}:61: regel 'Grondwater en water': /\\b(grond)?water/ past "
        "midden in een woord van activiteit 'Grondwateronttrekking'"
    )
    assert (
        "/\\bgroundwater/, /\\bwater (abstraction|supply)/, /\\bgrundwasser/ kunnen" in (warned[2])
    )
    assert warned[3].startswith(
        f"WAARSCHUWING {regels}:69: regel 'Vervoer over de weg en openbaar vervoer': "
        "'transport' past ook op activiteit 'Exceptioneel transport'"
    )
    assert "4 waarschuwing(en)" in out


def test_old_rules_with_their_old_infix_matching_pass_but_warn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With 'ook_binnen_woord: ja' (the old behaviour) the examples pass; check warns, exit 0."""
    old = tmp_path / "oud"
    shutil.copytree(OLD, old)
    regels = old / "10-regels.yaml"
    text = regels.read_text(encoding="utf-8")
    regels.write_text(
        text.replace(
            "      activiteit_bevat:", "      ook_binnen_woord: ja\n      activiteit_bevat:"
        ),
        encoding="utf-8",
    )
    code, out = _check(capsys, str(old))
    assert code == 0, out
    assert "FOUT" not in out
    assert "In orde, met waarschuwingen" in out and "--streng" in out
    assert (
        "regel 'Bouwen en slopen': 'bouwactiviteit' past midden in een woord van activiteit "
        "'Bouwactiviteiten'" in out
    )
    assert "'vervoer' past midden in een woord van activiteit 'Wegvervoer'" in out
    assert "'nature' in 'signature'" in out  # the unproven infix texts, one line per rule
    code, out = _check(capsys, "--streng", str(old))
    assert code == 1
    assert "Niet in orde (--streng)" in out


def test_shipped_rules_have_no_warnings_even_when_strict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The shipped example rules use exact values: nothing to warn about, --streng passes."""
    code, out = _check(capsys, "--streng", str(SHIPPED))
    assert code == 0, out
    assert "WAARSCHUWING" not in out and "0 waarschuwing(en)" in out


def test_a_rule_matching_another_rules_example_is_warned_about(write_rules: WriteRules) -> None:
    """A pattern of one rule that matches an example of another is named with file and line."""
    d = write_rules(
        a=TEAMS,
        b="""\
        regels:
          - naam: Natuur
            als: {activiteit_een_van: [Natuurbeheer]}
            dan: {team: natuur, vakgebied: natuur}
          - naam: Wegen
            als: {activiteit_regex: '^wegbeheer$'}
            dan: {team: vervoer, vakgebied: wegen}
          - naam: Beheer
            als: {activiteit_bevat: beheer, ook_binnen_woord: ja}
            dan: {team: vervoer, vakgebied: beheer}
        voorbeelden:
          - activiteiten: [Natuurbeheer]
            verwacht_team: natuur
          - activiteiten: [Wegbeheer]
            verwacht_team: vervoer
            verwacht_regel: Wegen
        """,
    )
    found = [w.render_nl() for w in warnings(load_rules([d]))]
    where = f"{d / 'b.yaml'}:8"
    assert found == [
        f"{where}: regel 'Beheer': 'beheer' past midden in een woord van activiteit "
        f"'Natuurbeheer' (voorbeeld 'Natuurbeheer', {d / 'b.yaml'}:12:5). Controleer dat dit "
        "de bedoeling is; een precieze waarde (activiteit_een_van) is veiliger.",
        f"{where}: regel 'Beheer': 'beheer' past ook op activiteit 'Natuurbeheer' van voorbeeld "
        f"'Natuurbeheer' ({d / 'b.yaml'}:12:5), dat bij regel 'Natuur' hoort. Alleen de "
        "volgorde van de regels beslist hier; maak de regel preciezer (bijv. "
        "activiteit_een_van).",
        f"{where}: regel 'Beheer': 'beheer' past ook op activiteit 'Wegbeheer' van voorbeeld "
        f"'Wegbeheer' ({d / 'b.yaml'}:14:5), dat bij regel 'Wegen' hoort. Alleen de volgorde "
        "van de regels beslist hier; maak de regel preciezer (bijv. activiteit_een_van).",
    ]
