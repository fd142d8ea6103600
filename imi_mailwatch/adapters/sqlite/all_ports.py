"""Every state port's module on one class, for both engines: ``SqliteStateStore`` puts it
on an SQLite connection, ``PostgresStateStore`` on PostgreSQL. A port with a new module
is added here once (its SQL in the subset both engines share)."""

from __future__ import annotations

from imi_mailwatch.adapters.recording import commit_recording
from imi_mailwatch.adapters.sqlite.audit import SqliteAudit
from imi_mailwatch.adapters.sqlite.desk import SqliteDesk
from imi_mailwatch.adapters.sqlite.followups import SqliteFollowUps
from imi_mailwatch.adapters.sqlite.mailings import SqliteMailings
from imi_mailwatch.adapters.sqlite.messages import SqliteMessages
from imi_mailwatch.adapters.sqlite.notices import SqliteNotices
from imi_mailwatch.adapters.sqlite.outbox import SqliteOutbox
from imi_mailwatch.adapters.sqlite.quarantine import SqliteQuarantine
from imi_mailwatch.adapters.sqlite.requests import SqliteRequests
from imi_mailwatch.adapters.sqlite.retention import SqliteRetention
from imi_mailwatch.adapters.sqlite.rules import SqliteRulesArchive
from imi_mailwatch.records import Recording


class SqlStatePorts(
    SqliteMessages,
    SqliteRequests,
    SqliteOutbox,
    SqliteFollowUps,
    SqliteNotices,
    SqliteQuarantine,
    SqliteAudit,
    SqliteRetention,
    SqliteRulesArchive,
    SqliteMailings,
    SqliteDesk,
):
    """Every state port of ``ports``; the engine's base class comes after it."""

    def commit(self, rec: Recording) -> int:
        return commit_recording(self, rec)
