"""``imi-mailwatch calibrate``: from a partly recognised alert to an override that reads it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

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
    assert proposal["events"] == {"TYPE": {"subject": ["Verzoek {id} binnengekomen"]}}
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
