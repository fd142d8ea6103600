"""One truth for the dry run and the daemon: ``route`` says what ``run`` then does.

For every message of the demo mailbox, in delivery order: the daemon has handled
the messages before it (real Maildir, SQLite state, rules of rules/); ``route
--json`` on the message, with that state, must say what the daemon records when
it handles the message next: outcome, the request's team and state, the new
task's memo and the memo lines added to an existing task.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import build_app
from imi_mailwatch.cli import main
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir, sample_mailbox
from imi_mailwatch.config import config_from_data
from tests.privacy.helpers import config_data

MAILBOX = sample_mailbox()


def test_route_json_names_the_module_of_an_sdg_alert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """route --json on an SDG alert: its module, the SDG rule and the module's memo."""
    sdg = Path(__file__).resolve().parents[1] / "alerts" / "fixtures" / "sdg"
    config = tmp_path / "imi-mailwatch.yaml"
    config.write_text(yaml.safe_dump(config_data(tmp_path)), encoding="utf-8")
    said = route_json(capsys, config, sdg / "en_sdg_exceptions_new_request.eml")
    assert said["module"] == "sdg_exceptions"
    assert said["rule"] == "SDG-uitzonderingen"
    assert "uitzonderingen op onlineprocedures" in said["memo"]


def route_json(capsys: pytest.CaptureFixture[str], config: Path, eml: Path) -> dict[str, Any]:
    capsys.readouterr()
    code = main(["route", "-c", str(config), "--json", "--today", f"{DEMO_NOW:%Y-%m-%d}",
                 str(eml)])  # fmt: skip
    assert code == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


@pytest.mark.parametrize("index", range(len(MAILBOX)), ids=[name for name, _ in MAILBOX])
def test_route_says_what_the_daemon_then_does(
    index: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """route --json on a message equals what the pipeline records for it, follow-ups too."""
    name, data = MAILBOX[index]
    data_cfg = config_data(tmp_path)
    config = tmp_path / "imi-mailwatch.yaml"
    config.write_text(yaml.safe_dump(data_cfg), encoding="utf-8")
    make_maildir(tmp_path / "mailbox", MAILBOX[:index], start=1763280000)
    sink = InMemoryTaskSink()
    cfg = config_from_data(data_cfg, {}, base_dir=str(tmp_path))
    app = build_app(cfg, clock=FakeClock(DEMO_NOW), sink=sink, notifier=InMemoryNotifier())
    try:
        first = app.daemon.run_once()
        eml = tmp_path / name
        eml.write_bytes(data)
        said = route_json(capsys, config, eml)
        memos_before = {ref: list(lines) for ref, lines in sink.memos.items()}
        (tmp_path / "mailbox" / "new" / f"{1763290000}.M0P0.{name[:-4]}").write_bytes(data)
        counts = {k: v - first.get(k, 0) for k, v in app.daemon.run_once().items()}
        counts = {k: v for k, v in counts.items() if v}
        assert counts == {said["outcome"]: 1}
        request_id = app.store.message_log()[-1]["request_id"]
        assert (said["request_id"] or None) == request_id
        request = app.store.get_request(request_id) if request_id else None
        assert said["request_status"] == (request.status.value if request else None)
        assert said["team"] == (request.team_key if request else None)
        assert said["request_deadline"] == (
            request.deadline.isoformat() if request and request.deadline else None
        )
        ref = sink.refs.get(request_id) if request_id else None
        new_task = ref is not None and ref.ref not in memos_before
        assert said["memo"] == (sink.memos[ref.ref][0] if new_task and ref else None)
        added = sink.memos[ref.ref][len(memos_before[ref.ref]) :] if ref and not new_task else []
        assert said["memo_lines"] == (sink.memos[ref.ref][1:] if new_task and ref else added)
    finally:
        app.close()
