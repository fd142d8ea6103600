"""One daemon per SQLite state file: an OS lock on ``STATE.lock`` beside the file.

Two daemons on one state file would both fetch, record and carry out the same
work. ``InstanceLock`` takes ``flock(LOCK_EX | LOCK_NB)`` on ``<state file>.lock``
(0600) for as long as the daemon runs and writes its pid there; a second daemon
finds the lock taken and stops with a StateError naming the holder. The kernel
lets go of the lock when the process ends, however it ends (a SIGKILL too), so a
stale lock file never blocks a restart. The commands that read or change the
state (status, outbox retry, purge) take no lock: they work beside a running
daemon as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from imi_mailwatch.adapters.private_files import private_dir
from imi_mailwatch.errors import StateError


class InstanceLock:
    """The lock of one state file; ``acquire`` it before opening the store to run."""

    def __init__(self, state_path: Path) -> None:
        self.state_path = state_path
        self.path = state_path.with_name(state_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise StateError when another process holds it.

        Where no lock file can be written (a read-only mount), it is locked read-only if
        it exists, else not at all: the store there cannot be written either, which the
        store's own check at start reports (exit 78).
        """
        try:
            private_dir(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            writable = True
        except OSError:
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                return
            writable = False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise StateError(
                f"another imi-mailwatch daemon (pid {holder}) runs on the state store "
                f"{self.state_path} (it holds {self.path.name}): one daemon per state file. "
                "Stop that one first, or give this one its own state.path."
            ) from None
        except BaseException:
            os.close(fd)
            raise
        if writable:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd

    def release(self) -> None:
        """Let go (the file stays: removing it would race with the next daemon's open)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
