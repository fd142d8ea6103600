"""A follow-up before its new-request alert: a pending request, and the beheerders told
when the new-request alert stays away (through the real daemon, on a fake clock)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir
from imi_mailwatch.config import config_from_data
from tests.privacy.helpers import config_data

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def test_a_follow_up_alone_waits_and_the_beheerders_hear_after_a_day(tmp_path: Path) -> None:
    """No team, no task and no 'no rule matched' report; after a day one notice."""
    data = (SAMPLES / "nl_allocated.eml").read_bytes()
    make_maildir(tmp_path / "mailbox", [("allocated.eml", data)], start=1763280000)
    settings = {**config_data(tmp_path), "reports": {"overview": False}}  # DEMO_NOW: a Monday
    cfg = config_from_data(settings, {}, base_dir=str(tmp_path))
    clock = FakeClock(DEMO_NOW)
    sink, notifier = InMemoryTaskSink(), InMemoryNotifier()
    app = build_app(cfg, clock=clock, sink=sink, notifier=notifier)
    try:
        app.daemon.run_once()
        request = app.store.get_request("184523")
        assert request is not None and request.team_key is None and request.task_status is None
        assert sink.tasks == {}
        assert not any("184523" in m.text for m in notifier.sent)
        clock.advance(timedelta(days=1, hours=2))
        app.daemon.run_once()
        clock.advance(timedelta(hours=2))
        app.daemon.run_once()
        about = [m for m in notifier.sent if "184523" in m.text]
        assert len(about) == 1
        assert "nog geen melding van het nieuwe verzoek" in about[0].text
        assert "geen regel paste" not in about[0].text
    finally:
        app.close()
