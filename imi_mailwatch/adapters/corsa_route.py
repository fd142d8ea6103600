"""Reading a Corsa document back and moving it to another unit (``tasksync.ports``).

- :func:`read_task`: ``GetFieldValues`` of the route field (``fields.org_unit``)
  and the completion field (``completed_field``, filled by Corsa when the handler
  completes the document). In case mode the unit is that of the case's current
  step (``CaseGetInfo``) when the document has a case.
- :func:`move_task`: the WSDL has no operation that changes one field.
  ``CreateMetaDocument`` with the document's ``ObjectID`` updates its
  registration ("Creates a new or updates an existing Document
  (meta-)registration"), and values not passed are deleted. So the registration
  is read first, every field the installation knows (``GetFields``) and every
  reference (``GetReferences``), and written back whole with only the route field
  changed. A document already at the unit is left alone (idempotent: an outbox
  retry reads before it writes). Refused (no right to modify, ``reroute:
  false``, case mode whose step lives in Corsa/Case): ``TaskSinkRejectedError``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import structlog

from imi_mailwatch.adapters.corsa_wire import parse_datatable, row_id
from imi_mailwatch.errors import TaskSinkRejectedError
from imi_mailwatch.tasksync.ports import TaskReading

if TYPE_CHECKING:
    from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink

log = structlog.get_logger(__name__)


def parse_corsa_date(value: str) -> date | None:
    """A Corsa date (dd/MM/yyyy, also with a time after it), or None when unreadable."""
    text = value.strip().split(" ")[0]
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def read_task(sink: CorsaSoapTaskSink, object_id: str) -> TaskReading:
    """Where the document is and whether it is completed (module docstring)."""
    cfg = sink.cfg
    route_field, done_field = cfg.fields.org_unit, cfg.completed_field
    case_field = cfg.case.case_field if cfg.task_mode == "case" and cfg.case else ""
    wanted = [f for f in dict.fromkeys((route_field, done_field, case_field)) if f]
    values = sink.stored_values(object_id, wanted, [])
    route = values.get(route_field, "").strip() if route_field else ""
    case_id = values.get(case_field, "") if case_field else ""
    if case_id:
        route = sink.case_info(case_id).get("ORG_UNIT", "").strip() or route
    done = values.get(done_field, "").strip() if done_field else ""
    reading = TaskReading(route, bool(done), parse_corsa_date(done) if done else None)
    log.info("corsa.document_read", object_id=object_id, route=route, completed=bool(done))
    return reading


def move_task(sink: CorsaSoapTaskSink, object_id: str, org_unit: str) -> bool:
    """Put the document's route field on ``org_unit``; False when it was there already."""
    cfg = sink.cfg
    field = cfg.fields.org_unit
    if not cfg.reroute:
        raise TaskSinkRejectedError("Corsa: moving documents is switched off (reroute: false)")
    if not field:
        raise TaskSinkRejectedError("Corsa: no route field configured (fields.org_unit)")
    if cfg.task_mode == "case":
        raise TaskSinkRejectedError("Corsa: in case mode the step is moved in Corsa/Case")
    names = _registration_fields(sink)
    refs = _references(sink)
    values = sink.stored_values(object_id, names, refs)
    if values.get(field, "").strip() == org_unit:
        log.info("corsa.document_at_unit", object_id=object_id, org_unit=org_unit)
        return False
    given = {n: values.get(n, "") for n in names if n != field}
    fields = [(n, v) for n, v in given.items() if v] + [(field, org_unit)]
    references = [(n, values.get(n, "")) for n in refs if values.get(n, "")]
    sink.wire.call(
        "CreateMetaDocument",
        "CreateMetaDocumentResult",
        ObjectID=object_id,
        ObjectKind=cfg.object_kind,
        FieldValues=sink.wire.name_values(fields),
        ReferenceValues=sink.wire.name_values(references),
        DuplicateID="",
        DSPTemplateID="",
    )
    log.info(
        "corsa.document_moved",
        object_id=object_id,
        org_unit=org_unit,
        was=values.get(field, ""),
        fields=len(fields),
        references=len(references),
    )
    return True


def _registration_fields(sink: CorsaSoapTaskSink) -> list[str]:
    """Every registration field the installation knows (GetFields), ours included."""
    resp = sink.wire.call(
        "GetFields",
        "GetFieldsResult",
        gfType="gftRegistrationFields",
        ObjectType=sink.cfg.object_type,
    )
    infos = getattr(resp.FieldInfoData, "FieldInfo", None) or []
    known = [str(i.FieldId) for i in infos if i.FieldId]
    if known:  # the installation's own list: a name it does not know would be refused
        return list(dict.fromkeys(known))
    cfg = sink.cfg
    ours = [str(v) for v in cfg.fields.model_dump().values() if v]
    return list(dict.fromkeys([*ours, *cfg.extra_fields]))


def _references(sink: CorsaSoapTaskSink) -> list[str]:
    """Every reference the installation knows (GetReferences), ours included."""
    resp = sink.wire.call("GetReferences", "GetReferencesResult", ObjectType=sink.cfg.object_type)
    known = [row_id(r) for r in parse_datatable(resp.ReferenceTable)]
    return [n for n in dict.fromkeys(known or list(sink.cfg.extra_references)) if n]
