"""``PostgresStateStore``: every state port on one PostgreSQL database (psycopg 3, pooled).

The same port modules as the SQLite store (``adapters.sqlite``: their SQL is the
subset both engines share), on a PostgreSQL connection (``PostgresBase``). The
schema comes from the one migration list both engines follow
(``adapters.sqlite.schema``).

A port with a new table: add its migration (one entry of ``MIGRATIONS``, in the
shared SQL) and its port module to the bases below, as in ``SqliteStateStore``.
Only a statement the engines spell differently needs a method on both bases
(``SqlBase``), as ``table_names`` and ``quick_transaction`` are.
"""

from __future__ import annotations

from imi_mailwatch.adapters.postgres.base import PostgresBase
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


class PostgresStateStore(
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
    PostgresBase,
):
    """The daemon's durable memory on PostgreSQL: implements every state port of ``ports``."""

    def commit(self, rec: Recording) -> int:
        return commit_recording(self, rec)
