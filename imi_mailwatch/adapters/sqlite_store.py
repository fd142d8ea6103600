"""The former home of the SQLite state store; it lives in ``imi_mailwatch.adapters.sqlite``."""

from __future__ import annotations

from imi_mailwatch.adapters.sqlite import MIGRATIONS, SCHEMA_VERSION, SqliteStateStore
from imi_mailwatch.clock import parse_day, parse_ts

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SqliteStateStore", "parse_day", "parse_ts"]
