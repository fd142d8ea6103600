"""Layouts are data: the shipped tables are complete, and override files extend them."""

from __future__ import annotations

from pathlib import Path

import pytest

from imi_mailwatch.alerts import AlertReader, load_layouts
from imi_mailwatch.alerts.extract import match_subject
from imi_mailwatch.alerts.layouts import FIELD_NAMES, SHIPPED_LANGUAGES, shipped_tables
from imi_mailwatch.config import AlertsConfig, AuthenticationConfig
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.model import AlertType
from tests.alerts.mail import message


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_every_shipped_language_has_every_label_and_alert_type(language: str) -> None:
    """nl, en, de and fr: labels for each field, subject phrases with {id} for each type."""
    table = shipped_tables()[language]
    assert set(FIELD_NAMES) <= set(table.labels)
    wanted = {t.value for t in AlertType if t is not AlertType.UNKNOWN}
    assert set(table.events) == wanted
    for name, phrases in table.events.items():
        assert phrases.subject, name
        assert all("{id}" in p for p in phrases.subject), name
    assert len(table.member_states) >= 30
    assert set(table.months.values()) == set(range(1, 13))


def test_phrases_match_regardless_of_case_accents_and_spacing() -> None:
    """'VERZOEK  184523 DOORVERWEZEN NAAR COORDINATOR' is the referred phrase."""
    hit = match_subject("IMI - VERZOEK  184523 doorverwezen naar coordinator", load_layouts())
    assert hit is not None and hit.alert_type is AlertType.REFERRED
    assert hit.request_id == "184523"


def test_the_longest_phrase_wins() -> None:
    """'Verzoek {id} doorgestuurd naar uw autoriteit' beats a shorter phrase that also fits."""
    hit = match_subject("Verzoek 185002 doorgestuurd naar uw autoriteit", load_layouts())
    assert hit is not None and hit.alert_type is AlertType.FORWARDED


def _reader(folder: Path) -> AlertReader:
    return AlertReader(AuthenticationConfig(), AlertsConfig(layouts_dir=str(folder)))


def test_an_override_extends_a_shipped_language(tmp_path: Path) -> None:
    """An nl.yaml override adds a label and a phrase; the shipped ones keep working."""
    (tmp_path / "nl.yaml").write_text(
        "labels:\n  deadline: [Uiterste datum]\n"
        "events:\n  new_request:\n    subject: ['Verzoek {id} binnengekomen']\n",
        encoding="utf-8",
    )
    reader = _reader(tmp_path)
    body = "Verzoek-ID: 186001\nUiterste datum: 01-02-2027\n"
    c = reader.classify(message(body, subject="IMI - Diensten - Verzoek 186001 binnengekomen"))
    assert c.alert is not None and c.alert.alert_type is AlertType.NEW_REQUEST
    assert c.alert.deadline is not None and c.alert.deadline.isoformat() == "2027-02-01"
    sample = Path(__file__).parents[1] / "samples" / "nl_new_request.eml"
    assert reader.classify(sample.read_bytes()).alert is not None


def test_an_override_adds_a_language_and_can_replace_one(tmp_path: Path) -> None:
    """pt.yaml adds Portuguese; en.yaml with replace: true drops the shipped English."""
    (tmp_path / "pt.yaml").write_text(
        "labels:\n  request_id: [ID do pedido]\n  member_state: [Estado-Membro]\n"
        "events:\n  closed:\n    subject: ['Pedido {id} encerrado']\n"
        "member_states:\n  Alemanha: DE\n",
        encoding="utf-8",
    )
    (tmp_path / "en.yaml").write_text(
        "replace: true\nevents:\n  closed:\n    subject: ['Case {id} done']\n", encoding="utf-8"
    )
    layouts = _reader(tmp_path).layouts
    assert "pt" in layouts.names
    hit = match_subject("IMI - Pedido 184523 encerrado", layouts)
    assert hit is not None and (hit.language, hit.alert_type) == ("pt", AlertType.CLOSED)
    assert match_subject("IMI - Services - Request 184523 closed", layouts) is None
    en = layouts.get("en")
    assert en is not None and len(en.subject_phrases) == 1


def test_every_problem_of_every_override_file_is_reported(tmp_path: Path) -> None:
    """Bad keys, codes, months, patterns and placeholders: all reported, with file and line."""
    (tmp_path / "nl.yaml").write_text(
        "labels:\n  deadlin: [Termijn]\nmember_states:\n  Duitsland: Germany\n"
        "months:\n  smarch: 13\n",
        encoding="utf-8",
    )
    (tmp_path / "de.yaml").write_text(
        "request_id_pattern: '(\\d+'\nevents:\n  closed:\n    subject: ['Anfrage {nr}']\n",
        encoding="utf-8",
    )
    (tmp_path / "xx.yaml").write_text("language: fr\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        _reader(tmp_path)
    text = "\n".join(info.value.problems)
    assert "nl.yaml:2" in text and "deadlin" in text
    assert "nl.yaml:4" in text and "member_states" in text
    assert "months" in text
    assert "de.yaml" in text and "request_id_pattern" in text and "{nr}" in text
    assert "does not match the file name" in text


def test_a_missing_layouts_dir_is_a_configuration_error(tmp_path: Path) -> None:
    """A layouts_dir that does not exist stops the start with a clear error."""
    with pytest.raises(ConfigError, match="does not exist"):
        _reader(tmp_path / "nowhere")
