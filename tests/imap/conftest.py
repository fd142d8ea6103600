"""Fixtures for the IMAP adapter tests: a real Dovecot, an in-memory cursor store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from imi_mailwatch.adapters.imap import ImapMailSource
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import ImapConfig
from tests.servers.dovecot import DovecotServer, dovecot_available, dovecot_server

__all__ = ["dovecot_server"]


class MemoryCursorStore:
    """A ``ports.CursorStore`` in a dict (the daemon uses the SQLite store)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}
        self.writes = 0

    def get_cursor(self, source: str, folder: str) -> str | None:
        return self.values.get((source, folder))

    def set_cursor(self, source: str, folder: str, value: str) -> None:
        self.values[(source, folder)] = value
        self.writes += 1


def imap_config(server: DovecotServer, **overrides: Any) -> ImapConfig:
    """An imap block pointing at ``server`` (plain LOGIN unless overridden)."""
    data: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "security": "none",
        "username": server.user,
        "password": {"env": "IMAP_TEST_PASSWORD"},
        "timeout_seconds": 5,
        "first_start": "all",
        "idle_renew_seconds": 30,
        "poll_seconds": 1,
    }
    data.update(overrides)
    return ImapConfig.model_validate(
        data, context={"environ": {"IMAP_TEST_PASSWORD": server.password}}
    )


@pytest.fixture
def cursors() -> MemoryCursorStore:
    return MemoryCursorStore()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


SourceFactory = Callable[..., ImapMailSource]


@pytest.fixture
def make_source(
    dovecot_server: DovecotServer, cursors: MemoryCursorStore, clock: FakeClock
) -> Iterator[SourceFactory]:
    """Build ImapMailSources against the test server; all are closed afterwards."""
    made: list[ImapMailSource] = []

    def make(
        server: DovecotServer | None = None,
        *,
        name: str = "test",
        store: MemoryCursorStore | None = None,
        token_provider: Callable[[], str] | None = None,
        **overrides: Any,
    ) -> ImapMailSource:
        srv = server or dovecot_server
        src = ImapMailSource(
            name,
            imap_config(srv, **overrides),
            folder="INBOX",
            processed_folder="IMI/Verwerkt",
            quarantine_folder="IMI/Quarantaine",
            rejected_folder="IMI/Afgewezen",
            cursors=store or cursors,
            clock=clock,
            token_provider=token_provider,
        )
        made.append(src)
        return src

    yield make
    for src in made:
        src.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here needs Dovecot: skip them all, with the reason, when it is missing."""
    if dovecot_available():
        return
    skip = pytest.mark.skip(reason="Dovecot is not installed (apt-get install dovecot-imapd)")
    for item in items:
        if "tests/imap/" in str(item.fspath) and "dovecot" in item.keywords:
            item.add_marker(skip)
