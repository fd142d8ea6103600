"""The task outbox against the Corsa test server: one bad row never blocks the others."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink
from imi_mailwatch.adapters.postgres import PostgresStateStore
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.adapters.state_store import DurableStore
from imi_mailwatch.cli import main
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.errors import TaskSinkUnavailableError
from imi_mailwatch.model import TaskRequest, alert_to_payload
from imi_mailwatch.outbox import TaskOutbox
from imi_mailwatch.testing.corsa_server import CorsaTestServer

from .conftest import task_request


def payload(task: TaskRequest) -> dict[str, Any]:
    """The outbox payload the pipeline records for this task."""
    return {
        "request_id": task.request_id,
        "team": {
            "key": task.team.key,
            "name": task.team.name,
            "org_unit": task.team.org_unit,
            "mailbox": task.team.mailbox,
            "handlers": list(task.team.handlers),
        },
        "subject": task.subject,
        "summary": task.summary,
        "memo": task.memo,
        "received_on": task.received_on.isoformat(),
        "deadline": task.deadline.isoformat() if task.deadline else None,
        "alert_eml": base64.b64encode(task.alert_eml).decode("ascii"),
        "alert": alert_to_payload(task.alert),
        "confidentiality": None,
    }


@pytest.fixture
def clock() -> FakeClock:
    """The outbox's clock (the store uses the same)."""
    return FakeClock()


