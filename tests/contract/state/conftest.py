"""One state store per adapter for the state contract suites.

Each suite runs over every adapter through the ``store`` fixture; a new
back-end (PostgreSQL) is one more entry in ``ADAPTERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from imi_mailwatch.adapters.memory_state import MemoryStateStore
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.ports import StateStore

START = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)

ADAPTERS: dict[str, Callable[[Path, FakeClock], StateStore]] = {
    "sqlite": lambda tmp, clock: SqliteStateStore(tmp / "state.sqlite3", clock),
    "memory": lambda tmp, clock: MemoryStateStore(clock),
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(params=sorted(ADAPTERS))
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[StateStore]:
    made = ADAPTERS[request.param](tmp_path, clock)
    try:
        yield made
    finally:
        close = getattr(made, "close", None)
        if close is not None:
            close()
