"""Files the daemon writes are private: 0600 files, 0700 directories, whatever the umask."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import SystemClock
from tests.service.helpers import ENVIRON, sample_maildir, write_config


def _under_umask_022(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imi_mailwatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **ENVIRON},
        check=False,
        preexec_fn=lambda: os.umask(0o022),  # the usual default umask of a login or image
    )


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.lstat().st_mode) for p in root.rglob("*")}


def test_files_and_directories_created_under_umask_022_are_private(tmp_path: Path) -> None:
    """Permission leak: drop folder, mail drop, state store and exports are 0600 (dirs 0700)."""
    sample_maildir(tmp_path)
    config = write_config(tmp_path)
    before = set(_modes(tmp_path))

    run = _under_umask_022("run", "--once", "-c", str(config), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    status = _under_umask_022("status", "--json", "-c", str(config), cwd=tmp_path)
    request_id = json.loads(status.stdout)["requests"][0]["request_id"]
    exported = _under_umask_022(
        "history", request_id, "--pdf", "h.pdf", "--csv", "h.csv", "-c", str(config), cwd=tmp_path
    )
    assert exported.returncode == 0, exported.stderr

    created = {
        name: mode
        for name, mode in _modes(tmp_path).items()
        # messages moved between Maildir folders keep the delivery agent's mode
        if name not in before and not (name.startswith("mailbox/") and "/cur/" in name)
    }
    assert any(name.startswith("corsa-drop/") and name.endswith(".pdf") for name in created)
    assert {"h.pdf", "h.csv", "state/state.sqlite3"} <= set(created)
    leaks = {
        name: oct(mode)
        for name, mode in created.items()
        if mode != (0o700 if (tmp_path / name).is_dir() else 0o600)
    }
    assert leaks == {}


def test_state_store_and_its_wal_and_shm_files_are_private(tmp_path: Path) -> None:
    """Permission leak: the state store, its -wal and -shm files and its folder, under umask 022."""
    old = os.umask(0o022)
    try:
        store = SqliteStateStore(tmp_path / "var" / "state.sqlite3", SystemClock())
        store.record_health("daemon", ok=True)
        names = ["var", "var/state.sqlite3", "var/state.sqlite3-wal", "var/state.sqlite3-shm"]
        modes = {name: oct(stat.S_IMODE((tmp_path / name).stat().st_mode)) for name in names}
        store.close()
    finally:
        os.umask(old)
    assert modes == {name: "0o700" if name == "var" else "0o600" for name in names}
