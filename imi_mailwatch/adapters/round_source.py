"""What the mail sources that sync a folder in rounds share: Graph (delta) and EWS.

Both take the same arguments, keep their round in a ``SyncRoundCursor``, hand over
a round's messages oldest first, file each per its disposition and are polled.
A source adds how it reads a round, a message's MIME and how it moves a message.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import ClassVar, Generic, Protocol, TypeVar

from imi_mailwatch.adapters.folders import move_targets
from imi_mailwatch.adapters.oauth import OAuthTokenProvider
from imi_mailwatch.adapters.sync_round import SyncRoundCursor
from imi_mailwatch.model import Disposition, RawMessage
from imi_mailwatch.ports import Clock, CursorStore


class PolledConfig(Protocol):
    @property
    def poll_seconds(self) -> int: ...


C = TypeVar("C", bound=PolledConfig)


@dataclass(eq=False, repr=False)
class RoundMailSource(ABC, Generic[C]):
    """A ``ports.MailSource`` whose folder is read in rounds; ``event`` prefixes its logs."""

    cursor_key: ClassVar[str]  # the token's key in the stored cursor
    event: ClassVar[str]

    name: str
    cfg: C
    _: KW_ONLY
    cursors: CursorStore
    clock: Clock
    folder: str = "INBOX"
    processed_folder: str = "IMI/Verwerkt"
    quarantine_folder: str = "IMI/Quarantaine"
    rejected_folder: str = "IMI/Afgewezen"
    tokens: OAuthTokenProvider | None = None
    sleep: Callable[[float], None] | None = None  # Retry-After and busy waits (None: time.sleep)

    def __post_init__(self) -> None:
        self._targets = move_targets(
            self.processed_folder, self.quarantine_folder, self.rejected_folder
        )
        self._rounds = SyncRoundCursor(
            self.cursors, self.name, self.folder, key=self.cursor_key, event=self.event
        )

    # -- what a source adds ------------------------------------------------------------
    @abstractmethod
    def fetch(self) -> Iterator[RawMessage]:
        """Yield the messages of one round, oldest first (``_begin``, then ``_messages``)."""

    @abstractmethod
    def close(self) -> None:
        """Let go of the connection."""

    @abstractmethod
    def _round(self, start: str | None) -> tuple[Mapping[str, datetime | None], str, str | None]:
        """The refs in the folder since ``start`` (None: a first sync) with when each
        arrived, the new token, and the token the round really started from (None
        after a resynchronisation)."""

    @abstractmethod
    def _mime(self, ref: str) -> bytes | None:
        """The message's raw MIME; None (logged) when it is gone from the folder."""

    @abstractmethod
    def _move(self, ref: str, target: str) -> None:
        """Move the message to the folder ``target`` (one that is gone is logged)."""

    # -- shared ---------------------------------------------------------------------
    def _begin(self) -> tuple[list[tuple[str, datetime | None]], int]:
        """A round starts: the refs to hand over, oldest first, and how many were found."""
        token, done = self._rounds.load()
        received, new, start = self._round(token)
        return self._rounds.begin(start, new, received, done), len(received)

    def _messages(self, todo: list[tuple[str, datetime | None]]) -> Iterator[RawMessage]:
        for ref, at in todo:
            data = self._mime(ref)
            if data is None:  # gone since the round was read: nothing to do
                self._rounds.settle(ref, Disposition.HANDLED)
                continue
            yield RawMessage(source=self.name, ref=ref, data=data, received_at=at)

    def acknowledge(self, message: RawMessage, disposition: Disposition) -> None:
        """Move the message per its disposition (IGNORED stays); advance the cursor."""
        target = self._targets.get(disposition)
        if target is not None:
            self._move(message.ref, target)
        self._rounds.settle(message.ref, disposition)

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """The folder is polled: sleep the poll interval (or less), wake early on stop."""
        stop.wait(max(0.0, min(timeout, float(self.cfg.poll_seconds))))
