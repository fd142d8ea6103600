"""``SqliteStateStore``: every state port on one SQLite file (standard library sqlite3, WAL).

One file holds everything the daemon must remember across restarts: the
messages it has seen and their outcome, the IMI requests it follows, the task
outbox, the follow-ups, the notices, the quarantine, per-folder cursors,
component health and an audit trail of every action. Each port lives in its own
module of this package; this class only puts them on one connection, so that
writes of several ports can share one transaction (``with store.transaction():``),
which is what makes "record, then acknowledge" safe. The port modules' SQL is
the engines' shared subset: ``adapters.postgres`` runs the same modules.
"""

from __future__ import annotations

from imi_mailwatch.adapters.sqlite.all_ports import SqlStatePorts
from imi_mailwatch.adapters.sqlite.base import SqliteBase


class SqliteStateStore(SqlStatePorts, SqliteBase):
    """The daemon's durable memory: implements every state port of ``ports``."""
