"""Corsa as installations really are: the strict test server, finding without kenmerk,
extra values, case mode."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.errors import TaskSinkRejectedError, TaskSinkUnavailableError
from imi_mailwatch.testing.corsa_server import CorsaTestServer, start

from .conftest import UNITS, corsa_config, profile_config, task_request


@pytest.fixture
def production() -> Iterator[CorsaTestServer]:
    """A test server with the production profile (kenmerk dropped, sender required)."""
    srv, _url = start(units=UNITS, profile="production")
    try:
        yield srv
    finally:
        srv.stop()


def _sink(server: CorsaTestServer, **config: object) -> CorsaSoapTaskSink:
    return CorsaSoapTaskSink(
        corsa_config(server.url, **config),
        clock=FakeClock(),
        stop=threading.Event(),
        retry_first_wait=0.01,
        retry_max_wait=0.05,
    )


# ---------------------------------------------------------------- the strict server
def test_unknown_object_type_is_refused_and_nothing_is_created(
    make_sink: Callable[..., CorsaSoapTaskSink], server: CorsaTestServer
) -> None:
    """Object-type class: ObjectType DOC (the old default) is refused, no document is made."""
    with pytest.raises(TaskSinkRejectedError, match="object type"):
        make_sink(object_type="DOC").create(task_request("123456"))
    assert server.documents == {}


def test_unknown_field_is_refused(
    make_sink: Callable[..., CorsaSoapTaskSink], server: CorsaTestServer
) -> None:
    """Unknown-field class: a field the installation does not know refuses the registration."""
    sink = make_sink(extra_fields={"poststuk.bestaat_niet": "x"})
    with pytest.raises(TaskSinkRejectedError, match="does not exist"):
        sink.create(task_request("123456"))
    assert server.documents == {}


def test_unknown_reference_is_refused(
    make_sink: Callable[..., CorsaSoapTaskSink], server: CorsaTestServer
) -> None:
    """Unknown-reference class: a reference the installation does not know is refused."""
    with pytest.raises(TaskSinkRejectedError, match="Reference"):
        make_sink(extra_references={"herkomst": "IMI"}).create(task_request("123456"))
    assert server.documents == {}


def test_missing_sender_is_refused_in_production(production: CorsaTestServer) -> None:
    """Required-field class: without the sender a production installation refuses, permanently."""
    sink = _sink(production)
    try:
        with pytest.raises(TaskSinkRejectedError, match="mandatory"):
            sink.create(task_request("123456"))
    finally:
        sink.close()
    assert production.documents == {}
    assert production.calls.count("CreateMetaDocument") == 1


def test_extra_fields_and_references_are_sent(production: CorsaTestServer) -> None:
    """The configured sender fields and the channel reference reach the document."""
    sink = _sink(production, **profile_config("production"))
    try:
        ref = sink.create(task_request("123456"))
    finally:
        sink.close()
    doc = production.documents[ref.ref]
    assert doc.fields["poststuk.soort_ext"] == "O"
    assert doc.fields["poststuk.relatie_id"] == "REL-IMI-BUITENLAND"
    assert doc.references == {"kanaal": "EMAIL"}
    assert doc.fields["obj_vert.vertrouw_id"] == "VERTROUWELIJK"  # on by default


# ---------------------------------------------------------------- exactly once without kenmerk
@pytest.mark.parametrize("reference_stored", [True, False])
def test_lost_answer_without_kenmerk_makes_one_document(
    make_sink: Callable[..., CorsaSoapTaskSink], server: CorsaTestServer, reference_stored: bool
) -> None:
    """Lost-answer class: CreateMetaDocument done, answer lost, kenmerk maybe dropped: the retry
    finds the document by its subject and completes it; one document."""
    sink = make_sink(retry_attempts=1, reference_stored=reference_stored)
    server.lose_response_next("CreateMetaDocument")
    with pytest.raises(TaskSinkUnavailableError):
        sink.create(task_request("123456"))
    # the daemon dies here; the next run asks find first, then create
    again = make_sink(reference_stored=reference_stored)
    assert again.find("123456") is None  # incomplete: not reported as done
    ref = again.create(task_request("123456"))
    docs = server.documents_for("123456")
    assert [d.object_id for d in docs] == [ref.ref]
    assert [f.extension for f in docs[0].files] == [".eml", ".pdf"]
    assert again.find("123456") == ref


def test_subject_search_does_not_take_a_longer_request_id(
    make_sink: Callable[..., CorsaSoapTaskSink],
) -> None:
    """Prefix class: "IMI-verzoek 123456" is not found in "IMI-verzoek 1234567: ..."."""
    sink = make_sink()
    sink.create(task_request("1234567", subject="IMI-verzoek 1234567: bouw (PL)"))
    assert sink.find("123456") is None
    assert sink.lookup("123456") is None


def test_subject_always_carries_the_marker(
    make_sink: Callable[..., CorsaSoapTaskSink], server: CorsaTestServer
) -> None:
    """A task subject without the marker gets it, so the request can always be found."""
    ref = make_sink().create(task_request("555001", subject="Informatieverzoek bouw"))
    subject = server.documents[ref.ref].fields["poststuk.onderwerp"]
    assert subject == "IMI-verzoek 555001: Informatieverzoek bouw"


# ---------------------------------------------------------------- case mode
def test_case_mode_starts_one_case_with_the_memo_step(
    make_case_sink: Callable[..., CorsaSoapTaskSink], case_server: CorsaTestServer
) -> None:
    """Case mode: CaseConnectDocumentType starts the case in the unit, CaseAdhocAction inserts a
    step that carries the memo, the document memo is set last."""
    ref = make_case_sink().create(task_request("123456"))
    doc = case_server.documents[ref.ref]
    (case,) = case_server.cases.values()
    assert case.object_id == ref.ref and case.started_by == "IMI"
    assert [(s.unit, s.memo) for s in case.steps] == [
        ("ORG-VTH", ""),
        ("ORG-VTH", "Dit is een IMI-verzoek op het gebied van bouwen."),
    ]
    assert doc.memo == "Dit is een IMI-verzoek op het gebied van bouwen."


def test_case_mode_with_a_procedure(
    make_case_sink: Callable[..., CorsaSoapTaskSink], case_server: CorsaTestServer
) -> None:
    """Case mode with ``procedure``: CaseStartPrcd starts the case."""
    make_case_sink(case={"doc_type": None, "procedure": "IMIPRC"}).create(task_request("1"))
    (case,) = case_server.cases.values()
    assert case.started_by == "IMIPRC"
    assert case_server.calls.count("CaseStartPrcd") == 1


def test_case_mode_lost_answers_make_one_case_and_one_step(
    make_case_sink: Callable[..., CorsaSoapTaskSink], case_server: CorsaTestServer
) -> None:
    """Lost-answer class in case mode: lost answers to CaseConnectDocumentType and
    CaseAdhocAction leave one case with one memo step."""
    case_server.lose_response_next("CaseConnectDocumentType")
    case_server.lose_response_next("CaseAdhocAction")
    ref = make_case_sink(retry_attempts=3).create(task_request("123456"))
    assert [d.object_id for d in case_server.documents_for("123456")] == [ref.ref]
    (case,) = case_server.cases.values()
    assert len(case.steps) == 2


def test_registration_mode_on_a_case_installation_is_not_in_the_todo_list(
    case_server: CorsaTestServer,
) -> None:
    """On a case installation a bare registration reaches no to-do list (what --proef shows)."""
    sink = _sink(case_server, **profile_config("production"))
    try:
        sink.create(task_request("123456"))
        assert sink.todo_list("ORG-VTH") == []
    finally:
        sink.close()
