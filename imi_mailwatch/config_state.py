"""The ``state`` section: an SQLite file, or PostgreSQL with its secret, TLS and lease."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from pydantic import Field, field_validator

from imi_mailwatch.config_types import Secret, Transport, is_loopback


class StateConfig(Transport):
    """Where the daemon keeps its state: an SQLite file (``path``) or PostgreSQL (``url``)."""

    path: str = "/var/lib/imi-mailwatch/state.sqlite3"  # SQLite, when no url is given
    url: str | None = None  # postgresql://USER@HOST:PORT/DBNAME selects PostgreSQL
    password: Secret | None = None  # the database password ({env: ...} or {file: ...})
    tls: bool | None = None  # None: TLS (verify-full) to any host but this machine
    ca_file: str | None = None  # the CA that signed the server's certificate; default: system
    # how long a statement waits for a connection (a restart, a failover) before the
    # state store counts as unavailable and the mailbox loop retries
    connect_timeout_seconds: float = Field(default=30, gt=0)
    # PostgreSQL's hot standby: the active daemon's lease lasts this long without a renewal
    # (renewed every third of it); a standby takes over at most about this long after the
    # active daemon died or lost the network (docs/operations.md, "Two nodes")
    lease_seconds: float = Field(default=15, ge=2, le=300)

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError("state.url is postgresql://USER@HOST:PORT/DBNAME")
        if parts.password is not None:
            raise ValueError(
                "the password may not stand in state.url; use state.password "
                "({env: VARIABLE} or {file: /path/to/secret})"
            )
        given = {key.lower() for key, _ in parse_qsl(parts.query)}
        if given & {"password", "sslmode", "sslrootcert"}:
            raise ValueError(
                "state.url sets no password, sslmode or sslrootcert: use state.password, "
                "state.tls and state.ca_file"
            )
        return value

    @property
    def host(self) -> str:
        """The database host of ``url`` ('' for the local socket)."""
        return urlsplit(self.url or "").hostname or ""

    @property
    def uses_tls(self) -> bool:
        """Whether the connection to PostgreSQL is TLS with the server's name verified."""
        if self.tls is not None:
            return self.tls
        return not (self.host == "" or self.host.startswith("/") or is_loopback(self.host))

    def plaintext(self) -> list[str]:
        if self.url is not None and not self.uses_tls and self.host and not is_loopback(self.host):
            return [f"state.tls false sends the state (alert data) in clear to {self.host}"]
        return []
