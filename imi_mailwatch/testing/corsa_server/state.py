"""What the Corsa test server holds: documents, their files, cases. Plain data."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from contextlib import contextmanager
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


class FieldIndex:
    """The documents by field value, as Corsa's database indexes them: an equal or
    starts-with search costs O(log n + matches), not a pass over every document.

    Per field a sorted list of ``(value, object_id)``; results come in the order
    the documents were registered. A document's fields change only inside
    :meth:`changing`, which takes it out of the index and puts it back.
    """

    def __init__(self) -> None:
        self._by_field: dict[str, list[tuple[str, str]]] = {}
        self._order: dict[str, int] = {}

    def add(self, doc: Document) -> None:
        self._order.setdefault(doc.object_id, len(self._order))
        for name, value in doc.fields.items():
            bisect.insort(self._by_field.setdefault(name, []), (value, doc.object_id))

    def remove(self, doc: Document) -> None:
        for name, value in doc.fields.items():
            entries = self._by_field.get(name, [])
            at = bisect.bisect_left(entries, (value, doc.object_id))
            if at < len(entries) and entries[at] == (value, doc.object_id):
                del entries[at]

    @contextmanager
    def changing(self, doc: Document) -> Iterator[Document]:
        """Change ``doc.fields`` (in place or replaced) inside this block."""
        self.remove(doc)
        try:
            yield doc
        finally:
            self.add(doc)

    def lookup(self, name: str, value: str, *, prefix: bool = False) -> list[str]:
        """The object ids whose field ``name`` is stored and equals (or starts with) ``value``."""
        entries = self._by_field.get(name, [])
        found = []
        for entry_value, object_id in entries[bisect.bisect_left(entries, (value, "")) :]:
            if not (entry_value.startswith(value) if prefix else entry_value == value):
                break
            found.append(object_id)
        return sorted(found, key=self._order.__getitem__)


INDEXED_OPERATORS = {"qoEqual": False, "qoStartsWith": True}  # operator: by prefix


def indexed_item(items: list[dict[str, str]]) -> dict[str, str] | None:
    """A query condition the index answers: equal or starts-with a value, not negated."""
    for item in items:
        if (
            item.get("Operator", "qoEqual") in INDEXED_OPERATORS
            and item.get("Condition") != "qcNot"
            and item.get("Value", "")
        ):
            return item
    return None
