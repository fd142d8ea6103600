"""An Exchange Web Services (EWS) endpoint on loopback, for tests with exchangelib.

Real SOAP over HTTPS over a real socket (``/EWS/Exchange.asmx``, Basic
authentication). It answers the operations imi-mailwatch's EWS source uses, with
the element shapes of Microsoft's EWS reference and of what exchangelib parses:

- ``ConvertId`` (exchangelib's version probe: only the ``ServerVersionInfo``
  header matters; every response carries it, as Exchange 2016 does);
- ``GetFolder`` (distinguished ids ``root``, ``msgfolderroot``, ``inbox`` or ids),
  ``FindFolder`` (shallow), ``CreateFolder`` (``ErrorFolderExists`` on a double);
- ``SyncFolderItems`` with ``MaxChangesReturned`` (``Create``/``Delete`` changes,
  ``IncludesLastItemInRange``, ``ErrorInvalidSyncStateData`` after
  ``reset_sync()``);
- ``GetItem`` with ``MimeContent``; ``MoveItem`` (a moved item gets a new id, as
  in Exchange; ``ErrorItemNotFound`` for an id that is gone).

Switch ``busy(n)`` answers the next n calls with the ``ErrorServerBusy`` SOAP fault
and ``BackOffMilliseconds``.
"""

from __future__ import annotations

import base64
import datetime as dt
import ssl
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from tests.servers.graph_server import make_self_signed

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
DISTINGUISHED = {"root": None, "msgfolderroot": "root", "inbox": "msgfolderroot"}


@dataclass
class EwsFolder:
    id: str
    name: str
    parent: str | None
    distinguished: str | None = None


@dataclass
class EwsItem:
    id: str
    folder: str
    mime: bytes
    received: dt.datetime


@dataclass
class EwsMailbox:
    folders: dict[str, EwsFolder] = field(default_factory=dict)
    items: dict[str, EwsItem] = field(default_factory=dict)
    changes: list[tuple[int, str, str]] = field(default_factory=list)  # seq, item id, folder
    seq: int = 0
    counter: int = 0

    def new_id(self, kind: str) -> str:
        self.counter += 1
        return base64.b64encode(f"{kind}:{self.counter:06d}".encode()).decode()

    def log(self, item_id: str, folder: str) -> None:
        self.seq += 1
        self.changes.append((self.seq, item_id, folder))


