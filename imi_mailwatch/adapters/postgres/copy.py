"""Copy an SQLite state into an empty PostgreSQL state, verified table by table.

``copy_state`` holds the SQLite file's write lock for the whole copy (no daemon
can write it meanwhile), copies every table of the schema in one PostgreSQL
transaction (COPY), moves each identity past the copied ids, and then reads both
sides back: per table the row count and a SHA-256 over the rows (each row as
canonical JSON, bytes as hex, sorted, so the engines' row order does not
matter). A difference raises StateError and nothing is committed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from imi_mailwatch.adapters.postgres.store import PostgresStateStore
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.adapters.sqlite.sql import SqlBase, SqlRow
from imi_mailwatch.errors import StateError


@dataclass(frozen=True, slots=True)
class TableCopy:
    """One table as copied: its rows and their checksum, equal on both sides."""

    table: str
    rows: int
    sha256: str


def _canonical(row: SqlRow, columns: list[str]) -> str:
    values = [row[c] for c in columns]
    plain = [bytes(v).hex() if isinstance(v, bytes | memoryview) else v for v in values]
    return json.dumps(plain, ensure_ascii=False)


def table_digest(store: SqlBase, table: str, columns: list[str]) -> TableCopy:
    """The row count and checksum of one table, the same for the same rows on either engine."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    rows = sorted(_canonical(r, columns) for r in store.query(f'SELECT {quoted} FROM "{table}"'))
    digest = hashlib.sha256()
    for line in rows:
        digest.update(line.encode("utf-8") + b"\n")
    return TableCopy(table, len(rows), digest.hexdigest())


def _nonempty(store: PostgresStateStore, tables: Iterable[str]) -> list[str]:
    return [t for t in tables if store.query(f'SELECT 1 FROM "{t}" LIMIT 1')]


def copy_state(source: SqliteStateStore, target: PostgresStateStore) -> list[TableCopy]:
    """Copy every table of ``source`` into the empty ``target``; verified, or StateError."""
    if source.schema_version != target.schema_version:
        raise StateError(
            f"schema versions differ (SQLite {source.schema_version}, PostgreSQL "
            f"{target.schema_version}): open the SQLite state with this version first"
        )
    tables = source.table_names()
    missing = sorted(set(tables) - set(target.table_names()))
    if missing:
        raise StateError(f"the PostgreSQL state has no table {', '.join(missing)}")
    full = _nonempty(target, target.table_names())
    if full:
        raise StateError(
            f"the PostgreSQL state is not empty (rows in {', '.join(full)}): "
            "migrate-to only fills a new, empty database"
        )
    with source.transaction(), target.transaction():
        copied = []
        for table in tables:
            columns = sorted(source.column_names(table))
            if set(columns) != target.column_names(table):
                raise StateError(f"table {table} has other columns in PostgreSQL")
            _copy_table(source, target, table, columns)
            copied.append(table_digest(source, table, columns))
        for want in copied:
            got = table_digest(target, want.table, sorted(source.column_names(want.table)))
            if got != want:
                raise StateError(
                    f"table {want.table}: {got.rows} rows (sha256 {got.sha256[:12]}) in "
                    f"PostgreSQL, {want.rows} (sha256 {want.sha256[:12]}) in SQLite; "
                    "nothing was committed"
                )
    return copied


def _copy_table(
    source: SqliteStateStore, target: PostgresStateStore, table: str, columns: list[str]
) -> None:
    quoted = ", ".join(f'"{c}"' for c in columns)
    rows = source.query(f'SELECT {quoted} FROM "{table}"')
    with target.copy_in(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
    identities = target.query(
        "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = ? AND is_identity = 'YES'",
        (table,),
    )
    for column in (str(r["name"]) for r in identities):  # go on after the copied ids
        target.query(
            "SELECT setval(pg_get_serial_sequence(?, ?), "
            f'coalesce(max("{column}"), 0) + 1, false) FROM "{table}"',
            (f'"{table}"', column),
        )
