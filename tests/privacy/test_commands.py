"""purge, history and quarantine as a beheerder runs them (in-process, real store)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.cli import main
from imi_mailwatch.privacy.quarantine import release
from tests.privacy.helpers import Desk, desk, dump


@pytest.fixture
def fed(tmp_path: Path) -> tuple[Desk, Path]:
    d = desk(tmp_path)
    d.feed("imi", "400001", "new_request", "2026-12-20")
    d.feed("forged", "400002", "new_request")
    d.feed("imi", "", "new_request")  # an alert without a request id: quarantined
    d.store.close()
    cfg = tmp_path / "imi-mailwatch.yaml"
    cfg.write_text(f"state:\n  path: {tmp_path / 'state.sqlite3'}\n", encoding="utf-8")
    return d, cfg


def test_history_command_prints_and_writes_pdf_and_csv(
    fed: tuple[Desk, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """history REQUEST_ID prints the trail and writes the PDF and CSV asked for."""
    _, cfg = fed
    pdf, table = tmp_path / "h.pdf", tmp_path / "h.csv"
    code = main(["history", "400001", "-c", str(cfg), "--pdf", str(pdf), "--csv", str(table)])
    out = capsys.readouterr().out
    assert code == 0
    assert "Taak aangemaakt" in out and "PDF opgeslagen" in out
    assert pdf.read_bytes().startswith(b"%PDF")
    assert table.read_text(encoding="utf-8").startswith("request_id,")


def test_history_of_an_unknown_request_exits_1(
    fed: tuple[Desk, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """An id the store does not know is told in Dutch, exit code 1."""
    _, cfg = fed
    assert main(["history", "999999", "-c", str(cfg)]) == 1
    assert "niet bekend" in capsys.readouterr().out


def test_purge_dry_run_json_changes_nothing(
    fed: tuple[Desk, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """purge --dry-run --json prints counts per category and leaves the store as it was."""
    d, cfg = fed
    before = _dump(d)
    assert main(["purge", "--dry-run", "--json", "-c", str(cfg)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dry_run"] is True and "requests_deleted" in data["counts"]
    assert _dump(d) == before


def _dump(d: Desk) -> list[tuple[str, list[tuple[Any, ...]]]]:
    store = SqliteStateStore(d.store.path, d.clock)
    try:
        return dump(store)
    finally:
        store.close()


def test_quarantine_list_show_resolve_release(
    fed: tuple[Desk, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The beheerder lists, looks at, releases and resolves items; Dutch messages."""
    _, cfg = fed
    assert main(["quarantine", "list", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "(2)" in out and "#1 afgewezen" in out and "#2 quarantaine" in out

    assert main(["quarantine", "show", "1", "-c", str(cfg)]) == 0
    assert "inhoud wordt niet getoond" in capsys.readouterr().out

    assert main(["quarantine", "release", "1", "-c", str(cfg)]) == 1  # rejected: never
    assert "niet vrijgegeven" in capsys.readouterr().out

    assert main(["quarantine", "-c", str(cfg), "release", "2"]) == 0
    assert "vrijgegeven" in capsys.readouterr().out

    assert main(["quarantine", "resolve", "1", "-c", str(cfg)]) == 0
    assert "opgelost" in capsys.readouterr().out
    assert main(["quarantine", "resolve", "1", "-c", str(cfg)]) == 0
    assert "al opgelost" in capsys.readouterr().out

    assert main(["quarantine", "list", "-c", str(cfg)]) == 0
    assert "(geen)" in capsys.readouterr().out
    assert main(["quarantine", "show", "9", "-c", str(cfg)]) == 1


def test_released_message_is_handled_again(tmp_path: Path) -> None:
    """After release the same message is no longer a duplicate: it is handled anew."""
    d = desk(tmp_path)
    d.feed("imi", "", "new_request")
    (item,) = d.store.quarantine()
    assert release(d.store, item.id) is not None
    assert d.store.query("SELECT count(*) AS n FROM messages")[0]["n"] == 0
    trail = d.store.query("SELECT action FROM audit WHERE action = 'quarantine.released'")
    assert len(trail) == 1
