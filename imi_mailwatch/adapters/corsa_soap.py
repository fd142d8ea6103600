"""ports.TaskSink on the Corsa 7.2 Web Service (SOAP, cookie sessions), through zeep.

The service keeps its session in an HTTP cookie, so one ``requests.Session``
lives under the zeep client. The sequence is ``setLicenseKey`` -> ``Connect`` ->
calls -> ``Disconnect``; the sink connects on first use and reconnects once
when a call says the session is gone.

Corsa reports errors in ``Result``/``LastError`` instead of SOAP faults; every
answer is checked and translated here (see :func:`classify_last_error`):

- session lost ("Not connected", "session expired"): reconnect once and call
  again; if that fails too, ``TaskSinkUnavailableError``;
- a busy server, deadlock or time-out in the far side: ``TaskSinkUnavailableError``;
- anything else (validation, unknown organisation unit, licence, credentials):
  ``TaskSinkRejectedError``; the pipeline parks the request and tells the beheerders.
- HTTP 5xx, time-outs, refused connections, unreadable answers, and HTTP 200
  answers that are cut off or not the operation's answer (checked strictly by
  ``corsa_wire.CheckedTransport``: zeep itself reads leniently): ``TaskSinkUnavailableError``;
  SOAP faults by their fault code.

Text sent to Corsa passes :func:`xml_text` first: a character XML 1.0 does not
allow (a control character in an alert) would make the request unserialisable.

Exactly once (docs/corsa.md): ``create`` first looks the document up by its
``poststuk.kenmerk`` (the IMI request id) with ``QueryExecute`` and resumes an
earlier, interrupted attempt instead of registering a second document; ``find``
reports a document only when it is complete (its memo is set, the last step).
Writes are therefore never retried blindly: each retry of ``create`` or
``annotate`` starts again from a lookup.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import requests
import structlog
import zeep
import zeep.exceptions
from lxml import etree

from imi_mailwatch.adapters.corsa_wire import (
    CheckedTransport,
    DamagedAnswerError,
    parse_datatable,
    row_id,
    xml_text,
)
from imi_mailwatch.config import CorsaConfig
from imi_mailwatch.errors import (
    MailwatchError,
    TaskSinkRejectedError,
    TaskSinkUnavailableError,
)
from imi_mailwatch.model import TaskRef, TaskRequest
from imi_mailwatch.pdf import render_task_pdf
from imi_mailwatch.ports import Clock
from imi_mailwatch.retry import transient_retrying

log = structlog.get_logger(__name__)

NS = "http://bct.nl"
BINDING = f"{{{NS}}}CORSA72WS4jSoap"
LOCAL_TZ = ZoneInfo("Europe/Amsterdam")
T = TypeVar("T")
# every operation this client calls (the conformance test holds them to the real WSDL)
USED_OPERATIONS = (
    "setLicenseKey",
    "Connect",
    "Disconnect",
    "CreateMetaDocument",
    "CreateFileVersion",
    "GetFileVersionList",
    "SetObjectMemo",
    "GetObjectMemo",
    "QueryExecute",
    "GetDocTodoList2",
)
# zeep is not typed: its classes enter typed code through these names
_Client: Any = zeep.Client


class ErrorKind(StrEnum):
    """What a ``LastError`` text means for the caller."""

    SESSION = "session"  # the session is gone: reconnect and call again
    TRANSIENT = "transient"  # the far side is busy or broken for now: retry later
    PERMANENT = "permanent"  # the request itself is refused: park it


_SESSION_PATTERNS = re.compile(
    r"not connected|no connection|not logged ?in|session|expired|verlopen|"
    r"niet (meer )?verbonden|geen verbinding|niet aangemeld|login required",
    re.IGNORECASE,
)
_TRANSIENT_PATTERNS = re.compile(
    r"time-?out|timed out|deadlock|temporar|tijdelijk|busy|bezet|try again|"
    r"too many|unavailable|niet beschikbaar|connection (was )?(lost|reset|closed)",
    re.IGNORECASE,
)


def classify_last_error(text: str) -> ErrorKind:
    """Map a ``LastError`` text to what it means; unknown texts count as permanent."""
    if _SESSION_PATTERNS.search(text):
        return ErrorKind.SESSION
    if _TRANSIENT_PATTERNS.search(text):
        return ErrorKind.TRANSIENT
    return ErrorKind.PERMANENT


def safe_error(text: str, limit: int = 160) -> str:
    """A LastError fit for logs and error texts: quoted values cut out, length capped."""
    cleaned = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text or "").strip()
    cleaned = re.sub(r"\s+", " ", cleaned)
    return cleaned[:limit] or "(no LastError)"


def corsa_date(value: date) -> str:
    """Corsa's date format, dd/MM/yyyy."""
    return value.strftime("%d/%m/%Y")


