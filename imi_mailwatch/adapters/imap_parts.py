"""The pieces of the IMAP source that hold no session: its cursor, UID batches, the
search for new mail, folder creation and message references (see ``adapters.imap``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from imi_mailwatch.adapters.imap_conn import clean, mail_announced, take_size_news, translate_errors
from imi_mailwatch.config import ImapConfig
from imi_mailwatch.errors import MailSourceRejectedError, MailSourceUnavailableError

BATCH_MESSAGES = 200
BATCH_BYTES = 16 * 1024 * 1024
SEARCH_ROUNDS = 5  # searches before IDLE while the server keeps announcing mail
IDLE_SLICE_SECONDS = 1.0  # how often IDLE looks at the stop event


class StaleRefError(Exception):
    """A message reference from before a UIDVALIDITY change (internal)."""


@dataclass(frozen=True, slots=True)
class ImapCursor:
    """Where reading a folder stands (see the module docstring)."""

    uidvalidity: int
    uid: int
    floor: datetime | None = None
    floor_uid: int = 0

    def dumps(self) -> str:
        return json.dumps(
            {
                "v": 1,
                "uidvalidity": self.uidvalidity,
                "uid": self.uid,
                "floor": self.floor.isoformat() if self.floor else None,
                "floor_uid": self.floor_uid,
            },
            sort_keys=True,
        )

    @classmethod
    def loads(cls, text: str) -> ImapCursor | None:
        """The cursor in ``text``; None when it is not one of ours (treated as a first start)."""
        try:
            data = json.loads(text)
            floor = datetime.fromisoformat(data["floor"]) if data.get("floor") else None
            return cls(int(data["uidvalidity"]), int(data["uid"]), floor, int(data["floor_uid"]))
        except (ValueError, KeyError, TypeError):
            return None


def first_start_cursor(
    cfg: ImapConfig, uidvalidity: int, uidnext: int, now: datetime
) -> ImapCursor:
    """The cursor for a folder never read before, following ``first_start``."""
    if cfg.first_start == "all":
        return ImapCursor(uidvalidity, 0)
    if cfg.first_start == "none":
        return ImapCursor(uidvalidity, 0, now, uidnext)
    return ImapCursor(uidvalidity, 0, now - timedelta(days=cfg.first_start_days), uidnext)


def large_sizes(client: IMAPClient, *, uids: list[int]) -> dict[int, int]:
    """The size of each message among ``uids`` (ascending) larger than ``BATCH_BYTES /
    BATCH_MESSAGES``; any other is at most that, so a full batch of them fits.

    One SEARCH LARGER over the UID range finds them, and only they are asked for their
    RFC822.SIZE: a backlog of ordinary mail costs no size response per message.
    """
    small = BATCH_BYTES // BATCH_MESSAGES
    wanted = set(uids)
    found = client.search(["UID", f"{uids[0]}:{uids[-1]}", "LARGER", small])
    large = sorted(u for u in map(int, found) if u in wanted)
    if not large:
        return {}
    got = fetch_items(client, uids=large, what=["RFC822.SIZE"])
    return {int(uid): int(item.get(b"RFC822.SIZE", small)) for uid, item in got.items()}


def uid_batches(uids: list[int], sizes: dict[int, int]) -> Iterator[list[int]]:
    """``uids`` in batches of at most BATCH_MESSAGES and BATCH_BYTES (a larger message
    alone); a message missing from ``sizes`` is at most BATCH_BYTES / BATCH_MESSAGES."""
    small = BATCH_BYTES // BATCH_MESSAGES
    batch: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, small)
        if batch and (len(batch) >= BATCH_MESSAGES or total + size > BATCH_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


def check_bye(responses: list[tuple[Any, ...]]) -> None:
    for resp in responses:
        if len(resp) >= 2 and resp[0] == b"BYE":
            raise MailSourceUnavailableError(f"IMAP idle: server said BYE ({clean(resp[1])})")


def new_mail(client: IMAPClient, *, after: int) -> bool:
    """Whether mail past UID ``after`` is there; never False while announced mail is unread.

    NOOP lets the session see what other sessions delivered. A message that
    arrives while the UID SEARCH runs is announced in the SEARCH reply
    (``* n EXISTS``) but may be missing from its result, and IDLE will not announce
    it again. So the search is repeated until a reply brings no such news, or
    the same count again with nothing expunged (a server repeating itself).
    """
    client.noop()
    take_size_news(client)  # what NOOP and earlier replies announced: the search sees it
    last: tuple[int, int] | None = None
    for _ in range(SEARCH_ROUNDS):
        if any(int(u) > after for u in client.search(["UID", f"{after + 1}:*"])):
            return True
        news = take_size_news(client)
        if news is None or (last is not None and news == (last[0], 0)):
            return False
        last = news
    return True  # mail keeps being announced: let fetch look


def fetch_items(client: IMAPClient, *, uids: list[int], what: list[str]) -> dict[int, Any]:
    return dict(client.fetch(uids, what))


def not_before(item: dict[bytes, Any], floor: datetime) -> bool:
    when = as_utc(item.get(b"INTERNALDATE"))
    return when is None or when >= floor


def parse_ref(ref: str) -> tuple[int, int]:
    try:
        left, right = ref.split(":", 1)
        return int(left), int(right)
    except ValueError:
        raise ValueError(f"not an IMAP message reference: {ref!r}") from None


def as_utc(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def ensure_folder(client: IMAPClient, folder: str, log: Any) -> None:
    """Create and subscribe ``folder`` when it is missing (a lost race is fine)."""
    if client.folder_exists(folder):
        return
    try:
        client.create_folder(folder)
    except IMAPClientError as exc:
        if not client.folder_exists(folder):
            raise MailSourceRejectedError(
                f"IMAP create: folder {folder!r} is missing and cannot be created ({clean(exc)})"
            ) from None
    client.subscribe_folder(folder)
    log.info("imap.folder_created", target=folder)


def move_uids(client: IMAPClient, uids: list[int], folder: str, caps: frozenset[bytes],
              log: Any) -> str:  # fmt: skip
    """Move ``uids`` to ``folder`` (MOVE, else COPY + \\Deleted + UID EXPUNGE); the method."""
    if b"MOVE" in caps:
        client.move(uids, folder)
        return "move"
    client.copy(uids, folder)
    client.add_flags(uids, [b"\\Deleted"], silent=True)
    if b"UIDPLUS" in caps:
        client.uid_expunge(uids)
        return "copy_expunge"
    # EXPUNGE without UIDPLUS would remove every \Deleted message: never
    log.warning("imap.expunge_unavailable", count=len(uids))
    return "copy_flag"


def listen(client: IMAPClient, until: float, stop: threading.Event, log: Any) -> bool:
    """Read IDLE responses until ``until`` or ``stop``; True when mail was announced."""
    while not stop.is_set():
        now = time.monotonic()
        if now >= until:
            return False
        slice_ = max(0.01, min(until, now + IDLE_SLICE_SECONDS) - now)
        with translate_errors("idle"):
            responses = client.idle_check(timeout=slice_)
        if not responses and time.monotonic() - now < slice_ / 2:
            # idle_check returns [] early only when the socket hit EOF
            log.warning("imap.idle_suspect", waited=round(time.monotonic() - now, 3))
            raise MailSourceUnavailableError("IMAP idle: connection closed by the server")
        check_bye(responses)
        if mail_announced(responses):
            return True
    return False
