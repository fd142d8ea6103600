"""A Corsa 7.2 Web Service test server: real SOAP 1.1 over HTTP on loopback.

It serves its own minimal WSDL (``corsa_test.wsdl`` beside this module: the
operation, element and type names of the real service) at ``...asmx?WSDL`` and
answers document/literal SOAP calls the way the real service does:

- the session lives in an ``ASP.NET_SessionId`` cookie; ``setLicenseKey`` and
  ``Connect`` must come first, every other call without a connected session
  answers ``Result=false`` with ``LastError="Not connected"``;
- errors are not SOAP faults: ``Result`` (boolean) plus ``LastError`` (string);
- documents with fields, file versions and a memo; memos are protected by
  default, so ``SetObjectMemo`` appends instead of overwriting;
- ``QueryExecute`` searches documents by a field value, ``GetDocTodoList2``
  gives an organisation unit's to-do list; both return a DataTable as base64
  XML, like the Java-friendly variant of the service;
- switches to inject failures: expired sessions, a ``LastError`` for the next
  call of an operation, HTTP 500, a lost response (the call is carried out but
  the answer never arrives), a damaged HTTP 200 answer (truncated or unexpected
  XML), slow answers.

Use it from tests with :func:`start` and :meth:`CorsaTestServer.stop`, or run it
for the demo: ``python -m imi_mailwatch.testing.corsa_server --port 8095``.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import re
import secrets
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

NS = "http://bct.nl"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
COOKIE = "ASP.NET_SessionId"
PATH = "/wsCorsa7/Corsa72WS4j.asmx"
NOT_CONNECTED = "Not connected"
_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)

DEFAULT_DATE_FIELDS = (
    "poststuk.reg_datum",
    "poststuk.dat_poststuk",
    "poststuk.dat_afh_str",
)


@dataclass
class FileVersion:
    """One file attached to a document."""

    version: int
    file_type: str
    extension: str
    name: str
    description: str
    data: bytes


@dataclass
class Document:
    """A registered document as the test server keeps it."""

    object_id: str
    object_kind: str
    fields: dict[str, str]
    created_at: datetime
    files: list[FileVersion] = field(default_factory=list)
    memo: str = ""
    secure_memo: bool = True
    status: str = "tlsToBeReceived"


@dataclass
class _Session:
    licensed: bool = False
    connected: bool = False
    user: str | None = None


class CorsaTestServer:
    """The state and failure switches of one test server; see the module docstring."""

    def __init__(
        self,
        *,
        username: str = "imi-mailwatch",
        password: str = "geheim",  # noqa: S107 - the test server's own synthetic credential
        license_key: str | None = "TEST-LICENTIE",
        units: Iterable[str] | None = None,
        object_kinds: Iterable[str] = ("INK", "UIT", "INT"),
        unit_field: str = "poststuk.v_plaats_id",
        required_fields: Iterable[str] = ("poststuk.onderwerp",),
        date_fields: Iterable[str] = DEFAULT_DATE_FIELDS,
        secure_memo: bool = True,
    ) -> None:
        self.username = username
        self.password = password
        self.license_key = license_key
        self.units: set[str] | None = set(units) if units is not None else None
        self.object_kinds = set(object_kinds)
        self.unit_field = unit_field
        self.required_fields = tuple(required_fields)
        self.date_fields = set(date_fields)
        self.secure_memo = secure_memo
        self.documents: dict[str, Document] = {}
        self.calls: list[str] = []  # every operation called, in order
        self.delay_seconds = 0.0  # every answer waits this long first
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._fail: dict[str, deque[str]] = {}
        self._http_errors: deque[tuple[str | None, int]] = deque()
        self._lose: dict[str, int] = {}
        self._garble: dict[str, deque[str]] = {}
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # ------------------------------------------------------------------ switches
    def expire_sessions(self) -> None:
        """Forget every session, as an application pool recycle or a time-out does."""
        with self._lock:
            self._sessions.clear()

    def fail_next(self, operation: str, last_error: str, times: int = 1) -> None:
        """The next ``times`` calls of ``operation`` answer Result=false with this LastError."""
        with self._lock:
            self._fail.setdefault(operation, deque()).extend([last_error] * times)

    def http_error_next(
        self, status: int = 500, times: int = 1, operation: str | None = None
    ) -> None:
        """The next ``times`` requests (of ``operation``, or any) answer this HTTP status."""
        with self._lock:
            self._http_errors.extend([(operation, status)] * times)

    def lose_response_next(self, operation: str, times: int = 1) -> None:
        """Carry out the next call of ``operation``, then answer HTTP 500 (a lost answer)."""
        with self._lock:
            self._lose[operation] = self._lose.get(operation, 0) + times

    def garble_next(self, operation: str, how: str = "truncated", times: int = 1) -> None:
        """Carry out the next ``times`` calls of ``operation``, then answer HTTP 200 with a
        damaged body: ``truncated`` (the XML cut off half-way), ``unexpected`` (well-formed
        XML that is not this operation's answer) or ``empty`` (no body at all)."""
        if how not in GARBLE_MODES:
            raise ValueError(f"garble mode must be one of {GARBLE_MODES}")
        with self._lock:
            self._garble.setdefault(operation, deque()).extend([how] * times)

    def documents_with(self, name: str, value: str) -> list[Document]:
        """The documents whose field ``name`` holds ``value`` (for assertions)."""
        with self._lock:
            return [d for d in self.documents.values() if d.fields.get(name) == value]

    # ------------------------------------------------------------------ lifecycle
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0: an ephemeral port) on a thread; returns the endpoint URL."""
        handler = _make_handler(self)
        httpd = ThreadingHTTPServer((host, port), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        bound_host, bound_port = httpd.server_address[:2]
        self.url = f"http://{bound_host!s}:{bound_port}{PATH}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, name="corsa-test-server", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop listening and release the port. Safe to call twice."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # ------------------------------------------------------------------ HTTP side
    def wsdl_bytes(self) -> bytes:
        text = (
            resources.files("imi_mailwatch.testing")
            .joinpath("corsa_test.wsdl")
            .read_text(encoding="utf-8")
        )
        text = text.replace("http://localhost/wsCorsa7/Corsa72WS4j.asmx", self.url)
        return text.encode("utf-8")

    def handle_soap(self, body: bytes, session_id: str | None) -> tuple[int, bytes, str | None]:
        """Answer one SOAP request: (HTTP status, body, a new session cookie or None)."""
        if self.delay_seconds:
            self._stopping.wait(self.delay_seconds)
        try:
            envelope = etree.fromstring(body, _PARSER)
            request = envelope.find(f"{{{SOAP_ENV}}}Body")[0]
        except (etree.XMLSyntaxError, TypeError, IndexError):
            return 500, _fault("Client", "Malformed SOAP request"), None
        operation = etree.QName(request).localname
        with self._lock:
            self.calls.append(operation)
            for i, (op, status) in enumerate(self._http_errors):
                if op in (None, operation):
                    del self._http_errors[i]
                    return status, b"<html><body>Server Error</body></html>", None
            new_cookie = None
            session = self._sessions.get(session_id or "")
            if session is None:
                session_id = secrets.token_hex(12)
                session = _Session()
                self._sessions[session_id] = session
                new_cookie = session_id
            method = getattr(self, f"_op_{operation}", None)
            if method is None:
                return 500, _fault("Client", f"Unknown operation {operation}"), new_cookie
            queued = self._fail.get(operation)
            if queued:
                values: list[tuple[str, Any]] = [(f"{operation}Result", False)]
                values += _filler(operation)
                values.append(("LastError", queued.popleft()))
                return 200, _response(operation, values), new_cookie
            args = _Args(request)
            values = method(session, args)
            status, answer = self._answer(operation, values)
        return status, answer, new_cookie

    def _answer(self, operation: str, values: list[tuple[str, Any]]) -> tuple[int, bytes]:
        """The answer to a call carried out: lost, damaged (the switches) or as it should be."""
        if self._lose.get(operation):
            self._lose[operation] -= 1
            return 500, b"<html><body>Response lost</body></html>"
        garbled = self._garble.get(operation)
        if garbled:
            return 200, _garbled(operation, values, garbled.popleft())
        return 200, _response(operation, values)

    # ------------------------------------------------------------------ operations
    def _op_setLicenseKey(self, s: _Session, a: _Args) -> list[tuple[str, Any]]:
        s.licensed = self.license_key is None or a.text("LicenseKey") == self.license_key
        return [("setLicenseKeyResult", s.licensed)]

    def _op_Connect(self, s: _Session, a: _Args) -> list[tuple[str, Any]]:
        if not s.licensed:
            return [("ConnectResult", False), ("LastError", "License key is not valid")]
        if a.text("UserName") != self.username or a.text("Password") != self.password:
            return [("ConnectResult", False), ("LastError", "Invalid user name or password")]
        s.connected, s.user = True, a.text("UserName")
        return [("ConnectResult", True), ("LastError", "")]

    def _op_Connected(self, s: _Session, a: _Args) -> list[tuple[str, Any]]:
        return [("ConnectedResult", s.connected)]

    def _op_Disconnect(self, s: _Session, a: _Args) -> list[tuple[str, Any]]:
        was = s.connected
        s.connected = False
        return [("DisconnectResult", was)]

    def _op_CreateMetaDocument(  # noqa: PLR0911 - one return per refusal, as Corsa does
        self, s: _Session, a: _Args
    ) -> list[tuple[str, Any]]:
        def fail(msg: str) -> list[tuple[str, Any]]:
            return [("CreateMetaDocumentResult", False), ("NewObjectID", ""), ("LastError", msg)]

        if not s.connected:
            return fail(NOT_CONNECTED)
        kind = a.text("ObjectKind")
        if kind not in self.object_kinds:
            return fail(f"Invalid object kind '{kind}'")
        values = a.name_values("FieldValues")
        for name in self.required_fields:
            if not values.get(name):
                return fail(f"Field {name} is mandatory")
        for name, value in values.items():
            if name in self.date_fields and value and not _DATE.match(value):
                return fail(f"Invalid date value for field {name}; expected dd/MM/yyyy")
        unit = values.get(self.unit_field, "")
        if self.units is not None and unit not in self.units:
            return fail(f"Invalid value for field {self.unit_field}: unknown organisation unit")
        object_id = a.text("ObjectID")
        if object_id:
            doc = self.documents.get(object_id)
            if doc is None:
                return fail(f"Object {object_id} does not exist")
            doc.fields = values  # values not passed are deleted, as in Corsa
            return [("CreateMetaDocumentResult", True), ("NewObjectID", object_id)]
        object_id = f"{datetime.now(UTC).year}{next(self._ids):07d}"
        self.documents[object_id] = Document(
            object_id=object_id,
            object_kind=kind,
            fields=values,
            created_at=datetime.now(UTC),
            secure_memo=self.secure_memo,
        )
        return [("CreateMetaDocumentResult", True), ("NewObjectID", object_id), ("LastError", "")]

    def _op_CreateFileVersion(self, s: _Session, a: _Args) -> list[tuple[str, Any]]:
        def fail(msg: str) -> list[tuple[str, Any]]:
            return [("CreateFileVersionResult", False), ("LastError", msg)]

        if not s.connected:
            return fail(NOT_CONNECTED)
        doc = self.documents.get(a.text("ObjectID"))
        if doc is None:
            return fail(f"Object {a.text('ObjectID')} does not exist")
        ext = a.text("FileExtension")
        if not ext.startswith("."):
            return fail("Invalid file extension")
        data = base64.b64decode(a.text("FileBytes"))
        fv = FileVersion(
            version=len(doc.files) + 1,
            file_type=a.text("FileType"),
            extension=ext,
            name=a.text("DocumentName"),
            description=a.text("VersionDescription"),
            data=data,
        )
        doc.files.append(fv)
        info = [
            ("ObjectType", a.text("ObjectType")),
            ("ObjectID", doc.object_id),
            ("ObjectKind", doc.object_kind),
            ("Version", fv.version),
            ("FileExtension", ext),
            ("FileSize", len(data)),
            ("DocumentName", fv.name),
            ("FTI", False),
            ("PDF", ext == ".pdf"),
            ("OCR", False),
        ]
        return [("CreateFileVersionResult", True), ("VersionInfo", info), ("LastError", "")]

    def _op_GetFileVersionList(self, s: _Session, a: _Args) -> list[tuple[str, Any]]:
        if not s.connected:
            return [("LastError", NOT_CONNECTED)]
        doc = self.documents.get(a.text("ObjectID"))
        if doc is None:
            return [("LastError", f"Object {a.text('ObjectID')} does not exist")]
        rows = [
            {
                "OBJECT_ID": doc.object_id,
                "VERSION": str(f.version),
                "DOCUMENT_NAME": f.name,
                "FILE_EXTENSION": f.extension,
                "FILE_SIZE": str(len(f.data)),
            }
            for f in doc.files
        ]
        return [("GetFileVersionListResult", _datatable(rows)), ("LastError", "")]

    def _op_SetObjectMemo(self, s: _Session, a: _Args) -> list[tuple[str, Any]]:
        def fail(msg: str) -> list[tuple[str, Any]]:
            return [("SetObjectMemoResult", False), ("LastError", msg)]

        if not s.connected:
            return fail(NOT_CONNECTED)
        doc = self.documents.get(a.text("ObjectID"))
        if doc is None:
            return fail(f"Object {a.text('ObjectID')} does not exist")
        text = a.text("MemoText")
        if doc.secure_memo and doc.memo:
            doc.memo = doc.memo + "\r\n" + text  # protected memo: append, never overwrite
        else:
            doc.memo = text
        return [("SetObjectMemoResult", True), ("LastError", "")]

    def _op_GetObjectMemo(self, s: _Session, a: _Args) -> list[tuple[str, Any]]:
        def fail(msg: str) -> list[tuple[str, Any]]:
            return [("GetObjectMemoResult", False), ("SecureMemo", False), ("LastError", msg)]

        if not s.connected:
            return fail(NOT_CONNECTED)
        doc = self.documents.get(a.text("ObjectID"))
        if doc is None:
            return fail(f"Object {a.text('ObjectID')} does not exist")
        return [
            ("GetObjectMemoResult", True),
            ("MemoText", doc.memo),
            ("SecureMemo", doc.secure_memo),
            ("LastError", ""),
        ]

    def _op_QueryExecute(self, s: _Session, a: _Args) -> list[tuple[str, Any]]:
        if not s.connected:
            return [("LastError", NOT_CONNECTED)]
        items = a.query_items()
        if not items:
            return [("LastError", "No query conditions given")]
        found = []
        for doc in self.documents.values():
            if all(_matches(doc, item) for item in items):
                found.append(doc)
        limit = int(a.text("MaxResult") or "0")
        if limit > 0:
            found = found[:limit]
        if a.text("ReturnIDsOnly") == "true":
            rows = [{"OBJECT_ID": d.object_id} for d in found]
        else:
            rows = [{"OBJECT_ID": d.object_id, **_columns(d.fields)} for d in found]
        return [("QueryExecuteResult", _datatable(rows)), ("LastError", "")]

    def _op_GetDocTodoList2(self, s: _Session, a: _Args) -> list[tuple[str, Any]]:
        if not s.connected:
            return [("LastError", NOT_CONNECTED)]
        unit = a.text("OrganisationUnitId")
        if self.units is not None and unit not in self.units:
            return [("LastError", "Unknown organisation unit")]
        status = a.text("Status")
        rows = [
            {
                "OBJECT_ID": d.object_id,
                "OBJECT_KIND": d.object_kind,
                "REG_DATUM": d.created_at.strftime("%d/%m/%Y"),
                **_columns(d.fields),
            }
            for d in self.documents.values()
            if d.fields.get(self.unit_field) == unit and d.status == status
        ]
        limit = int(a.text("MaxResult") or "0")
        if limit > 0:
            rows = rows[:limit]
        return [("GetDocTodoList2Result", _datatable(rows)), ("LastError", "")]


class _Args:
    """The children of a request element, by local name."""

    def __init__(self, element: etree._Element) -> None:
        self._el = element

    def _child(self, name: str) -> etree._Element | None:
        return self._el.find(f"{{{NS}}}{name}")

    def text(self, name: str) -> str:
        child = self._child(name)
        return (child.text or "") if child is not None else ""

    def name_values(self, name: str) -> dict[str, str]:
        child = self._child(name)
        out: dict[str, str] = {}
        if child is None:
            return out
        for nv in child.findall(f"{{{NS}}}NameValue"):
            key = nv.findtext(f"{{{NS}}}Name") or ""
            out[key] = nv.findtext(f"{{{NS}}}Value") or ""
        return out

    def query_items(self) -> list[dict[str, str]]:
        child = self._child("QueryItems")
        if child is None:
            return []
        return [
            {etree.QName(c).localname: c.text or "" for c in item}
            for item in child.findall(f"{{{NS}}}QueryItem")
        ]


def _matches(doc: Document, item: dict[str, str]) -> bool:
    value = doc.fields.get(item.get("RubricID", ""), "")
    wanted = item.get("Value", "")
    op = item.get("Operator", "qoEqual")
    result = {
        "qoEqual": value == wanted,
        "qoUnEqual": value != wanted,
        "qoContains": wanted in value,
        "qoStartsWith": value.startswith(wanted),
    }.get(op, False)
    return not result if item.get("Condition") == "qcNot" else result


def _columns(fields: dict[str, str]) -> dict[str, str]:
    """Field names as DataTable column names: ``poststuk.kenmerk`` -> ``KENMERK``."""
    return {name.rsplit(".", 1)[-1].upper(): value for name, value in fields.items()}


def _datatable(rows: list[dict[str, str]]) -> bytes:
    """A DataTable serialised the way .NET's DataSet.WriteXml does it (no schema)."""
    root = etree.Element("NewDataSet")
    for row in rows:
        table = etree.SubElement(root, "Table")
        for key, value in row.items():
            etree.SubElement(table, key).text = value
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


