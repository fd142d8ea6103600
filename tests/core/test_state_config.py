"""state.url selects PostgreSQL: the password is a secret, TLS is verified, the store opens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from imi_mailwatch.adapters.postgres import PostgresStateStore
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.adapters.state_store import conninfo, open_state_store
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import Config, config_from_data
from imi_mailwatch.config_checks import prepare
from imi_mailwatch.errors import ConfigError, StateError
from tests.servers.postgres import PostgresServer, postgres_bin

REMOTE = "postgresql://imi_mailwatch@db.example.org:5432/imi"
MAILBOX = {"name": "imi", "kind": "maildir", "path": "mailbox"}


def _cfg(state: dict[str, object], environ: dict[str, str] | None = None) -> Config:
    return config_from_data({"state": state}, environ or {}, base_dir="/tmp")


def test_a_password_in_the_url_is_refused() -> None:
    """The database password is a secret ({env}/{file}), never part of state.url."""
    with pytest.raises(ConfigError) as caught:
        _cfg({"url": "postgresql://imi:hunter2-synthetic@db.example.org/imi"})
    assert "state.password" in "\n".join(caught.value.problems)
    assert "hunter2-synthetic" not in str(caught.value) + "\n".join(caught.value.problems)


def test_tls_settings_in_the_url_are_refused() -> None:
    """sslmode and sslrootcert come from state.tls and state.ca_file, not the URL."""
    with pytest.raises(ConfigError):
        _cfg({"url": REMOTE + "?sslmode=disable"})


def test_a_remote_database_is_reached_over_verified_tls_with_the_secret_password() -> None:
    """To another host: sslmode verify-full, the system's CAs or ca_file, the password read."""
    cfg = _cfg({"url": REMOTE, "password": {"env": "STATE_PW"}}, {"STATE_PW": "pw-synthetic"})
    parts = conninfo_to_dict(conninfo(cfg.state))
    assert parts["sslmode"] == "verify-full" and parts["sslrootcert"] == "system"
    assert parts["password"] == "pw-synthetic" and parts["host"] == "db.example.org"
    assert "pw-synthetic" not in repr(cfg) and "pw-synthetic" not in str(cfg.summary())
    own_ca = _cfg({"url": REMOTE, "ca_file": "/etc/ssl/ca.pem"})
    assert conninfo_to_dict(conninfo(own_ca.state))["sslrootcert"] == "/etc/ssl/ca.pem"


def test_plaintext_to_another_host_needs_allow_insecure() -> None:
    """tls: false to a host other than this machine is refused unless the risk is accepted."""
    with pytest.raises(ConfigError) as caught:
        _cfg({"url": REMOTE, "tls": False})
    assert "allow_insecure" in "\n".join(caught.value.problems)
    accepted = _cfg({"url": REMOTE, "tls": False, "allow_insecure": True})
    assert conninfo_to_dict(conninfo(accepted.state))["sslmode"] == "disable"
    local = _cfg({"url": "postgresql://imi@127.0.0.1:5432/imi"})
    assert not local.state.uses_tls and "sslmode" not in conninfo_to_dict(conninfo(local.state))


def test_run_reports_a_missing_state_password() -> None:
    """prepare (run, check-config) reads the state's password secret like the others."""
    cfg = config_from_data(
        {"state": {"url": REMOTE, "password": {"env": "STATE_PW"}}, "mailboxes": [MAILBOX]},
        {},
        base_dir="/tmp",
        resolve_secrets=False,
    )
    with pytest.raises(ConfigError) as caught:
        prepare(cfg, {})
    assert any("STATE_PW" in p for p in caught.value.problems)


def test_state_url_opens_postgresql_and_path_opens_sqlite(
    postgres_url: str, tmp_path: Path
) -> None:
    """open_state_store picks the back-end from the configuration."""
    clock = FakeClock()
    pg = open_state_store(_cfg({"url": postgres_url}), clock)
    try:
        assert isinstance(pg, PostgresStateStore)
        pg.check_usable()
    finally:
        pg.close()
    lite = open_state_store(_cfg({"path": str(tmp_path / "s.sqlite3")}), clock)
    assert isinstance(lite, SqliteStateStore)
    lite.close()


def test_an_unreachable_database_is_a_state_error_without_the_password() -> None:
    """A refused connection stops the start with StateError naming the database, not secrets."""
    cfg = _cfg(
        {"url": "postgresql://imi@127.0.0.1:9/imi", "password": {"env": "PW"}, "tls": False},
        {"PW": "pw-synthetic"},
    )
    with pytest.raises(StateError) as caught:
        PostgresStateStore(conninfo(cfg.state), FakeClock(), connect_timeout=2)
    assert "127.0.0.1:9/imi" in str(caught.value) and "pw-synthetic" not in str(caught.value)


@pytest.fixture(scope="module")
def tls_server() -> Iterator[PostgresServer]:
    """A PostgreSQL that speaks TLS with a self-signed certificate for localhost."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql; make test-deps)")
    with PostgresServer(tls=True) as server:
        yield server


def test_tls_to_the_database_verifies_the_certificate_and_the_name(
    tls_server: PostgresServer,
) -> None:
    """tls: the connection is encrypted, from a trusted CA (ca_file) and for the host named."""
    url = tls_server.new_database().replace("127.0.0.1", "localhost")
    ca = str(tls_server.cert_file)
    store = PostgresStateStore(
        conninfo(_cfg({"url": url, "tls": True, "ca_file": ca}).state), FakeClock()
    )
    try:
        rows = store.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert rows[0]["ssl"] is True
    finally:
        store.close()
    untrusted = {"url": url, "tls": True}  # the system's CAs did not sign it
    wrong_name = {"url": url.replace("localhost", "127.0.0.1"), "tls": True, "ca_file": ca}
    for state in (untrusted, wrong_name):
        with pytest.raises(StateError):
            PostgresStateStore(conninfo(_cfg(state).state), FakeClock(), connect_timeout=3)
