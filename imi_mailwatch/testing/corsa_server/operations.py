"""Operations of the Corsa test server beyond documents: what the installation knows
(object kinds, fields, references, confidentialities) and Corsa/Case.

A mixin of :class:`~imi_mailwatch.testing.corsa_server.server.CorsaTestServer`,
which provides the attributes declared here.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from imi_mailwatch.testing.corsa_server.profile import InstallationProfile
from imi_mailwatch.testing.corsa_server.state import Case, CaseStep, Document, FieldIndex
from imi_mailwatch.testing.corsa_server.wire import Args, datatable

Values = list[tuple[str, Any]]


class InstallationOperations:
    """GetObjectKinds, GetFields, GetReferences, GetConfidentialities and Corsa/Case."""

    profile: InstallationProfile
    documents: dict[str, Document]
    cases: dict[str, Case]
    _ids: itertools.count[int]
    _index: FieldIndex

    def _object_type_error(self, object_type: str) -> str | None:
        if object_type not in self.profile.object_types:
            return f"Invalid object type '{object_type}'"
        return None

    def _document(self, object_type: str, object_id: str) -> Document | str:
        raise NotImplementedError

    def _op_GetObjectKinds(self, s: Any, a: Args) -> Values:
        problem = self._object_type_error(a.text("ObjectType"))
        if problem:
            return [("LastError", problem)]
        kinds = (
            self.profile.object_kinds.items()
            if a.text("ObjectType") == self.profile.document_type
            else ()
        )
        rows = [("IdDescription", [("Id", k), ("Description", d)]) for k, d in kinds]
        return [("GetObjectKindsResult", rows), ("LastError", "")]

    def _op_GetFields(self, s: Any, a: Args) -> Values:
        problem = self._object_type_error(a.text("ObjectType"))
        if problem:
            return [("GetFieldsResult", False), ("LastError", problem)]
        rows = [
            (
                "FieldInfo",
                [
                    ("FieldId", name),
                    ("Description", name.rsplit(".", 1)[-1]),
                    ("DataType", "D" if rule.date else "C"),
                    ("Format", "dd/MM/yyyy" if rule.date else ""),
                    ("FieldType", "M" if rule.required else "O"),
                    ("DisplayField", True),
                ],
            )
            for name, rule in self.profile.fields.items()
        ]
        return [("GetFieldsResult", True), ("FieldInfoData", rows), ("LastError", "")]

    def _op_GetReferences(self, s: Any, a: Args) -> Values:
        problem = self._object_type_error(a.text("ObjectType"))
        if problem:
            return [("GetReferencesResult", False), ("LastError", problem)]
        rows = [
            {"REFERENCE_ID": name, "REQUIRED": "1" if rule.required else "0"}
            for name, rule in self.profile.references.items()
        ]
        return [("GetReferencesResult", True), ("ReferenceTable", datatable(rows))]

    def _op_GetConfidentialities(self, s: Any, a: Args) -> Values:
        rows = [
            ("IdDescription", [("Id", k), ("Description", d)])
            for k, d in self.profile.confidentialities.items()
        ]
        return [("GetConfidentialitiesResult", rows), ("LastError", "")]

    # ------------------------------------------------------------------ Corsa/Case
    def _case_refusal(self) -> str | None:
        if self.profile.todo != "case":
            return "Corsa/Case is not available (no licence for module Case)"
        return None

    def _start_case(self, doc: Document, started_by: str) -> Case:
        case_id = f"Z{datetime.now(UTC).year}{next(self._ids):06d}"
        unit = doc.fields.get(self.profile.unit_field, "")
        case = Case(case_id, doc.object_id, started_by, [CaseStep(1, unit)])
        self.cases[case_id] = case
        with self._index.changing(doc):
            doc.fields[self.profile.case_field] = case_id
        return case

    def _case_for(
        self, a: Args, started_by: str, kind: str, known: Mapping[str, str]
    ) -> Case | str:
        """Start a case on the call's document, started by a known document type or
        procedure (``kind`` names it in the refusal); or the LastError."""
        problem = self._case_refusal()
        doc = self._document(a.text("ObjectType"), a.text("ObjectID"))
        if problem or isinstance(doc, str):
            return problem or str(doc)
        if started_by not in known:
            return f"{kind} {started_by} does not exist"
        if doc.fields.get(self.profile.case_field):
            return f"Object {doc.object_id} is already connected to a case"
        return self._start_case(doc, started_by)

    def _op_CaseConnectDocumentType(self, s: Any, a: Args) -> Values:
        case = self._case_for(a, a.text("DocTypeID"), "Document type", self.profile.doc_types)
        if isinstance(case, str):
            return [("CaseConnectDocumentTypeResult", False), ("LastError", case)]
        return [
            ("CaseConnectDocumentTypeResult", True),
            ("StartedCaseID", case.case_id),
            ("LastError", ""),
        ]

    def _op_CaseStartPrcd(self, s: Any, a: Args) -> Values:
        case = self._case_for(a, a.text("ProcedureID"), "Procedure", self.profile.procedures)
        if isinstance(case, str):
            return [("CaseStartPrcdResult", False), ("StepID", 0), ("LastError", case)]
        return [
            ("CaseStartPrcdResult", True),
            ("CaseID", case.case_id),
            ("StepID", case.steps[0].step_id),
            ("LastError", ""),
        ]

    def _op_CaseAdhocAction(self, s: Any, a: Args) -> Values:
        def fail(msg: str) -> Values:
            return [("CaseAdhocActionResult", False), ("LastError", msg)]

        case = self.cases.get(a.text("CaseID"))
        if case is None:
            return fail(f"Case {a.text('CaseID')} does not exist")
        if a.text("action") != "caaInsertStep":
            return fail(f"Action {a.text('action')} is not allowed for this case")
        after = int(a.text("iStepIdFrom") or "0")
        current = next((st for st in case.steps if st.step_id == after), None)
        if current is None:
            return fail(f"Step {after} does not exist in case {case.case_id}")
        new = CaseStep(max(st.step_id for st in case.steps) + 1, current.unit, a.text("sMemo"))
        case.steps.append(new)
        return [("CaseAdhocActionResult", True), ("LastError", "")]

    def _op_CaseGetInfo(self, s: Any, a: Args) -> Values:
        case = self.cases.get(a.text("CaseID"))
        if case is None:
            return [
                ("CaseGetInfoResult", False),
                ("LastError", f"Case {a.text('CaseID')} does not exist"),
            ]
        last = case.steps[-1]
        info = {
            "CASE_ID": case.case_id,
            "OBJECT_ID": case.object_id,
            "STATUS": case.status,
            "STEP_ID": str(last.step_id),
            "ORG_UNIT": last.unit,
            "STEP_MEMO": last.memo,
        }
        values = [("NameValue", [("Name", k), ("Value", v)]) for k, v in info.items()]
        return [("CaseGetInfoResult", True), ("CaseInfo", values), ("LastError", "")]
