"""The status read-back as the daemon is wired (build_app, fake clock, the Corsa test
server on loopback): a document completed in Corsa stops that request's reminders and
the beheerders' mail about it goes out once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.app import App, build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir, sample_mailbox
from imi_mailwatch.config import config_from_data
from imi_mailwatch.records import Handling
from imi_mailwatch.testing.corsa_server import CorsaTestServer, start
from tests.privacy.helpers import config_data

from .conftest import ENVIRON

ID = "184777"  # a demo request of team milieu


@pytest.fixture
def server() -> Iterator[CorsaTestServer]:
    """A Corsa test server as documented, knowing every unit of the shipped rules."""
    srv, _url = start(profile="documented")
    try:
        yield srv
    finally:
        srv.stop()


def corsa_app(tmp: Path, server: CorsaTestServer, **corsa: object) -> App:
    """The daemon over the demo mailbox with the Corsa sink on the test server."""
    make_maildir(tmp / "mailbox", sample_mailbox(), start=1763280000)
    data = config_data(tmp)
    data["task_sink"] = {
        "kind": "corsa",
        "corsa": {
            "url": server.url,
            "username": "imi-mailwatch",
            "password": {"env": "CORSA_PASSWORD"},
            "license_key": {"env": "CORSA_LICENCE"},
            "timeout_seconds": 5,
            "retry_attempts": 1,
            **corsa,
        },
    }
    cfg = config_from_data(data, ENVIRON, base_dir=str(tmp))
    return build_app(cfg, clock=FakeClock(DEMO_NOW), notifier=InMemoryNotifier())


def test_the_daemon_stops_the_reminders_of_a_document_completed_in_corsa(
    tmp_path: Path, server: CorsaTestServer
) -> None:
    """With readback_minutes the daemon reads the documents back: completed in Corsa is
    BEANTWOORD (reminders stop), and the beheerders' mail about it is sent once."""
    app = corsa_app(tmp_path, server, readback_minutes=15)
    try:
        assert "corsa_readback" in [name for name, _ in app.daemon.periodic]
        app.daemon.run_once()
        request = app.store.get_request(ID)
        assert request is not None and request.task_ref is not None
        server.complete_document(request.task_ref, date(2026, 11, 20))
        assert isinstance(app.clock, FakeClock)
        for _ in range(3):
            app.clock.advance(timedelta(minutes=20))
            app.daemon.run_once()
        assert app.store.desk_state(ID).handled is Handling.ANSWERED
        assert not [
            f
            for f in app.store.followups_of(ID)
            if f["kind"] == "reminder" and f["status"] == "scheduled"
        ]
        assert isinstance(app.notifier, InMemoryNotifier)
        told = [m for m in app.notifier.sent if f".{ID}.corsa." in m.message_id]
        assert len(told) == 1 and told[0].to == ("a@example.org",)
        others = app.store.requests(open_only=True)
        assert all(app.store.desk_state(r.request_id).handled is None for r in others
                   if r.request_id != ID)  # fmt: skip
    finally:
        app.close()


def test_the_read_back_is_off_unless_configured(tmp_path: Path, server: CorsaTestServer) -> None:
    """Without readback_minutes no periodic read-back is wired (and Corsa is not read)."""
    app = corsa_app(tmp_path, server)
    try:
        assert "corsa_readback" not in [name for name, _ in app.daemon.periodic]
    finally:
        app.close()
