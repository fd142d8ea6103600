"""The schema of the SQLite state store, one migration per version (one-way).

The schema version lives in ``PRAGMA user_version``; ``MIGRATIONS`` maps a
version to the SQL that brings the previous version there. A file written by a
newer version than this code knows is refused (StateError).
"""

from __future__ import annotations

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
    # 8: what people said about a request (imi_mailwatch.desk): its desk state, the log
    # of commands given by reply, CLI or web, and the mails the desk owes
    8: """
    CREATE TABLE desk_state (
        request_id TEXT PRIMARY KEY,
        accepted_at TEXT, answered_at TEXT, handled TEXT, paused_until TEXT, claimer TEXT,
        route_confirmed_at TEXT, updated_at TEXT NOT NULL);

    CREATE TABLE actions (
        id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, at TEXT NOT NULL,
        actor TEXT NOT NULL, via TEXT NOT NULL, command TEXT NOT NULL, argument TEXT,
        ok INTEGER NOT NULL, result TEXT NOT NULL,
        reply_message_id TEXT, confirmation_id TEXT);
    CREATE INDEX actions_request ON actions (request_id, id);
    CREATE UNIQUE INDEX actions_reply ON actions (reply_message_id)
        WHERE reply_message_id IS NOT NULL;

    CREATE TABLE desk_mails (
        id INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE,
        request_id TEXT NOT NULL, mail TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT, last_error TEXT, created_at TEXT NOT NULL, sent_at TEXT);
    CREATE INDEX desk_mails_due ON desk_mails (status, next_attempt_at);
    CREATE INDEX desk_mails_request ON desk_mails (request_id);
    """,
}

SCHEMA_VERSION = max(MIGRATIONS)


def split_sql(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
