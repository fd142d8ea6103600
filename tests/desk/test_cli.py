"""``imi-mailwatch verzoek``: the reply commands from a terminal (in-process, real store)."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest
import yaml

from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.cli import main
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.records import Handling
from tests.privacy.helpers import config_data, demo_app

ID = "184777"  # a demo request of team milieu


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    """The demo's state store (requests with reminders planned) and its configuration."""
    demo_app(tmp_path).close()
    path = tmp_path / "imi-mailwatch.yaml"
    path.write_text(yaml.safe_dump(config_data(tmp_path)), encoding="utf-8")
    return path


def _open_reminders(store: SqliteStateStore) -> list[dict[str, object]]:
    return [
        f
        for f in store.followups_of(ID)
        if f["kind"] == "reminder" and f["status"] in ("scheduled", "sending")
    ]


def test_beantwoord_from_the_cli_stops_reminders_and_shows_in_status_and_history(
    cfg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """verzoek beantwoord ID: exit 0, the Dutch result printed, reminders cancelled, and the
    action (who: cli:<user>, when) listed by status and history."""
    assert main(["verzoek", "beantwoord", ID, "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert f"IMI-verzoek {ID}: beantwoord in IMI vastgelegd" in out
    store = SqliteStateStore(cfg.parent / "state.sqlite3", _clock())
    try:
        assert store.desk_state(ID).handled is Handling.ANSWERED
        assert _open_reminders(store) == []
        (action,) = store.actions_of(ID)
        assert action.entry.actor == f"cli:{getpass.getuser()}" and action.entry.via == "cli"
    finally:
        store.close()
    assert main(["status", "-c", str(cfg)]) == 0
    status = capsys.readouterr().out
    assert f"BEANTWOORD door cli:{getpass.getuser()} via de opdrachtregel" in status
    assert main(["history", ID, "-c", str(cfg)]) == 0
    assert "BEANTWOORD door cli:" in capsys.readouterr().out


def test_pauze_with_a_bad_date_or_past_the_reply_date(
    cfg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed date is a usage error (2); a pause past the reply date is refused (1)
    with the explanation; nothing changes."""
    assert main(["verzoek", "pauze", ID, "32-13-2026", "-c", str(cfg)]) == 2
    assert "dd-mm-jjjj" in capsys.readouterr().out
    assert main(["verzoek", "pauze", ID, "31-12-2099", "-c", str(cfg)]) == 1
    assert "voorbij de antwoorddatum" in capsys.readouterr().out
    store = SqliteStateStore(cfg.parent / "state.sqlite3", _clock())
    try:
        assert store.desk_state(ID).paused_until is None
    finally:
        store.close()


def test_herrouteer_and_claim_from_the_cli(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """herrouteer moves the request to a team of the rules (a memo line queued, mails owed to
    both teams and the beheerders); an unknown team is refused; claim sets the claimer."""
    assert main(["verzoek", "herrouteer", ID, "Onbekend", "team", "-c", str(cfg)]) == 1
    assert "staat niet" in capsys.readouterr().out
    assert main(["verzoek", "herrouteer", ID, "Natuur,", "flora", "en", "fauna",
                 "-c", str(cfg)]) == 0  # fmt: skip
    assert "Natuur, flora en fauna" in capsys.readouterr().out
    assert main(["verzoek", "claim", ID, "collega@example.org", "-c", str(cfg)]) == 0
    store = SqliteStateStore(cfg.parent / "state.sqlite3", _clock())
    try:
        request = store.get_request(ID)
        assert request is not None and request.team_key == "natuur"
        assert store.desk_state(ID).claimer == "collega@example.org"
        assert any(r["action"] == "annotate" and r["request_id"] == ID
                   for r in store.outbox_rows())  # fmt: skip
        kinds = {m.message_id.split(".")[2] for m in store.desk_mails_of(ID)}
        assert {"confirm", "rerouteold", "reroutenew"} <= kinds
    finally:
        store.close()


def test_an_unknown_request_exits_1(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An id the store does not know: told in Dutch, exit code 1."""
    assert main(["verzoek", "aanvaard", "999999", "-c", str(cfg)]) == 1
    assert "niet bekend" in capsys.readouterr().out


def _clock() -> FakeClock:
    from imi_mailwatch.commands.demo import DEMO_NOW

    return FakeClock(DEMO_NOW)