@pytest.fixture(params=["sqlite", "postgres"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[DurableStore]:
    """A state store in a temporary file, or in a fresh PostgreSQL database."""
    s: DurableStore
    if request.param == "postgres":
        s = PostgresStateStore(request.getfixturevalue("postgres_url"), clock)
    else:
        s = SqliteStateStore(tmp_path / "state.sqlite3", clock)
    yield s
    s.close()


@pytest.fixture
def outbox(
    store: DurableStore, clock: FakeClock, make_sink: Callable[..., CorsaSoapTaskSink]
) -> TaskOutbox:
    """A task outbox on a Corsa sink on the test server."""
    return TaskOutbox(store, make_sink(), clock)


def queue(store: DurableStore, task: TaskRequest) -> None:
    """Record a create intent for this task, as the pipeline does."""
    store.outbox_add(task.request_id, "create_task", f"create:{task.request_id}", payload(task))


def statuses(store: DurableStore) -> dict[str, str]:
    return {r["request_id"]: r["status"] for r in store.query("SELECT * FROM outbox")}


def test_control_characters_in_alert_fields_reach_corsa_cleaned(
    outbox: TaskOutbox, store: DurableStore, server: CorsaTestServer
) -> None:
    """XML-forbidden characters (\\x01, \\x1b) in alert text never block a task: cleaned."""
    task = task_request(
        "300001",
        subject="IMI-verzoek\x01 300001\x1b[31m",
        summary="Informatie\x00verzoek \x0b\x0c uit Polen",
        memo="Dit is een IMI-verzoek\x1b op het gebied van bouwen.",
    )
    queue(store, task)
    assert outbox.drain() == 1
    [doc] = server.documents_for("300001")
    assert doc.fields["poststuk.onderwerp"] == "IMI-verzoek 300001[31m"
    assert doc.fields["poststuk.inhoud1"] == "Informatieverzoek  uit Polen"
    assert doc.memo == "Dit is een IMI-verzoek op het gebied van bouwen."
    assert statuses(store) == {"300001": "done"}


def test_one_broken_outbox_row_is_parked_and_the_rows_behind_it_are_created(
    outbox: TaskOutbox, store: DurableStore, server: CorsaTestServer
) -> None:
    """Poisoned outbox row: an unexpected error parks that row, reports it, and the rest go on."""
    broken = payload(task_request("300010"))
    del broken["team"]  # a row the code cannot carry out (a bug, a damaged payload)
    store.outbox_add("300010", "create_task", "create:300010", broken)
    for rid in ("300011", "300012"):
        queue(store, task_request(rid))
    with capture_logs() as logs:
        assert outbox.drain() == 2
    assert statuses(store) == {"300010": "parked", "300011": "done", "300012": "done"}
    assert server.documents_for("300011")
    parked = [e for e in logs if e["event"] == "outbox.parked"]
    assert [e["request_id"] for e in parked] == ["300010"]
    assert parked[0]["error"] == "KeyError"
    assert parked[0].get("exc_info")  # the traceback is logged
    assert outbox.drain() == 0  # and it is not tried again


@pytest.mark.parametrize("how", ["truncated", "unexpected", "empty"])
@pytest.mark.parametrize("operation", ["QueryExecute", "CreateMetaDocument", "SetObjectMemo"])
def test_a_damaged_200_answer_is_retried_never_parked(
    outbox: TaskOutbox,
    store: DurableStore,
    server: CorsaTestServer,
    clock: FakeClock,
    operation: str,
    how: str,
) -> None:
    """Damaged SOAP answer (HTTP 200, truncated/unexpected XML) is transient: the task is
    retried later and created once, never parked."""
    queue(store, task_request("300020"))
    server.garble_next(operation, how, times=3)  # more than the sink's own two tries
    for _ in range(4):
        outbox.drain()
        assert statuses(store)["300020"] in ("pending", "done")  # never parked
        clock.advance(3600)
    assert statuses(store) == {"300020": "done"}
    assert len(server.documents_for("300020")) == 1


@pytest.mark.parametrize("how", ["truncated", "unexpected"])
def test_a_damaged_lookup_answer_never_reads_as_no_document(
    make_sink: Callable[..., CorsaSoapTaskSink], server: CorsaTestServer, how: str
) -> None:
    """Damaged SOAP answer to the kenmerk lookup is an error, never "not found" (which
    would register a second document)."""
    sink = make_sink()
    sink.create(task_request("300030"))
    server.garble_next("QueryExecute", how, times=2)
    with pytest.raises(TaskSinkUnavailableError):
        sink.find("300030")
    assert sink.find("300030") is not None


def test_ops_list_and_retry_a_parked_task_after_the_cause_is_fixed(
    outbox: TaskOutbox,
    store: DurableStore,
    server: CorsaTestServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    """Un-parking: `outbox list` shows the parked row (no content), `outbox retry ID` makes it
    due again (audited), and the next pass creates the task once."""
    queue(store, task_request("300040", unit="ORG-NEW"))  # a unit Corsa does not know yet
    outbox.drain()
    assert statuses(store) == {"300040": "parked"}
    cfg = tmp_path / "imi-mailwatch.yaml"
    where = (
        f"url: {request.getfixturevalue('postgres_url')}"  # the store's own database
        if isinstance(store, PostgresStateStore)
        else f"path: {tmp_path / 'state.sqlite3'}"
    )
    cfg.write_text(f"state:\n  {where}\n", encoding="utf-8")

    assert main(["outbox", "list", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "verzoek 300040" in out and "geparkeerd" in out
    assert main(["outbox", "list", "--json", "-c", str(cfg)]) == 0
    (row,) = json.loads(capsys.readouterr().out.splitlines()[-1])["rows"]
    assert set(row) == {
        "id", "action", "request_id", "status", "attempts", "reason", "next_attempt_at",
        "updated_at",
    }  # fmt: skip
    assert row["status"] == "parked" and row["request_id"] == "300040"

    assert server.units is not None
    server.units.add("ORG-NEW")  # ops fixed the cause in Corsa
    assert main(["outbox", "retry", str(row["id"]), "-c", str(cfg)]) == 0
    printed = capsys.readouterr()
    assert "opnieuw geprobeerd" in printed.out
    logs = [json.loads(line) for line in printed.err.splitlines() if line.startswith("{")]
    (event,) = [e for e in logs if e["event"] == "outbox.retry_requested"]
    assert event["outbox_id"] == row["id"] and event["by"]
    trail = [r["action"] for r in store.audit_trail("300040")]
    assert trail[-1] == "outbox.retry_requested"
    assert outbox.drain() == 1
    assert statuses(store) == {"300040": "done"}
    assert len(server.documents_for("300040")) == 1
    # a finished row and an unknown row: nothing to retry, exit 1
    assert main(["outbox", "retry", str(row["id"]), "-c", str(cfg)]) == 1
    assert main(["outbox", "retry", "999", "-c", str(cfg)]) == 1


def test_a_clock_jumping_back_does_not_delay_the_retry_by_the_jump(
    outbox: TaskOutbox, store: DurableStore, server: CorsaTestServer, clock: FakeClock
) -> None:
    """Clock jump back (a day): a deferred task is retried after its back-off, not a day late."""
    queue(store, task_request("300050"))
    server.http_error_next(503, times=2)  # both tries of this pass
    outbox.drain()
    assert statuses(store) == {"300050": "pending"}
    clock.advance(timedelta(days=-1))  # NTP correction, a VM restored, a wrong RTC
    with capture_logs() as logs:
        outbox.drain()
    assert any(e["event"] == "outbox.retry_clamped" for e in logs)
    clock.advance(timedelta(seconds=31))
    assert outbox.drain() == 1
    assert statuses(store) == {"300050": "done"}
