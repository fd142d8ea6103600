"""The ``task_sink.corsa`` section: how the daemon registers work in Corsa.

Field names, object types and kinds, unit ids and which extra values an
installation requires are installation facts (docs/corsa.md): configuration,
never code. The defaults follow the evidence of a public production
integration: documents are ObjectType ``S``; a field such as
``poststuk.kenmerk`` may be accepted and silently not stored, so the request is
also found by its subject (``IMI-verzoek <id>``); answers are sensitive, so a
confidentiality is sent unless switched off.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from imi_mailwatch.config_types import Secret, Transport, plaintext_risk
from imi_mailwatch.config_types import Section as _Section


class CorsaFieldsConfig(_Section):
    """Corsa field names: installation facts, so configuration."""

    subject: str = "poststuk.onderwerp"
    content: str = "poststuk.inhoud1"
    org_unit: str = "poststuk.v_plaats_id"
    reference: str = "poststuk.kenmerk"
    registered_on: str = "poststuk.reg_datum"
    document_date: str = "poststuk.dat_poststuk"
    deadline: str = "poststuk.dat_afh_str"
    confidentiality: str = "obj_vert.vertrouw_id"


class CorsaCaseConfig(_Section):
    """``task_mode: case``: how a case is started for the registered document."""

    doc_type: str | None = None  # CaseConnectDocumentType's DocTypeID
    procedure: str | None = None  # CaseStartPrcd's ProcedureID (when no doc_type is given)
    procedure_version: str = ""
    case_field: str = "poststuk.zaak_id"  # where Corsa keeps the case id of the document
    memo_step: bool = True  # insert a step carrying the memo (CaseAdhocAction)

    @model_validator(mode="after")
    def _one_way(self) -> CorsaCaseConfig:
        if not self.doc_type and not self.procedure:
            raise ValueError("case needs doc_type (CaseConnectDocumentType) or procedure")
        return self


class CorsaConfig(Transport):
    url: str  # the .asmx endpoint
    wsdl: str | None = None  # a URL or a local file; default: url + "?WSDL"
    license_key: Secret | None = None
    application_id: str = "IMI-MAILWATCH"
    connection_id: str = ""
    username: str
    password: Secret
    object_kind: str = "INK"
    # obj_vert.vertrouw_id; answers are sensitive, so on unless set to null or ""
    confidentiality: str | None = "VERTROUWELIJK"
    fields: CorsaFieldsConfig = CorsaFieldsConfig()
    # FieldValues and ReferenceValues the installation requires beyond ours, e.g. a
    # sender {poststuk.soort_ext: O, poststuk.relatie_id: "..."} or a channel {kanaal: EMAIL}
    extra_fields: dict[str, str] = Field(default_factory=dict)
    extra_references: dict[str, str] = Field(default_factory=dict)
    # false: poststuk.kenmerk is not kept by this installation; find by subject only
    reference_stored: bool = True
    task_mode: Literal["registration", "case"] = "registration"
    case: CorsaCaseConfig | None = None
    timeout_seconds: float = Field(default=30, gt=0)
    ca_file: str | None = None
    encoded_password: bool = False  # Connect's EncodedPass: the password is already encoded
    object_type: str = "S"  # ObjectType of documents: files, memo, queries
    retry_attempts: int = Field(default=3, ge=1, le=10)  # tries per call before giving up
    todo_max_result: int = Field(default=50, ge=1)  # rows asked from GetDocTodoList2
    # the status read-back (docs/corsa.md): every so many minutes the document of each
    # open request is read; completed there means BEANTWOORD, moved means the request
    # follows. 0: off
    readback_minutes: int = Field(default=0, ge=0)
    completed_field: str = "poststuk.dat_afh"  # filled by Corsa when the document is completed
    # HERROUTEER moves the document to the new unit too (CreateMetaDocument on its
    # ObjectID); false: the beheerders get a mail saying what to move in Corsa
    reroute: bool = True

    def plaintext(self) -> list[str]:
        what = "the password and the licence key"
        return plaintext_risk("url", self.url, what) + plaintext_risk("wsdl", self.wsdl, what)

    @model_validator(mode="after")
    def _case_block(self) -> CorsaConfig:
        if self.task_mode == "case" and self.case is None:
            raise ValueError("task_mode is case, so a 'case' block is needed")
        return self
