"""What the port modules of this package run their SQL through, on either engine.

The port modules (messages, requests, outbox, ...) hold the state's SQL once, in
the subset SQLite and PostgreSQL share: ``?`` and ``:name`` placeholders, ISO text
for moments, ``INSERT ... ON CONFLICT``, ``RETURNING``. They build on
:class:`SqlBase`; ``SqliteBase`` (this package) and ``PostgresBase``
(``adapters.postgres``) put a connection under it, and answer the few questions
whose SQL differs between the engines (which tables exist, a commit that need not
wait for the disk).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from imi_mailwatch.model import RequestStatus
from imi_mailwatch.ports import Clock

Params = Mapping[str, Any] | tuple[Any, ...]
# the statuses of a request that is done (RequestStatus.is_final), as an SQL list
FINAL = "(" + ", ".join(f"'{s.value}'" for s in RequestStatus if s.is_final) + ")"


def marks(values: Iterable[object]) -> str:
    """``?, ?, ?``: one placeholder per value."""
    return ", ".join("?" for _ in values)


class SqlRow(Protocol):
    """A row as the port modules read it: by column name, or whole with ``dict(row)``."""

    def keys(self) -> Iterable[str]: ...

    def __getitem__(self, key: str, /) -> Any: ...


class Written(Protocol):
    """What a write statement reports: how many rows it changed."""

    @property
    def rowcount(self) -> int: ...


class SqlBase(ABC):
    """One connection to the state, shared by every port module of a store."""

    _clock: Clock

    def now(self) -> datetime:
        return self._clock.now()

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """One atomic unit of work; nested uses join the outer transaction."""

    @abstractmethod
    def quick_transaction(self) -> AbstractContextManager[None]:
        """A transaction whose commit need not wait for the disk when it is the outermost:
        it survives a killed process, which is what the acknowledgement marks guard
        against, at no flush per message."""

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> Written:
        """Run one statement (inside the caller's transaction, if any)."""

    @abstractmethod
    def query(self, sql: str, params: Params = ()) -> list[SqlRow]:
        """Run one statement and return its rows."""

    @abstractmethod
    def table_names(self) -> list[str]:
        """The tables of the state (every migration's, none of the engine's own)."""

    @abstractmethod
    def column_names(self, table: str) -> set[str]:
        """The columns of one table of the state."""

    @abstractmethod
    def close(self) -> None: ...
