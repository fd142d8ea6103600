"""``corsa check`` and ``corsa check --proef``: what works in this Corsa installation.

For the installer and the beheerders, so every step reads in Dutch.

- :func:`run_check` creates nothing: WSDL, licence, Connect, the object kind,
  field names, references and confidentiality against what the installation
  knows (``GetObjectKinds``, ``GetFields``, ``GetReferences``,
  ``GetConfidentialities``), each unit's to-do list, the lookups, Disconnect.
- :func:`run_proef` registers one clearly marked test document for a unit and
  follows it: fields read back (``GetFieldValues``), found again, in the unit's
  to-do list (``GetDocTodoList2``; in case mode the case's step, ``CaseGetInfo``),
  memo read back, and logically deleted again (``DeleteObject3``). It stops at the
  first failure with what to ask the Corsa administrator, and always tries to
  remove the test document it made.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from email.message import EmailMessage
from typing import TYPE_CHECKING

from imi_mailwatch.adapters.corsa_session import CheckStep
from imi_mailwatch.adapters.corsa_wire import parse_datatable, row_id
from imi_mailwatch.errors import MailwatchError
from imi_mailwatch.model import Alert, AlertType, TaskRequest, Team

if TYPE_CHECKING:
    from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink

PROEF_MEMO = (
    "PROEF van imi-mailwatch: dit is geen echt IMI-verzoek. Niet behandelen; "
    "imi-mailwatch verwijdert deze registratie zelf weer."
)
_ASK = "Vraag de Corsa-beheerder: "


def _step(steps: list[CheckStep], name: str, fn: Callable[[], str], advice: str = "") -> bool:
    try:
        steps.append(CheckStep(name, True, fn()))
        return True
    except MailwatchError as exc:
        steps.append(CheckStep(name, False, str(exc), advice))
        return False


def _session_steps(sink: CorsaSoapTaskSink, steps: list[CheckStep]) -> bool:
    wire = sink.wire
    wire.close()

    def wsdl() -> str:
        wire.ensure_client()
        return f"WSDL gelezen: {wire.wsdl_location()}"

    def connect() -> str:
        wire.connect()
        return f"verbonden als {sink.cfg.username}"

    if not _step(steps, "wsdl", wsdl):
        return False
    try:
        ok = bool(wire.raw("setLicenseKey", LicenseKey=wire.license()))
        steps.append(
            CheckStep(
                "licence", ok, "licentiesleutel aanvaard" if ok else "licentiesleutel geweigerd"
            )
        )
    except MailwatchError as exc:
        steps.append(CheckStep("licence", False, str(exc)))
        return False
    return _step(
        steps,
        "connect",
        connect,
        _ASK + "klopt de gebruiker van imi-mailwatch en mag die de webservice gebruiken?",
    )


def _ids(resp_list: object) -> dict[str, str]:
    items = getattr(resp_list, "IdDescription", None) or []
    return {str(i.Id): str(i.Description or "") for i in items}


def _installation_steps(sink: CorsaSoapTaskSink, steps: list[CheckStep]) -> None:
    cfg, wire = sink.cfg, sink.wire

    def kinds() -> str:
        resp = wire.call(
            "GetObjectKinds",
            None,
            ObjectType=cfg.object_type,
            RegistrationOnly=True,
            DSSupportOnly=False,
        )
        known = _ids(resp.GetObjectKindsResult)
        if cfg.object_kind not in known:
            raise MailwatchError(
                f"objectsoort {cfg.object_kind} bestaat niet voor objecttype {cfg.object_type} "
                f"(bekend: {', '.join(sorted(known)) or 'geen'})"
            )
        return (
            f"objecttype {cfg.object_type}, objectsoort {cfg.object_kind} bestaan (GetObjectKinds)"
        )

    def fields() -> str:
        resp = wire.call(
            "GetFields",
            "GetFieldsResult",
            gfType="gftRegistrationFields",
            ObjectType=cfg.object_type,
        )
        infos = getattr(resp.FieldInfoData, "FieldInfo", None) or []
        known = {str(i.FieldId): str(i.FieldType or "") for i in infos}
        ours = [n for n, _ in sink.field_values(_proef_task("CHECK", ""))]
        ours += [n for n in (cfg.fields.org_unit,) if n]
        if cfg.task_mode == "case" and cfg.case is not None:
            ours.append(cfg.case.case_field)  # read back to resume a case
        if cfg.readback_minutes and cfg.completed_field:
            ours.append(cfg.completed_field)  # read back: completed in Corsa
        unknown = sorted({n for n in ours if n not in known})
        if unknown:
            raise MailwatchError(f"onbekende velden: {', '.join(unknown)} (GetFields)")
        required = sorted(n for n, t in known.items() if t.upper() in ("M", "MANDATORY"))
        missing = [n for n in required if n not in ours]
        if missing:
            raise MailwatchError(
                f"Corsa eist velden die imi-mailwatch niet vult: {', '.join(missing)}; "
                "zet ze onder task_sink.corsa.extra_fields"
            )
        return f"{len(set(ours))} velden bekend, verplichte velden gevuld (GetFields)"

    def references() -> str:
        resp = wire.call("GetReferences", "GetReferencesResult", ObjectType=cfg.object_type)
        rows = parse_datatable(resp.ReferenceTable)
        known = {row_id(r): r.get("REQUIRED", "0") for r in rows}
        ours = [n for n, _ in sink.reference_values()]
        unknown = [n for n in ours if n not in known]
        if unknown:
            raise MailwatchError(f"onbekende referenties: {', '.join(unknown)} (GetReferences)")
        missing = [n for n, req in known.items() if req in ("1", "true") and n not in ours]
        if missing:
            raise MailwatchError(
                f"Corsa eist referenties: {', '.join(missing)}; zet ze onder extra_references"
            )
        return f"{len(ours)} referenties bekend (GetReferences)"

    def confidentiality() -> str:
        value = cfg.confidentiality
        if not value or not cfg.fields.confidentiality:
            return "geen vertrouwelijkheid ingesteld (let op: antwoorden zijn gevoelig)"
        resp = wire.call("GetConfidentialities", None)
        known = _ids(resp.GetConfidentialitiesResult)
        if value not in known:
            raise MailwatchError(
                f"vertrouwelijkheid {value} bestaat niet (bekend: {', '.join(sorted(known))})"
            )
        return f"vertrouwelijkheid {value} bestaat (GetConfidentialities)"

    ask_names = _ASK + "welke objectsoort, velden en referenties gebruikt een inkomend poststuk?"
    _step(steps, "objectsoort", kinds, ask_names)
    _step(steps, "velden", fields, ask_names)
    _step(steps, "referenties", references, ask_names)
    _step(steps, "vertrouwelijkheid", confidentiality, _ASK + "welke vertrouwelijkheid past?")


def _todo_count(sink: CorsaSoapTaskSink, unit: str) -> Callable[[], str]:
    return lambda: f"{len(sink.todo_list(unit))} taken te ontvangen"


def run_check(sink: CorsaSoapTaskSink, units: list[str] | tuple[str, ...]) -> list[CheckStep]:
    """Every step of ``corsa check``; never raises, creates nothing."""
    steps: list[CheckStep] = []
    if not _session_steps(sink, steps):
        return steps
    _installation_steps(sink, steps)
    for unit in units:
        _step(steps, f"todo:{unit}", _todo_count(sink, unit))
    what = "kenmerk en onderwerp" if sink.cfg.reference_stored else "onderwerp"
    _step(
        steps,
        "query",
        lambda: (sink.lookup("__imi-mailwatch-check__"), f"zoeken op {what} werkt (QueryExecute)")[
            1
        ],
    )
    _step(
        steps,
        "disconnect",
        lambda: (sink.wire.raw("Disconnect"), "verbinding netjes gesloten")[1],
    )
    sink.wire.connected = False
    return steps


def _proef_task(stamp: str, unit: str, today: date | None = None) -> TaskRequest:
    request_id = f"PROEF-{stamp}"
    msg = EmailMessage()
    msg["Subject"] = f"PROEF imi-mailwatch {request_id}"
    msg["From"] = "imi-mailwatch@localhost"
    msg.set_content("Proefregistratie van imi-mailwatch; geen echt IMI-verzoek.\n")
    alert = Alert(alert_type=AlertType.NEW_REQUEST, request_id=request_id)
    return TaskRequest(
        request_id=request_id,
        team=Team(key="proef", name="Proef", org_unit=unit),
        subject=f"IMI-verzoek {request_id}: PROEFREGISTRATIE imi-mailwatch, niet behandelen",
        summary="Proefregistratie van imi-mailwatch (corsa check --proef). Niet behandelen.",
        memo=PROEF_MEMO,
        received_on=today or date(2000, 1, 1),
        deadline=None,
        alert_eml=msg.as_bytes(),
        alert=alert,
    )


def _fields_step(sink: CorsaSoapTaskSink, object_id: str, task: TaskRequest) -> CheckStep:
    cfg = sink.cfg
    sent = dict(sink.field_values(task))
    refs = dict(sink.reference_values())
    stored = sink.stored_values(object_id, list(sent), list(refs))
    dropped = [n for n, v in (sent | refs).items() if stored.get(n, "") != v]
    essential = [n for n in dropped if n in (cfg.fields.subject, cfg.fields.org_unit)]
    if essential:
        return CheckStep(
            "2 velden",
            False,
            f"Corsa bewaarde deze velden niet: {', '.join(essential)}",
            _ASK + "waarom worden onderwerp en eenheid van een nieuwe registratie niet bewaard?",
        )
    lines = [f"{len(sent) + len(refs) - len(dropped)} van {len(sent) + len(refs)} waarden bewaard"]
    if cfg.fields.reference in dropped:
        lines.append(
            f"LET OP: het kenmerk ({cfg.fields.reference}) wordt NIET opgeslagen; zet "
            "reference_stored: false, imi-mailwatch vindt een verzoek dan op zijn onderwerp"
        )
    others = [n for n in dropped if n != cfg.fields.reference]
    if others:
        lines.append(f"ook niet bewaard: {', '.join(others)}")
    return CheckStep("2 velden", True, "; ".join(lines), note=bool(dropped))


def _todo_step(sink: CorsaSoapTaskSink, object_id: str, unit: str) -> CheckStep:
    if sink.cfg.task_mode == "case":
        case_id = sink.case_of(object_id)
        info = sink.case_info(case_id) if case_id else {}
        if info.get("ORG_UNIT") == unit:
            return CheckStep(
                "3 takenlijst",
                True,
                f"zaak {case_id} gestart, de stap staat bij {unit} (CaseGetInfo)",
            )
        return CheckStep(
            "3 takenlijst",
            False,
            f"geen zaak met een stap voor {unit} gevonden (zaak: {case_id or 'geen'})",
            _ASK + "welk documenttype of welke procedure zet IMI-werk bij deze eenheid?",
        )
    ids = [row_id(r) for r in sink.todo_list(unit)]
    if object_id in ids:
        return CheckStep(
            "3 takenlijst",
            True,
            f"staat in de takenlijst van {unit}, te ontvangen (GetDocTodoList2)",
        )
    return CheckStep(
        "3 takenlijst",
        False,
        f"niet in de takenlijst van {unit} (GetDocTodoList2, te ontvangen)",
        _ASK + f"welk veld zet een registratie in de takenlijst van {unit} (nu: "
        f"{sink.cfg.fields.org_unit})? Of werkt deze installatie met zaken (task_mode: case)?",
    )


def _memo_step(sink: CorsaSoapTaskSink, object_id: str) -> CheckStep:
    memo, secure = sink.get_memo(object_id)
    if PROEF_MEMO not in memo:
        return CheckStep(
            "4 memo",
            False,
            "het memo is niet terug te lezen",
            _ASK + "mag deze gebruiker memo's zetten?",
        )
    detail = f"memo teruggelezen ({'beveiligd: aangevuld' if secure else 'niet beveiligd'})"
    case = sink.cfg.case
    if sink.cfg.task_mode == "case" and case is not None and case.memo_step:
        info = sink.case_info(sink.case_of(object_id))
        if info.get("STEP_MEMO") != PROEF_MEMO:
            return CheckStep(
                "4 memo",
                False,
                "de stap van de zaak draagt het memo niet (CaseAdhocAction)",
                _ASK + "mag imi-mailwatch een stap met memo invoegen (CaseAdhocAction)?",
            )
        detail += "; de ingevoegde stap draagt het memo (CaseAdhocAction)"
    return CheckStep("4 memo", True, detail)


def _cleanup(sink: CorsaSoapTaskSink, object_id: str) -> CheckStep:
    try:
        sink.on_document(
            "DeleteObject3", "DeleteObject3Result", object_id, DeleteLogically=True, Options=None
        )
    except MailwatchError as exc:
        return CheckStep(
            "5 opruimen",
            False,
            str(exc),
            _ASK + f"verwijder proefdocument {object_id} (de webservice biedt DeleteObject3 "
            "om logisch te verwijderen en SetFinalStatus om af te sluiten; deze gebruiker mag "
            "het niet)",
        )
    return CheckStep(
        "5 opruimen", True, f"proefdocument {object_id} logisch verwijderd (DeleteObject3)"
    )


def run_proef(sink: CorsaSoapTaskSink, unit: str, stamp: str, today: date) -> list[CheckStep]:
    """The proof registration for one unit, step by step; see the module docstring."""
    steps: list[CheckStep] = []
    if not _session_steps(sink, steps):
        return steps
    task = _proef_task(stamp, unit, today)
    mode = "zaak (Corsa/Case)" if sink.cfg.task_mode == "case" else "registratie (takenlijst)"
    try:
        object_id = sink.create(task).ref
    except MailwatchError as exc:
        steps.append(
            CheckStep(
                "1 registreren",
                False,
                str(exc),
                _ASK + "wat ontbreekt er aan deze registratie? Noem de foutmelding hierboven.",
            )
        )
        return steps
    steps.append(
        CheckStep(
            "1 registreren",
            True,
            f"proefdocument {object_id} ({task.request_id}) geregistreerd voor {unit}; "
            f"werkwijze: {mode}",
        )
    )
    checks: list[Callable[[], CheckStep]] = [
        lambda: _fields_step(sink, object_id, task),
        lambda: _found_step(sink, object_id, task.request_id),
        lambda: _todo_step(sink, object_id, unit),
        lambda: _memo_step(sink, object_id),
    ]
    for check in checks:
        try:
            step = check()
        except MailwatchError as exc:
            step = CheckStep("fout", False, str(exc), _ASK + "wat betekent deze foutmelding?")
        steps.append(step)
        if not step.ok:
            break
    steps.append(_cleanup(sink, object_id))
    return steps


def _found_step(sink: CorsaSoapTaskSink, object_id: str, request_id: str) -> CheckStep:
    found = sink.lookup(request_id)
    how = "kenmerk of onderwerp" if sink.cfg.reference_stored else "onderwerp"
    if found == object_id:
        return CheckStep("2 terugvinden", True, f"teruggevonden op {how} (QueryExecute)")
    return CheckStep(
        "2 terugvinden",
        False,
        f"niet teruggevonden op {how} (QueryExecute)",
        _ASK + "mag deze gebruiker zoeken op het onderwerp van poststukken?",
    )
