"""Helpers for the rules tests: write rules files into a temporary directory."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TEAMS = """\
teams:
  icb:
    naam: Team ICB
    organisatie_eenheid: ICB
    mailbox: icb@voorbeeld.nl
  natuur:
    naam: Natuur
    organisatie_eenheid: NAT
    mailbox: natuur@voorbeeld.nl
    behandelaars: [behandelaar.natuur@voorbeeld.nl]
  vervoer:
    naam: Vervoer
    organisatie_eenheid: VERV
standaard:
  team: icb
"""

WriteRules = Callable[..., Path]


@pytest.fixture
def rules_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="imi-rules-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def write_rules(rules_dir: Path) -> WriteRules:
    """write_rules(name=text, ...): dedented files in rules_dir; returns the directory."""

    def write(**files: str) -> Path:
        for name, text in files.items():
            (rules_dir / f"{name}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
        return rules_dir

    return write
