"""What the Corsa test server holds: documents, their files, cases. Plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    references: dict[str, str] = field(default_factory=dict)
    files: list[FileVersion] = field(default_factory=list)
    memo: str = ""
    secure_memo: bool = True
    status: str = "tlsToBeReceived"
    deleted: bool = False  # logically deleted (DeleteObject3)


@dataclass
class CaseStep:
    """One step of a Corsa/Case case: whose it is and the memo that goes with it."""

    step_id: int
    unit: str
    memo: str = ""


@dataclass
class Case:
    """A case started on a document (CaseConnectDocumentType or CaseStartPrcd)."""

    case_id: str
    object_id: str
    started_by: str  # the document type or procedure
    steps: list[CaseStep] = field(default_factory=list)
    status: str = "Lopend"


def marks(subject: str, marker: str) -> bool:
    """Whether a subject starts with the marker as a whole word ("IMI-verzoek 12" not "…123")."""
    rest = subject[len(marker) :]
    return subject.startswith(marker) and not rest[:1].isalnum()


def matches(doc: Document, item: dict[str, str]) -> bool:
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
