"""The Microsoft 365 mailbox through Microsoft Graph (app-only, delta query).

How a round works
-----------------
``fetch`` runs one delta round on the watched folder
(``/users/{mbx}/mailFolders/{folder}/messages/delta``), following
``@odata.nextLink`` pages to the ``@odata.deltaLink``. Delta answers in no
particular order, so the round is collected first (ids and receive times only),
then sorted oldest first, and each message's raw MIME is fetched
(``/messages/{id}/$value``) as it is yielded.

The cursor (in the ``CursorStore``) is a small JSON document::

    {"v": 1, "link": "<deltaLink the round started from, or null>",
     "done": ["<ids acknowledged as IGNORED during this round>"]}

The new deltaLink is stored only when every message of the round has been
acknowledged. A crash in the middle of a round therefore restarts the round from
the old link: messages already moved away no longer show up in the folder,
messages left unacknowledged come again, and messages acknowledged as IGNORED
(they stay in the folder) are skipped through ``done``. Nothing is skipped and
nothing acknowledged comes twice.

Message ids are requested as immutable (``Prefer: IdType="ImmutableId"``) so a
message keeps its id when it is moved. ``410 Gone`` (``SyncStateNotFound``,
``resyncRequired``) on a delta link starts a full resynchronisation of the folder;
the pipeline de-duplicates by Message-ID and content hash, so messages seen again
do no harm. A message changed in the folder (read, flagged) is reported by delta
again and yielded again; the pipeline recognises it the same way.

Folders: "INBOX" (any case) is Graph's well-known ``inbox``; other folders are
paths of display names ("IMI/Verwerkt"), resolved level by level through
``mailFolders`` and ``childFolders``; the processed, quarantine and rejected
folders are created when missing, the watched folder is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
import structlog

from imi_mailwatch.adapters.graph_http import GraphHttp
from imi_mailwatch.adapters.round_source import RoundMailSource
from imi_mailwatch.config import GraphConfig
from imi_mailwatch.errors import MailSourceRejectedError
from imi_mailwatch.model import RawMessage

log = structlog.get_logger(__name__)

WELL_KNOWN_FOLDERS = frozenset(
    {"inbox", "archive", "drafts", "sentitems", "deleteditems", "junkemail", "outbox"}
)
_IMMUTABLE = {"Prefer": 'IdType="ImmutableId"'}


@dataclass(eq=False, repr=False, kw_only=True)
class GraphMailSource(RoundMailSource[GraphConfig]):
    """``ports.MailSource`` for an Exchange Online mailbox through Microsoft Graph."""

    cursor_key: ClassVar[str] = "link"
    event: ClassVar[str] = "graph"

    transport: httpx.BaseTransport | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self._http = GraphHttp.for_mailbox(self)
        self._user = f"/users/{quote(self.cfg.mailbox, safe='@')}"
        self._folder_ids: dict[str, str] = {}

    # -- the port --------------------------------------------------------------------
    def fetch(self) -> Iterator[RawMessage]:
        """Yield the messages of one delta round, oldest first."""
        todo, found = self._begin()
        log.info("graph.fetched", source=self.name, count=len(todo), skipped=found - len(todo))
        yield from self._messages(todo)

    def close(self) -> None:
        self._http.close()

    def _mime(self, ref: str) -> bytes | None:
        resp = self._http.request(
            "GET",
            f"{self._user}/messages/{ref}/$value",
            op="get_mime",
            headers=_IMMUTABLE,
            allow=(404,),
        )
        if resp.status_code == 404:  # gone between delta and now
            log.info("graph.message_missing", source=self.name, op="get_mime")
            return None
        return resp.content

    def _move(self, ref: str, target: str) -> None:
        dest = self._folder_id(target, create=True)
        resp = self._http.request(
            "POST",
            f"{self._user}/messages/{ref}/move",
            op="move",
            json={"destinationId": dest},
            headers=_IMMUTABLE,
            allow=(404,),
        )
        if resp.status_code == 404:
            log.info("graph.message_missing", source=self.name, op="move")
        else:
            log.debug("graph.moved", source=self.name, folder=target)

    def _round(self, link: str | None) -> tuple[dict[str, datetime | None], str, str | None]:
        """All changes since ``link`` (or a first sync): receive times, the new deltaLink,
        the start."""
        resync = False
        while True:
            url, params, skip_items = self._first_request(link, resync)
            found: dict[str, datetime | None] = {}
            gone = False
            while True:
                resp = self._http.request(
                    "GET",
                    url,
                    op="delta",
                    params=params,
                    headers={
                        "Prefer": f'odata.maxpagesize={self.cfg.page_size}, IdType="ImmutableId"'
                    },
                    allow=(410,),
                )
                if resp.status_code == 410:
                    gone = True
                    break
                page = _json_object(resp)
                for item in page.get("value") or []:
                    if not isinstance(item, dict) or "id" not in item:
                        continue
                    mid = str(item["id"])
                    if "@removed" in item:
                        found.pop(mid, None)
                    elif not skip_items:
                        found[mid] = _parse_time(item.get("receivedDateTime"))
                params = None
                if page.get("@odata.nextLink"):
                    url = str(page["@odata.nextLink"])
                    continue
                if page.get("@odata.deltaLink"):
                    return found, str(page["@odata.deltaLink"]), link
                raise MailSourceRejectedError("Graph delta: a page without next or delta link")
            if gone:
                if resync:
                    raise MailSourceRejectedError("Graph delta: 410 on a fresh synchronisation")
                log.warning("graph.delta_reset", source=self.name, folder=self.folder)
                link, resync = None, True

    def _first_request(
        self, link: str | None, resync: bool
    ) -> tuple[str, dict[str, str] | None, bool]:
        if link:
            return link, None, False
        folder = self._folder_id(self.folder, create=False)
        url = f"{self._user}/mailFolders/{folder}/messages/delta"
        params = {"$select": "id,internetMessageId,receivedDateTime"}
        mode = "all" if resync else self.cfg.first_start
        if mode == "since_days":
            since = self.clock.now() - timedelta(days=self.cfg.first_start_days)
            params["$filter"] = f"receivedDateTime ge {since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        log.info("graph.first_sync", source=self.name, folder=self.folder, mode=mode)
        return url, params, mode == "none"

    # -- folders ----------------------------------------------------------------------
    def _folder_id(self, path: str, *, create: bool) -> str:
        cached = self._folder_ids.get(path)
        if cached is not None:
            return cached
        parts = [p for p in path.strip("/").split("/") if p]
        if not parts:
            raise MailSourceRejectedError("an empty folder name was configured")
        if len(parts) == 1 and parts[0].lower() in WELL_KNOWN_FOLDERS:
            self._folder_ids[path] = parts[0].lower()
            return parts[0].lower()
        parent: str | None = None
        for depth, part in enumerate(parts):
            if depth == 0 and part.lower() in WELL_KNOWN_FOLDERS:
                parent = part.lower()
                continue
            found = self._find_child(parent, part)
            if found is None:
                if not create:
                    raise MailSourceRejectedError(f"Graph folder not found: {path}")
                found = self._create_child(parent, part)
                log.info(
                    "graph.folder_created", source=self.name, folder="/".join(parts[: depth + 1])
                )
            parent = found
        assert parent is not None
        self._folder_ids[path] = parent
        return parent

    def _children_url(self, parent: str | None) -> str:
        if parent is None:
            return f"{self._user}/mailFolders"
        return f"{self._user}/mailFolders/{parent}/childFolders"

    def _find_child(self, parent: str | None, name: str) -> str | None:
        url: str | None = self._children_url(parent)
        params: dict[str, str] | None = {"$select": "id,displayName", "$top": "100"}
        while url:
            page = _json_object(self._http.request("GET", url, op="list_folders", params=params))
            params = None
            for f in page.get("value") or []:
                if isinstance(f, dict) and str(f.get("displayName", "")).lower() == name.lower():
                    return str(f["id"])
            url = page.get("@odata.nextLink")
        return None

    def _create_child(self, parent: str | None, name: str) -> str:
        resp = self._http.request(
            "POST",
            self._children_url(parent),
            op="create_folder",
            json={"displayName": name},
            allow=(409,),
        )
        if resp.status_code == 409:  # created meanwhile by someone else
            found = self._find_child(parent, name)
            if found is None:
                raise MailSourceRejectedError("Graph folder exists but cannot be listed")
            return found
        return str(_json_object(resp)["id"])


def _json_object(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        raise MailSourceRejectedError("Graph answered something that is not JSON") from None
    if not isinstance(data, dict):
        raise MailSourceRejectedError("Graph answered JSON that is not an object")
    return data


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
