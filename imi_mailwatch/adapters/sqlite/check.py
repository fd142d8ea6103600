"""Is the state store fit for the daemon? Damaged and read-only files, said plainly.

The daemon checks its store once at start (:func:`check_usable`): a file that
fails SQLite's ``PRAGMA integrity_check`` is damaged and must be restored from a
backup, never used; a file the daemon cannot write stops the start too. Both
are ``StateError`` with a message for ops, so the start exits 78 (no restart
loop) instead of a traceback.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from imi_mailwatch.errors import StateError

RESTORE = "docs/operations.md, 'Back up and restore the state'"
TROUBLESHOOT = "docs/operations.md, 'Troubleshoot'"
_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_READONLY = {sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM}


def damaged(path: Path, detail: str) -> StateError:
    return StateError(
        f"state store {path} is damaged ({detail}): the daemon does not run on it. "
        f"Move the file and its -wal and -shm files aside and restore the last backup "
        f"(see {RESTORE})."
    )


def read_only(path: Path, detail: str) -> StateError:
    return StateError(
        f"state store {path} is read-only ({detail}): the daemon must write it. Mount the "
        f"state folder read-write and make the file the service user's (see {TROUBLESHOOT})."
    )


def _writable(path: Path) -> bool:
    targets = [path.parent, path] if path.exists() else [path.parent]
    return all(os.access(t, os.W_OK) for t in targets)


def explain(path: Path, exc: sqlite3.Error) -> StateError:
    """The StateError for an SQLite error met while opening or checking ``path``."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in _CORRUPT:
        return damaged(path, str(exc))
    if primary in _READONLY or (primary == sqlite3.SQLITE_CANTOPEN and not _writable(path)):
        return read_only(path, str(exc))
    return StateError(f"state store {path.name} is unusable: {exc}")


def check_usable(db: sqlite3.Connection, path: Path) -> None:
    """Raise StateError unless the store passes ``integrity_check`` and can be written."""
    try:
        rows = [str(r[0]) for r in db.execute("PRAGMA integrity_check(5)").fetchall()]
    except sqlite3.Error as exc:
        raise explain(path, exc) from None
    if rows != ["ok"]:
        first = " ".join(rows[0].split())[:200]
        raise damaged(path, f"integrity_check: {first}")
    try:
        db.execute("BEGIN IMMEDIATE")
        try:  # a real write, rolled back: only writing shows a read-only file
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            db.execute(f"PRAGMA user_version = {version}")
        finally:
            if db.in_transaction:
                db.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise explain(path, exc) from None
