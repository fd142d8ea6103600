"""The Corsa test server's state and operations, held to an installation profile."""

from __future__ import annotations

import base64
import itertools
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from importlib import resources
from typing import Any

from lxml import etree

from imi_mailwatch.testing.corsa_server.backoffice import BackOffice
from imi_mailwatch.testing.corsa_server.operations import InstallationOperations
from imi_mailwatch.testing.corsa_server.profile import InstallationProfile, load_profile
from imi_mailwatch.testing.corsa_server.state import (
    INDEXED_OPERATORS,
    Case,
    Document,
    FieldIndex,
    FileVersion,
    indexed_item,
    marks,
    matches,
)
from imi_mailwatch.testing.corsa_server.switches import FailureSwitches
from imi_mailwatch.testing.corsa_server.wire import (
    PARSER,
    PATH,
    SOAP_ENV,
    Args,
    columns,
    datatable,
    fault,
    filler,
    garbled,
    make_handler,
    response,
)

NOT_CONNECTED = "Not connected"
_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")
Values = list[tuple[str, Any]]


@dataclass
class _Session:
    licensed: bool = False
    connected: bool = False
    user: str | None = None


class CorsaTestServer(FailureSwitches, InstallationOperations, BackOffice):
    """The state and failure switches of one test server; see the package docstring."""

    def __init__(
        self,
        *,
        profile: InstallationProfile | str = "documented",
        username: str = "imi-mailwatch",
        password: str = "geheim",  # noqa: S107 - the test server's own synthetic credential
        license_key: str | None = "TEST-LICENTIE",
        units: Iterable[str] | None = None,
        secure_memo: bool | None = None,
    ) -> None:
        self.profile = load_profile(profile) if isinstance(profile, str) else profile
        self.username = username
        self.password = password
        self.license_key = license_key
        known = units if units is not None else self.profile.units
        self.units: set[str] | None = set(known) if known is not None else None
        self.secure_memo = self.profile.secure_memo if secure_memo is None else secure_memo
        self.documents: dict[str, Document] = {}
        self._index = FieldIndex()  # the documents by field value, kept with every change
        self.cases: dict[str, Case] = {}
        self.calls: list[str] = []  # every operation called, in order
        self.delay_seconds = 0.0  # every answer waits this long first
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._init_switches()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def expire_sessions(self) -> None:
        """Forget every session, as an application pool recycle or a time-out does."""
        with self._lock:
            self._sessions.clear()

    def documents_with(self, name: str, value: str) -> list[Document]:
        """The live documents whose field ``name`` holds ``value`` (for assertions)."""
        with self._lock:
            return self._live_documents(self._index.lookup(name, value))

    def documents_for(self, request_id: str) -> list[Document]:
        """The live documents whose subject marks them as this IMI request's."""
        marker = f"IMI-verzoek {request_id}"
        with self._lock:
            found = self._index.lookup("poststuk.onderwerp", marker, prefix=True)
            return [
                d
                for d in self._live_documents(found)
                if marks(d.fields.get("poststuk.onderwerp", ""), marker)
            ]

    def _live_documents(self, object_ids: Iterable[str]) -> list[Document]:
        docs = (self.documents[i] for i in object_ids)
        return [d for d in docs if not d.deleted]

    # ------------------------------------------------------------------ lifecycle
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0: an ephemeral port) on a thread; returns the endpoint URL."""

        def soap(body: bytes, session_id: str | None) -> tuple[int, bytes, str | None]:
            # looked up at each call, so that a test may wrap handle_soap on a running server
            return self.handle_soap(body, session_id)

        handler = make_handler(self.wsdl_bytes, soap)
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
            envelope = etree.fromstring(body, PARSER)
            request = envelope.find(f"{{{SOAP_ENV}}}Body")[0]
        except (etree.XMLSyntaxError, TypeError, IndexError):
            return 500, fault("Client", "Malformed SOAP request"), None
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
                return 500, fault("Client", f"Unknown operation {operation}"), new_cookie
            queued = self._fail.get(operation)
            if queued:
                values: Values = [(f"{operation}Result", False)]
                values += filler(operation)
                values.append(("LastError", queued.popleft()))
                return 200, response(operation, values), new_cookie
            if operation not in ("setLicenseKey", "Connect", "Connected") and not session.connected:
                values = [(f"{operation}Result", False), *filler(operation)]
                values.append(("LastError", NOT_CONNECTED))
                return 200, response(operation, values), new_cookie
            values = method(session, Args(request))
            status, answer = self._answer(operation, values)
        return status, answer, new_cookie

    def _answer(self, operation: str, values: Values) -> tuple[int, bytes]:
        """The answer to a call carried out: lost, damaged (the switches) or as it should be."""
        if self._lose.get(operation):
            self._lose[operation] -= 1
            return 500, b"<html><body>Response lost</body></html>"
        garbled_modes = self._garble.get(operation)
        if garbled_modes:
            return 200, garbled(operation, values, garbled_modes.popleft())
        return 200, response(operation, values)

    # ------------------------------------------------------------------ checks
    def _document(self, object_type: str, object_id: str) -> Document | str:
        """The live document, or the LastError Corsa gives for it."""
        problem = self._object_type_error(object_type)
        if problem:
            return problem
        if object_type != self.profile.document_type:
            return f"Object {object_id} of type {object_type} does not exist"
        doc = self.documents.get(object_id)
        if doc is None or doc.deleted:
            return f"Object {object_id} does not exist"
        return doc

    def _registration_error(  # noqa: PLR0911, PLR0912 - one return per refusal, as Corsa does
        self, kind: str, values: dict[str, str], references: dict[str, str]
    ) -> str | None:
        p = self.profile
        if kind not in p.object_kinds:
            return f"Invalid object kind '{kind}'"
        for name in values:
            if name not in p.fields:
                return f"Field {name} does not exist for object kind {kind}"
        for name in references:
            if name not in p.references:
                return f"Reference {name} does not exist for object kind {kind}"
        for name, rule in p.fields.items():
            value = values.get(name, "")
            if rule.required and not value:
                return f"Field {name} is mandatory"
            if value and rule.date and not _DATE.match(value):
                return f"Invalid date value for field {name}; expected dd/MM/yyyy"
            if value and rule.values and value not in rule.values:
                return f"Invalid value for field {name}"
        for name, rule in p.references.items():
            value = references.get(name, "")
            if rule.required and not value:
                return f"Reference {name} is mandatory"
            if value and rule.values and value not in rule.values:
                return f"Invalid value for reference {name}"
        conf = values.get(p.confidentiality_field, "")
        if conf and p.confidentialities and conf not in p.confidentialities:
            return f"Invalid value for field {p.confidentiality_field}: unknown confidentiality"
        unit = values.get(p.unit_field, "")
        if self.units is not None and unit and unit not in self.units:
            return f"Invalid value for field {p.unit_field}: unknown organisation unit"
        return None

    # ------------------------------------------------------------------ session
    def _op_setLicenseKey(self, s: _Session, a: Args) -> Values:
        s.licensed = self.license_key is None or a.text("LicenseKey") == self.license_key
        return [("setLicenseKeyResult", s.licensed)]

    def _op_Connect(self, s: _Session, a: Args) -> Values:
        if not s.licensed:
            return [("ConnectResult", False), ("LastError", "License key is not valid")]
        if a.text("UserName") != self.username or a.text("Password") != self.password:
            return [("ConnectResult", False), ("LastError", "Invalid user name or password")]
        s.connected, s.user = True, a.text("UserName")
        return [("ConnectResult", True), ("LastError", "")]

    def _op_Connected(self, s: _Session, a: Args) -> Values:
        return [("ConnectedResult", s.connected)]

    def _op_Disconnect(self, s: _Session, a: Args) -> Values:
        was = s.connected
        s.connected = False
        return [("DisconnectResult", was)]

    # ------------------------------------------------------------------ documents
    def _op_CreateMetaDocument(self, s: _Session, a: Args) -> Values:
        def fail(msg: str) -> Values:
            return [("CreateMetaDocumentResult", False), ("NewObjectID", ""), ("LastError", msg)]

        kind = a.text("ObjectKind")
        values = a.name_values("FieldValues")
        references = a.name_values("ReferenceValues")
        problem = self._registration_error(kind, values, references)
        if problem:
            return fail(problem)
        # what this installation silently drops is accepted, then not kept
        stored = {n: v for n, v in values.items() if self.profile.fields[n].stored}
        object_id = a.text("ObjectID")
        if object_id:
            doc = self.documents.get(object_id)
            if doc is None or doc.deleted:
                return fail(f"Object {object_id} does not exist")
            if not self.profile.modify:
                return fail("No rights to modify the registration of this object")
            with self._index.changing(doc):
                doc.fields = stored  # values not passed are deleted, as in Corsa
            doc.references = references
            return [("CreateMetaDocumentResult", True), ("NewObjectID", object_id)]
        object_id = f"{datetime.now(UTC).year}{next(self._ids):07d}"
        doc = Document(
            object_id=object_id,
            object_kind=kind,
            fields=stored,
            references=references,
            created_at=datetime.now(UTC),
            secure_memo=self.secure_memo,
        )
        self.documents[object_id] = doc
        self._index.add(doc)
        return [("CreateMetaDocumentResult", True), ("NewObjectID", object_id), ("LastError", "")]

    def _op_CreateFileVersion(self, s: _Session, a: Args) -> Values:
        def fail(msg: str) -> Values:
            return [("CreateFileVersionResult", False), ("LastError", msg)]

        doc = self._document(a.text("ObjectType"), a.text("ObjectID"))
        if isinstance(doc, str):
            return fail(doc)
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

    def _op_GetFileVersionList(self, s: _Session, a: Args) -> Values:
        doc = self._document(a.text("ObjectType"), a.text("ObjectID"))
        if isinstance(doc, str):
            return [("LastError", doc)]
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
        return [("GetFileVersionListResult", datatable(rows)), ("LastError", "")]

    def _op_SetObjectMemo(self, s: _Session, a: Args) -> Values:
        doc = self._document(a.text("ObjectType"), a.text("ObjectID"))
        if isinstance(doc, str):
            return [("SetObjectMemoResult", False), ("LastError", doc)]
        text = a.text("MemoText")
        if doc.secure_memo and doc.memo:
            doc.memo = doc.memo + "\r\n" + text  # protected memo: append, never overwrite
        else:
            doc.memo = text
        return [("SetObjectMemoResult", True), ("LastError", "")]

    def _op_GetObjectMemo(self, s: _Session, a: Args) -> Values:
        doc = self._document(a.text("ObjectType"), a.text("ObjectID"))
        if isinstance(doc, str):
            return [("GetObjectMemoResult", False), ("SecureMemo", False), ("LastError", doc)]
        return [
            ("GetObjectMemoResult", True),
            ("MemoText", doc.memo),
            ("SecureMemo", doc.secure_memo),
            ("LastError", ""),
        ]

    def _op_GetFieldValues(self, s: _Session, a: Args) -> Values:
        doc = self._document(a.text("ObjectType"), a.text("ObjectID"))
        if isinstance(doc, str):
            return [("GetFieldValuesResult", False), ("LastError", doc)]
        out: Values = []
        for name in a.strings("Fields"):
            if name not in self.profile.fields:
                return [("GetFieldValuesResult", False), ("LastError", f"Unknown field {name}")]
            out.append(("NameValue", [("Name", name), ("Value", doc.fields.get(name, ""))]))
        for name in a.strings("References"):
            value = doc.references.get(name, "")
            out.append(("NameValue", [("Name", name), ("Value", value)]))
        return [("GetFieldValuesResult", True), ("Values", out), ("LastError", "")]

    def _op_DeleteObject3(self, s: _Session, a: Args) -> Values:
        doc = self._document(a.text("ObjectType"), a.text("ObjectID"))
        if isinstance(doc, str):
            return [("DeleteObject3Result", False), ("LastError", doc)]
        if a.text("DeleteLogically") != "true" or not self.profile.delete_logically:
            return [("DeleteObject3Result", False), ("LastError", "No right to delete objects")]
        doc.deleted = True
        return [("DeleteObject3Result", True), ("LastError", "")]

    def _op_QueryExecute(self, s: _Session, a: Args) -> Values:
        problem = self._object_type_error(a.text("ObjectType"))
        if problem:
            return [("LastError", problem)]
        items = a.query_items()
        if not items:
            return [("LastError", "No query conditions given")]
        for item in items:
            if item.get("RubricID", "") not in self.profile.fields:
                return [("LastError", f"Unknown query field {item.get('RubricID', '')}")]
        # answered from the index when a condition allows it (as Corsa's database does)
        by = indexed_item(items)
        candidates = (
            self._live_documents(
                self._index.lookup(
                    by["RubricID"],
                    by["Value"],
                    prefix=INDEXED_OPERATORS[by.get("Operator", "qoEqual")],
                )
            )
            if by is not None
            else [d for d in self.documents.values() if not d.deleted]
        )
        found = [doc for doc in candidates if all(matches(doc, item) for item in items)]
        limit = int(a.text("MaxResult") or "0")
        if limit > 0:
            found = found[:limit]
        if a.text("ReturnIDsOnly") == "true":
            rows = [{"OBJECT_ID": d.object_id} for d in found]
        else:
            rows = [{"OBJECT_ID": d.object_id, **columns(d.fields)} for d in found]
        return [("QueryExecuteResult", datatable(rows)), ("LastError", "")]

    def _op_GetDocTodoList2(self, s: _Session, a: Args) -> Values:
        unit = a.text("OrganisationUnitId")
        if self.units is not None and unit not in self.units:
            return [("LastError", "Unknown organisation unit")]
        status = a.text("Status")
        in_unit = (
            self._live_documents(self._index.lookup(self.profile.unit_field, unit))
            if self.profile.todo == "registration"
            else []
        )
        rows = [
            {
                "OBJECT_ID": d.object_id,
                "OBJECT_KIND": d.object_kind,
                "REG_DATUM": d.created_at.strftime("%d/%m/%Y"),
                **columns(d.fields),
            }
            for d in in_unit
            if d.status == status
        ]
        limit = int(a.text("MaxResult") or "0")
        if limit > 0:
            rows = rows[:limit]
        return [("GetDocTodoList2Result", datatable(rows)), ("LastError", "")]
