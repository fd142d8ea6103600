"""The beheerders' names and contact details live in teksten/beheerders.yaml, not in ops."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from imi_mailwatch.config import Beheerder
from imi_mailwatch.memo import memo_context
from imi_mailwatch.texts import TextBook
from tests.dutch import problems_in

CONFIGURED = (Beheerder(name="O. Ops", email="ops@example.org"),)
OWN = """\
beheerders:
  - naam: J. de Vries
    email: J.deVries@example.org
    telefoon: 073 680 00 00
    rol: eerste
  - naam: P. Jansen
    email: p.jansen@example.org
    rol: reserve
"""


def _memo(book: TextBook) -> str:
    context = memo_context(
        field="milieu en afval",
        beheerders=CONFIGURED,
        today=date(2026, 11, 16),
        deadline=date(2026, 12, 14),
        request_id="184523",
        team="Team Milieu",
    )
    return book.render("memo", **context)


def _touch(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_texts_name_the_beheerders_of_the_teksten_folder(tmp_path: Path) -> None:
    """Contact line: beheerders.yaml wins over the ops configuration in memo and letters."""
    (tmp_path / "beheerders.yaml").write_text(OWN, encoding="utf-8")
    book = TextBook(tmp_path, beheerders=CONFIGURED)
    assert book.problems() == []
    assert [b.email for b in book.beheerders()] == ["j.devries@example.org", "p.jansen@example.org"]
    memo = _memo(book)
    assert "J. de Vries (eerste aanspreekpunt, j.devries@example.org, 073 680 00 00)" in memo
    assert "P. Jansen (backup, p.jansen@example.org)" in memo
    assert "O. Ops" not in memo
    letter = book.letter(
        "archiefcontrole",
        **{k: v for k, v in _sample("archiefcontrole").items() if k != "beheerders"},
    )
    assert "J. de Vries" in letter["notities"]
    assert problems_in(memo) == []


def test_without_the_file_the_configured_beheerders_are_named(tmp_path: Path) -> None:
    """Contact line: no beheerders.yaml keeps the configured beheerders (no missing line)."""
    book = TextBook(tmp_path, beheerders=CONFIGURED)
    assert "O. Ops (eerste aanspreekpunt, ops@example.org)" in _memo(book)
    assert book.beheerders() == CONFIGURED


def test_a_broken_beheerders_file_is_told_in_dutch_and_falls_back(tmp_path: Path) -> None:
    """Contact file errors: Dutch, with file and line; the configured beheerders stay in use."""
    path = tmp_path / "beheerders.yaml"
    path.write_text(OWN.replace("J.deVries@example.org", "geen-adres"), encoding="utf-8")
    told: list[list[str]] = []
    book = TextBook(tmp_path, beheerders=CONFIGURED, on_broken=told.append)
    rendered = [p.render() for p in book.problems()]
    assert rendered == [f"{path}:3: beheerders[0].email: geen e-mailadres (naam@domein)"]
    assert "O. Ops" in _memo(book)
    path.write_text(OWN, encoding="utf-8")
    _touch(path)
    assert "J. de Vries" in _memo(book)  # live reload
    assert book.problems() == []
    path.write_text("beheerders:\n\t- naam: X\n", encoding="utf-8")
    _touch(path)
    assert "O. Ops" in _memo(book)
    assert told and "beheerders.yaml:2" in told[-1][0]
    assert "tab" in told[-1][0].lower()


def _sample(name: str) -> dict[str, object]:
    from imi_mailwatch.texts import SPECS

    return dict(SPECS[name].sample)


def test_teksten_check_and_voorbeeld_know_the_new_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """teksten check names a broken beheerders.yaml; voorbeeld shows the beheerders' mails."""
    from imi_mailwatch.cli import main

    folder = tmp_path / "teksten"
    folder.mkdir()
    (folder / "beheerders.yaml").write_text("beheerders:\n  - naam: X\n", encoding="utf-8")
    config = tmp_path / "imi-mailwatch.yaml"
    config.write_text(f"state:\n  path: {tmp_path / 's.sqlite3'}\n", encoding="utf-8")
    assert main(["teksten", "check", str(folder), "-c", str(config)]) == 1
    out = capsys.readouterr().out
    assert "beheerders.yaml:2: beheerders[0].email: geen e-mailadres (naam@domein)" in out
    (folder / "beheerders.yaml").write_text(OWN, encoding="utf-8")
    assert main(["teksten", "check", str(folder), "-c", str(config)]) == 0
    assert "beheerders (uit beheerders.yaml): J. de Vries, P. Jansen" in capsys.readouterr().out
    for name in ("meldingen", "maandagoverzicht", "kwartaalrapport"):
        assert main(["teksten", "voorbeeld", name, "-c", str(config)]) == 0
        shown = capsys.readouterr().out
        assert "[onderwerp]" in shown and "[tekst]" in shown
        body = shown[shown.index("[onderwerp]") :]
        assert problems_in(body.replace("[", "").replace("]", "")) == [], body
    assert main(["teksten", "voorbeeld", "kwartaalrapport", "--verzoek", "1", "-c", str(config)])
    assert "gaat niet over één verzoek" in capsys.readouterr().out
