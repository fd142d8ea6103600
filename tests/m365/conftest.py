"""Fixtures for the Microsoft 365 adapters: a Graph server, a cursor store, a clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from imi_mailwatch.config import GraphConfig, OAuthConfig
from tests.servers.graph_server import GraphServer

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


class MemoryCursorStore:
    """A CursorStore in a dict; counts writes."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}
        self.writes = 0
        self._lock = threading.Lock()

    def get_cursor(self, source: str, folder: str) -> str | None:
        return self.values.get((source, folder))

    def set_cursor(self, source: str, folder: str, value: str) -> None:
        with self._lock:
            self.values[(source, folder)] = value
            self.writes += 1


class RecordingSleep:
    """Stands in for time.sleep: records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def oauth_data(server: GraphServer, **overrides: object) -> dict[str, object]:
    """OAuth configuration data; ``secret_value`` overrides the secret handed in."""
    data: dict[str, object] = {
        "tenant_id": server.tenant,
        "client_id": server.client_id,
        "client_secret": {"env": "APP_SECRET"},
        "authority": server.authority_base,
        "ca_file": server.ca_file,
    }
    data.update(overrides)
    return data


def _environ(server: GraphServer, secret_value: str | None) -> dict[str, str]:
    return {"APP_SECRET": secret_value if secret_value is not None else server.client_secret}


def oauth_config(
    server: GraphServer, secret_value: str | None = None, **overrides: object
) -> OAuthConfig:
    return OAuthConfig.model_validate(
        oauth_data(server, **overrides), context={"environ": _environ(server, secret_value)}
    )


def graph_config(
    server: GraphServer, secret_value: str | None = None, **overrides: object
) -> GraphConfig:
    data: dict[str, object] = {
        "mailbox": server.mailbox.address,
        "oauth": oauth_data(server),
        "base_url": server.graph_url,
        "ca_file": server.ca_file,
        "page_size": 3,
        "first_start": "all",
    }
    data.update(overrides)
    return GraphConfig.model_validate(data, context={"environ": _environ(server, secret_value)})


def mime(n: int, subject: str = "Testbericht") -> bytes:
    return (
        f"Message-ID: <test-{n}@example.test>\r\n"
        f"From: afzender@example.test\r\nTo: imi@example.test\r\n"
        f"Subject: {subject} {n}\r\n\r\nInhoud {n}\r\n"
    ).encode()


@pytest.fixture
def graph() -> Iterator[GraphServer]:
    with GraphServer() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cursors() -> MemoryCursorStore:
    return MemoryCursorStore()
