"""``SqliteStateStore``: every state port on one SQLite file (standard library sqlite3, WAL).

One file holds everything the daemon must remember across restarts: the
messages it has seen and their outcome, the IMI requests it follows, the task
outbox, the follow-ups, the notices, the quarantine, per-folder cursors,
component health and an audit trail of every action. Each port lives in its own
module of this package; this class only puts them on one connection, so that
writes of several ports can share one transaction (``with store.transaction():``),
which is what makes "record, then acknowledge" safe.
"""

from __future__ import annotations

from imi_mailwatch.adapters.recording import commit_recording
from imi_mailwatch.adapters.sqlite.audit import SqliteAudit
from imi_mailwatch.adapters.sqlite.desk import SqliteDesk
from imi_mailwatch.adapters.sqlite.followups import SqliteFollowUps
from imi_mailwatch.adapters.sqlite.messages import SqliteMessages
from imi_mailwatch.adapters.sqlite.notices import SqliteNotices
from imi_mailwatch.adapters.sqlite.outbox import SqliteOutbox
from imi_mailwatch.adapters.sqlite.quarantine import SqliteQuarantine
from imi_mailwatch.adapters.sqlite.requests import SqliteRequests
from imi_mailwatch.adapters.sqlite.retention import SqliteRetention
from imi_mailwatch.adapters.sqlite.rules import SqliteRulesArchive
from imi_mailwatch.records import Recording


class SqliteStateStore(
    SqliteMessages,
    SqliteRequests,
    SqliteOutbox,
    SqliteFollowUps,
    SqliteNotices,
    SqliteQuarantine,
    SqliteAudit,
    SqliteRetention,
    SqliteRulesArchive,
    SqliteDesk,
):
    """The daemon's durable memory: implements every state port of ``ports``."""

    def commit(self, rec: Recording) -> int:
        return commit_recording(self, rec)
