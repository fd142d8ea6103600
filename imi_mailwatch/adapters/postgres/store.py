"""``PostgresStateStore``: every state port on one PostgreSQL database (psycopg 3, pooled).

The same port modules as the SQLite store (``adapters.sqlite``: their SQL is the
subset both engines share), on a PostgreSQL connection (``PostgresBase``). The
schema comes from the one migration list both engines follow
(``adapters.sqlite.schema``).

A port with a new table: add its migration (one entry of ``MIGRATIONS``, in the
shared SQL) and its port module to ``SqlStatePorts`` (both engines take it from there).
Only a statement the engines spell differently needs a method on both bases
(``SqlBase``), as ``table_names`` and ``quick_transaction`` are.
"""

from __future__ import annotations

from imi_mailwatch.adapters.postgres.base import PostgresBase
from imi_mailwatch.adapters.sqlite.all_ports import SqlStatePorts


class PostgresStateStore(SqlStatePorts, PostgresBase):
    """The daemon's durable memory on PostgreSQL: implements every state port of ``ports``."""
