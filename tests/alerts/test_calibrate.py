"""``imi-mailwatch calibrate``: from a partly recognised alert to an override that reads it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from imi_mailwatch.alerts.calibrate import guess_type
from imi_mailwatch.alerts.layouts import shipped_tables
from imi_mailwatch.model import AlertType

REPO = Path(__file__).resolve().parents[2]

ODD_ALERT = b"""\
Authentication-Results: mx.brabant.nl; dkim=pass header.d=ec.europa.eu;
 dmarc=pass header.from=ec.europa.eu
From: IMI Notifications <imi-notifications@ec.europa.eu>
To: imi@brabant.nl
Subject: IMI - Diensten - Verzoek 186001 binnengekomen
Date: Mon, 16 Nov 2026 09:12:00 +0100
Message-ID: <cal-1@imi.ec.europa.eu>
Content-Type: text/plain; charset=utf-8

Geachte IMI-gebruiker,

Verzoek-ID: 186001
Wetgevingsgebied: Diensten
Aanvragende instantie: Stadt Aachen
Lidstaat: Bondsrepubliek Duitsland
Activiteiten:
- Bouwactiviteiten
- Sloopwerkzaamheden
Uiterste datum: 14 maart 2027
"""


def calibrate(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imi_mailwatch", "calibrate", *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def proposal_from(output: str) -> str:
    """The YAML block the command proposes, as printed (indented by two spaces)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  language:"))
    block: list[str] = []
    for line in lines[start:]:
        if not line.strip():
            break
        block.append(line[2:])
    return "\n".join(block) + "\n"


def test_calibrate_shows_found_and_missing_and_proposes_entries(tmp_path: Path) -> None:
    """A partly recognised alert: found fields with their lines, missing ones, a proposal."""
    (tmp_path / "odd.eml").write_bytes(ODD_ALERT)
    done = calibrate(tmp_path, "odd.eml")
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert "Verzoek-ID:" in out and "186001" in out and "regel 3" in out
    assert "Meldingstype:" in out.split("Ontbreekt:")[1]
    assert "waarde op regel 6 is niet te lezen" in out
    proposal = yaml.safe_load(proposal_from(out))
    assert proposal["language"] == "nl"
    assert proposal["labels"] == {
        "requesting_authority": ["Aanvragende instantie"],
        "service_activities": ["Activiteiten"],
        "deadline": ["Uiterste datum"],
    }
    assert proposal["events"] == {"new_request": {"subject": ["Verzoek {id} binnengekomen"]}}
    assert proposal["member_states"] == {"Bondsrepubliek Duitsland": "XX"}


def test_the_proposal_once_filled_in_makes_the_alert_recognised(tmp_path: Path) -> None:
    """The proposal with TYPE and XX filled in, as an override file, reads every field."""
    (tmp_path / "odd.eml").write_bytes(ODD_ALERT)
    first = calibrate(tmp_path, "odd.eml")
    text = proposal_from(first.stdout).replace("TYPE", "new_request").replace("XX", "DE")
    (tmp_path / "layouts").mkdir()
    (tmp_path / "layouts" / "nl.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "cfg.yaml").write_text(
        f"alerts:\n  layouts_dir: layouts\nrules:\n  paths: ['{REPO / 'rules'}']\n",
        encoding="utf-8",
    )
    done = calibrate(tmp_path, "-c", "cfg.yaml", "odd.eml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Alles herkend" in done.stdout
    assert "new_request" in done.stdout and "2027-03-14" in done.stdout
    assert "Bouwactiviteiten; Sloopwerkzaamheden" in done.stdout

    route = subprocess.run(
        [sys.executable, "-m", "imi_mailwatch", "route", "-c", "cfg.yaml", "odd.eml", "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert '"member_state": "DE"' in route.stdout


def test_an_invalid_override_file_is_reported_with_its_line(tmp_path: Path) -> None:
    """A broken override table stops calibrate with exit 78 and names file, line and path."""
    (tmp_path / "odd.eml").write_bytes(ODD_ALERT)
    (tmp_path / "layouts").mkdir()
    (tmp_path / "layouts" / "nl.yaml").write_text(
        "labels:\n  deadline: [Termijn]\nmember_states:\n  Duitsland: Germany\n", encoding="utf-8"
    )
    (tmp_path / "cfg.yaml").write_text("alerts:\n  layouts_dir: layouts\n", encoding="utf-8")
    done = calibrate(tmp_path, "-c", "cfg.yaml", "odd.eml")
    assert done.returncode == 78
    assert "nl.yaml:4" in done.stderr and "member_states" in done.stderr


def test_a_fully_recognised_sample_needs_nothing() -> None:
    """A shipped sample is recognised completely: exit 0, no proposal."""
    done = calibrate(REPO, str(REPO / "tests" / "samples" / "de_new_request.eml"))
    assert done.returncode == 0, done.stdout
    assert "Alles herkend" in done.stdout and "Voorstel" not in done.stdout


def test_calibrate_proposes_the_type_of_an_unknown_subject(tmp_path: Path) -> None:
    """An alert whose subject no table knows: the proposal names its type, not TYPE."""
    odd = ODD_ALERT.replace(b"Verzoek 186001 binnengekomen", b"Verzoek 186001 is u toegewezen")
    (tmp_path / "odd.eml").write_bytes(odd)
    done = calibrate(tmp_path, "odd.eml")
    proposal = yaml.safe_load(proposal_from(done.stdout))
    assert proposal["events"] == {"allocated": {"subject": ["Verzoek {id} is u toegewezen"]}}
    assert "geraden" in done.stdout


@pytest.mark.parametrize(
    ("language", "alert_type", "phrase"),
    [
        (language, alert_type, phrase)
        for language, table in sorted(shipped_tables().items())
        for alert_type, phrases in sorted(table.events.items())
        for phrase in (*phrases.subject, *phrases.body)
    ],
)
def test_the_type_guess_names_every_shipped_phrase_right(
    language: str, alert_type: str, phrase: str
) -> None:
    """The guess for an unknown layout, tried on every known phrase, gives its own type."""
    guess = guess_type(phrase.replace("{id}", "186001"))
    assert guess is not None and guess.value == alert_type, (language, phrase)


@pytest.mark.parametrize(
    ("phrase", "alert_type"),
    [
        ("Verzoek {id} binnengekomen", AlertType.NEW_REQUEST),
        ("Request {id} has been assigned", AlertType.ALLOCATED),
        ("Anfrage {id} wurde abgeschlossen", AlertType.CLOSED),
        ("La demande {id} a été retirée", AlertType.WITHDRAWN),
        ("Antwoorddatum van {id} veranderd", AlertType.DEADLINE_CHANGED),
    ],
)
def test_the_type_guess_reads_phrases_no_table_has(phrase: str, alert_type: AlertType) -> None:
    """New wordings of known events are guessed from their words."""
    assert guess_type(phrase) is alert_type


def test_calibrate_shows_the_module_of_an_sdg_alert(tmp_path: Path) -> None:
    """An SDG alert: calibrate names its module (read from the legislative area), and does
    not miss service activities or a reply date, which an SDG alert need not carry."""
    sample = REPO / "tests" / "alerts" / "fixtures" / "sdg" / "nl_sdg_evidence_new_request.eml"
    done = calibrate(tmp_path, str(sample))
    assert "IMI-module:        sdg_evidence" in done.stdout
    assert done.returncode == 0, done.stdout
    assert "Alles herkend" in done.stdout
