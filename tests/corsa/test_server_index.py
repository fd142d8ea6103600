"""The Corsa test server answers searches from an index, as a real Corsa's database does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink
from imi_mailwatch.testing.corsa_server import CorsaTestServer
from imi_mailwatch.testing.corsa_server.state import Document, matches

SUBJECT = "poststuk.onderwerp"


def register(sink: CorsaSoapTaskSink, request_id: str, object_id: str = "") -> str:
    """A bare registration (no files, no memo) for ``request_id``, or a re-registration of
    ``object_id`` (values not passed are deleted); its object id."""
    values = [(SUBJECT, f"IMI-verzoek {request_id}: test"), ("poststuk.v_plaats_id", "ORG-VTH")]
    values += list(sink.cfg.extra_fields.items())
    resp: Any = sink.wire.call(
        "CreateMetaDocument",
        "CreateMetaDocumentResult",
        ObjectID=object_id,
        ObjectKind="INK",
        FieldValues=sink.wire.name_values(values),
        ReferenceValues=sink.wire.name_values(sink.reference_values()),
        DuplicateID="",
        DSPTemplateID="",
    )
    return str(resp.NewObjectID)


@pytest.fixture
def examined(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The object ids of the documents the server's searches hold against a condition."""
    seen: list[str] = []

    def counting(doc: Document, item: dict[str, str]) -> bool:
        seen.append(doc.object_id)
        return matches(doc, item)

    monkeypatch.setattr("imi_mailwatch.testing.corsa_server.server.matches", counting)
    yield seen


def test_query_looks_at_the_matching_documents_only_not_every_stored_one(
    sink: CorsaSoapTaskSink, examined: list[str]
) -> None:
    """A subject lookup among 120 documents examines the one that matches (O(matches), not
    O(documents)): a backlog of new requests must not slow the server down as it fills."""
    with sink.lock:
        ids = {str(500000 + i): register(sink, str(500000 + i)) for i in range(120)}
        examined.clear()
        found = sink.lookup("500077")
    assert found == ids["500077"]
    assert set(examined) == {ids["500077"]}


def test_index_follows_every_change_of_a_document(
    sink: CorsaSoapTaskSink, server: CorsaTestServer
) -> None:
    """Search results follow a re-registration, a move, a completion and a deletion."""
    with sink.lock:
        first = register(sink, "700001")
        second = register(sink, "700002")
        register(sink, "7000011")  # starts with the first's id: never its match
        assert sink.lookup("700001") == first
        server.move_document(second, "ORG-ECO")
        assert [r["OBJECT_ID"] for r in sink.todo_list("ORG-ECO")] == (
            [second] if server.profile.todo == "registration" else []
        )
        assert second not in [r["OBJECT_ID"] for r in sink.todo_list("ORG-VTH")]
        server.complete_document(first, date(2026, 12, 1))
        assert server.documents_with("poststuk.dat_afh", "01/12/2026") == [server.documents[first]]
        assert register(sink, "700009", object_id=first) == first
        assert sink.lookup("700001") is None
        assert sink.lookup("700009") == first
        assert server.documents_with("poststuk.dat_afh", "01/12/2026") == []
        sink.wire.call(
            "DeleteObject3",
            "DeleteObject3Result",
            ObjectType="S",
            ObjectID=second,
            DeleteLogically=True,
        )
        assert sink.lookup("700002") is None
        assert server.documents_for("700002") == []
