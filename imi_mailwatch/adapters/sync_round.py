"""The cursor of a sync round, shared by Graph (delta query) and EWS (SyncFolderItems).

A round starts from a stored token and ends with a new one. The new token is
stored only when every message of the round is settled (acknowledged, or gone),
so a crash in the middle repeats the round from its start. Meanwhile the
messages that stay in place (IGNORED) are stored as ``done``, so that the repeat
does not hand them over again; moved messages leave the folder anyway.

Stored as JSON through ``ports.CursorStore``: ``{"v": 1, KEY: token, "done": [...]}``,
with KEY ``link`` for Graph and ``state`` for EWS.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from imi_mailwatch.model import Disposition
from imi_mailwatch.ports import CursorStore

log = structlog.get_logger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class _Round:
    start: str | None
    new: str
    pending: set[str]
    done: set[str] = field(default_factory=set)


@dataclass(eq=False)
class SyncRoundCursor:
    """One folder's round cursor; ``event`` prefixes its log events (``graph``, ``ews``)."""

    cursors: CursorStore
    source: str
    folder: str
    _: KW_ONLY
    key: str
    event: str
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _round: _Round | None = field(default=None, init=False, repr=False)

    def load(self) -> tuple[str | None, set[str]]:
        """The token to start from (None: a first sync) and the refs already done."""
        data = self._load()
        token = data.get(self.key)
        return (token if isinstance(token, str) else None), set(data.get("done") or ())

    def begin(
        self,
        start: str | None,
        new: str,
        received: Mapping[str, datetime | None],
        done: set[str],
    ) -> list[tuple[str, datetime | None]]:
        """A round from ``start`` to ``new`` over the refs found (with when each arrived).

        Returns the refs to hand over, oldest first: those not ``done`` before. A
        round with none is over at once (the new token is stored).
        """
        todo = sorted(
            ((ref, at) for ref, at in received.items() if ref not in done),
            key=lambda e: (e[1] or _EPOCH, e[0]),
        )
        with self._lock:
            rnd = _Round(start, new, {ref for ref, _ in todo}, set(done))
            self._round = rnd
        if not rnd.pending:
            self._complete(rnd)
        return todo

    def settle(self, ref: str, disposition: Disposition) -> None:
        """One message of the round is acknowledged (or gone)."""
        with self._lock:
            rnd = self._round
            if rnd is None or ref not in rnd.pending:
                return
            rnd.pending.discard(ref)
            if disposition is Disposition.IGNORED:
                rnd.done.add(ref)
            finished = not rnd.pending
            if not finished and disposition is Disposition.IGNORED:
                self._store({"v": 1, self.key: rnd.start, "done": sorted(rnd.done)})
        if finished:
            self._complete(rnd)

    def _complete(self, rnd: _Round) -> None:
        if self._round is rnd:
            self._store({"v": 1, self.key: rnd.new, "done": []})
            log.info(f"{self.event}.cursor_advanced", source=self.source, folder=self.folder)

    def _load(self) -> dict[str, Any]:
        raw = self.cursors.get_cursor(self.source, self.folder)
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            log.warning(f"{self.event}.cursor_invalid", source=self.source, folder=self.folder)
            return {}
        return data

    def _store(self, data: dict[str, Any]) -> None:
        self.cursors.set_cursor(self.source, self.folder, json.dumps(data, sort_keys=True))