_FILLERS: dict[str, list[tuple[str, Any]]] = {
    "CreateMetaDocument": [("NewObjectID", "")],
    "GetObjectMemo": [("SecureMemo", False)],
}


def _filler(operation: str) -> list[tuple[str, Any]]:
    return list(_FILLERS.get(operation, []))


def _render(parent: etree._Element, name: str, value: Any) -> None:
    el = etree.SubElement(parent, f"{{{NS}}}{name}")
    if isinstance(value, bool):
        el.text = "true" if value else "false"
    elif isinstance(value, bytes):
        el.text = base64.b64encode(value).decode("ascii")
    elif isinstance(value, list):
        for sub_name, sub_value in value:
            _render(el, sub_name, sub_value)
    else:
        el.text = str(value)


def _response(operation: str, values: list[tuple[str, Any]]) -> bytes:
    if operation == "setLicenseKey" or operation in ("Connected", "Disconnect"):
        values = [(n, v) for n, v in values if n != "LastError"]
    env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
    resp = etree.SubElement(body, f"{{{NS}}}{operation}Response", nsmap={None: NS})
    for name, value in values:
        _render(resp, name, value)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="utf-8"))


GARBLE_MODES = ("truncated", "unexpected", "empty")


def _garbled(operation: str, values: list[tuple[str, Any]], how: str) -> bytes:
    """A damaged HTTP 200 answer (see ``CorsaTestServer.garble_next``)."""
    if how == "empty":
        return b""
    if how == "unexpected":
        return _response("Unexpected", [("Something", "else")])
    whole = _response(operation, values)
    return whole[: max(60, len(whole) // 2)]


def _fault(code: str, text: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:{code}</faultcode><faultstring>{text}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


def _make_handler(server: CorsaTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: with Nagle on, the body waits for
        # the client's delayed ACK of the headers, about 40 ms on every call
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: tests and the demo log on the client side

        def _send(self, status: int, body: bytes, ctype: str, cookie: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if cookie:
                self.send_header("Set-Cookie", f"{COOKIE}={cookie}; path=/; HttpOnly")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == PATH and parts.query.lower() == "wsdl":
                self._send(200, server.wsdl_bytes(), "text/xml; charset=utf-8")
            else:
                self._send(404, b"Not found", "text/plain")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if urlsplit(self.path).path != PATH:
                self._send(404, b"Not found", "text/plain")
                return
            jar = SimpleCookie(self.headers.get("Cookie") or "")
            session_id = jar[COOKIE].value if COOKIE in jar else None
            status, answer, cookie = server.handle_soap(body, session_id)
            ctype = "text/xml; charset=utf-8" if answer.startswith(b"<?xml") else "text/html"
            self._send(status, answer, ctype, cookie)

    return Handler


def start(host: str = "127.0.0.1", port: int = 0, **options: Any) -> tuple[CorsaTestServer, str]:
    """Start a test server on a thread; returns it and its endpoint URL."""
    server = CorsaTestServer(**options)
    url = server.start(host, port)
    return server, url


def main(argv: list[str] | None = None) -> int:
    """Run the test server in the foreground (for the demo) until interrupted."""
    parser = argparse.ArgumentParser(description="Corsa Web Service test server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8095)
    parser.add_argument("--username", default="imi-mailwatch")
    parser.add_argument("--password", default="geheim")
    parser.add_argument("--license-key", default="TEST-LICENTIE")
    parser.add_argument("--unit", action="append", dest="units", help="known organisation unit")
    args = parser.parse_args(argv)
    server, url = start(
        args.host,
        args.port,
        username=args.username,
        password=args.password,
        license_key=args.license_key,
        units=args.units,
    )
    print(f"Corsa test server: {url}  (WSDL: {url}?WSDL)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
