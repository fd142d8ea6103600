"""A damaged or read-only state store stops the start with exit 78 and a message for ops."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.helpers import cli, sample_maildir, write_config

PAGE = 4096


def _state_after_one_pass(tmp_path: Path) -> tuple[Path, Path]:
    sample_maildir(tmp_path)
    config = write_config(tmp_path)
    first = cli("run", "--once", "-c", str(config), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    state = tmp_path / "state" / "state.sqlite3"
    assert not state.with_name("state.sqlite3-wal").exists()  # checkpointed on close
    return config, state


def test_a_corrupted_state_store_is_refused_at_start_with_exit_78(tmp_path: Path) -> None:
    """Storage corruption: pages overwritten on disk are found at start; the daemon refuses
    to run on them and points to the backup procedure instead of using them silently."""
    config, state = _state_after_one_pass(tmp_path)
    data = bytearray(state.read_bytes())
    pages = len(data) // PAGE
    assert pages > 4
    for page in range(2, pages, 2):  # every other page after the schema, header intact
        start = page * PAGE + 8
        data[start : start + 200] = bytes((i * 37 + page) % 256 for i in range(200))
    state.write_bytes(bytes(data))

    result = cli("run", "--once", "-c", str(config), cwd=tmp_path)
    assert result.returncode == 78, result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert "damaged" in message
    assert "docs/operations.md" in message and "backup" in message
    assert "Traceback" not in result.stderr


@contextlib.contextmanager
def _immutable(path: Path) -> Iterator[None]:
    """The file cannot be written, even by root (ext4's immutable attribute)."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"chattr +i not possible here: {made.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@contextlib.contextmanager
def _read_only_mount(folder: Path) -> Iterator[None]:
    """The folder is a read-only mount holding the store (a tmpfs remounted ro)."""
    saved = {p.name: p.read_bytes() for p in folder.iterdir()}
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    try:
        for name, data in saved.items():
            (folder / name).write_bytes(data)
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("how", ["immutable file", "read-only mount"])
def test_a_read_only_state_store_is_refused_at_start_with_exit_78(tmp_path: Path, how: str) -> None:
    """Read-only storage: the daemon says the store cannot be written and exits 78, no
    traceback (systemd does not restart a start that cannot succeed)."""
    config, state = _state_after_one_pass(tmp_path)
    guard = _immutable(state) if how == "immutable file" else _read_only_mount(state.parent)
    with guard:
        result = cli("run", "--once", "-c", str(config), cwd=tmp_path)
    assert result.returncode == 78, result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert "read-only" in message, message
    assert "docs/operations.md" in message
