"""Harnesses for the mail-source contract: one per adapter, each with a real backend.

A harness delivers numbered messages (older first), builds source instances that
share one CursorStore (a new instance is a restart), and reads back which
Message-IDs sit in which folder on the backend itself.
"""

from __future__ import annotations

import email
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest

from imi_mailwatch.adapters.memory import InMemoryCursorStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.ports import MailSource

FOLDERS = {
    "processed_folder": "IMI/Verwerkt",
    "quarantine_folder": "IMI/Quarantaine",
    "rejected_folder": "IMI/Afgewezen",
}
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def contract_message(n: int) -> bytes:
    """A synthetic message numbered n."""
    return (
        f"From: Afzender <afzender@example.invalid>\r\n"
        f"To: imi@example.invalid\r\n"
        f"Subject: Contract {n}\r\n"
        f"Message-ID: <contract-{n}@example.invalid>\r\n"
        f"Date: Sun, 22 Nov 2026 08:{n % 60:02d}:00 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Bericht {n}\r\n"
    ).encode()


def message_id(data: bytes) -> str:
    return str(email.message_from_bytes(data)["Message-ID"]).strip()


def received(n: int) -> datetime:
    return NOW - timedelta(hours=2) + timedelta(minutes=n)


class Harness(Protocol):
    kind: str
    cursors: InMemoryCursorStore

    def deliver(self, n: int) -> str: ...
    def source(self) -> MailSource: ...
    def folder(self, name: str) -> list[str]: ...


class _Base:
    kind = ""

    def __init__(self) -> None:
        self.cursors = InMemoryCursorStore()
        self.clock = FakeClock(NOW)
        self.made: list[MailSource] = []

    def close(self) -> None:
        for src in self.made:
            src.close()


class MaildirHarness(_Base):
    kind = "maildir"

    def __init__(self) -> None:
        super().__init__()
        from imi_mailwatch.adapters.maildir import MaildirMailSource

        self._cls = MaildirMailSource
        self.root = Path(tempfile.mkdtemp(prefix="contract-maildir-"))
        for sub in ("new", "cur", "tmp"):
            (self.root / sub).mkdir()

    def deliver(self, n: int) -> str:
        stamp = int(received(n).timestamp())
        (self.root / "new" / f"{stamp}.M{n}P1.contract").write_bytes(contract_message(n))
        return f"<contract-{n}@example.invalid>"

    def source(self) -> MailSource:
        src = self._cls("contract", self.root, cursors=self.cursors, **FOLDERS)
        self.made.append(src)
        return src

    def folder(self, name: str) -> list[str]:
        if name == "INBOX":
            dirs = [self.root / "new", self.root / "cur"]
        else:
            dirs = [self.root / ("." + name.replace("/", ".")) / sub for sub in ("new", "cur")]
        files = sorted(p for d in dirs if d.is_dir() for p in d.iterdir() if p.is_file())
        return sorted(message_id(p.read_bytes()) for p in files)


class ImapHarness(_Base):
    kind = "imap"

    def __init__(self, server: Any) -> None:
        super().__init__()
        from imi_mailwatch.adapters.imap import ImapMailSource
        from imi_mailwatch.config import ImapConfig

        self.server = server
        self._cls = ImapMailSource
        self._cfg = ImapConfig.model_validate(
            {
                "host": server.host,
                "port": server.port,
                "security": "none",
                "username": server.user,
                "password": {"env": "IMAP_PASSWORD"},
                "timeout_seconds": 5,
                "first_start": "all",
                "poll_seconds": 1,
            },
            context={"environ": {"IMAP_PASSWORD": server.password}},
        )

    def deliver(self, n: int) -> str:
        self.server.append([contract_message(n)], msg_time=received(n))
        return f"<contract-{n}@example.invalid>"

    def source(self) -> MailSource:
        src = self._cls(
            "contract",
            self._cfg,
            folder="INBOX",
            cursors=self.cursors,
            clock=self.clock,
            **FOLDERS,
        )
        self.made.append(src)
        return src

    def folder(self, name: str) -> list[str]:
        return sorted(self.server.folder_message_ids(name))


