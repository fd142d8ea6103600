"""A Microsoft Graph and Entra ID token endpoint on loopback, for tests.

Real HTTPS over a real socket (a self-signed certificate made at start; msal only
accepts an ``https`` authority). It answers the endpoints imi-mailwatch uses with
the shapes of Microsoft's documentation:

- ``GET /{tenant}/v2.0/.well-known/openid-configuration`` and
  ``POST /{tenant}/oauth2/v2.0/token`` (client credentials with a secret or a
  certificate assertion; ``invalid_client`` on a wrong secret);
- ``GET /v1.0/users/{mbx}/mailFolders[/{id}/childFolders]`` (paged with ``$skip``)
  and ``POST`` to create (409 ``ErrorFolderExists``);
- ``GET /v1.0/users/{mbx}/mailFolders/{id}/messages/delta`` with
  ``Prefer: odata.maxpagesize``, ``@odata.nextLink``, ``@odata.deltaLink``,
  ``@removed``, ``$filter=receivedDateTime ge ...`` and 410 ``SyncStateNotFound``;
- ``GET /v1.0/users/{mbx}/messages/{id}/$value`` (raw MIME), ``POST .../move``;
- ``POST /v1.0/users/{mbx}/sendMail``.

Switches: ``throttle(n, status, retry_after)`` answers the next n Graph calls with
429/503 and Retry-After; ``expire_tokens()`` makes every issued token answer 401
``InvalidAuthenticationToken``; ``reset_delta()`` makes every issued delta token
answer 410. Message ids are immutable (they survive a move), as with
``Prefer: IdType="ImmutableId"``.

Test hook for msal: ``OAuthConfig(authority=server.authority_base, ca_file=server.ca_file)``;
the token provider turns authority validation and instance discovery off for any
authority other than login.microsoftonline.com.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

WELL_KNOWN = ("inbox", "drafts", "sentitems", "deleteditems", "junkemail", "archive")


_KEYS: list[rsa.RSAPrivateKey] = []


def make_self_signed(directory: str, host: str = "127.0.0.1") -> tuple[str, str]:
    """Write a self-signed certificate and key for ``host``; return (cert, key) paths."""
    if not _KEYS:  # one key per test run: generating RSA keys is slow
        _KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    key = _KEYS[0]
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = Path(directory) / "server.crt"
    key_path = Path(directory) / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def make_client_certificate(directory: str) -> str:
    """A PEM with a private key and its self-signed certificate (an app credential)."""
    cert, key = make_self_signed(directory)
    out = Path(directory) / "app-credential.pem"
    out.write_text(Path(key).read_text() + Path(cert).read_text())
    return str(out)


@dataclass
class Folder:
    id: str
    display_name: str
    parent_id: str | None


@dataclass
class Message:
    id: str
    folder_id: str
    mime: bytes
    received: dt.datetime
    internet_message_id: str


@dataclass
class _Snapshot:
    items: list[dict[str, Any]]
    delta_seq: int
    filt: str | None


@dataclass
class Mailbox:
    """The mailbox model: folders, messages and a change log for delta."""

    address: str
    folders: dict[str, Folder] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    # (seq, message id, folder id) whenever a message enters or leaves a folder
    changes: list[tuple[int, str, str]] = field(default_factory=list)
    seq: int = 0
    next_id: int = 0

    def new_id(self, prefix: str) -> str:
        self.next_id += 1
        raw = f"{prefix}-{self.next_id:06d}-{self.address}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def log_change(self, message_id: str, folder_id: str) -> None:
        self.seq += 1
        self.changes.append((self.seq, message_id, folder_id))


class GraphServer:
    """The server; start with ``with GraphServer() as srv:`` or ``start()``/``stop()``."""

    def __init__(
        self,
        mailbox: str = "imi@example.test",
        tenant: str = "tenant-0001",
        client_id: str = "client-0001",
        client_secret: str = "s3cret-for-tests",
    ) -> None:
        self.tenant = tenant
        self.client_id = client_id
        self.client_secret = client_secret
        self.mailbox = Mailbox(mailbox)
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.sent: list[dict[str, Any]] = []
        self.tokens_issued = 0
        self.token_requests: list[dict[str, str]] = []
        self._valid_tokens: set[str] = set()
        self._throttle: list[tuple[int, int]] = []  # (status, retry_after) per call
        self._delta_floor = 0  # delta tokens below this answer 410
        self._snapshots: dict[str, _Snapshot] = {}
        self._tmp = tempfile.mkdtemp(prefix="graph-srv-")
        self.ca_file, self._key_file = make_self_signed(self._tmp)
        for wk in WELL_KNOWN:
            fid = self.mailbox.new_id("folder")
            self.mailbox.folders[fid] = Folder(fid, wk.capitalize(), None)
            if wk == "inbox":
                self.inbox_id = fid
        self.stopped = False
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> GraphServer:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.ca_file, self._key_file)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        httpd.daemon_threads = True
        httpd.graph = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped = True  # connections kept alive are dropped at their next request
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> GraphServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        assert self._httpd is not None
        return f"https://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def authority_base(self) -> str:
        return self.base

    @property
    def graph_url(self) -> str:
        return self.base + "/v1.0"

    # -- switches ----------------------------------------------------------------
    def throttle(self, count: int = 1, status: int = 429, retry_after: int = 2) -> None:
        with self.lock:
            self._throttle.extend([(status, retry_after)] * count)

    def token_valid(self, token: str) -> bool:
        """Whether ``token`` was issued here and has not been expired (for other servers)."""
        with self.lock:
            return token in self._valid_tokens

    def expire_tokens(self) -> None:
        with self.lock:
            self._valid_tokens.clear()

    def reset_delta(self) -> None:
        with self.lock:
            self._delta_floor = self.mailbox.seq + 1

    # -- mailbox helpers -----------------------------------------------------------
    def folder_id(self, path: str) -> str | None:
        """The id of a folder given as a path of display names ("IMI/Verwerkt")."""
        with self.lock:
            parent: str | None = None
            fid: str | None = None
            for part in path.split("/"):
                fid = next(
                    (
                        f.id
                        for f in self.mailbox.folders.values()
                        if f.parent_id == parent and f.display_name.lower() == part.lower()
                    ),
                    None,
                )
                if fid is None:
                    return None
                parent = fid
            return fid

    def deliver(
        self, mime: bytes, received: dt.datetime | None = None, folder: str = "inbox"
    ) -> str:
        """Put a message into a folder; returns its id."""
        with self.lock:
            fid = self.folder_id(folder)
            assert fid is not None, folder
            mid = self.mailbox.new_id("msg")
            when = received or dt.datetime.now(dt.UTC)
            imid = _header(mime, "Message-ID") or f"<{mid}@example.test>"
            self.mailbox.messages[mid] = Message(mid, fid, mime, when, imid)
            self.mailbox.log_change(mid, fid)
            return mid

    def messages_in(self, folder: str) -> list[Message]:
        with self.lock:
            fid = self.folder_id(folder)
            return sorted(
                (m for m in self.mailbox.messages.values() if m.folder_id == fid),
                key=lambda m: m.received,
            )

    def move(self, message_id: str, folder_id: str) -> None:
        with self.lock:
            msg = self.mailbox.messages[message_id]
            if msg.folder_id == folder_id:
                return
            old = msg.folder_id
            msg.folder_id = folder_id
            self.mailbox.log_change(message_id, old)
            self.mailbox.log_change(message_id, folder_id)

    # -- request handling ------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Reply:
        with self.lock:
            self.requests.append((method, raw_path, headers))
            url = urlsplit(raw_path)
            path = unquote(url.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            parts = [p for p in path.split("/") if p]
            if parts[:1] == [self.tenant]:
                return self._login(method, parts[1:], body)
            if parts[:1] != ["v1.0"]:
                return _error(404, "ResourceNotFound", "unknown path")
            if self._throttle:
                status, retry_after = self._throttle.pop(0)
                code = "TooManyRequests" if status == 429 else "ServiceUnavailable"
                return _error(status, code, "Too many requests.", {"Retry-After": str(retry_after)})
            auth = headers.get("authorization", "")
            if not auth.startswith("Bearer "):
                return _error(401, "InvalidAuthenticationToken", "Access token is empty.")
            if auth[7:] not in self._valid_tokens:
                return _error(
                    401,
                    "InvalidAuthenticationToken",
                    "Lifetime validation failed, the token is expired.",
                )
            if parts[1:3] != ["users", self.mailbox.address]:
                return _error(404, "ErrorInvalidUser", "The requested user is invalid.")
            return self._graph(method, parts[3:], query, headers, body)

    def _login(self, method: str, parts: list[str], body: bytes) -> _Reply:
        if method == "GET" and parts == ["v2.0", ".well-known", "openid-configuration"]:
            base = f"{self.base}/{self.tenant}"
            return _json(
                200,
                {
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "issuer": f"{self.base}/{self.tenant}/v2.0",
                },
            )
        if method == "POST" and parts == ["oauth2", "v2.0", "token"]:
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            self.token_requests.append(form)
            if form.get("grant_type") != "client_credentials":
                return _json(400, {"error": "unsupported_grant_type"})
            if form.get("client_id") != self.client_id:
                return _json(
                    400,
                    {
                        "error": "unauthorized_client",
                        "error_description": "AADSTS700016: Application not found.",
                        "error_codes": [700016],
                    },
                )
            good_secret = form.get("client_secret") == self.client_secret
            assertion = form.get("client_assertion_type", "").endswith("jwt-bearer") and bool(
                form.get("client_assertion")
            )
            if not (good_secret or assertion):
                return _json(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret provided.",
                        "error_codes": [7000215],
                    },
                )
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued:04d}"
            self._valid_tokens.add(token)
            return _json(
                200,
                {
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "ext_expires_in": 3599,
                    "access_token": token,
                },
            )
        return _json(404, {"error": "not_found"})

    def _graph(
        self,
        method: str,
        parts: list[str],
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> _Reply:
        mbx = self.mailbox
        if parts and parts[0] == "sendMail" and method == "POST":
            if headers.get("content-type", "").startswith("text/plain"):
                return self._send_mime(body)
            return self._send_mail(json.loads(body))
        if parts and parts[0] == "mailFolders":
            if len(parts) == 1:
                return self._folders(method, None, query, body)
            fid = self._resolve(parts[1])
            if fid is None:
                return _error(404, "ErrorItemNotFound", "The specified object was not found.")
            if len(parts) == 2 and method == "GET":
                return _json(200, self._folder_json(mbx.folders[fid]))
            if parts[2:] == ["childFolders"]:
                return self._folders(method, fid, query, body)
            if parts[2:] == ["messages", "delta"] and method == "GET":
                return self._delta(fid, query, headers)
        if parts and parts[0] == "messages" and len(parts) >= 2:
            msg = mbx.messages.get(parts[1])
            if msg is None:
                return _error(404, "ErrorItemNotFound", "The specified object was not found.")
            if parts[2:] == ["$value"] and method == "GET":
                return _Reply(200, {"Content-Type": "text/plain"}, msg.mime)
            if parts[2:] == ["move"] and method == "POST":
                dest = self._resolve(str(json.loads(body).get("destinationId", "")))
                if dest is None:
                    return _error(404, "ErrorItemNotFound", "The destination was not found.")
                self.move(msg.id, dest)
                return _json(201, {"id": msg.id, "parentFolderId": dest})
        return _error(400, "BadRequest", f"unsupported: {method} {'/'.join(parts)}")

    def _resolve(self, ref: str) -> str | None:
        ref = ref.strip("'")
        if ref.lower() in WELL_KNOWN:
            return self.folder_id(ref)
        return ref if ref in self.mailbox.folders else None

    def _folder_json(self, f: Folder) -> dict[str, Any]:
        children = sum(1 for c in self.mailbox.folders.values() if c.parent_id == f.id)
        return {
            "id": f.id,
            "displayName": f.display_name,
            "parentFolderId": f.parent_id or "root",
            "childFolderCount": children,
            "totalItemCount": sum(1 for m in self.mailbox.messages.values() if m.folder_id == f.id),
        }

    def _folders(
        self, method: str, parent: str | None, query: dict[str, str], body: bytes
    ) -> _Reply:
        mbx = self.mailbox
        if method == "POST":
            name = str(json.loads(body).get("displayName", ""))
            if any(
                f.parent_id == parent and f.display_name.lower() == name.lower()
                for f in mbx.folders.values()
            ):
                return _error(
                    409, "ErrorFolderExists", "A folder with the specified name already exists."
                )
            fid = mbx.new_id("folder")
            mbx.folders[fid] = Folder(fid, name, parent)
            return _json(201, self._folder_json(mbx.folders[fid]))
        items = [self._folder_json(f) for f in mbx.folders.values() if f.parent_id == parent]
        top = int(query.get("$top", "10"))
        skip = int(query.get("$skip", "0"))
        page: dict[str, Any] = {"value": items[skip : skip + top]}
        if skip + top < len(items):
            where = "mailFolders" if parent is None else f"mailFolders/{parent}/childFolders"
            page["@odata.nextLink"] = (
                f"{self.graph_url}/users/{quote(mbx.address)}/{where}?$top={top}&$skip={skip + top}"
            )
        return _json(200, page)

    def _delta(self, fid: str, query: dict[str, str], headers: dict[str, str]) -> _Reply:
        mbx = self.mailbox
        page_size = 10
        prefer = headers.get("prefer", "")
        for pref in prefer.split(","):
            key, _, value = pref.strip().partition("=")
            if key == "odata.maxpagesize":
                page_size = int(value)
        link_base = f"{self.graph_url}/users/{quote(mbx.address)}/mailFolders/{fid}/messages/delta"
        if "$skiptoken" in query:
            snap_key, _, start = query["$skiptoken"].partition(".")
            offset = int(start or 0)
            snap = self._snapshots.get(snap_key)
            if snap is None:
                return _error(410, "SyncStateNotFound", "The sync state was not found.")
        else:
            since = 0
            filt = query.get("$filter")
            if "$deltatoken" in query:
                token, _, encoded = query["$deltatoken"].partition("-")
                since = int(token)
                filt = base64.urlsafe_b64decode(encoded).decode() if encoded else None
                if since < self._delta_floor:
                    return _error(
                        410, "SyncStateNotFound", "The sync state generation was not found."
                    )
            items = self._changes_since(fid, since, filt)
            snap_key = f"s{len(self._snapshots) + 1}"
            snap = _Snapshot(items, mbx.seq, filt)
            self._snapshots[snap_key] = snap
            offset = 0
        page_items = snap.items[offset : offset + page_size]
        result: dict[str, Any] = {
            "@odata.context": f"{self.graph_url}/$metadata#Collection(message)",
            "value": page_items,
        }
        if offset + page_size < len(snap.items):
            result["@odata.nextLink"] = f"{link_base}?$skiptoken={snap_key}.{offset + page_size}"
        else:
            filt = snap.filt
            suffix = f"-{base64.urlsafe_b64encode(filt.encode()).decode()}" if filt else ""
            result["@odata.deltaLink"] = f"{link_base}?$deltatoken={snap.delta_seq}{suffix}"
        return _json(200, result)

    def _changes_since(self, fid: str, since: int, filt: str | None) -> list[dict[str, Any]]:
        mbx = self.mailbox
        touched: list[str] = []
        for seq, mid, folder in mbx.changes:
            if seq > since and folder == fid and mid not in touched:
                touched.append(mid)
        floor: dt.datetime | None = None
        if filt and filt.startswith("receivedDateTime ge "):
            floor = dt.datetime.fromisoformat(filt.split(" ge ", 1)[1].replace("Z", "+00:00"))
        out: list[dict[str, Any]] = []
        # delta returns no particular order: newest first here, to prove the client sorts
        for mid in reversed(touched):
            msg = mbx.messages[mid]
            if msg.folder_id != fid:
                if since:
                    out.append({"id": mid, "@removed": {"reason": "deleted"}})
                continue
            if floor is not None and msg.received < floor:
                continue
            out.append(
                {
                    "@odata.type": "#microsoft.graph.message",
                    "id": mid,
                    "internetMessageId": msg.internet_message_id,
                    "receivedDateTime": msg.received.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
        return out

    def _send_mime(self, body: bytes) -> _Reply:
        try:
            raw = base64.b64decode(body, validate=True)
        except ValueError:
            return _error(400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string.")
        if not _header(raw, "To"):
            return _error(400, "ErrorInvalidRecipients", "At least one recipient is not valid.")
        self.sent.append({"mime": raw})
        return _Reply(202, {}, b"")

    def _send_mail(self, payload: dict[str, Any]) -> _Reply:
        message = payload.get("message") or {}
        for header in message.get("internetMessageHeaders") or []:
            if not str(header.get("name", "")).lower().startswith("x-"):
                return _error(
                    400,
                    "InvalidInternetMessageHeader",
                    "The internet message header name should start with 'x-' or 'X-'.",
                )
        if not message.get("toRecipients"):
            return _error(400, "ErrorInvalidRecipients", "At least one recipient is not valid.")
        self.sent.append(payload)
        return _Reply(202, {}, b"")


@dataclass
class _Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def _json(status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(data).encode(),
    )


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> _Reply:
    inner = {"date": "2026-11-22T09:00:00", "request-id": "req-0001"}
    return _json(
        status,
        {"error": {"code": code, "message": message, "innerError": inner}},
        headers,
    )


def _header(mime: bytes, name: str) -> str | None:
    for line in mime.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n").split(b"\n"):
        if line.lower().startswith(name.lower().encode() + b":"):
            return line.split(b":", 1)[1].strip().decode("ascii", "replace")
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        if self.server.graph.stopped:  # type: ignore[attr-defined]
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        server: GraphServer = self.server.graph  # type: ignore[attr-defined]
        reply = server.handle(self.command, self.path, headers, body)
        self.send_response(reply.status)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = _serve
    do_POST = _serve


def iter_requests(server: GraphServer, method: str, fragment: str) -> Iterator[str]:
    """The paths of recorded requests with this method whose path holds ``fragment``."""
    for m, path, _ in list(server.requests):
        if m == method and fragment in unquote(path):
            yield path
