"""The rules files of the last valid load on SQLite (``rules.watcher.RulesArchive``)."""

from __future__ import annotations

from collections.abc import Sequence

from imi_mailwatch.adapters.rows import iso
from imi_mailwatch.adapters.sqlite.sql import SqlBase


class SqliteRulesArchive(SqlBase):
    def last_good_rules(self) -> list[tuple[str, bytes]] | None:
        """The rules files (name, bytes) of the last valid load, in order; None if none."""
        rows = self.query("SELECT name, content FROM rules_last_good ORDER BY position")
        return [(str(r["name"]), bytes(r["content"])) for r in rows] or None

    def save_last_good_rules(self, fingerprint: str, files: Sequence[tuple[str, bytes]]) -> None:
        """Keep these files as the last good rules; a no-op when they are kept already."""
        with self.transaction():
            kept = self.query("SELECT fingerprint FROM rules_last_good LIMIT 1")
            if kept and kept[0]["fingerprint"] == fingerprint:
                return
            self.execute("DELETE FROM rules_last_good")
            now = iso(self.now())
            for position, (name, data) in enumerate(files):
                self.execute(
                    "INSERT INTO rules_last_good (position, name, content, fingerprint, saved_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (position, name, data, fingerprint, now),
                )
