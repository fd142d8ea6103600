"""The state store on SQLite (standard library sqlite3, WAL).

One file holds everything the daemon must remember across restarts: the
messages it has seen and their outcome, the IMI requests it follows, the task
outbox, the follow-ups, the quarantine, per-folder cursors, component health and
an audit trail of every action. Writes that belong together happen in one
transaction (``with store.transaction():``), which is what makes "record, then
acknowledge" safe.

The schema version lives in ``PRAGMA user_version``; ``MIGRATIONS`` maps a
version to the SQL that brings the previous version there. A file written by a
newer version than this code knows is refused (StateError).

One connection is shared by the daemon's threads behind a re-entrant lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import structlog

from imi_mailwatch.adapters.private_files import private_dir
from imi_mailwatch.adapters.sqlite_check import check_usable, explain
from imi_mailwatch.errors import StateError
from imi_mailwatch.model import Disposition, MessageKind, RequestStatus, TaskStatus
from imi_mailwatch.ports import Clock
from imi_mailwatch.privacy.minimise import authority_name
from imi_mailwatch.records import (
    HealthRecord,
    MessageRecord,
    OutboxItem,
    QuarantineRecord,
    RequestRecord,
)

log = structlog.get_logger(__name__)

MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE cursors (
        source TEXT NOT NULL, folder TEXT NOT NULL, value TEXT NOT NULL,
        updated_at TEXT NOT NULL, PRIMARY KEY (source, folder));

    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL, ref TEXT NOT NULL,
        message_id TEXT NOT NULL DEFAULT '', content_hash TEXT NOT NULL,
        kind TEXT NOT NULL, disposition TEXT NOT NULL, reason TEXT,
        request_id TEXT, alert_type TEXT,
        recorded_at TEXT NOT NULL, acknowledged_at TEXT);
    CREATE UNIQUE INDEX messages_key ON messages (source, message_id, content_hash);
    CREATE INDEX messages_request ON messages (request_id);

    CREATE TABLE requests (
        request_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        team_key TEXT, team_name TEXT, org_unit TEXT, team_mailbox TEXT,
        handlers TEXT NOT NULL DEFAULT '[]',
        rule TEXT, field TEXT, is_default INTEGER NOT NULL DEFAULT 0,
        schedule TEXT,
        deadline TEXT,
        language TEXT, legislative_area TEXT, member_state TEXT,
        service_activities TEXT NOT NULL DEFAULT '[]', requesting_authority TEXT,
        task_status TEXT, task_sink TEXT, task_ref TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, closed_at TEXT);

    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL, message_row INTEGER NOT NULL,
        alert_type TEXT NOT NULL, deadline TEXT, sent_at TEXT, recorded_at TEXT NOT NULL,
        UNIQUE (request_id, message_row));

    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL, action TEXT NOT NULL, idem_key TEXT NOT NULL UNIQUE,
        payload TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT, next_attempt_at TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
    CREATE INDEX outbox_status ON outbox (status, next_attempt_at);

    CREATE TABLE followups (
        id INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL, step TEXT NOT NULL, kind TEXT NOT NULL,
        due_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'scheduled',
        recipients TEXT NOT NULL DEFAULT '[]', message_id TEXT,
        attempts INTEGER NOT NULL DEFAULT 0, sent_at TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (request_id, step, due_at));
    CREATE INDEX followups_due ON followups (status, due_at);

    CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY,
        message_row INTEGER NOT NULL UNIQUE, source TEXT NOT NULL, ref TEXT NOT NULL,
        kind TEXT NOT NULL, reason TEXT NOT NULL, request_id TEXT, raw BLOB,
        created_at TEXT NOT NULL, reported_at TEXT, resolved_at TEXT);

    CREATE TABLE audit (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, request_id TEXT,
        action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '{}');
    CREATE INDEX audit_request ON audit (request_id, id);

    CREATE TABLE health (
        component TEXT PRIMARY KEY, ok INTEGER NOT NULL,
        last_ok_at TEXT, failing_since TEXT, error TEXT, updated_at TEXT NOT NULL);
    """,
    # 2: deadlines (imi_mailwatch.deadlines): the reply date a follow-up is about and
    # the bookkeeping of retries after a transient send failure
    2: """
    ALTER TABLE followups ADD COLUMN deadline TEXT;
    ALTER TABLE followups ADD COLUMN next_attempt_at TEXT;
    ALTER TABLE followups ADD COLUMN last_error TEXT;
    CREATE INDEX followups_request ON followups (request_id, status);
    """,
    # 3: privacy (imi_mailwatch.privacy.retention): how the daily purge finds what is due.
    # Indexes only, so a file that skipped this version works the same, only slower.
    3: """
    CREATE INDEX IF NOT EXISTS requests_closed ON requests (status, closed_at);
    CREATE INDEX IF NOT EXISTS quarantine_resolved ON quarantine (resolved_at);
    CREATE INDEX IF NOT EXISTS messages_recorded ON messages (disposition, recorded_at);
    CREATE INDEX IF NOT EXISTS audit_action ON audit (action, at);
    CREATE INDEX IF NOT EXISTS outbox_request ON outbox (request_id);
    """,
    4: """
    CREATE TABLE notices (
        key TEXT PRIMARY KEY, kind TEXT NOT NULL, text TEXT NOT NULL,
        created_at TEXT NOT NULL, message_id TEXT, sent_at TEXT);
    CREATE INDEX notices_pending ON notices (sent_at, created_at);
    """,
    # 5: the rules files of the last valid load, so that a daemon restarted on a broken
    # rules file runs on them (imi_mailwatch.rules.watcher)
    5: """
    CREATE TABLE rules_last_good (
        position INTEGER PRIMARY KEY, name TEXT NOT NULL, content BLOB NOT NULL,
        fingerprint TEXT NOT NULL, saved_at TEXT NOT NULL);
    """,
    # 6: reports back off like every outgoing mail (reports.py, retry.mail_retry_delay)
    6: """
    ALTER TABLE notices ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE notices ADD COLUMN next_attempt_at TEXT;
    ALTER TABLE notices ADD COLUMN last_error TEXT;
    """,
}

