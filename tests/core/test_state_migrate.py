"""`state migrate-to URL`: the SQLite state copied into an empty PostgreSQL, verified."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

import pytest

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.adapters.postgres import PostgresStateStore
from imi_mailwatch.adapters.postgres.copy import table_digest
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.app import build_app
from imi_mailwatch.cli import main
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir, sample_mailbox
from imi_mailwatch.config import config_from_data
from imi_mailwatch.model import Disposition, MessageKind
from imi_mailwatch.records import MessageEntry

RULES = Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture
def filled() -> Path:
    """A configuration whose SQLite state holds a run over the demo mailbox (every table)."""
    tmp = Path(tempfile.mkdtemp(prefix="imi-migrate-"))
    make_maildir(tmp / "mailbox", sample_mailbox(), start=1763280000)
    data = {
        "state": {"path": str(tmp / "state.sqlite3")},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp / "mailbox")}],
        "rules": {"paths": [str(RULES)]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a@example.org"}],
        "service": {"health_listen": None},
    }
    app = build_app(
        config_from_data(data, {}, base_dir=str(tmp)),
        clock=FakeClock(DEMO_NOW),
        sink=InMemoryTaskSink(),
        notifier=InMemoryNotifier(),
    )
    app.daemon.run_once()
    app.close()
    config = tmp / "imi-mailwatch.yaml"
    config.write_text(f"state:\n  path: {tmp / 'state.sqlite3'}\n", encoding="utf-8")
    return config


def _migrate(config: Path, url: str, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["state", "migrate-to", url, "-c", str(config), *extra])
    return code, out.getvalue(), err.getvalue()


def test_every_table_arrives_with_equal_counts_and_checksums(
    filled: Path, postgres_url: str
) -> None:
    """Each table of the SQLite state is in PostgreSQL with the same rows, and it works on."""
    code, out, err = _migrate(filled, postgres_url, "--json")
    assert code == 0, err
    report = {t["table"]: t for t in json.loads(out)["tables"]}
    source = SqliteStateStore(filled.parent / "state.sqlite3", FakeClock(), read_only=True)
    target = PostgresStateStore(postgres_url, FakeClock(DEMO_NOW))
    try:
        assert set(report) == set(source.table_names()) == set(target.table_names())
        assert report["messages"]["rows"] > 0 and report["quarantine"]["rows"] > 0
        for table in report:
            columns = sorted(source.column_names(table))
            here, there = table_digest(source, table, columns), table_digest(target, table, columns)
            assert here == there and here.rows == report[table]["rows"], table
        assert target.requests() == source.requests()
        raws = [(q.id, target.quarantine_raw(q.id)) for q in target.quarantine()]
        assert raws and raws == [(q.id, source.quarantine_raw(q.id)) for q in source.quarantine()]
        last = max(int(m["id"]) for m in source.query("SELECT id FROM messages"))
        entry = MessageEntry(
            source="imi", ref="new", message_id="<new@example.org>", content_hash="h-new",
            kind=MessageKind.NOT_IMI, disposition=Disposition.IGNORED,
        )  # fmt: skip
        with target.transaction():
            assert target.record_message(entry) == last + 1  # ids go on after the copied ones
    finally:
        source.close()
        target.close()


def test_the_commands_read_the_migrated_state_through_state_url(
    filled: Path, postgres_url: str
) -> None:
    """After migrate-to and state.url in the configuration, status reads PostgreSQL."""
    assert _migrate(filled, postgres_url)[0] == 0
    config = filled.parent / "pg.yaml"
    config.write_text(f"state:\n  url: {postgres_url}\n", encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["status", "--json", "-c", str(config)]) == 0
    assert "185110" in out.getvalue() and '"handled": 16' in out.getvalue()


def test_a_target_with_rows_is_refused_and_left_alone(filled: Path, postgres_url: str) -> None:
    """migrate-to fills an empty database only; a second run changes nothing."""
    assert _migrate(filled, postgres_url)[0] == 0
    target = PostgresStateStore(postgres_url, FakeClock())
    before = target.message_counts()
    target.close()
    code, _out, err = _migrate(filled, postgres_url)
    assert code == 1 and "not empty" in err and "messages" in err
    target = PostgresStateStore(postgres_url, FakeClock())
    assert target.message_counts() == before
    target.close()


def test_a_password_on_the_command_line_or_in_the_url_is_refused(filled: Path) -> None:
    """The target's password is read from --password-env/--password-file, never the URL."""
    code, _out, err = _migrate(filled, "postgresql://imi:pw-synthetic@127.0.0.1:9/imi")
    assert code == 78 and "state.password" in err and "pw-synthetic" not in err
