"""Rules in a running daemon: health, mail and metric follow the rules in force and the file.

Two classes of fault: a state that never clears (health stuck after the fault is
undone) and a change that is silently dropped (a broken save the watcher had seen
before). And a broken rules file at a restart: the daemon runs on the last good
rules kept in the state store instead of stopping.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from imi_mailwatch import health, metrics
from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import App, build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir, sample_mailbox
from imi_mailwatch.config import config_from_data
from imi_mailwatch.errors import ConfigError

RULES = Path(__file__).resolve().parents[2] / "rules"
NEW_REQUESTS = {"184523", "184777", "185110", "185201", "185412", "185300", "185002"}


@pytest.fixture
def tmp() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="imi-rules-reload-"))
    make_maildir(path / "mailbox", sample_mailbox(), start=1763280000)
    shutil.copytree(RULES, path / "rules")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _app(tmp: Path, notifier: InMemoryNotifier, clock: FakeClock | None = None) -> App:
    data = {
        "state": {"path": str(tmp / "state.sqlite3")},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp / "mailbox")}],
        "rules": {"paths": [str(tmp / "rules")]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a@example.org"}],
        "service": {"health_listen": None},
    }
    cfg = config_from_data(data, {}, base_dir=str(tmp))
    return build_app(cfg, clock=clock or FakeClock(DEMO_NOW), sink=InMemoryTaskSink(),
                     notifier=notifier)  # fmt: skip


def _save(path: Path, text: str) -> None:
    """Save like an editor: new content and a modification time that surely moved."""
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def _rules_problems(app: App) -> list[str]:
    report = health.check(app.config, app.store, app.clock.now())
    return [p for p in report.problems if p.startswith("rules")]


def _rules_mails(notifier: InMemoryNotifier) -> list[str]:
    return [m.text for m in notifier.sent if "routeringsregels" in m.text]


def _failed_reloads() -> float:
    return (
        metrics.REGISTRY.get_sample_value("imi_mailwatch_rule_reloads_total", {"result": "failed"})
        or 0.0
    )


def test_restoring_the_previous_content_after_a_typo_clears_the_rules_health(tmp: Path) -> None:
    """Stuck state: a typo then the old content back makes rules health good again."""
    app = _app(tmp, InMemoryNotifier())
    regels = tmp / "rules" / "10-regels.yaml"
    good = regels.read_text(encoding="utf-8")
    _save(regels, good.replace("team: milieu", "team: milieuu", 1))
    app.daemon.run_periodic()
    assert _rules_problems(app) == [
        "rules: the rules files are invalid (the previous rules stay in force)"
    ]
    _save(regels, good)  # restored: the file is what is in force again
    app.daemon.run_periodic()
    assert _rules_problems(app) == []
    app.close()


def test_same_broken_content_saved_again_after_another_valid_save_is_reported(
    tmp: Path,
) -> None:
    """Dropped change: every broken save that differs from the rules in force is reported."""
    notifier = InMemoryNotifier()
    clock = FakeClock(DEMO_NOW)
    app = _app(tmp, notifier, clock)
    regels = tmp / "rules" / "10-regels.yaml"
    first = regels.read_text(encoding="utf-8")
    broken = first.replace("team: milieu", "team: milieuu", 1)
    second = first.replace("vakgebied:", "vakgebied: ", 1)  # valid, different content
    assert second != first
    failed_before = _failed_reloads()

    _save(regels, broken)
    app.daemon.run_periodic()
    assert len(_rules_mails(notifier)) == 1
    _save(regels, second)
    app.daemon.run_periodic()
    assert _rules_problems(app) == []

    _save(regels, broken)  # the same broken content as before, after another good save
    clock.advance(60)
    app.daemon.run_periodic()
    assert _rules_problems(app) == [
        "rules: the rules files are invalid (the previous rules stay in force)"
    ]
    mails = _rules_mails(notifier)
    assert len(mails) == 2, mails
    assert "bedoelde u 'milieu'" in mails[1]
    assert _failed_reloads() == failed_before + 2

    # saving the same broken content again while it is not in force: nothing new
    _save(regels, broken)
    app.daemon.run_periodic()
    assert len(_rules_mails(notifier)) == 2
    app.close()


def test_broken_rules_file_at_restart_runs_on_the_stored_last_good_rules(tmp: Path) -> None:
    """Start on a typo: the stored last good rules route; health degraded; told once."""
    _app(tmp, InMemoryNotifier()).close()  # a first start stores the good rules
    regels = tmp / "rules" / "10-regels.yaml"
    _save(regels, regels.read_text(encoding="utf-8").replace("team: milieu", "team: milieuu", 1))

    notifier = InMemoryNotifier()
    app = _app(tmp, notifier)  # does not raise
    assert _rules_problems(app) == [
        "rules: degraded: the rules files are invalid; running on the last good rules "
        "kept in the state store"
    ]
    app.daemon.run_once()
    assert {t.request_id for t in app.sink.tasks.values()} == NEW_REQUESTS  # type: ignore[attr-defined]
    app.daemon.run_periodic()
    (mail,) = _rules_mails(notifier)
    assert "laatst goedgekeurde regels" in mail
    assert "bedoelde u 'milieu'" in mail
    app.close()

    again = InMemoryNotifier()
    app = _app(tmp, again)  # restarted on the same broken file: not told twice
    app.daemon.run_periodic()
    assert _rules_mails(again) == []
    app.close()


def test_a_fix_after_a_start_on_stored_rules_makes_health_good(tmp: Path) -> None:
    """Degraded ends when the file is fixed, by restoring the stored content or another."""
    _app(tmp, InMemoryNotifier()).close()
    regels = tmp / "rules" / "10-regels.yaml"
    good = regels.read_text(encoding="utf-8")
    _save(regels, good.replace("team: milieu", "team: milieuu", 1))
    app = _app(tmp, InMemoryNotifier())
    assert _rules_problems(app)
    _save(regels, good)
    app.daemon.run_periodic()
    assert _rules_problems(app) == []
    app.close()


def test_broken_rules_file_without_stored_rules_refuses_to_start(tmp: Path) -> None:
    """No last good rules in the state store: a broken rules file still stops the start."""
    regels = tmp / "rules" / "10-regels.yaml"
    _save(regels, regels.read_text(encoding="utf-8").replace("team: milieu", "team: milieuu", 1))
    with pytest.raises(ConfigError, match="ongeldig"):
        _app(tmp, InMemoryNotifier())
