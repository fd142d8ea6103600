"""One state store per adapter for the state contract suites.

Each suite runs over every adapter through the ``store`` fixture; a new
back-end is one more entry in ``ADAPTERS``. PostgreSQL runs on a private server
(tests/servers/postgres.py), a fresh database per test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imi_mailwatch.adapters.memory_state import MemoryStateStore
from imi_mailwatch.adapters.postgres import PostgresStateStore
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.ports import StateStore

START = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)

Make = Callable[[pytest.FixtureRequest, FakeClock], StateStore]


def _sqlite(request: pytest.FixtureRequest, clock: FakeClock) -> StateStore:
    tmp: Path = request.getfixturevalue("tmp_path")
    return SqliteStateStore(tmp / "state.sqlite3", clock)


def _postgres(request: pytest.FixtureRequest, clock: FakeClock) -> StateStore:
    """A fresh database on the session's PostgreSQL (skipped when it is not installed)."""
    return PostgresStateStore(request.getfixturevalue("postgres_url"), clock)


ADAPTERS: dict[str, Make] = {
    "sqlite": _sqlite,
    "memory": lambda _request, clock: MemoryStateStore(clock),
    "postgres": _postgres,
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(params=sorted(ADAPTERS))
def store(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[StateStore]:
    made = ADAPTERS[request.param](request, clock)
    try:
        yield made
    finally:
        close = getattr(made, "close", None)
        if close is not None:
            close()
