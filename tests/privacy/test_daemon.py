"""End to end: the demo mailbox through the daemon, and its daily purge on a fake clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW
from imi_mailwatch.privacy.retention import PURGE_EVENT
from tests.privacy.helpers import demo_app, open_ids, rows_of


def test_daemon_purges_daily_and_leaves_open_requests(tmp_path: Path) -> None:
    """The daemon's periodic work runs the purge once a day; open requests stay as they are."""
    clock = FakeClock(DEMO_NOW)
    app = demo_app(tmp_path, clock, attach_history_on_close=True)
    try:
        store = app.store
        names = [name for name, _ in app.daemon.periodic]
        assert "privacy" in names and "history" in names
        still_open = open_ids(store)
        assert still_open
        before = rows_of(store, still_open)
        purges = store.query("SELECT id FROM audit WHERE action = ?", (PURGE_EVENT,))
        for _ in range(3):  # three days of periodic work
            clock.advance(timedelta(days=1))
            app.daemon.run_periodic()
            app.daemon.run_periodic()
        after = store.query("SELECT id FROM audit WHERE action = ?", (PURGE_EVENT,))
        assert len(after) - len(purges) == 3
        kept = rows_of(store, still_open)
        assert kept["requests"] == before["requests"] and kept["alerts"] == before["alerts"]
    finally:
        app.close()
