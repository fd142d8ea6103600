"""A PostgreSQL outage is a state-store error: the message waits, it is never quarantined."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir, sample_mailbox
from imi_mailwatch.config import config_from_data
from imi_mailwatch.decide import Outcome
from imi_mailwatch.errors import StateError
from tests.servers.postgres import PostgresServer, postgres_bin

RULES = Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    """A PostgreSQL of this test's own, as the test stops and starts it."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql; make test-deps)")
    with PostgresServer() as own:
        yield own


def test_a_message_met_by_a_database_outage_waits_and_is_handled_after_it(
    server: PostgresServer,
) -> None:
    """Class: a lost database connection taken for a broken message. While PostgreSQL is
    down the pipeline raises StateError (the mailbox loop retries); afterwards the pool
    reconnects and the same message is handled, nothing quarantined."""
    tmp = Path(tempfile.mkdtemp(prefix="imi-pg-outage-"))
    make_maildir(tmp / "mailbox", sample_mailbox(), start=1763280000)
    data = {
        "state": {"url": server.new_database(), "connect_timeout_seconds": 2},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp / "mailbox")}],
        "rules": {"paths": [str(RULES)]},
        "service": {"health_listen": None},
    }
    app = build_app(
        config_from_data(data, {}, base_dir=str(tmp)),
        clock=FakeClock(DEMO_NOW),
        sink=InMemoryTaskSink(),
        notifier=InMemoryNotifier(),
    )
    try:
        source = app.sources[0]
        first = next(iter(source.fetch()))
        server.stop("fast")
        with pytest.raises(StateError):
            app.pipeline.handle(source, first)
        server.start()
        result = app.pipeline.handle(source, first)
        assert result.outcome is not Outcome.QUARANTINED
        assert app.store.quarantine() == []
        assert sum(app.store.message_counts().values()) == 1
    finally:
        app.close()
