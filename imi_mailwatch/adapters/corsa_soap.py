"""ports.TaskSink on the Corsa 7.2 Web Service (SOAP, cookie sessions), through zeep.

The session (cookies, ``Result``/``LastError`` checks, error translation) is in
:mod:`imi_mailwatch.adapters.corsa_session`; ``corsa check`` and the proof
registration are in :mod:`imi_mailwatch.adapters.corsa_check`; reading a
document back and moving it to another unit in :mod:`imi_mailwatch.adapters.corsa_route`.

Exactly once (docs/corsa.md): ``create`` first looks the request's document up
and resumes an earlier, interrupted attempt instead of registering a second
document; ``find`` reports a document only when it is complete (its memo is
set, the last step). Writes are therefore never retried blindly: each retry of
``create`` or ``annotate`` starts again from a lookup.

The lookup does not rest on ``poststuk.kenmerk`` alone, because an installation
may accept that field in ``CreateMetaDocument`` and silently not store it: when
the search by kenmerk finds nothing (or ``reference_stored: false`` says it
never will), the document is searched by its subject, which always starts with
``IMI-verzoek <id>`` (``QueryExecute``, starts-with).

Task modes: ``registration`` (the route field puts the registration in the
unit's to-do list) and ``case`` (a Corsa/Case case is started for the document
with ``CaseConnectDocumentType`` or ``CaseStartPrcd``, and a step carrying the
memo is inserted with ``CaseAdhocAction``).

Text sent to Corsa passes :func:`~imi_mailwatch.adapters.corsa_wire.xml_text` first:
a character XML 1.0 does not allow (a control character in an alert) would make the
request unserialisable. HTTP 200 answers that are cut off or not the operation's
answer are transient (``corsa_wire.CheckedTransport``; zeep itself reads leniently).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, TypeVar

import structlog

from imi_mailwatch.adapters.corsa_route import move_task, read_task
from imi_mailwatch.adapters.corsa_session import CheckStep, CorsaSession, corsa_date
from imi_mailwatch.adapters.corsa_wire import parse_datatable, row_id, xml_text
from imi_mailwatch.clock import local_today
from imi_mailwatch.config_corsa import CorsaConfig
from imi_mailwatch.errors import TaskSinkRejectedError
from imi_mailwatch.model import TaskRef, TaskRequest
from imi_mailwatch.pdf import render_task_pdf
from imi_mailwatch.ports import Clock
from imi_mailwatch.retry import transient_retrying
from imi_mailwatch.tasksync.ports import TaskReading

log = structlog.get_logger(__name__)

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
    "GetFieldValues",
    "GetObjectKinds",
    "GetFields",
    "GetReferences",
    "GetConfidentialities",
    "DeleteObject3",
    "CaseConnectDocumentType",
    "CaseStartPrcd",
    "CaseAdhocAction",
    "CaseGetInfo",
)
__all__ = ["USED_OPERATIONS", "CheckStep", "CorsaSoapTaskSink", "request_marker"]


def request_marker(request_id: str) -> str:
    """The start of every subject this sink writes: how a request is found without kenmerk."""
    return f"IMI-verzoek {request_id}"


def _marked(row: dict[str, str], marker: str) -> bool:
    """Whether a result row is this request's: a cell that starts with the marker as a whole.

    "IMI-verzoek 12" must not match "IMI-verzoek 123"; a row without such a cell
    (an installation that returns ids only) is taken as the server's match.
    """
    cells = [v for v in row.values() if v.startswith(marker)]
    return not cells or any(not v[len(marker) :][:1].isalnum() for v in cells)


@dataclass(eq=False)
class CorsaSoapTaskSink:
    """ports.TaskSink on the Corsa Web Service; see the module docstring."""

    cfg: CorsaConfig
    _: KW_ONLY
    name: str = field(default="corsa", init=False)
    clock: Clock
    stop: threading.Event | None = None
    pdf_font: str | None = None
    retry_first_wait: float = 1.0
    retry_max_wait: float = 30.0
    lock: threading.RLock = field(init=False, default_factory=threading.RLock)
    wire: CorsaSession = field(init=False)

    def __post_init__(self) -> None:
        self.wire = CorsaSession(self.cfg)

    # ------------------------------------------------------------------ the port
    def find(self, request_id: str) -> TaskRef | None:
        """The complete document registered for this request (by kenmerk, else by subject)."""
        with self.lock:
            return self._retrying("corsa.find", lambda: self._find_once(request_id))

    def create(self, task: TaskRequest) -> TaskRef:
        """Register the document, attach the .eml and its PDF, (case mode) start the case,
        set the memo.

        Idempotent: a document left behind by an interrupted attempt is completed
        instead of registering a second one.
        """
        with self.lock:
            return self._retrying("corsa.create", lambda: self._create_once(task))

    def annotate(self, ref: TaskRef, line: str) -> None:
        """Append one line to the document's memo (once: a line already there is kept)."""
        with self.lock:
            self._retrying("corsa.annotate", lambda: self._annotate_once(ref, line))

    def attach_file(
        self, ref: TaskRef, data: bytes, extension: str, name: str, description: str
    ) -> None:
        """Add a file to the task's document, once: a file with this name is kept as it is.

        Used to archive the request's history on closing (privacy.attach_history_on_close).
        """
        with self.lock:
            self._retrying(
                "corsa.attach",
                lambda: self._attach_once(ref, data, extension, name, description),
            )

    def read_task(self, ref: TaskRef) -> TaskReading:
        """The document's unit and whether it is completed (``corsa_route.read_task``)."""
        with self.lock:
            return self._retrying("corsa.read", lambda: read_task(self, ref.ref))

    def reroute(self, ref: TaskRef, org_unit: str) -> bool:
        """Move the document to ``org_unit``; False when it is there (``corsa_route``)."""
        with self.lock:
            return self._retrying("corsa.reroute", lambda: move_task(self, ref.ref, org_unit))

    def close(self) -> None:
        """Disconnect and drop the HTTP session. Safe to call twice."""
        with self.lock:
            self.wire.close()

    # ------------------------------------------------------------------ for corsa check
    def check(self, units: list[str] | tuple[str, ...] = ()) -> list[CheckStep]:
        """Try each step of a session and report; never raises (for ``corsa check``)."""
        from imi_mailwatch.adapters.corsa_check import run_check

        with self.lock:
            return run_check(self, units)

    def todo_list(self, unit: str) -> list[dict[str, str]]:
        """The documents waiting to be received in an organisation unit's task box."""
        with self.lock:
            resp = self.wire.call(
                "GetDocTodoList2",
                None,
                EmployeeId="",
                OrganisationUnitId=unit,
                ProcessType="tlptAdministrative",
                Status="tlsToBeReceived",
                DateFrom="",
                DateTo="",
                MaxResult=self.cfg.todo_max_result,
            )
            return parse_datatable(resp.GetDocTodoList2Result)

    def lookup(self, request_id: str) -> str | None:
        """The object id of this request's document: by kenmerk, else by subject; or None."""
        f = self.cfg.fields
        ids: list[str] = []
        if self.cfg.reference_stored and f.reference:
            ids = self._query(f.reference, "qoEqual", request_id)
        if not ids and f.subject:
            marker = request_marker(request_id)
            ids = self._query(f.subject, "qoStartsWith", marker, keep=lambda r: _marked(r, marker))
            if ids:
                log.info("corsa.found_by_subject", request_id=request_id, count=len(ids))
        if len(ids) > 1:
            log.warning("corsa.duplicate_reference", request_id=request_id, count=len(ids))
        return ids[0] if ids else None

    def field_values(self, task: TaskRequest) -> list[tuple[str, str]]:
        """The FieldValues of the registration: ours, then the configured extra ones."""
        f = self.cfg.fields
        today = local_today(self.clock.now())
        marker = request_marker(task.request_id)
        given = xml_text(task.subject)  # cleaned first: a control character hides the marker
        subject = given if given.startswith(marker) else f"{marker}: {given}"
        values = [
            (f.subject, subject[:250]),
            (f.content, task.summary),
            (f.org_unit, task.team.org_unit),
            (f.reference, task.request_id),
            (f.registered_on, corsa_date(today)),
            (f.document_date, corsa_date(task.received_on)),
            (f.deadline, corsa_date(task.deadline) if task.deadline else ""),
            (f.confidentiality, task.confidentiality or self.cfg.confidentiality or ""),
        ]
        ours = [(name, value) for name, value in values if name and value]
        taken = {name for name, _ in ours}
        return ours + [(n, v) for n, v in self.cfg.extra_fields.items() if n not in taken and v]

    def reference_values(self) -> list[tuple[str, str]]:
        """The configured ReferenceValues (channel and the like)."""
        return [(n, v) for n, v in self.cfg.extra_references.items() if v]

    def on_document(self, operation: str, result: str | None, object_id: str, **args: Any) -> Any:
        """Call ``operation`` on one of the installation's documents (``CorsaSession.call``;
        ObjectType and ObjectID filled in)."""
        return self.wire.call(
            operation, result, ObjectType=self.cfg.object_type, ObjectID=object_id, **args
        )

    def get_memo(self, object_id: str) -> tuple[str, bool]:
        """The document's memo and whether it is protected (appended to, not overwritten)."""
        resp = self.on_document("GetObjectMemo", "GetObjectMemoResult", object_id)
        return str(resp.MemoText or ""), bool(resp.SecureMemo)

    def set_memo(self, object_id: str, text: str) -> None:
        """Set the document's memo (a protected memo appends it)."""
        self.on_document("SetObjectMemo", "SetObjectMemoResult", object_id, MemoText=text)

    def stored_values(self, object_id: str, fields: list[str], refs: list[str]) -> dict[str, str]:
        """What Corsa holds for these fields and references of a document (GetFieldValues)."""
        resp = self.on_document(
            "GetFieldValues",
            "GetFieldValuesResult",
            object_id,
            Fields={"string": fields} if fields else None,
            References={"string": refs} if refs else None,
        )
        values = getattr(resp.Values, "NameValue", None) or []
        return {str(nv.Name): str(nv.Value or "") for nv in values}

    def case_info(self, case_id: str) -> dict[str, str]:
        """What Corsa/Case says of a case (CaseGetInfo)."""
        resp = self.wire.call("CaseGetInfo", "CaseGetInfoResult", CaseID=case_id)
        values = getattr(resp.CaseInfo, "NameValue", None) or []
        return {str(nv.Name): str(nv.Value or "") for nv in values}

    def case_of(self, object_id: str) -> str:
        """The id of the case started for a document ("" when none)."""
        assert self.cfg.case is not None
        field = self.cfg.case.case_field
        return self.stored_values(object_id, [field], []).get(field, "")

    # ------------------------------------------------------------------ steps
    def _retrying(self, what: str, fn: Callable[[], T]) -> T:
        retrying = transient_retrying(
            what,
            stop=self.stop,
            first_wait=self.retry_first_wait,
            max_wait=self.retry_max_wait,
            max_attempts=self.cfg.retry_attempts,
        )
        return retrying(fn)

    def _find_once(self, request_id: str) -> TaskRef | None:
        object_id = self.lookup(request_id)
        if object_id is None:
            return None
        memo, _secure = self.get_memo(object_id)
        if not memo.strip():
            log.warning("corsa.document_incomplete", request_id=request_id, object_id=object_id)
            return None  # an interrupted create: create() completes it
        log.info("corsa.document_found", request_id=request_id, object_id=object_id)
        return TaskRef(self.name, object_id)

    def _create_once(self, task: TaskRequest) -> TaskRef:
        object_id = self.lookup(task.request_id)
        resumed = object_id is not None
        if object_id is None:
            resp = self.wire.call(
                "CreateMetaDocument",
                "CreateMetaDocumentResult",
                ObjectID="",
                ObjectKind=self.cfg.object_kind,
                FieldValues=self.wire.name_values(self.field_values(task)),
                ReferenceValues=self.wire.name_values(self.reference_values()),
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
            memo, _secure = self.get_memo(object_id)
            log.warning(
                "corsa.document_resumed",
                request_id=task.request_id,
                object_id=object_id,
                files=present,
                memo_set=bool(memo.strip()),
            )
        name = request_marker(task.request_id)
        if present < 1:
            self._add_file(object_id, task.alert_eml, ".eml", name, "Oorspronkelijke IMI-melding")
        if present < 2:
            pdf = render_task_pdf(task, font=self.pdf_font)
            self._add_file(object_id, pdf, ".pdf", name, "Leesbare weergave van de IMI-melding")
        if not memo.strip():
            if self.cfg.task_mode == "case":
                self._ensure_case(object_id, task.memo, resumed=resumed)
            self.set_memo(object_id, xml_text(task.memo))
        log.info(
            "corsa.task_created",
            request_id=task.request_id,
            object_id=object_id,
            org_unit=task.team.org_unit,
            task_mode=self.cfg.task_mode,
            resumed=resumed,
        )
        return TaskRef(self.name, object_id)

    def _ensure_case(self, object_id: str, memo: str, *, resumed: bool) -> str:
        """Start the document's case once, and insert the memo's step once."""
        case_cfg = self.cfg.case
        assert case_cfg is not None  # the configuration demands it for task_mode case
        case_id = self.case_of(object_id) if resumed else ""
        step = 1
        if not case_id:
            case_id, step = self._start_case(object_id)
        elif case_cfg.memo_step and self.case_info(case_id).get("STEP_MEMO") == memo:
            return case_id  # the step with the memo is already there
        else:
            step = int(self.case_info(case_id).get("STEP_ID") or 1)
        if case_cfg.memo_step:
            self.wire.call(
                "CaseAdhocAction",
                "CaseAdhocActionResult",
                action="caaInsertStep",
                CaseID=case_id,
                iStepIdFrom=step,
                iStepIdTo=0,
                iTaskIdTo=0,
                sMemo=memo,
            )
        log.info("corsa.case_started", object_id=object_id, case_id=case_id)
        return case_id

    def _start_case(self, object_id: str) -> tuple[str, int]:
        case_cfg = self.cfg.case
        assert case_cfg is not None
        if case_cfg.doc_type:
            resp = self.on_document(
                "CaseConnectDocumentType",
                "CaseConnectDocumentTypeResult",
                object_id,
                DocumentID="",
                DocTypeID=case_cfg.doc_type,
                CaseID="",
                ProcessSysSteps=True,
            )
            return str(resp.StartedCaseID or ""), 1
        resp = self.on_document(
            "CaseStartPrcd",
            "CaseStartPrcdResult",
            object_id,
            ProcedureID=case_cfg.procedure,
            ProcedureVersion=case_cfg.procedure_version,
        )
        return str(resp.CaseID or ""), int(resp.StepID or 1)

    def _annotate_once(self, ref: TaskRef, line: str) -> None:
        line = xml_text(line)
        memo, secure = self.get_memo(ref.ref)
        if line.strip() and line.strip() in memo:
            log.info("corsa.memo_line_present", object_id=ref.ref)
            return
        # a protected memo appends what it is given; an unprotected one is overwritten
        text = line if secure or not memo else memo.rstrip("\r\n") + "\r\n" + line
        self.set_memo(ref.ref, text)
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

    def _query(
        self,
        field: str,
        operator: str,
        value: str,
        *,
        keep: Callable[[dict[str, str]], bool] | None = None,
    ) -> list[str]:
        qi = self.wire.type("QueryItem")
        resp = self.wire.call(
            "QueryExecute",
            None,
            ObjectType=self.cfg.object_type,
            QueryItems={
                "QueryItem": [
                    qi(
                        RubricType="qrtDbField",
                        RubricID=field,
                        Condition="qcAnd",
                        Operator=operator,
                        Value=xml_text(value),
                    )
                ]
            },
            SkipEmptyConditions=False,
            SearchByQueryOrder=False,
            SearchSubFolders=False,
            SearchRelated=False,
            SearchRecursive=False,
            ReturnIDsOnly=keep is None,
            MaxResult=10,
            ResultItems=None,
            QueryLayoutId="",
        )
        rows = parse_datatable(resp.QueryExecuteResult)
        return sorted({row_id(r) for r in rows if keep is None or keep(r)} - {""})

    def _file_versions(self, object_id: str) -> list[dict[str, str]]:
        resp = self.on_document("GetFileVersionList", None, object_id)
        return parse_datatable(resp.GetFileVersionListResult)

    def _add_file(self, object_id: str, data: bytes, ext: str, name: str, desc: str) -> None:
        self.on_document(
            "CreateFileVersion",
            "CreateFileVersionResult",
            object_id,
            FileBytes=data,
            FileType="ftNative",
            FileVersion=0,
            FileExtension=ext,
            DocumentName=xml_text(name),
            VersionDescription=xml_text(desc),
            Action=None,
        )
