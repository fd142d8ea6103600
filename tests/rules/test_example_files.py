"""Example messages (``bericht:``): only bounded regular files inside the rules folder are read."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from imi_mailwatch.errors import ConfigError
from imi_mailwatch.rules import load_rules
from imi_mailwatch.rules.files import MAX_EXAMPLE_BYTES
from tests.rules.conftest import TEAMS, WriteRules


def _example(name: str) -> str:
    return f"voorbeelden:\n  - bericht: '{name}'\n    verwacht_team: icb\n"


def _problem(d: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_rules([d])
    (problem,) = info.value.problems
    assert problem.startswith(f"{d / 'b.yaml'}:2:14: voorbeelden[0].bericht: "), problem
    return problem


@pytest.fixture
def outside() -> Iterator[Path]:
    """A file outside the rules folder, standing in for /etc/passwd."""
    path = Path(tempfile.mkdtemp(prefix="imi-outside-"))
    (path / "geheim.eml").write_bytes(b"Activiteit: niet voor de regels\n")
    try:
        yield path / "geheim.eml"
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.timeout(60)  # a hang guard: reading /dev/zero without a bound never ends
def test_device_file_is_refused_not_read(write_rules: WriteRules) -> None:
    """Unbounded input: a device such as /dev/zero is not a regular file and is never read."""
    problem = _problem(write_rules(a=TEAMS, b=_example("/dev/zero")))
    assert "buiten de map met regels" in problem or "geen gewoon bestand" in problem


def test_fifo_inside_the_folder_is_refused(write_rules: WriteRules) -> None:
    """Blocking input: a named pipe in the rules folder is refused without opening it."""
    d = write_rules(a=TEAMS, b=_example("pijp.eml"))
    os.mkfifo(d / "pijp.eml")
    assert "geen gewoon bestand" in _problem(d)


def test_path_traversal_out_of_the_rules_folder_is_refused(
    write_rules: WriteRules, outside: Path
) -> None:
    """Path traversal: '../' and absolute names cannot reach files outside the rules folder."""
    d = write_rules(a=TEAMS, b="")
    relative = os.path.relpath(outside, d)
    for name in (relative, str(outside), "../../../../../../../../etc/passwd"):
        (d / "b.yaml").write_text(_example(name), encoding="utf-8")
        assert "buiten de map met regels" in _problem(d)


def test_symlink_escaping_the_rules_folder_is_refused(
    write_rules: WriteRules, outside: Path
) -> None:
    """Symlink escape: a link inside the folder that points outside it is refused."""
    d = write_rules(a=TEAMS, b=_example("link.eml"))
    (d / "link.eml").symlink_to(outside)
    assert "buiten de map met regels" in _problem(d)


def test_symlink_within_the_rules_folder_is_read(write_rules: WriteRules) -> None:
    """A link that stays inside the rules folder (a subfolder's file) is allowed."""
    d = write_rules(a=TEAMS, b=_example("link.eml"))
    (d / "berichten").mkdir()
    (d / "berichten" / "echt.eml").write_bytes(b"From: x\n\nx\n")
    (d / "link.eml").symlink_to(d / "berichten" / "echt.eml")
    (example,) = load_rules([d]).examples
    assert example.eml == b"From: x\n\nx\n"


def test_oversized_example_file_is_refused(write_rules: WriteRules) -> None:
    """Unbounded input: an example message larger than the limit is refused, not read."""
    d = write_rules(a=TEAMS, b=_example("groot.eml"))
    with (d / "groot.eml").open("wb") as fh:
        fh.truncate(MAX_EXAMPLE_BYTES + 1)  # sparse: no disk used
    assert "te groot" in _problem(d)