class EwsServer:
    """Start with ``with EwsServer() as srv:``; ``srv.endpoint`` is the service URL."""

    def __init__(
        self,
        username: str = "PROVINCIE\\svc-imi",
        password: str = "ews-test-password",
        mailbox: str = "imi@example.test",
    ) -> None:
        self.username = username
        self.password = password
        self.address = mailbox
        self.box = EwsMailbox()
        self.lock = threading.RLock()
        self.calls: list[str] = []
        self.errors: list[str] = []
        self.stopped = False
        # OAuth: a callable that says whether a bearer token is valid (e.g. a GraphServer's)
        self.bearer_check: Callable[[str], bool] | None = None
        self._busy = 0
        self._sync_floor = 0
        for name, parent in DISTINGUISHED.items():
            fid = self.box.new_id("folder")
            parent_id = self.folder_by_distinguished(parent).id if parent else None
            self.box.folders[fid] = EwsFolder(fid, name.capitalize(), parent_id, name)
        self._tmp = tempfile.mkdtemp(prefix="ews-srv-")
        self.ca_file, self._key = make_self_signed(self._tmp)
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> EwsServer:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.ca_file, self._key)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        httpd.daemon_threads = True
        httpd.ews = self  # type: ignore[attr-defined]
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopped = True  # connections kept alive are dropped at their next request
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> EwsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        assert self._httpd is not None
        return f"https://127.0.0.1:{self._httpd.server_address[1]}/EWS/Exchange.asmx"

    # -- switches and helpers -------------------------------------------------------
    def busy(self, count: int = 1) -> None:
        with self.lock:
            self._busy += count

    def reset_sync(self) -> None:
        with self.lock:
            self._sync_floor = self.box.seq + 1

    def folder_by_distinguished(self, name: str) -> EwsFolder:
        return next(f for f in self.box.folders.values() if f.distinguished == name)

    def folder_path(self, path: str) -> EwsFolder | None:
        """A folder by path of display names under the message folder root ("IMI/Verwerkt")."""
        with self.lock:
            if path.lower() == "inbox":
                return self.folder_by_distinguished("inbox")
            parent = self.folder_by_distinguished("msgfolderroot").id
            found: EwsFolder | None = None
            for part in path.split("/"):
                found = next(
                    (
                        f
                        for f in self.box.folders.values()
                        if f.parent == parent and f.name.lower() == part.lower()
                    ),
                    None,
                )
                if found is None:
                    return None
                parent = found.id
            return found

    def deliver(
        self, mime: bytes, received: dt.datetime | None = None, folder: str = "inbox"
    ) -> str:
        with self.lock:
            target = self.folder_path(folder)
            assert target is not None
            iid = self.box.new_id("item")
            self.box.items[iid] = EwsItem(iid, target.id, mime, received or dt.datetime.now(dt.UTC))
            self.box.log(iid, target.id)
            return iid

    def items_in(self, folder: str) -> list[EwsItem]:
        with self.lock:
            target = self.folder_path(folder)
            if target is None:
                return []
            return sorted(
                (i for i in self.box.items.values() if i.folder == target.id),
                key=lambda i: i.received,
            )

    # -- SOAP -------------------------------------------------------------------------
    def handle(self, auth: str, body: bytes) -> tuple[int, bytes]:
        expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        bearer_ok = (
            self.bearer_check is not None
            and auth.startswith("Bearer ")
            and self.bearer_check(auth[7:])
        )
        if auth != expected and not bearer_ok:
            return 401, b""
        root = etree.fromstring(body)
        op = root.find(f"{{{SOAP}}}Body")[0]  # type: ignore[index]
        name = etree.QName(op).localname
        with self.lock:
            self.calls.append(name)
            if self._busy and name != "ConvertId":
                self._busy -= 1
                return 500, _envelope(_BUSY_FAULT)
            handler = getattr(self, f"_op_{name}", None)
            if handler is None:
                return 500, _envelope(_fault("ErrorInvalidOperation", f"unsupported {name}"))
            try:
                return 200, _envelope(handler(op))
            except Exception as exc:  # a bug here must show, not hang the client
                self.errors.append(f"{name}: {exc!r}: {etree.tostring(op)[-700:]!r}")
                return 500, _envelope(_fault("ErrorInternalServerError", repr(exc)))

    def _folder_from_ref(self, elem: Any) -> EwsFolder | None:
        if etree.QName(elem).localname == "DistinguishedFolderId":
            ident = elem.get("Id")
            return next((f for f in self.box.folders.values() if f.distinguished == ident), None)
        return self.box.folders.get(elem.get("Id"))

    def _folder_xml(self, f: EwsFolder) -> str:
        children = sum(1 for c in self.box.folders.values() if c.parent == f.id)
        total = sum(1 for i in self.box.items.values() if i.folder == f.id)
        parent = f'<t:ParentFolderId Id="{f.parent}" ChangeKey="ck"/>' if f.parent else ""
        return (
            f'<t:Folder><t:FolderId Id="{f.id}" ChangeKey="ck"/>{parent}'
            f"<t:FolderClass>IPF.Note</t:FolderClass><t:DisplayName>{escape(f.name)}</t:DisplayName>"
            f"<t:TotalCount>{total}</t:TotalCount><t:ChildFolderCount>{children}</t:ChildFolderCount>"
            f"<t:UnreadCount>0</t:UnreadCount></t:Folder>"
        )

    def _op_ConvertId(self, op: Any) -> str:
        return _messages(
            "ConvertId",
            [_error_msg("ConvertId", "ErrorInvalidIdMalformed", "Id is malformed.")],
        )

    def _op_GetFolder(self, op: Any) -> str:
        out = []
        for ref in op.find(f"{{{M}}}FolderIds"):
            f = self._folder_from_ref(ref)
            if f is None:
                out.append(_error_msg("GetFolder", "ErrorFolderNotFound", "Folder not found."))
            else:
                out.append(_ok("GetFolder", f"<m:Folders>{self._folder_xml(f)}</m:Folders>"))
        return _messages("GetFolder", out)

    def _op_FindFolder(self, op: Any) -> str:
        out = []
        for ref in op.find(f"{{{M}}}ParentFolderIds"):
            parent = self._folder_from_ref(ref)
            if parent is None:
                out.append(_error_msg("FindFolder", "ErrorFolderNotFound", "Folder not found."))
                continue
            kids = self._descendants(parent.id, deep=op.get("Traversal") == "Deep")
            inner = "".join(self._folder_xml(f) for f in kids)
            out.append(
                _ok(
                    "FindFolder",
                    f'<m:RootFolder IndexedPagingOffset="{len(kids)}"'
                    f' TotalItemsInView="{len(kids)}" IncludesLastItemInRange="true">'
                    f"<t:Folders>{inner}</t:Folders></m:RootFolder>",
                )
            )
        return _messages("FindFolder", out)

    def _descendants(self, parent: str, *, deep: bool) -> list[EwsFolder]:
        out = []
        for f in list(self.box.folders.values()):
            if f.parent == parent:
                out.append(f)
                if deep:
                    out.extend(self._descendants(f.id, deep=True))
        return out

    def _op_CreateFolder(self, op: Any) -> str:
        parent = self._folder_from_ref(op.find(f"{{{M}}}ParentFolderId")[0])
        out = []
        for folder in op.find(f"{{{M}}}Folders"):
            name = folder.findtext(f"{{{T}}}DisplayName") or ""
            if parent is None:
                out.append(_error_msg("CreateFolder", "ErrorFolderNotFound", "Parent not found."))
            elif any(
                f.parent == parent.id and f.name.lower() == name.lower()
                for f in self.box.folders.values()
            ):
                out.append(_error_msg("CreateFolder", "ErrorFolderExists", "Folder exists."))
            else:
                fid = self.box.new_id("folder")
                self.box.folders[fid] = EwsFolder(fid, name, parent.id)
                out.append(
                    _ok(
                        "CreateFolder",
                        f'<m:Folders><t:Folder><t:FolderId Id="{fid}" ChangeKey="ck"/>'
                        f"</t:Folder></m:Folders>",
                    )
                )
        return _messages("CreateFolder", out)

    def _op_SyncFolderItems(self, op: Any) -> str:
        folder = self._folder_from_ref(op.find(f"{{{M}}}SyncFolderId")[0])
        if folder is None:
            return _messages(
                "SyncFolderItems",
                [_error_msg("SyncFolderItems", "ErrorFolderNotFound", "Folder not found.")],
            )
        state_text = op.findtext(f"{{{M}}}SyncState") or ""
        max_changes = int(op.findtext(f"{{{M}}}MaxChangesReturned") or "100")
        # state = "<seq>:<already reported count of changes after seq>"
        since, done = 0, 0
        if state_text:
            try:
                raw = base64.b64decode(state_text).decode()
                since, done = (int(x) for x in raw.split(":"))
            except ValueError:
                since = -1
            if since < self._sync_floor:
                # Exchange serialises the (empty) sync elements in the error message too
                err = _error_msg(
                    "SyncFolderItems",
                    "ErrorInvalidSyncStateData",
                    "Synchronization state data is corrupt or otherwise invalid.",
                ).replace(
                    "</m:SyncFolderItemsResponseMessage>",
                    "<m:SyncState/><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>"
                    "</m:SyncFolderItemsResponseMessage>",
                )
                return _messages("SyncFolderItems", [err])
        changes = self._changes(folder.id, since, initial=not state_text)
        page = changes[done : done + max_changes]
        last = done + max_changes >= len(changes)
        new_state = f"{self.box.seq}:0" if last else f"{since}:{done + max_changes}"
        xml = "".join(page)
        return _messages(
            "SyncFolderItems",
            [
                _ok(
                    "SyncFolderItems",
                    f"<m:SyncState>{base64.b64encode(new_state.encode()).decode()}</m:SyncState>"
                    f"<m:IncludesLastItemInRange>{'true' if last else 'false'}"
                    f"</m:IncludesLastItemInRange><m:Changes>{xml}</m:Changes>",
                )
            ],
        )

    def _changes(self, folder_id: str, since: int, *, initial: bool) -> list[str]:
        touched: list[str] = []
        for seq, iid, fid in self.box.changes:
            if seq > since and fid == folder_id and iid not in touched:
                touched.append(iid)
        out = []
        for iid in touched:
            item = self.box.items.get(iid)
            if item is None or item.folder != folder_id:
                if not initial:
                    out.append(f'<t:Delete><t:ItemId Id="{iid}" ChangeKey="ck"/></t:Delete>')
                continue
            out.append(f"<t:Create>{self._item_xml(item, mime=False)}</t:Create>")
        return out

    def _item_xml(self, item: EwsItem, *, mime: bool) -> str:
        content = ""
        if mime:
            content = (
                f'<t:MimeContent CharacterSet="UTF-8">'
                f"{base64.b64encode(item.mime).decode()}</t:MimeContent>"
            )
        received = item.received.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f'<t:Message><t:ItemId Id="{item.id}" ChangeKey="ck"/>{content}'
            f"<t:DateTimeReceived>{received}</t:DateTimeReceived></t:Message>"
        )

    def _op_GetItem(self, op: Any) -> str:
        out = []
        for ref in op.find(f"{{{M}}}ItemIds"):
            item = self.box.items.get(ref.get("Id"))
            if item is None:
                out.append(_error_msg("GetItem", "ErrorItemNotFound", "Item not found."))
            else:
                out.append(_ok("GetItem", f"<m:Items>{self._item_xml(item, mime=True)}</m:Items>"))
        return _messages("GetItem", out)

    def _op_MoveItem(self, op: Any) -> str:
        dest = self._folder_from_ref(op.find(f"{{{M}}}ToFolderId")[0])
        out = []
        for ref in op.find(f"{{{M}}}ItemIds"):
            item = self.box.items.get(ref.get("Id"))
            if item is None or dest is None:
                out.append(_error_msg("MoveItem", "ErrorItemNotFound", "Item not found."))
                continue
            # Exchange gives a moved item a new id
            old_folder = item.folder
            del self.box.items[item.id]
            self.box.log(item.id, old_folder)
            new = EwsItem(self.box.new_id("item"), dest.id, item.mime, item.received)
            self.box.items[new.id] = new
            self.box.log(new.id, dest.id)
            out.append(
                _ok(
                    "MoveItem",
                    f'<m:Items><t:Message><t:ItemId Id="{new.id}" ChangeKey="ck"/>'
                    "</t:Message></m:Items>",
                )
            )
        return _messages("MoveItem", out)


