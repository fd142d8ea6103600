"""The whole daemon over two IMAP mailboxes on a real Dovecot: one bad account stalls nothing."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.servers.dovecot import DovecotServer, server_folder

pytestmark = pytest.mark.dovecot

# The daemon needs the alert reader; without it there is nothing to run yet.
pytest.importorskip("imi_mailwatch.alerts", reason="the alert reader is not installed")

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink  # noqa: E402
from imi_mailwatch.app import App, build_app  # noqa: E402
from imi_mailwatch.clock import FakeClock  # noqa: E402
from imi_mailwatch.commands.demo import DEMO_NOW, sample_mailbox  # noqa: E402
from imi_mailwatch.config import config_from_data  # noqa: E402
from imi_mailwatch.daemon import RunState  # noqa: E402

RULES = Path(__file__).resolve().parents[2] / "rules"
WRONG = "not-the-password"
PATIENCE = 30.0  # only a hang takes longer than this


def _sample(name: str) -> bytes:
    return dict(sample_mailbox())[name]


def _imap(server: DovecotServer, env: str) -> dict[str, Any]:
    return server.imap_settings(env, timeout_seconds=5)


@pytest.fixture
def app(dovecot_server: DovecotServer) -> Iterator[App]:
    tmp = Path(tempfile.mkdtemp(prefix="imi-imap-daemon-"))
    data = {
        "state": {"path": str(tmp / "state.sqlite3")},
        "mailboxes": [
            {"name": "provincie", "kind": "imap", "imap": _imap(dovecot_server, "GOOD_PW")},
            {"name": "omgevingsdienst", "kind": "imap", "imap": _imap(dovecot_server, "BAD_PW")},
        ],
        "rules": {"paths": [str(RULES)]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a@example.org"}],
        "notify": {"kind": "drop_folder", "drop_folder": {"path": str(tmp / "outbox")}},
        "service": {"health_listen": None, "drain_seconds": 5},
    }
    environ = {"GOOD_PW": dovecot_server.password, "BAD_PW": WRONG}
    cfg = config_from_data(data, environ, base_dir=str(tmp))
    built = build_app(
        cfg, clock=FakeClock(DEMO_NOW), sink=InMemoryTaskSink(), notifier=InMemoryNotifier()
    )
    try:
        yield built
    finally:
        built.daemon.request_stop("test")
        built.close()


def _until(what: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if what():
            return True
        time.sleep(0.1)
    return False


def test_a_mailbox_with_a_wrong_password_never_stalls_the_other(
    dovecot_server: DovecotServer, app: App
) -> None:
    """The bad account is reported unhealthy and permanent; the good one goes on; no exit."""
    dovecot_server.append([_sample("10_nl_new_request.eml"), _sample("80_not_imi_newsletter.eml")])
    processed = server_folder("IMI/Verwerkt")

    def health() -> dict[str, Any]:
        return {h.component: h for h in app.store.health()}

    with capture_logs() as logs:
        runner = threading.Thread(target=app.daemon.run, daemon=True)
        runner.start()
        assert _until(lambda: "mailbox:omgevingsdienst" in health())
        assert _until(lambda: len(dovecot_server.folder_uids(processed)) == 1)
        # mail arriving after the other account failed is still handled (via IDLE)
        dovecot_server.append([_sample("15_en_new_request.eml")])
        assert _until(lambda: len(dovecot_server.folder_uids(processed)) == 2)
        assert app.daemon.state is RunState.RUNNING
        app.daemon.request_stop("test")
        runner.join(PATIENCE)
    assert not runner.is_alive()

    rows = health()
    assert rows["mailbox:provincie"].ok
    assert not rows["mailbox:omgevingsdienst"].ok
    assert rows["mailbox:omgevingsdienst"].error == "MailSourceRejectedError"
    failed = [e for e in logs if e["event"] == "mailbox.failed"]
    assert {e["source"] for e in failed} == {"omgevingsdienst"}
    assert all(e["permanent"] for e in failed)
    assert "authentication refused" in failed[0]["detail"]
    assert WRONG not in repr(logs)
    assert dovecot_server.user not in repr(failed)
    # nothing deleted: the newsletter stays, the two alerts sit in the processed folder
    assert len(dovecot_server.folder_uids("INBOX")) == 1