SCHEMA_VERSION = max(MIGRATIONS)


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime handed to the state store")
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return value.isoformat()


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing store (StateError when there is none)."""
    if not path.is_file():
        raise StateError(f"no state store at {path}")
    try:
        db = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False, timeout=30
        )
        db.row_factory = sqlite3.Row
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise StateError(f"state store {path} is unusable: {exc}") from None
    if version > SCHEMA_VERSION:
        raise StateError(
            f"state store schema version {version} is newer than this program knows "
            f"({SCHEMA_VERSION}); upgrade imi-mailwatch"
        )
    return db


def parse_ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def parse_day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class SqliteStateStore:
    """The daemon's durable memory. Implements ``ports.CursorStore`` too."""

    def __init__(self, path: str | Path, clock: Clock, *, read_only: bool = False) -> None:
        """Open (and create, migrate) the store; ``read_only`` opens an existing file only.

        Read-only (``status``, ``history``, ``quarantine list``, ``health``) never creates
        a file or a directory: a missing store raises StateError "no state store at PATH".
        """
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.RLock()
        self._depth = 0
        self._read_only = read_only
        if read_only:
            self._db = _open_read_only(self.path)
            return
        if str(path) != ":memory:":
            private_dir(self.path.parent)
            _create_private(self.path)
        try:
            self._db = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=30
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=30000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise explain(self.path, exc) from None
        if str(path) != ":memory:":
            with contextlib.suppress(OSError):  # e.g. a read-only mount for status
                self.path.chmod(0o600)

    # -- plumbing ---------------------------------------------------------------

    def _migrate(self) -> None:
        current = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if current > SCHEMA_VERSION:
            raise StateError(
                f"state store schema version {current} is newer than this program knows "
                f"({SCHEMA_VERSION}); upgrade imi-mailwatch"
            )
        for version in sorted(v for v in MIGRATIONS if v > current):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _split_sql(MIGRATIONS[version]):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {int(version)}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            log.info("state.migrated", version=version)

    def check_usable(self) -> None:
        """For the daemon's start: StateError when the file is damaged or read-only."""
        if str(self.path) != ":memory:":
            with self._lock:
                check_usable(self._db, self.path)

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def now(self) -> datetime:
        return self._clock.now()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work. Nested uses join the outer transaction."""
        with self._lock:
            if self._depth == 0:  # a read-only store takes no write lock
                self._db.execute("BEGIN" if self._read_only else "BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._db.execute("COMMIT")

    def execute(self, sql: str, params: Mapping[str, Any] | tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Run one statement (inside the caller's transaction, if any)."""
        with self._lock:
            return self._db.execute(sql, params)

    def query(
        self, sql: str, params: Mapping[str, Any] | tuple[Any, ...] = ()
    ) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, params).fetchall())

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- cursors (ports.CursorStore) -------------------------------------------------

    def get_cursor(self, source: str, folder: str) -> str | None:
        rows = self.query(
            "SELECT value FROM cursors WHERE source = ? AND folder = ?", (source, folder)
        )
        return str(rows[0]["value"]) if rows else None

    def set_cursor(self, source: str, folder: str, value: str) -> None:
        with self.transaction():
            self.execute(
                "INSERT INTO cursors (source, folder, value, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (source, folder) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (source, folder, value, _iso(self.now())),
            )

    # -- messages ------------------------------------------------------------------

    def find_message(
        self, source: str, message_id: str | None, content_hash: str
    ) -> MessageRecord | None:
        rows = self.query(
            "SELECT * FROM messages WHERE source = ? AND message_id = ? AND content_hash = ?",
            (source, message_id or "", content_hash),
        )
        return _message(rows[0]) if rows else None

    def record_message(
        self,
        *,
        source: str,
        ref: str,
        message_id: str | None,
        content_hash: str,
        kind: MessageKind,
        disposition: Disposition,
        reason: str | None,
        request_id: str | None,
        alert_type: str | None,
    ) -> int:
        cur = self.execute(
            "INSERT INTO messages (source, ref, message_id, content_hash, kind, disposition, "
            "reason, request_id, alert_type, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                source,
                ref,
                message_id or "",
                content_hash,
                kind.value,
                disposition.value,
                reason,
                request_id,
                alert_type,
                _iso(self.now()),
            ),
        )
        return int(cur.lastrowid or 0)

    def mark_acknowledged(self, row_id: int) -> None:
        with self.transaction():
            self.execute(
                "UPDATE messages SET acknowledged_at = ? WHERE id = ? AND acknowledged_at IS NULL",
                (_iso(self.now()), row_id),
            )

    def message_counts(self) -> dict[str, int]:
        rows = self.query("SELECT disposition, count(*) AS n FROM messages GROUP BY disposition")
        return {str(r["disposition"]): int(r["n"]) for r in rows}

    # -- requests --------------------------------------------------------------------

    def get_request(self, request_id: str) -> RequestRecord | None:
        rows = self.query("SELECT * FROM requests WHERE request_id = ?", (request_id,))
        return _request(rows[0]) if rows else None

    def save_request(self, rec: RequestRecord) -> None:
        """Insert or replace the whole request row (call inside a transaction)."""
        self.execute(
            "INSERT INTO requests (request_id, status, team_key, team_name, org_unit, "
            "team_mailbox, handlers, rule, field, is_default, schedule, deadline, language, "
            "legislative_area, member_state, service_activities, requesting_authority, "
            "task_status, task_sink, task_ref, created_at, updated_at, closed_at) "
            "VALUES (:request_id, :status, :team_key, :team_name, :org_unit, :team_mailbox, "
            ":handlers, :rule, :field, :is_default, :schedule, :deadline, :language, "
            ":legislative_area, :member_state, :service_activities, :requesting_authority, "
            ":task_status, :task_sink, :task_ref, :created_at, :updated_at, :closed_at) "
            "ON CONFLICT (request_id) DO UPDATE SET status = excluded.status, "
            "team_key = excluded.team_key, team_name = excluded.team_name, "
            "org_unit = excluded.org_unit, team_mailbox = excluded.team_mailbox, "
            "handlers = excluded.handlers, rule = excluded.rule, field = excluded.field, "
            "is_default = excluded.is_default, schedule = excluded.schedule, "
            "deadline = excluded.deadline, language = excluded.language, "
            "legislative_area = excluded.legislative_area, member_state = excluded.member_state, "
            "service_activities = excluded.service_activities, "
            "requesting_authority = excluded.requesting_authority, "
            "task_status = excluded.task_status, task_sink = excluded.task_sink, "
            "task_ref = excluded.task_ref, updated_at = excluded.updated_at, "
            "closed_at = excluded.closed_at",
            {
                "request_id": rec.request_id,
                "status": rec.status.value,
                "team_key": rec.team_key,
                "team_name": rec.team_name,
                "org_unit": rec.org_unit,
                "team_mailbox": rec.team_mailbox,
                "handlers": json.dumps(list(rec.handlers)),
                "rule": rec.rule,
                "field": rec.field,
                "is_default": int(rec.is_default),
                "schedule": json.dumps(rec.schedule) if rec.schedule is not None else None,
                "deadline": _iso(rec.deadline),
                "language": rec.language,
                "legislative_area": rec.legislative_area,
                "member_state": rec.member_state,
                "service_activities": json.dumps(list(rec.service_activities), ensure_ascii=False),
                "requesting_authority": authority_name(rec.requesting_authority),
                "task_status": rec.task_status.value if rec.task_status else None,
                "task_sink": rec.task_sink,
                "task_ref": rec.task_ref,
                "created_at": _iso(rec.created_at),
                "updated_at": _iso(rec.updated_at),
                "closed_at": _iso(rec.closed_at),
            },
        )

    def set_task(
        self, request_id: str, status: TaskStatus, sink: str | None, ref: str | None
    ) -> None:
        self.execute(
            "UPDATE requests SET task_status = ?, task_sink = coalesce(?, task_sink), "
            "task_ref = coalesce(?, task_ref), updated_at = ? WHERE request_id = ?",
            (status.value, sink, ref, _iso(self.now()), request_id),
        )

    def requests(self, *, open_only: bool = False) -> list[RequestRecord]:
        sql = "SELECT * FROM requests"
        if open_only:
            sql += " WHERE status NOT IN ('closed', 'withdrawn')"
        rows = self.query(sql + " ORDER BY deadline IS NULL, deadline, request_id")
        return [_request(r) for r in rows]

    def add_alert(
        self,
        request_id: str,
        message_row: int,
        alert_type: str,
        deadline: date | None,
        sent_at: datetime | None,
    ) -> None:
        self.execute(
            "INSERT OR IGNORE INTO alerts (request_id, message_row, alert_type, deadline, "
            "sent_at, recorded_at) VALUES (?,?,?,?,?,?)",
            (request_id, message_row, alert_type, _iso(deadline), _iso(sent_at), _iso(self.now())),
        )

    def alert_history(self, request_id: str) -> list[sqlite3.Row]:
        return self.query(
            "SELECT alert_type, deadline, sent_at, recorded_at FROM alerts "
            "WHERE request_id = ? ORDER BY coalesce(sent_at, recorded_at), id",
            (request_id,),
        )

    # -- the task outbox ---------------------------------------------------------------

    def outbox_add(
        self, request_id: str, action: str, idem_key: str, payload: Mapping[str, Any]
    ) -> bool:
        """Record an intent; False when one with this key exists already (idempotent)."""
        now = _iso(self.now())
        cur = self.execute(
            "INSERT OR IGNORE INTO outbox (request_id, action, idem_key, payload, created_at, "
            "updated_at) VALUES (?,?,?,?,?,?)",
            (request_id, action, idem_key, json.dumps(payload, ensure_ascii=False), now, now),
        )
        return cur.rowcount > 0

    def outbox_due(self, *, request_id: str | None = None, limit: int = 100) -> list[OutboxItem]:
        """Pending intents whose next attempt is due, oldest first; creates before annotations."""
        now = _iso(self.now())
        sql = (
            "SELECT * FROM outbox WHERE status = 'pending' AND "
            "(next_attempt_at IS NULL OR next_attempt_at <= ?)"
        )
        params: list[Any] = [now]
        if request_id is not None:
            sql += " AND request_id = ?"
            params.append(request_id)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        return [_outbox(r) for r in self.query(sql, tuple(params))]

    def outbox_waiting(self, *, after: datetime) -> list[OutboxItem]:
        """Pending intents whose next attempt lies after ``after`` (backing off)."""
        return [
            _outbox(r)
            for r in self.query(
                "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at > ? ORDER BY id",
                (_iso(after),),
            )
        ]

    def outbox_begin_attempt(self, item_id: int) -> int:
        """Count an attempt durably *before* calling the sink; returns the attempts so far."""
        with self.transaction():
            self.execute(
                "UPDATE outbox SET attempts = attempts + 1, updated_at = ? WHERE id = ?",
                (_iso(self.now()), item_id),
            )
            row = self.query("SELECT attempts FROM outbox WHERE id = ?", (item_id,))
        return int(row[0]["attempts"])

    def outbox_finish(self, item_id: int, status: str, error: str | None = None) -> None:
        self.execute(
            "UPDATE outbox SET status = ?, last_error = ?, updated_at = ? WHERE id = ?",
            (status, error, _iso(self.now()), item_id),
        )

    def outbox_defer(self, item_id: int, error: str, next_attempt_at: datetime) -> None:
        with self.transaction():
            self.execute(
                "UPDATE outbox SET last_error = ?, next_attempt_at = ?, updated_at = ? "
                "WHERE id = ?",
                (error, _iso(next_attempt_at), _iso(self.now()), item_id),
            )

    def outbox_counts(self) -> dict[str, int]:
        rows = self.query("SELECT status, count(*) AS n FROM outbox GROUP BY status")
        return {str(r["status"]): int(r["n"]) for r in rows}

    # -- quarantine ------------------------------------------------------------------

    def quarantine_add(
        self,
        *,
        message_row: int,
        source: str,
        ref: str,
        kind: str,
        reason: str,
        request_id: str | None,
        raw: bytes | None,
    ) -> None:
        self.execute(
            "INSERT OR IGNORE INTO quarantine (message_row, source, ref, kind, reason, "
            "request_id, raw, created_at) VALUES (?,?,?,?,?,?,?,?)",
            (message_row, source, ref, kind, reason, request_id, raw, _iso(self.now())),
        )

    def quarantine(self, *, unresolved_only: bool = True) -> list[QuarantineRecord]:
        sql = (
            "SELECT id, message_row, source, ref, kind, reason, request_id, raw IS NOT NULL "
            "AS has_raw, created_at, reported_at, resolved_at FROM quarantine"
        )
        if unresolved_only:
            sql += " WHERE resolved_at IS NULL"
        rows = self.query(sql + " ORDER BY id")
        return [
            QuarantineRecord(
                id=int(r["id"]),
                message_row=int(r["message_row"]),
                source=r["source"],
                ref=r["ref"],
                kind=r["kind"],
                reason=r["reason"],
                request_id=r["request_id"],
                has_raw=bool(r["has_raw"]),
                created_at=parse_ts(r["created_at"]) or self.now(),
                reported_at=parse_ts(r["reported_at"]),
                resolved_at=parse_ts(r["resolved_at"]),
            )
            for r in rows
        ]

    def quarantine_raw(self, quarantine_id: int) -> bytes | None:
        rows = self.query("SELECT raw FROM quarantine WHERE id = ?", (quarantine_id,))
        return bytes(rows[0]["raw"]) if rows and rows[0]["raw"] is not None else None

    # -- notices to the beheerders ---------------------------------------------------

    def add_notice(self, key: str, kind: str, text: str) -> bool:
        """Record a notice for the beheerders' next report (reports.py sends it).

        Keyed, so recording the same occasion again adds nothing; returns whether
        it was new. Called inside the transaction that records what it is about.
        """
        cur = self.execute(
            "INSERT OR IGNORE INTO notices (key, kind, text, created_at) VALUES (?,?,?,?)",
            (key, kind, text, _iso(self.now())),
        )
        return bool(cur.rowcount)

    # -- audit -----------------------------------------------------------------------

    def audit(self, event: str, request_id: str | None = None, **detail: Any) -> None:
        """Append to the audit trail. ``detail`` holds no personal data or bodies."""
        self.execute(
            "INSERT INTO audit (at, request_id, action, detail) VALUES (?,?,?,?)",
            (
                _iso(self.now()),
                request_id,
                event,
                json.dumps(detail, ensure_ascii=False, default=str),
            ),
        )

    def audit_trail(self, request_id: str) -> list[sqlite3.Row]:
        return self.query(
            "SELECT at, action, detail FROM audit WHERE request_id = ? ORDER BY id", (request_id,)
        )

    # -- health ------------------------------------------------------------------------

    def record_health(self, component: str, ok: bool, error: str | None = None) -> None:
        """Remember whether a component (mailbox:NAME, task_sink, notifier, rules) works."""
        now = _iso(self.now())
        with self.transaction():
            if ok:
                self.execute(
                    "INSERT INTO health (component, ok, last_ok_at, failing_since, error, "
                    "updated_at) VALUES (?, 1, ?, NULL, NULL, ?) ON CONFLICT (component) DO "
                    "UPDATE SET ok = 1, last_ok_at = excluded.last_ok_at, failing_since = NULL, "
                    "error = NULL, updated_at = excluded.updated_at",
                    (component, now, now),
                )
            else:
                self.execute(
                    "INSERT INTO health (component, ok, last_ok_at, failing_since, error, "
                    "updated_at) VALUES (?, 0, NULL, ?, ?, ?) ON CONFLICT (component) DO "
                    "UPDATE SET ok = 0, failing_since = coalesce(health.failing_since, "
                    "excluded.failing_since), error = excluded.error, "
                    "updated_at = excluded.updated_at",
                    (component, now, error, now),
                )

    def health(self) -> list[HealthRecord]:
        return [
            HealthRecord(
                component=r["component"],
                ok=bool(r["ok"]),
                last_ok_at=parse_ts(r["last_ok_at"]),
                failing_since=parse_ts(r["failing_since"]),
                error=r["error"],
                updated_at=parse_ts(r["updated_at"]) or self.now(),
            )
            for r in self.query("SELECT * FROM health ORDER BY component")
        ]

    # -- last good rules (rules.watcher.RulesArchive) -----------------------------------

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
            now = _iso(self.now())
            for position, (name, data) in enumerate(files):
                self.execute(
                    "INSERT INTO rules_last_good (position, name, content, fingerprint, saved_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (position, name, data, fingerprint, now),
                )


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (0600) before SQLite opens it.

    SQLite gives the -wal and -shm files the mode of the database file, so they
    are private too. An existing file is left as it is here (chmod follows); any
    other failure is left for SQLite to report.
    """
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _message(r: sqlite3.Row) -> MessageRecord:
    return MessageRecord(
        id=int(r["id"]),
        source=r["source"],
        ref=r["ref"],
        message_id=r["message_id"],
        content_hash=r["content_hash"],
        kind=MessageKind(r["kind"]),
        disposition=Disposition(r["disposition"]),
        reason=r["reason"],
        request_id=r["request_id"],
        alert_type=r["alert_type"],
        recorded_at=parse_ts(r["recorded_at"]) or datetime.now(UTC),
        acknowledged_at=parse_ts(r["acknowledged_at"]),
    )


def _request(r: sqlite3.Row) -> RequestRecord:
    return RequestRecord(
        request_id=r["request_id"],
        status=RequestStatus(r["status"]),
        team_key=r["team_key"],
        team_name=r["team_name"],
        org_unit=r["org_unit"],
        team_mailbox=r["team_mailbox"],
        handlers=tuple(json.loads(r["handlers"] or "[]")),
        rule=r["rule"],
        field=r["field"],
        is_default=bool(r["is_default"]),
        schedule=json.loads(r["schedule"]) if r["schedule"] else None,
        deadline=parse_day(r["deadline"]),
        language=r["language"],
        legislative_area=r["legislative_area"],
        member_state=r["member_state"],
        service_activities=tuple(json.loads(r["service_activities"] or "[]")),
        requesting_authority=r["requesting_authority"],
        task_status=TaskStatus(r["task_status"]) if r["task_status"] else None,
        task_sink=r["task_sink"],
        task_ref=r["task_ref"],
        created_at=parse_ts(r["created_at"]) or datetime.now(UTC),
        updated_at=parse_ts(r["updated_at"]) or datetime.now(UTC),
        closed_at=parse_ts(r["closed_at"]),
    )


def _outbox(r: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=int(r["id"]),
        request_id=r["request_id"],
        action=r["action"],
        idem_key=r["idem_key"],
        payload=json.loads(r["payload"] or "{}"),
        status=r["status"],
        attempts=int(r["attempts"]),
        last_error=r["last_error"],
        next_attempt_at=parse_ts(r["next_attempt_at"]),
        created_at=parse_ts(r["created_at"]),
    )