def _ok(op: str, inner: str) -> str:
    return (
        f'<m:{op}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
        f"{inner}</m:{op}ResponseMessage>"
    )


def _error_msg(op: str, code: str, text: str) -> str:
    return (
        f'<m:{op}ResponseMessage ResponseClass="Error">'
        f"<m:MessageText>{escape(text)}</m:MessageText>"
        f"<m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
        f"</m:{op}ResponseMessage>"
    )


def _messages(op: str, parts: list[str]) -> str:
    return (
        f'<m:{op}Response xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>'
        f"{''.join(parts)}</m:ResponseMessages></m:{op}Response>"
    )


def _fault(code: str, text: str) -> str:
    return (
        "<s:Fault><faultcode>s:Client</faultcode>"
        f"<faultstring>{escape(text)}</faultstring><detail>"
        f'<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
        f"{code}</e:ResponseCode>"
        f'<e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
        f"{escape(text)}</e:Message></detail></s:Fault>"
    )


_BUSY_FAULT = (
    "<s:Fault><faultcode>a:ErrorServerBusy</faultcode>"
    "<faultstring>The server cannot service this request right now.</faultstring><detail>"
    '<e:ResponseCode xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
    "ErrorServerBusy</e:ResponseCode>"
    '<e:Message xmlns:e="http://schemas.microsoft.com/exchange/services/2006/errors">'
    "The server cannot service this request right now. Try again later.</e:Message>"
    f'<t:MessageXml xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">2000</t:Value>'
    "</t:MessageXml></detail></s:Fault>"
)


def _envelope(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{SOAP}"><s:Header>'
        f'<h:ServerVersionInfo xmlns:h="{T}" MajorVersion="15" MinorVersion="1"'
        ' MajorBuildNumber="2507" MinorBuildNumber="6" Version="V2017_07_11"/>'
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        if self.server.ews.stopped:  # type: ignore[attr-defined]
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        server: EwsServer = self.server.ews  # type: ignore[attr-defined]
        status, payload = server.handle(self.headers.get("Authorization", ""), body)
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="127.0.0.1"')
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # exchangelib may probe the endpoint with GET
        self.send_response(401 if self.headers.get("Authorization") is None else 405)
        self.send_header("WWW-Authenticate", 'Basic realm="127.0.0.1"')
        self.send_header("Content-Length", "0")
        self.end_headers()