class GraphHarness(_Base):
    kind = "graph"

    def __init__(self) -> None:
        super().__init__()
        from tests.servers.graph_server import GraphServer

        self.server = GraphServer().start()

    def deliver(self, n: int) -> str:
        self.server.deliver(contract_message(n), received=received(n))
        return f"<contract-{n}@example.invalid>"

    def source(self) -> MailSource:
        from imi_mailwatch.adapters.graph import GraphMailSource
        from imi_mailwatch.config import GraphConfig

        srv = self.server
        cfg = GraphConfig.model_validate(
            {
                "mailbox": srv.mailbox.address,
                "base_url": srv.graph_url,
                "ca_file": srv.ca_file,
                "page_size": 2,
                "first_start": "all",
                "oauth": {
                    "tenant_id": srv.tenant,
                    "client_id": srv.client_id,
                    "client_secret": {"env": "APP_SECRET"},
                    "authority": srv.authority_base,
                    "ca_file": srv.ca_file,
                },
            },
            context={"environ": {"APP_SECRET": srv.client_secret}},
        )
        src = GraphMailSource(
            "contract", cfg, cursors=self.cursors, clock=self.clock, folder="INBOX", **FOLDERS
        )
        self.made.append(src)
        return src

    def folder(self, name: str) -> list[str]:
        return sorted(m.internet_message_id for m in self.server.messages_in(name))

    def close(self) -> None:
        super().close()
        self.server.stop()


class EwsHarness(_Base):
    kind = "ews"

    def __init__(self) -> None:
        super().__init__()
        from tests.servers.ews_server import EwsServer

        self.server = EwsServer().start()

    def deliver(self, n: int) -> str:
        self.server.deliver(contract_message(n), received=received(n))
        return f"<contract-{n}@example.invalid>"

    def source(self) -> MailSource:
        from imi_mailwatch.adapters.ews import EwsMailSource
        from imi_mailwatch.config import EwsConfig

        srv = self.server
        cfg = EwsConfig.model_validate(
            {
                "service_endpoint": srv.endpoint,
                "mailbox": srv.address,
                "username": srv.username,
                "auth": "basic",
                "password": {"env": "EWS_PASSWORD"},
                "ca_file": srv.ca_file,
                "first_start": "all",
                "page_size": 2,
            },
            context={"environ": {"EWS_PASSWORD": srv.password}},
        )
        src = EwsMailSource(
            "contract", cfg, cursors=self.cursors, clock=self.clock, folder="INBOX", **FOLDERS
        )
        self.made.append(src)
        return src

    def folder(self, name: str) -> list[str]:
        return sorted(message_id(i.mime) for i in self.server.items_in(name))

    def close(self) -> None:
        super().close()
        self.server.stop()


def _imap_harness() -> Iterator[ImapHarness]:
    from tests.servers.dovecot import DovecotServer, dovecot_available

    if not dovecot_available():
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotServer()
    try:
        server.start()
        harness = ImapHarness(server)
        try:
            yield harness
        finally:
            harness.close()
    finally:
        server.cleanup()


def _simple(factory: Callable[[], _Base]) -> Callable[[], Iterator[_Base]]:
    def run() -> Iterator[_Base]:
        harness = factory()
        try:
            yield harness
        finally:
            harness.close()

    return run


HARNESSES: dict[str, Callable[[], Iterator[Any]]] = {
    "maildir": _simple(MaildirHarness),
    "imap": _imap_harness,
    "graph": _simple(GraphHarness),
    "ews": _simple(EwsHarness),
}


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    """Every mail source in turn, each on its own fresh backend."""
    gen = HARNESSES[request.param]()
    yield next(gen)
    for _ in gen:  # run the clean-up
        pass
