"""``ImapMailSource``: one IMAP folder watched with IDLE (or polling), a durable cursor.

The cursor (stored through ``ports.CursorStore`` as a small JSON text) holds:

- ``uidvalidity`` and ``uid``: every message with a UID up to ``uid`` has been
  acknowledged, or skipped by the first-start policy;
- ``floor`` and ``floor_uid``: the first-start boundary. Messages that were
  already in the folder at the first start (UID below ``floor_uid``) are only
  delivered when their INTERNALDATE is at or after ``floor``. Mail that arrives
  later is always delivered, whatever its date.

A UIDVALIDITY change (the folder was rebuilt) starts the numbering again: the
whole folder is fetched once more, with the same ``floor`` instant (so the
first-start policy still keeps old mail out, while nothing that arrived after the
first start can be lost), and the pipeline skips what it already recorded by
Message-ID plus content hash.

Nothing is ever deleted: HANDLED, QUARANTINED and REJECTED mail is moved (MOVE,
or COPY + \\Deleted + UID EXPUNGE of that one UID where MOVE is missing), IGNORED
mail stays in place and the cursor moves past it. Bodies are read with
``BODY.PEEK[]``, so no flag changes by reading.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import structlog
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from imi_mailwatch.adapters import imap_parts as parts
from imi_mailwatch.adapters.folders import move_targets
from imi_mailwatch.adapters.imap_conn import (
    abandon,
    clean,
    default_port,
    logout,
    mail_announced,
    open_session,
    read_ahead,
    translate_errors,
)
from imi_mailwatch.adapters.imap_parts import ImapCursor, first_start_cursor
from imi_mailwatch.config import ImapConfig
from imi_mailwatch.errors import (
    MailSourceRejectedError,
    MailSourceUnavailableError,
    MailwatchError,
    TransientError,
)
from imi_mailwatch.model import Disposition, RawMessage
from imi_mailwatch.ports import Clock, CursorStore
from imi_mailwatch.retry import transient_retrying

__all__ = ["ImapCursor", "ImapMailSource", "first_start_cursor"]

log = structlog.get_logger(__name__)

_OAUTH_SESSION_SECONDS = 40 * 60  # Exchange ends a session when its token expires (~60 min)
_MOVE_BATCH = 100  # moves acknowledged during a fetch are sent this many at a time
# during a fetch the cursor is written after this many advances: a cursor that lags makes a
# restart fetch at most this many recorded messages again (skipped as duplicates)
_CURSOR_BATCH = 1000


class ImapMailSource:
    """A ``ports.MailSource`` over IMAP (imapclient). Not thread-safe: one thread per source."""

    def __init__(
        self,
        name: str,
        cfg: ImapConfig,
        *,
        folder: str,
        processed_folder: str,
        quarantine_folder: str,
        rejected_folder: str,
        cursors: CursorStore,
        clock: Clock | Callable[[], datetime],
        token_provider: Callable[[], str] | None = None,
    ) -> None:
        self.name = name
        self._cfg = cfg
        self._folder = folder
        self._targets = move_targets(processed_folder, quarantine_folder, rejected_folder)
        self._cursors = cursors
        self._now: Callable[[], datetime] = clock.now if isinstance(clock, Clock) else clock
        self._token_provider = token_provider
        self._client: IMAPClient | None = None
        self._connected_at = 0.0
        self._caps: frozenset[bytes] = frozenset()
        self._delimiter = "/"
        self._uidvalidity = 0
        self._cursor: ImapCursor | None = None
        self._outstanding: set[int] = set()  # yielded, not yet acknowledged and moved
        self._pending: dict[str, set[int]] = {}  # target folder -> UIDs acknowledged, to move
        self._fetching = False
        self._unsaved = 0  # cursor advances not yet written to the store
        self._seen_max = 0  # highest UID yielded or skipped in this session
        self._known_folders: set[str] = set()
        self._log = log.bind(source=name, folder=folder)

    # -- connection ---------------------------------------------------------------

    @property
    def capabilities(self) -> frozenset[bytes]:
        """The server's capabilities after login (empty before the first connection)."""
        return self._caps

    def _connect(self) -> IMAPClient:
        started = time.monotonic()
        client = open_session(self._cfg, name=self.name, token_provider=self._token_provider)
        try:
            with translate_errors("capabilities"):
                self._caps = frozenset(client.capabilities())
                ns = client.namespace()
                personal = ns.personal[0] if ns and ns.personal else None
                self._delimiter = personal[1] if personal and personal[1] else "/"
            self._select(client)
        except BaseException:
            abandon(client)
            raise
        self._client = client
        self._connected_at = time.monotonic()
        self._log.info(
            "imap.connected",
            host=self._cfg.host,
            port=default_port(self._cfg),
            security=self._cfg.security,
            auth=self._cfg.auth,
            idle=b"IDLE" in self._caps,
            move=b"MOVE" in self._caps,
            uidvalidity=self._uidvalidity,
            seconds=round(time.monotonic() - started, 3),
        )
        return client

    def _select(self, client: IMAPClient) -> None:
        with translate_errors("select"):
            try:
                info = client.select_folder(self._folder)
            except IMAPClientAbortError:
                raise
            except IMAPClientError as exc:
                if "not connected" in str(exc):  # Exchange: "authenticated but not connected"
                    raise
                raise MailSourceRejectedError(
                    f"IMAP select: folder {self._folder!r} cannot be opened ({clean(exc)})"
                ) from None
        uidvalidity = int(info[b"UIDVALIDITY"])
        uidnext = int(info.get(b"UIDNEXT", 1))
        self._uidvalidity = uidvalidity
        stored = self._cursors.get_cursor(self.name, self._folder)
        cursor = ImapCursor.loads(stored) if stored else None
        if cursor is None:
            cursor = first_start_cursor(self._cfg, uidvalidity, uidnext, self._now())
            self._log.info(
                "imap.first_start",
                policy=self._cfg.first_start,
                floor=cursor.floor.isoformat() if cursor.floor else None,
                floor_uid=cursor.floor_uid,
                exists=int(info.get(b"EXISTS", 0)),
            )
            self._store(cursor)
        elif cursor.uidvalidity != uidvalidity:
            self._log.warning(
                "imap.uidvalidity_changed",
                old=cursor.uidvalidity,
                new=uidvalidity,
                floor=cursor.floor.isoformat() if cursor.floor else None,
            )
            cursor = ImapCursor(uidvalidity, 0, cursor.floor, uidnext if cursor.floor else 0)
            self._store(cursor)
        if (
            self._cursor is not None
            and self._cursor.uidvalidity == uidvalidity
            and self._cursor.uid > cursor.uid
        ):
            cursor = self._cursor  # progress of this session not yet written
        if self._cursor is None or self._cursor.uidvalidity != uidvalidity:
            self._seen_max = cursor.uid
            self._outstanding.clear()
            self._pending.clear()  # those UIDs mean nothing now; the messages come again
        self._cursor = cursor

    def _ensure(self) -> IMAPClient:
        if (
            self._client is not None
            and self._cfg.auth == "xoauth2"
            and time.monotonic() - self._connected_at > _OAUTH_SESSION_SECONDS
        ):
            self._log.info("imap.session_renewed", reason="token_lifetime")
            self._drop(polite=True)
        if self._client is None:
            return self._connect()
        return self._client

    def _drop(self, *, polite: bool = False) -> None:
        client, self._client = self._client, None
        if client is not None:
            if polite:
                logout(client)
            else:
                abandon(client)

    def _run(self, operation: str, fn: Callable[[IMAPClient], Any]) -> Any:
        """Run ``fn`` on the session; a stale session is replaced once, then errors go up."""
        reused = self._client is not None
        client = self._ensure()
        try:
            with translate_errors(operation):
                return fn(client)
        except TransientError as exc:
            self._drop()
            if not reused:
                raise
            self._log.info("imap.reconnecting", operation=operation, error=type(exc).__name__)
        client = self._ensure()
        try:
            with translate_errors(operation):
                return fn(client)
        except TransientError:
            self._drop()
            raise

    def _store(self, cursor: ImapCursor) -> None:
        self._cursors.set_cursor(self.name, self._folder, cursor.dumps())
        self._cursor = cursor
        self._unsaved = 0

    # -- fetch --------------------------------------------------------------------

    def fetch(self) -> Iterator[RawMessage]:
        """Yield messages after the cursor, oldest (lowest UID) first.

        Moves acknowledged while the iteration runs are sent in batches (one MOVE
        per folder and up to ``_MOVE_BATCH`` messages), at the latest when the
        iteration ends; the cursor never passes a message whose move is pending.
        """
        self._flush()
        self._fetching = True
        try:
            yield from self._fetch_all()
        finally:
            self._fetching = False

    def _fetch_all(self) -> Iterator[RawMessage]:
        started = time.monotonic()
        uids, skipped_upto = self._run("search", self._candidates)
        cursor = self._cursor
        assert cursor is not None
        uidvalidity = self._uidvalidity
        self._outstanding.clear()
        self._seen_max = max(cursor.uid, skipped_upto)
        count = 0
        for start in range(0, len(uids), parts.BATCH_MESSAGES * 10):
            chunk = uids[start : start + parts.BATCH_MESSAGES * 10]
            sizes = self._run("fetch", partial(parts.large_sizes, uids=chunk))
            for batch in parts.uid_batches(chunk, sizes):
                got = self._run(
                    "fetch",
                    partial(parts.fetch_items, uids=batch, what=["BODY.PEEK[]", "INTERNALDATE"]),
                )
                if self._uidvalidity != uidvalidity:  # reconnected to a rebuilt folder
                    raise MailSourceUnavailableError("IMAP fetch: UIDVALIDITY changed; fetch again")
                for uid in batch:
                    item = got.get(uid)
                    self._seen_max = max(self._seen_max, uid)
                    if item is None or b"BODY[]" not in item:
                        continue  # moved away by someone else meanwhile
                    self._outstanding.add(uid)
                    count += 1
                    yield RawMessage(
                        source=self.name,
                        ref=f"{self._uidvalidity}:{uid}",
                        data=bytes(item[b"BODY[]"]),
                        received_at=parts.as_utc(item.get(b"INTERNALDATE")),
                    )
            if chunk:
                self._seen_max = max(self._seen_max, chunk[-1])
        self._flush()
        self._advance(save=True)
        self._log.info(
            "imap.fetched",
            count=count,
            seconds=round(time.monotonic() - started, 3),
            cursor_uid=self._cursor.uid if self._cursor else None,
        )

    def _candidates(self, client: IMAPClient) -> tuple[list[int], int]:
        """UIDs to deliver, and the UID up to which everything else may be skipped."""
        cursor = self._cursor
        assert cursor is not None
        client.noop()  # let the session see mail that other sessions delivered
        after = cursor.uid
        uids: list[int] = []
        skipped_upto = 0
        if cursor.floor is not None and after + 1 < cursor.floor_uid:
            # mail that was there at the first start: only from the floor instant on
            since = (cursor.floor - timedelta(days=1)).date()
            found = client.search(["UID", f"{after + 1}:{cursor.floor_uid - 1}", "SINCE", since])
            old = [int(u) for u in found if after < int(u) < cursor.floor_uid]
            if old:
                dates = client.fetch(old, ["INTERNALDATE"])
                old = [u for u in old if u in dates and parts.not_before(dates[u], cursor.floor)]
            uids.extend(sorted(old))
            skipped_upto = cursor.floor_uid - 1
            after = max(after, cursor.floor_uid - 1)
        new = [int(u) for u in client.search(["UID", f"{after + 1}:*"])]
        uids.extend(sorted(u for u in new if u > after))
        return uids, skipped_upto

    # -- acknowledge --------------------------------------------------------------

    def acknowledge(self, message: RawMessage, disposition: Disposition) -> None:
        """Move the message per ``disposition`` (IGNORED stays), then advance the cursor."""
        uidvalidity, uid = parts.parse_ref(message.ref)
        if self._client is None or uidvalidity != self._uidvalidity:
            self._ensure()
        if uidvalidity != self._uidvalidity:
            # the folder was rebuilt since this message was read: its UID means nothing
            # now. It is fetched again after the resync and acknowledged then.
            self._log.warning("imap.ack_stale", uid=uid, uidvalidity=uidvalidity)
            return
        target = self._targets.get(disposition)
        self._seen_max = max(self._seen_max, uid)
        if target is None:
            self._outstanding.discard(uid)
            self._advance()
            return
        self._outstanding.add(uid)  # until its move is done
        self._pending.setdefault(target, set()).add(uid)
        if not self._fetching or sum(map(len, self._pending.values())) >= _MOVE_BATCH:
            self._flush()

    def _flush(self) -> None:
        """Send the pending moves, one command per target folder; then advance the cursor."""
        while self._pending:
            target, uids = next(iter(self._pending.items()))
            uidvalidity = self._uidvalidity
            try:
                self._run(
                    "move",
                    partial(self._move, uids=sorted(uids), uidvalidity=uidvalidity, target=target),
                )
            except parts.StaleRefError:  # the session was replaced and the folder rebuilt meanwhile
                self._log.warning("imap.ack_stale", count=len(uids), uidvalidity=uidvalidity)
                self._pending.clear()
                return
            self._pending.pop(target, None)
            self._outstanding -= uids
        self._advance()

    def _advance(self, *, save: bool = False) -> None:
        """Move the cursor up to the oldest message still outstanding.

        During a fetch the cursor is written every ``_CURSOR_BATCH`` advances and when
        the fetch ends, not after each acknowledgement: a cursor that lags only makes a
        restart fetch some recorded messages again, which the pipeline skips.
        """
        cursor = self._cursor
        if cursor is None:
            return
        upto = min(self._outstanding) - 1 if self._outstanding else self._seen_max
        if upto > cursor.uid:
            cursor = self._cursor = replace(cursor, uid=upto)
            self._unsaved += 1
        if self._unsaved and (save or not self._fetching or self._unsaved >= _CURSOR_BATCH):
            self._store(cursor)

    def _save(self) -> None:
        if self._unsaved and self._cursor is not None:
            self._store(self._cursor)

    def _server_name(self, folder: str) -> str:
        return folder.replace("/", self._delimiter) if self._delimiter != "/" else folder

    def _ensure_folder(self, client: IMAPClient, folder: str) -> None:
        if folder not in self._known_folders:
            parts.ensure_folder(client, folder, self._log)
            self._known_folders.add(folder)

    def _move(self, client: IMAPClient, *, uids: list[int], uidvalidity: int, target: str) -> None:
        if uidvalidity != self._uidvalidity:
            raise parts.StaleRefError
        folder = self._server_name(target)
        self._ensure_folder(client, folder)
        method = parts.move_uids(client, uids, folder, self._caps, self._log)
        self._log.info(
            "imap.messages_moved", count=len(uids), first_uid=uids[0], target=target, method=method
        )

    # -- wait ---------------------------------------------------------------------

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Block until something may have arrived, ``timeout`` passes or ``stop`` is set."""
        deadline = time.monotonic() + max(0.0, timeout)
        if stop.is_set():
            return
        try:
            if self._client is None:
                self._reconnect(deadline, stop)
            if self._pending and self._client is not None:
                self._flush()
            if self._client is None or self._has_new() or time.monotonic() >= deadline:
                return
            if self._cfg.idle and b"IDLE" in self._caps:
                self._idle(deadline, stop)
            else:
                self._poll(deadline, stop)
        except TransientError as exc:
            self._drop()
            self._log.warning("imap.connection_lost", error=type(exc).__name__, detail=str(exc))
            self._reconnect(deadline, stop)

    def _reconnect(self, deadline: float, stop: threading.Event) -> None:
        """Reconnect with backoff and jitter until ``deadline``; leave errors to fetch."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or stop.is_set():
            return
        retrying = transient_retrying(
            "imap.connect", stop=stop, first_wait=1.0, max_wait=60.0, max_delay=remaining
        )
        try:
            retrying(self._ensure)
        except TransientError:
            self._log.warning("imap.reconnect_failed", seconds=round(remaining, 1))

    def _has_new(self) -> bool:
        after = max(self._seen_max, self._cursor.uid if self._cursor else 0)
        return bool(self._run("search", partial(parts.new_mail, after=after)))

    def _poll(self, deadline: float, stop: threading.Event) -> None:
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if stop.wait(min(remaining, float(self._cfg.poll_seconds))):
                return
            if self._has_new():
                return

    def _idle(self, deadline: float, stop: threading.Event) -> None:
        """IDLE until mail is announced, the deadline or stop; re-issued every renew interval."""
        client = self._client
        if client is None:
            return
        renew = float(self._cfg.idle_renew_seconds)
        while True:
            with translate_errors("idle"):
                client.idle()
                early = read_ahead(client)  # what came in the same packet as "+ idling"
            arrived = False
            try:
                parts.check_bye(early)
                arrived = mail_announced(early) or parts.listen(
                    client, min(deadline, time.monotonic() + renew), stop, self._log
                )
            finally:
                # mail announced between the last look and the end of IDLE counts too:
                # the next IDLE would not mention it again
                arrived = self._end_idle(client) or arrived
            if arrived or stop.is_set() or time.monotonic() >= deadline:
                return
            self._log.debug("imap.idle_renewed")

    def _end_idle(self, client: IMAPClient) -> bool:
        """End IDLE; True when the reply to DONE announced mail."""
        current = self._client
        if current is None or current is not client:
            return False  # already dropped
        try:
            with translate_errors("idle"):
                _, responses = current.idle_done()
        except TransientError:
            self._drop()
            raise
        return mail_announced(responses)

    # -- close --------------------------------------------------------------------

    def close(self) -> None:
        """Log out (bounded) and forget the session. Safe to call twice."""
        if self._client is not None:
            if self._pending:
                try:
                    self._flush()
                except MailwatchError as exc:  # they are fetched and acknowledged again
                    self._log.warning("imap.moves_abandoned", error=type(exc).__name__)
            self._save()
            self._drop(polite=True)
            self._log.info("imap.disconnected")
