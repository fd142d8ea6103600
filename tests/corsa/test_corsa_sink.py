"""CorsaSoapTaskSink against the Corsa test server, over a real socket with zeep."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Callable

import pytest
import requests
import requests.adapters
from structlog.testing import capture_logs

from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink
from imi_mailwatch.errors import TaskSinkRejectedError, TaskSinkUnavailableError
from imi_mailwatch.model import TaskRef
from imi_mailwatch.ports import TaskSink
from imi_mailwatch.testing.corsa_server import CorsaTestServer

from .conftest import task_request


def test_sink_satisfies_the_port(sink: CorsaSoapTaskSink) -> None:
    """CorsaSoapTaskSink is a ports.TaskSink."""
    assert isinstance(sink, TaskSink)


def test_create_registers_one_document_with_fields_files_and_memo(
    sink: CorsaSoapTaskSink, server: CorsaTestServer
) -> None:
    """create registers an INK document with the configured fields, .eml + .pdf and the memo."""
    ref = sink.create(task_request("123456"))
    assert ref.sink == "corsa"
    doc = server.documents[ref.ref]
    assert doc.object_kind == "INK"
    assert doc.fields["poststuk.v_plaats_id"] == "ORG-VTH"
    assert doc.fields["poststuk.onderwerp"] == "IMI-verzoek 123456"
    assert doc.fields["poststuk.dat_afh_str"] == "01/12/2026"
    assert doc.fields["obj_vert.vertrouw_id"] == "VERTROUWELIJK"
    if server.profile.kenmerk_stored:
        assert doc.fields["poststuk.kenmerk"] == "123456"
        assert doc.fields["poststuk.dat_poststuk"] == "16/11/2026"
        assert doc.fields["poststuk.reg_datum"] == "16/11/2026"
    else:  # accepted, silently not kept
        assert "poststuk.kenmerk" not in doc.fields
    assert [f.extension for f in doc.files] == [".eml", ".pdf"]
    assert doc.files[0].data.startswith(b"From:") or b"Subject:" in doc.files[0].data
    assert doc.files[1].data.startswith(b"%PDF")
    assert doc.memo == "Dit is een IMI-verzoek op het gebied van bouwen."
    assert server.calls[:2] == ["setLicenseKey", "Connect"]


def test_field_names_come_from_configuration(
    make_sink: Callable[..., CorsaSoapTaskSink], server: CorsaTestServer
) -> None:
    """Field names are configuration; an empty name leaves that field out."""
    server.profile.allow_field("poststuk.ext_kenmerk")
    sink = make_sink(
        fields={"reference": "poststuk.ext_kenmerk", "confidentiality": ""},
        confidentiality="VERTROUWELIJK",
    )
    ref = sink.create(task_request("777001"))
    fields = server.documents[ref.ref].fields
    assert fields["poststuk.ext_kenmerk"] == "777001"  # a field the installation keeps
    assert "poststuk.kenmerk" not in fields
    assert "obj_vert.vertrouw_id" not in fields
    assert sink.find("777001") == ref


def test_confidentiality_is_sent_when_configured(
    make_sink: Callable[..., CorsaSoapTaskSink], server: CorsaTestServer
) -> None:
    """The configured confidentiality goes into obj_vert.vertrouw_id."""
    ref = make_sink(confidentiality="INTERN").create(task_request("777002"))
    assert server.documents[ref.ref].fields["obj_vert.vertrouw_id"] == "INTERN"


def test_find_sees_what_create_made_and_nothing_else(sink: CorsaSoapTaskSink) -> None:
    """find returns the document create made, by kenmerk, and None for another id."""
    assert sink.find("123456") is None
    ref = sink.create(task_request("123456"))
    assert sink.find("123456") == ref
    assert sink.find("654321") is None


def test_find_from_a_fresh_sink_after_a_restart(
    make_sink: Callable[..., CorsaSoapTaskSink],
) -> None:
    """A new sink (after a daemon restart) finds the document by its kenmerk."""
    ref = make_sink().create(task_request("123456"))
    assert make_sink().find("123456") == ref


def test_annotate_appends_to_the_memo(sink: CorsaSoapTaskSink, server: CorsaTestServer) -> None:
    """annotate adds a line under the memo; the memo is never overwritten."""
    ref = sink.create(task_request("123456"))
    sink.annotate(ref, "20-11-2026: de antwoorddatum is gewijzigd in 05-12-2026")
    sink.annotate(ref, "25-11-2026: het verzoek is gesloten")
    lines = server.documents[ref.ref].memo.splitlines()
    assert lines == [
        "Dit is een IMI-verzoek op het gebied van bouwen.",
        "20-11-2026: de antwoorddatum is gewijzigd in 05-12-2026",
        "25-11-2026: het verzoek is gesloten",
    ]


def test_annotate_twice_with_the_same_line_appends_once(
    sink: CorsaSoapTaskSink, server: CorsaTestServer
) -> None:
    """A retried annotate does not append the same line a second time."""
    ref = sink.create(task_request("123456"))
    sink.annotate(ref, "20-11-2026: toegewezen")
    sink.annotate(ref, "20-11-2026: toegewezen")
    assert server.documents[ref.ref].memo.count("toegewezen") == 1


def test_annotate_on_an_unprotected_memo_keeps_the_old_text(
    server: CorsaTestServer, make_sink: Callable[..., CorsaSoapTaskSink]
) -> None:
    """Where memos are not protected (overwrite), annotate sends the old text plus the line."""
    server.secure_memo = False
    sink = make_sink()
    ref = sink.create(task_request("123456"))
    sink.annotate(ref, "20-11-2026: toegewezen")
    assert server.documents[ref.ref].memo.splitlines() == [
        "Dit is een IMI-verzoek op het gebied van bouwen.",
        "20-11-2026: toegewezen",
    ]


def test_todo_list_of_a_unit_shows_the_new_task(sink: CorsaSoapTaskSink) -> None:
    """The new document appears in its unit's to-do list (ToBeReceived), not in another's."""
    ref = sink.create(task_request("123456", unit="ORG-VTH"))
    vth = sink.todo_list("ORG-VTH")
    assert [r["OBJECT_ID"] for r in vth] == [ref.ref]
    assert vth[0]["ONDERWERP"].startswith("IMI-verzoek 123456")
    assert sink.todo_list("ORG-ECO") == []


def test_close_disconnects_and_is_safe_twice(
    sink: CorsaSoapTaskSink, server: CorsaTestServer
) -> None:
    """close sends Disconnect once and may be called again."""
    sink.find("1")
    sink.close()
    sink.close()
    assert server.calls.count("Disconnect") == 1


def test_unknown_unit_is_permanent(sink: CorsaSoapTaskSink, server: CorsaTestServer) -> None:
    """An unknown organisation unit is refused: TaskSinkRejectedError, nothing created."""
    with pytest.raises(TaskSinkRejectedError, match="organisation unit"):
        sink.create(task_request("123456", unit="ORG-NOPE"))
    assert server.documents == {}


def test_wrong_password_is_permanent(make_sink: Callable[..., CorsaSoapTaskSink]) -> None:
    """Refused credentials are permanent and say so, without the password."""
    sink = make_sink(password={"env": "CORSA_LICENCE"})
    with pytest.raises(TaskSinkRejectedError, match="Connect") as info:
        sink.find("123456")
    assert "TEST-LICENTIE" not in str(info.value)


def test_wrong_licence_is_permanent(make_sink: Callable[..., CorsaSoapTaskSink]) -> None:
    """A refused licence key is permanent."""
    sink = make_sink(license_key={"env": "CORSA_PASSWORD"})
    with pytest.raises(TaskSinkRejectedError, match="licen"):
        sink.find("123456")


def test_expired_session_is_reestablished(sink: CorsaSoapTaskSink, server: CorsaTestServer) -> None:
    """After the server forgets the session, the sink reconnects once and carries on."""
    ref = sink.create(task_request("123456"))
    server.expire_sessions()
    with capture_logs() as logs:
        sink.annotate(ref, "20-11-2026: toegewezen")
    assert "toegewezen" in server.documents[ref.ref].memo
    assert server.calls.count("Connect") == 2
    assert any(e["event"] == "corsa.session_lost" for e in logs)


def test_session_lost_twice_is_transient(sink: CorsaSoapTaskSink, server: CorsaTestServer) -> None:
    """A session that is lost again right after reconnecting gives TaskSinkUnavailableError."""
    sink.find("1")
    server.fail_next("QueryExecute", "Not connected", times=10)
    with pytest.raises(TaskSinkUnavailableError):
        sink.find("123456")


def test_permanent_last_error_is_not_retried(
    sink: CorsaSoapTaskSink, server: CorsaTestServer
) -> None:
    """A validation LastError raises TaskSinkRejectedError after one call, without quoted values."""
    server.fail_next("CreateMetaDocument", "Invalid value 'Jan Jansen' for poststuk.onderwerp")
    with pytest.raises(TaskSinkRejectedError) as info:
        sink.create(task_request("123456"))
    assert "Jan Jansen" not in str(info.value)
    assert server.calls.count("CreateMetaDocument") == 1


def test_transient_last_error_is_retried(sink: CorsaSoapTaskSink, server: CorsaTestServer) -> None:
    """A busy-server LastError is retried and the task is created once."""
    server.fail_next("CreateMetaDocument", "Database timeout, try again later")
    ref = sink.create(task_request("123456"))
    assert [d.object_id for d in server.documents_for("123456")] == [ref.ref]


def test_transient_last_error_that_persists_raises_unavailable(
    sink: CorsaSoapTaskSink, server: CorsaTestServer
) -> None:
    """When retries run out, the transient error reaches the caller as TaskSinkUnavailableError."""
    server.fail_next("CreateMetaDocument", "Database deadlock", times=5)
    with pytest.raises(TaskSinkUnavailableError, match="deadlock"):
        sink.create(task_request("123456"))


def test_http_500_is_transient_and_retried(
    sink: CorsaSoapTaskSink, server: CorsaTestServer
) -> None:
    """An HTTP 500 is retried; the task is then created."""
    sink.find("1")
    server.http_error_next(500, times=1)
    ref = sink.create(task_request("123456"))
    assert ref.ref in server.documents


def test_http_500_persisting_raises_unavailable(
    sink: CorsaSoapTaskSink, server: CorsaTestServer
) -> None:
    """HTTP 500 on every try ends in TaskSinkUnavailableError."""
    sink.find("1")
    server.http_error_next(500, times=10)
    with pytest.raises(TaskSinkUnavailableError, match="HTTP"):
        sink.find("123456")


def test_slow_answer_times_out_as_transient(
    make_sink: Callable[..., CorsaSoapTaskSink], server: CorsaTestServer
) -> None:
    """An answer slower than timeout_seconds is TaskSinkUnavailableError."""
    sink = make_sink(timeout_seconds=0.2, retry_attempts=1)
    sink.find("1")
    server.delay_seconds = 1.0
    with pytest.raises(TaskSinkUnavailableError, match="in time"):
        sink.find("123456")


def test_unreachable_server_is_transient(
    make_sink: Callable[..., CorsaSoapTaskSink], server: CorsaTestServer
) -> None:
    """A server that does not listen gives TaskSinkUnavailableError."""
    sink = make_sink()
    server.stop()
    with pytest.raises(TaskSinkUnavailableError):
        sink.find("123456")


def test_lost_answer_to_create_meta_document_makes_no_second_document(
    sink: CorsaSoapTaskSink, server: CorsaTestServer
) -> None:
    """CreateMetaDocument done but its answer lost: the retry completes the same document."""
    server.lose_response_next("CreateMetaDocument")
    ref = sink.create(task_request("123456"))
    docs = server.documents_for("123456")
    assert [d.object_id for d in docs] == [ref.ref]
    assert [f.extension for f in docs[0].files] == [".eml", ".pdf"]
    assert docs[0].memo == "Dit is een IMI-verzoek op het gebied van bouwen."


def test_crash_after_create_meta_document_is_resumed_by_the_next_run(
    make_sink: Callable[..., CorsaSoapTaskSink], server: CorsaTestServer
) -> None:
    """A document left without files and memo is not 'found', and create completes it."""
    first = make_sink(retry_attempts=1)
    server.lose_response_next("CreateMetaDocument")
    with pytest.raises(TaskSinkUnavailableError):
        first.create(task_request("123456"))
    # the daemon "crashes" here; the next run asks find first, then create
    second = make_sink()
    assert second.find("123456") is None
    ref = second.create(task_request("123456"))
    docs = server.documents_for("123456")
    assert [d.object_id for d in docs] == [ref.ref]
    assert [f.extension for f in docs[0].files] == [".eml", ".pdf"]
    assert second.find("123456") == ref


def test_crash_between_the_files_attaches_only_the_missing_one(
    make_sink: Callable[..., CorsaSoapTaskSink], server: CorsaTestServer
) -> None:
    """An interrupted attempt that attached the .eml only gets just the PDF on resume."""
    first = make_sink(retry_attempts=1)
    server.fail_next("CreateFileVersion", "Database timeout", times=1)
    server.lose_response_next("CreateFileVersion")
    with pytest.raises(TaskSinkUnavailableError):
        first.create(task_request("123456"))
    ref = make_sink().create(task_request("123456"))
    assert [f.extension for f in server.documents[ref.ref].files] == [".eml", ".pdf"]


def test_annotate_unknown_document_is_permanent(sink: CorsaSoapTaskSink) -> None:
    """Annotating a document that does not exist is refused permanently."""
    with pytest.raises(TaskSinkRejectedError):
        sink.annotate(TaskRef("corsa", "999"), "20-11-2026: toegewezen")


def _nodelay(sock: socket.socket) -> bool:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_test_server_answers_without_nagle(server: CorsaTestServer) -> None:
    """Nagle against delayed ACK: the test server's accepted sockets have TCP_NODELAY set."""
    httpd = server._httpd
    assert httpd is not None
    seen: list[bool] = []
    base = httpd.RequestHandlerClass

    class Recording(base):  # type: ignore[valid-type,misc]
        def setup(self) -> None:
            super().setup()
            seen.append(_nodelay(self.connection))

    httpd.RequestHandlerClass = Recording
    with urllib.request.urlopen(server.url + "?WSDL", timeout=10) as answer:
        assert answer.status == 200
    assert seen == [True]


def test_sink_session_sends_without_nagle(sink: CorsaSoapTaskSink) -> None:
    """Nagle against delayed ACK: the sink's own HTTP connections to Corsa have TCP_NODELAY set."""
    sink.create(task_request("123456"))
    session = sink.wire._session
    assert session is not None
    adapter = session.get_adapter(sink.cfg.url)
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    socks = [
        conn.sock
        for pool in adapter.poolmanager.pools._container.values()
        for conn in list(pool.pool.queue)
        if conn is not None and conn.sock is not None
    ]
    assert socks and all(_nodelay(s) for s in socks)
