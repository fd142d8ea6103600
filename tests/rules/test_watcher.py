"""Live reload: a changed file is picked up; a broken one keeps the last good set, reported once."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.model import Alert, AlertType
from imi_mailwatch.rules import BrokenRules, RuleWatcher
from tests.rules.conftest import TEAMS, WriteRules

RULE = (
    "regels:\n  - naam: {name}\n    als: {{activiteit_bevat: natuur}}\n"
    "    dan: {{team: {team}, vakgebied: v}}\n"
)
NATURE = Alert(AlertType.NEW_REQUEST, "1", service_activities=("Natuur en landschap",))


def bump(path: Path) -> None:
    """Make sure the modification time moves even on a coarse file system."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_watcher_reloads_a_valid_change(write_rules: WriteRules) -> None:
    """After a valid edit, poll returns True and current() routes with the new rules."""
    d = write_rules(a=TEAMS, b=RULE.format(name="N", team="natuur"))
    clock = FakeClock()
    watcher = RuleWatcher([d], clock=clock)
    assert watcher.current().route(NATURE).team.key == "natuur"
    assert watcher.poll() is False  # nothing changed
    write_rules(b=RULE.format(name="N", team="vervoer"))
    bump(d / "b.yaml")
    with capture_logs() as logs:
        assert watcher.poll() is True
    assert watcher.current().route(NATURE).team.key == "vervoer"
    assert [e["event"] for e in logs] == ["rules.reloaded"]
    assert watcher.poll() is False


def test_broken_change_keeps_last_good_set_and_is_reported_once(write_rules: WriteRules) -> None:
    """A broken edit: last good rules stay, rules.reload_failed is logged, on_broken once."""
    d = write_rules(a=TEAMS, b=RULE.format(name="N", team="natuur"))
    reported: list[BrokenRules] = []
    watcher = RuleWatcher([d], on_broken=reported.append)
    good = watcher.current().fingerprint
    write_rules(b=RULE.format(name="N", team="natuurr"))
    bump(d / "b.yaml")
    with capture_logs() as logs:
        assert watcher.poll() is False
        assert watcher.poll() is False  # nothing new
        bump(d / "b.yaml")  # saved again, same broken content
        assert watcher.poll() is False
    assert watcher.current().fingerprint == good
    assert len(reported) == 1
    assert "onbekend team 'natuurr' (bedoelde u 'natuur'?)" in reported[0].error.problems[0]
    failed = [e for e in logs if e["event"] == "rules.reload_failed"]
    assert len(failed) == 2 and failed[0]["problems"] == 1
    # a different broken content is reported again; a fix is picked up
    write_rules(b=RULE.format(name="N", team="natur"))
    bump(d / "b.yaml")
    watcher.poll()
    assert len(reported) == 2
    write_rules(b=RULE.format(name="N", team="vervoer"))
    bump(d / "b.yaml")
    assert watcher.poll() is True
    assert watcher.current().route(NATURE).team.key == "vervoer"


def test_added_and_removed_files_are_noticed(write_rules: WriteRules) -> None:
    """A new file in the directory is merged in; removing it takes its rules away."""
    d = write_rules(a=TEAMS)
    watcher = RuleWatcher([d])
    assert watcher.current().route(NATURE).is_default
    write_rules(b=RULE.format(name="N", team="natuur"))
    assert watcher.poll() is True
    assert watcher.current().route(NATURE).team.key == "natuur"
    (d / "b.yaml").unlink()
    assert watcher.poll() is True
    assert watcher.current().route(NATURE).is_default


def test_touched_but_unchanged_file_is_no_reload(write_rules: WriteRules) -> None:
    """A new modification time with the same content does not reload."""
    d = write_rules(a=TEAMS)
    watcher = RuleWatcher([d])
    bump(d / "a.yaml")
    with capture_logs() as logs:
        assert watcher.poll() is False
    assert logs == []


def test_invalid_rules_at_start_raise(write_rules: WriteRules) -> None:
    """The watcher refuses to start on invalid rules."""
    d = write_rules(a=TEAMS.replace("team: icb", "team: icbb"))
    with pytest.raises(ConfigError, match="ongeldig"):
        RuleWatcher([d])


class MemoryArchive:
    """A RulesArchive in memory (the state store keeps the same two things)."""

    def __init__(self) -> None:
        self.files: list[tuple[str, bytes]] | None = None
        self.saves = 0

    def last_good_rules(self) -> list[tuple[str, bytes]] | None:
        return self.files

    def save_last_good_rules(self, fingerprint: str, files: Sequence[tuple[str, bytes]]) -> None:
        self.files = list(files)
        self.saves += 1


def test_valid_loads_are_kept_and_a_broken_start_runs_on_them(write_rules: WriteRules) -> None:
    """Each valid load is archived; broken files at start run on the archived set, reported."""
    d = write_rules(a=TEAMS, b=RULE.format(name="N", team="natuur"))
    archive = MemoryArchive()
    RuleWatcher([d], archive=archive)
    assert archive.files is not None and len(archive.files) == 2
    write_rules(b=RULE.format(name="N", team="natuurr"))
    reported: list[BrokenRules] = []
    watcher = RuleWatcher([d], archive=archive, on_broken=reported.append)
    assert watcher.current().route(NATURE).team.key == "natuur"
    status = watcher.status()
    assert status.from_store and status.broken is not None and not status.ok
    (event,) = reported
    assert event.at_start and "natuurr" in event.error.problems[0]
    # a fix clears the degraded state and is archived
    write_rules(b=RULE.format(name="N", team="vervoer"))
    bump(d / "b.yaml")
    assert watcher.poll() is True
    assert watcher.status().ok
    assert archive.files is not None and b"vervoer" in archive.files[1][1]


def test_archived_rules_this_version_rejects_do_not_start(write_rules: WriteRules) -> None:
    """Broken files and archived rules that no longer validate: the file's error is raised."""
    d = write_rules(a=TEAMS.replace("team: icb", "team: icbb"))
    archive = MemoryArchive()
    archive.files = [(str(d / "a.yaml"), b"teams: {}\n")]
    with pytest.raises(ConfigError) as info:
        RuleWatcher([d], archive=archive)
    assert "icbb" in "\n".join(info.value.problems)


def test_state_store_keeps_the_last_good_rules(tmp_path: Path) -> None:
    """The state store returns the kept files in order and replaces them on a new set."""
    store = SqliteStateStore(tmp_path / "state.sqlite3", FakeClock())
    assert store.last_good_rules() is None
    store.save_last_good_rules("f1", [("a.yaml", b"a"), ("b.yaml", b"\x00b")])
    store.save_last_good_rules("f1", [("ignored.yaml", b"")])  # same fingerprint: kept as is
    assert store.last_good_rules() == [("a.yaml", b"a"), ("b.yaml", b"\x00b")]
    store.save_last_good_rules("f2", [("c.yaml", b"c")])
    assert store.last_good_rules() == [("c.yaml", b"c")]
    store.close()