@dataclass(frozen=True, slots=True)
class CheckStep:
    """One step of ``imi-mailwatch corsa check``: what was tried and how it went."""

    name: str
    ok: bool
    detail: str


class CorsaSoapTaskSink:
    """ports.TaskSink on the Corsa Web Service; see the module docstring."""

    name = "corsa"

    def __init__(
        self,
        cfg: CorsaConfig,
        *,
        clock: Clock,
        stop: threading.Event | None = None,
        pdf_font: str | None = None,
        retry_first_wait: float = 1.0,
        retry_max_wait: float = 30.0,
    ) -> None:
        self._cfg = cfg
        self._clock = clock
        self._stop = stop
        self._pdf_font = pdf_font
        self._first_wait = retry_first_wait
        self._max_wait = retry_max_wait
        self._lock = threading.RLock()
        self._session: requests.Session | None = None
        self._client: zeep.Client | None = None
        self._service: Any = None
        self._connected = False

    # ------------------------------------------------------------------ the port
    def find(self, request_id: str) -> TaskRef | None:
        """The complete document registered for this request, found by its kenmerk."""
        with self._lock:
            return self._retrying("corsa.find", lambda: self._find_once(request_id))

    def create(self, task: TaskRequest) -> TaskRef:
        """Register the document, attach the .eml and its PDF, set the memo.

        Idempotent: a document left behind by an interrupted attempt (found by its
        kenmerk) is completed instead of registering a second one.
        """
        with self._lock:
            return self._retrying("corsa.create", lambda: self._create_once(task))

    def annotate(self, ref: TaskRef, line: str) -> None:
        """Append one line to the document's memo (once: a line already there is kept)."""
        with self._lock:
            self._retrying("corsa.annotate", lambda: self._annotate_once(ref, line))

    def attach_file(
        self, ref: TaskRef, data: bytes, extension: str, name: str, description: str
    ) -> None:
        """Add a file to the task's document, once: a file with this name is kept as it is.

        Used to archive the request's history on closing (privacy.attach_history_on_close).
        """
        with self._lock:
            self._retrying(
                "corsa.attach",
                lambda: self._attach_once(ref, data, extension, name, description),
            )

    def close(self) -> None:
        """Disconnect and drop the HTTP session. Safe to call twice."""
        with self._lock:
            if self._connected and self._service is not None:
                try:
                    self._service.Disconnect()
                    log.info("corsa.disconnected")
                except (requests.RequestException, zeep.exceptions.Error) as exc:
                    log.warning("corsa.disconnect_failed", error=type(exc).__name__)
            self._connected = False
            if self._session is not None:
                self._session.close()
            self._session = self._client = self._service = None

    # ------------------------------------------------------------------ check
    def check(self, units: list[str] | tuple[str, ...] = ()) -> list[CheckStep]:
        """Try each step of a session and report; never raises (for ``corsa check``)."""
        steps: list[CheckStep] = []
        with self._lock:
            self.close()
            try:
                self._ensure_client()
                steps.append(CheckStep("wsdl", True, f"WSDL gelezen: {self._wsdl_location()}"))
            except MailwatchError as exc:
                steps.append(CheckStep("wsdl", False, str(exc)))
                return steps
            try:
                ok = bool(self._raw("setLicenseKey", LicenseKey=self._license()))
                steps.append(
                    CheckStep(
                        "licence",
                        ok,
                        "licentiesleutel aanvaard" if ok else "licentiesleutel geweigerd",
                    )
                )
            except MailwatchError as exc:
                steps.append(CheckStep("licence", False, str(exc)))
                return steps
            try:
                self._connect()
                steps.append(CheckStep("connect", True, f"verbonden als {self._cfg.username}"))
            except MailwatchError as exc:
                steps.append(CheckStep("connect", False, str(exc)))
                return steps
            for unit in units:
                try:
                    rows = self.todo_list(unit)
                    steps.append(CheckStep(f"todo:{unit}", True, f"{len(rows)} taken te ontvangen"))
                except MailwatchError as exc:
                    steps.append(CheckStep(f"todo:{unit}", False, str(exc)))
            try:
                self._lookup("__imi-mailwatch-check__")
                steps.append(CheckStep("query", True, "zoeken op kenmerk werkt (QueryExecute)"))
            except MailwatchError as exc:
                steps.append(CheckStep("query", False, str(exc)))
            try:
                self._raw("Disconnect")
                self._connected = False
                steps.append(CheckStep("disconnect", True, "verbinding netjes gesloten"))
            except MailwatchError as exc:
                steps.append(CheckStep("disconnect", False, str(exc)))
        return steps

    def todo_list(self, unit: str) -> list[dict[str, str]]:
        """The documents waiting to be received in an organisation unit's task box."""
        with self._lock:
            resp = self._call(
                "GetDocTodoList2",
                None,
                EmployeeId="",
                OrganisationUnitId=unit,
                ProcessType="tlptAdministrative",
                Status="tlsToBeReceived",
                DateFrom="",
                DateTo="",
                MaxResult=self._cfg.todo_max_result,
            )
            return parse_datatable(resp.GetDocTodoList2Result)

    # ------------------------------------------------------------------ steps
    def _retrying(self, what: str, fn: Callable[[], T]) -> T:
        retrying = transient_retrying(
            what,
            stop=self._stop,
            first_wait=self._first_wait,
            max_wait=self._max_wait,
            max_attempts=self._cfg.retry_attempts,
        )
        return retrying(fn)

    def _find_once(self, request_id: str) -> TaskRef | None:
        object_id = self._lookup(request_id)
        if object_id is None:
            return None
        memo, _secure = self._get_memo(object_id)
        if not memo.strip():
            log.warning("corsa.document_incomplete", request_id=request_id, object_id=object_id)
            return None  # an interrupted create: create() completes it
        log.info("corsa.document_found", request_id=request_id, object_id=object_id)
        return TaskRef(self.name, object_id)

    def _create_once(self, task: TaskRequest) -> TaskRef:
        object_id = self._lookup(task.request_id)
        resumed = object_id is not None
        if object_id is None:
            resp = self._call(
                "CreateMetaDocument",
                "CreateMetaDocumentResult",
                ObjectID="",
                ObjectKind=self._cfg.object_kind,
                FieldValues=self._name_values(self._field_values(task)),
                ReferenceValues=None,
                DuplicateID="",
                DSPTemplateID="",
            )
            object_id = str(resp.NewObjectID or "")
            if not object_id:
                raise TaskSinkRejectedError("Corsa CreateMetaDocument returned no NewObjectID")
            log.info("corsa.document_created", request_id=task.request_id, object_id=object_id)
            present = 0
            memo = ""
        else:
            present = len(self._file_versions(object_id))
            memo, _secure = self._get_memo(object_id)
            log.warning(
                "corsa.document_resumed",
                request_id=task.request_id,
                object_id=object_id,
                files=present,
                memo_set=bool(memo.strip()),
            )
        name = f"IMI-verzoek {task.request_id}"
        if present < 1:
            self._add_file(object_id, task.alert_eml, ".eml", name, "Oorspronkelijke IMI-melding")
        if present < 2:
            pdf = render_task_pdf(task, font=self._pdf_font)
            self._add_file(object_id, pdf, ".pdf", name, "Leesbare weergave van de IMI-melding")
        if not memo.strip():
            self._call(
                "SetObjectMemo",
                "SetObjectMemoResult",
                ObjectType=self._cfg.object_type,
                ObjectID=object_id,
                MemoText=xml_text(task.memo),
            )
        log.info(
            "corsa.task_created",
            request_id=task.request_id,
            object_id=object_id,
            org_unit=task.team.org_unit,
            resumed=resumed,
        )
        return TaskRef(self.name, object_id)

    def _annotate_once(self, ref: TaskRef, line: str) -> None:
        line = xml_text(line)
        memo, secure = self._get_memo(ref.ref)
        if line.strip() and line.strip() in memo:
            log.info("corsa.memo_line_present", object_id=ref.ref)
            return
        # a protected memo appends what it is given; an unprotected one is overwritten
        text = line if secure or not memo else memo.rstrip("\r\n") + "\r\n" + line
        self._call(
            "SetObjectMemo",
            "SetObjectMemoResult",
            ObjectType=self._cfg.object_type,
            ObjectID=ref.ref,
            MemoText=text,
        )
        log.info("corsa.memo_appended", object_id=ref.ref, secure_memo=secure)

    def _attach_once(
        self, ref: TaskRef, data: bytes, extension: str, name: str, description: str
    ) -> None:
        for row in self._file_versions(ref.ref):
            if row.get("DOCUMENT_NAME") == name and row.get("FILE_EXTENSION") == extension:
                log.info("corsa.file_present", object_id=ref.ref, extension=extension)
                return
        self._add_file(ref.ref, data, extension, name, description)
        log.info("corsa.file_added", object_id=ref.ref, extension=extension)

    def _lookup(self, request_id: str) -> str | None:
        qi = self._type("QueryItem")
        resp = self._call(
            "QueryExecute",
            None,
            ObjectType=self._cfg.object_type,
            QueryItems={
                "QueryItem": [
                    qi(
                        RubricType="qrtDbField",
                        RubricID=self._cfg.fields.reference,
                        Condition="qcAnd",
                        Operator="qoEqual",
                        Value=xml_text(request_id),
                    )
                ]
            },
            SkipEmptyConditions=False,
            SearchByQueryOrder=False,
            SearchSubFolders=False,
            SearchRelated=False,
            SearchRecursive=False,
            ReturnIDsOnly=True,
            MaxResult=10,
            ResultItems=None,
            QueryLayoutId="",
        )
        ids = sorted({row_id(r) for r in parse_datatable(resp.QueryExecuteResult)} - {""})
        if len(ids) > 1:
            log.warning("corsa.duplicate_reference", request_id=request_id, count=len(ids))
        return ids[0] if ids else None

    def _file_versions(self, object_id: str) -> list[dict[str, str]]:
        resp = self._call(
            "GetFileVersionList", None, ObjectType=self._cfg.object_type, ObjectID=object_id
        )
        return parse_datatable(resp.GetFileVersionListResult)

    def _get_memo(self, object_id: str) -> tuple[str, bool]:
        resp = self._call(
            "GetObjectMemo",
            "GetObjectMemoResult",
            ObjectType=self._cfg.object_type,
            ObjectID=object_id,
        )
        return str(resp.MemoText or ""), bool(resp.SecureMemo)

    def _add_file(self, object_id: str, data: bytes, ext: str, name: str, desc: str) -> None:
        self._call(
            "CreateFileVersion",
            "CreateFileVersionResult",
            ObjectType=self._cfg.object_type,
            ObjectID=object_id,
            FileBytes=data,
            FileType="ftNative",
            FileVersion=0,
            FileExtension=ext,
            DocumentName=xml_text(name),
            VersionDescription=xml_text(desc),
            Action=None,
        )

    def _field_values(self, task: TaskRequest) -> list[tuple[str, str]]:
        f = self._cfg.fields
        today = self._clock.now().astimezone(LOCAL_TZ).date()
        values = [
            (f.subject, task.subject),
            (f.content, task.summary),
            (f.org_unit, task.team.org_unit),
            (f.reference, task.request_id),
            (f.registered_on, corsa_date(today)),
            (f.document_date, corsa_date(task.received_on)),
            (f.deadline, corsa_date(task.deadline) if task.deadline else ""),
            (f.confidentiality, task.confidentiality or self._cfg.confidentiality or ""),
        ]
        return [(name, xml_text(value)) for name, value in values if name and value]

    def _name_values(self, pairs: list[tuple[str, str]]) -> Any:
        nv = self._type("NameValue")
        return self._type("ArrayOfNameValue")(NameValue=[nv(Name=n, Value=v) for n, v in pairs])

    # ------------------------------------------------------------------ session
    def _call(self, operation: str, result_field: str | None, **kwargs: Any) -> Any:
        """One call with Result/LastError checked; a lost session is re-established once."""
        for attempt in (1, 2):
            if not self._connected:
                self._connect()
            resp = self._raw(operation, **kwargs)
            last_error = str(getattr(resp, "LastError", None) or "")
            ok = bool(getattr(resp, result_field)) if result_field else not last_error
            if ok:
                return resp
            kind = classify_last_error(last_error)
            log.warning(
                "corsa.call_failed",
                operation=operation,
                kind=kind.value,
                last_error=safe_error(last_error),
                attempt=attempt,
            )
            if kind is ErrorKind.SESSION and attempt == 1:
                self._connected = False
                log.info("corsa.session_lost", operation=operation)
                continue
            message = f"Corsa {operation}: {safe_error(last_error)}"
            if kind is ErrorKind.PERMANENT:
                raise TaskSinkRejectedError(message)
            raise TaskSinkUnavailableError(message)
        raise AssertionError("unreachable")  # pragma: no cover

    def _connect(self) -> None:
        self._ensure_client()
        self._connected = False
        licensed = self._raw("setLicenseKey", LicenseKey=self._license())
        if not licensed:
            raise TaskSinkRejectedError("Corsa setLicenseKey: the licence key was refused")
        resp = self._raw(
            "Connect",
            ApplicationID=self._cfg.application_id,
            ConnectionID=self._cfg.connection_id,
            UserName=self._cfg.username,
            Password=self._cfg.password.reveal(),
            EncodedPass=self._cfg.encoded_password,
        )
        if not resp.ConnectResult:
            last_error = str(resp.LastError or "")
            message = f"Corsa Connect: {safe_error(last_error)}"
            log.warning("corsa.connect_failed", last_error=safe_error(last_error))
            if classify_last_error(last_error) is ErrorKind.TRANSIENT:
                raise TaskSinkUnavailableError(message)
            raise TaskSinkRejectedError(message)
        self._connected = True
        log.info("corsa.connected", application_id=self._cfg.application_id)

    def _license(self) -> str:
        return self._cfg.license_key.reveal() if self._cfg.license_key else ""

    def _wsdl_location(self) -> str:
        return self._cfg.wsdl or self._cfg.url + "?WSDL"

    def _ensure_client(self) -> None:
        if self._client is not None:
            return
        session = requests.Session()
        if self._cfg.ca_file:
            session.verify = self._cfg.ca_file
        transport = CheckedTransport(
            session=session,
            timeout=self._cfg.timeout_seconds,
            operation_timeout=self._cfg.timeout_seconds,
        )
        location = self._wsdl_location()
        if "://" not in location:
            location = str(Path(location).expanduser())
        settings = zeep.Settings(strict=False, xml_huge_tree=False)
        try:
            client: Any = _Client(location, transport=transport, settings=settings)
            service = client.create_service(BINDING, self._cfg.url)
        except (requests.RequestException, zeep.exceptions.TransportError) as exc:
            session.close()
            raise TaskSinkUnavailableError(
                f"Corsa WSDL not reachable: {type(exc).__name__}"
            ) from None
        except (OSError, zeep.exceptions.Error, ValueError, etree.XMLSyntaxError) as exc:
            session.close()
            raise TaskSinkRejectedError(
                f"Corsa WSDL unusable ({location}): {type(exc).__name__}"
            ) from None
        self._session, self._client, self._service = session, client, service

    def _type(self, name: str) -> Any:
        self._ensure_client()
        client: Any = self._client
        return client.get_type(f"{{{NS}}}{name}")

    def _raw(self, operation: str, **kwargs: Any) -> Any:
        """Call the operation; library exceptions become the project's own."""
        self._ensure_client()
        try:
            return getattr(self._service, operation)(**kwargs)
        except DamagedAnswerError as exc:
            raise TaskSinkUnavailableError(f"Corsa {operation}: damaged answer ({exc})") from None
        except requests.Timeout:
            raise TaskSinkUnavailableError(f"Corsa {operation}: no answer in time") from None
        except requests.RequestException as exc:
            raise TaskSinkUnavailableError(f"Corsa {operation}: {type(exc).__name__}") from None
        except zeep.exceptions.TransportError as exc:
            if exc.status_code in (401, 403, 404):
                raise TaskSinkRejectedError(f"Corsa {operation}: HTTP {exc.status_code}") from None
            raise TaskSinkUnavailableError(f"Corsa {operation}: HTTP {exc.status_code}") from None
        except zeep.exceptions.Fault as exc:
            code = str(exc.code or "")
            if not code:  # an error page (HTTP 5xx from the server or a proxy), not a fault
                raise TaskSinkUnavailableError(
                    f"Corsa {operation}: HTTP error without a SOAP fault"
                ) from None
            if code.endswith("Client"):
                raise TaskSinkRejectedError(f"Corsa {operation}: SOAP fault {code}") from None
            raise TaskSinkUnavailableError(f"Corsa {operation}: SOAP fault {code}") from None
        except zeep.exceptions.ValidationError as exc:
            raise TaskSinkRejectedError(
                f"Corsa {operation}: request not valid ({exc.message})"
            ) from None
        except ValueError as exc:  # lxml: text that XML cannot carry (xml_text missed a field)
            raise TaskSinkRejectedError(
                f"Corsa {operation}: request not serialisable ({type(exc).__name__})"
            ) from None
        except (zeep.exceptions.XMLSyntaxError, etree.XMLSyntaxError) as exc:
            raise TaskSinkUnavailableError(
                f"Corsa {operation}: unreadable answer ({type(exc).__name__})"
            ) from None
        except zeep.exceptions.Error as exc:
            raise TaskSinkUnavailableError(f"Corsa {operation}: {type(exc).__name__}") from None
