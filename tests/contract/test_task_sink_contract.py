"""TaskSink contract, over every sink: in memory, drop folder, intake mail, Corsa SOAP.

The contract (ports.TaskSink): ``find`` sees every task ``create`` made, by the
request id; ``create`` is idempotent per request id (a second create returns the
same reference, creates nothing and keeps the memo lines added since);
``annotate`` appends a line once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink
from imi_mailwatch.adapters.drop_folder import DropFolderTaskSink
from imi_mailwatch.adapters.intake_mail import IntakeMailTaskSink
from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import IntakeMailConfig
from imi_mailwatch.ports import TaskSink
from imi_mailwatch.testing.corsa_server import CorsaTestServer, start
from tests.corsa.conftest import UNITS, corsa_config, task_request


class Harness:
    """A sink and a way to count what it created on its far side."""

    def __init__(
        self, sink: TaskSink, created: Callable[[str], int], memo: Callable[[str], str]
    ) -> None:
        self.sink = sink
        self.created = created  # tasks on the far side for a request id
        self.memo = memo  # the memo text the far side holds for a request id


def memory(tmp: Path) -> Iterator[Harness]:
    sink = InMemoryTaskSink()
    yield Harness(
        sink,
        lambda rid: sum(t.request_id == rid for t in sink.tasks.values()),
        lambda rid: "\n".join(sink.memos[sink.refs[rid].ref]),
    )


def drop_folder(tmp: Path) -> Iterator[Harness]:
    sink = DropFolderTaskSink(tmp / "drop", clock=FakeClock())
    yield Harness(
        sink,
        lambda rid: len(list((tmp / "drop").glob(f"{rid}.pdf"))),
        lambda rid: (tmp / "drop" / ".imi-mailwatch" / f"{rid}.json").read_text("utf-8"),
    )


def intake_mail(tmp: Path) -> Iterator[Harness]:
    notifier = InMemoryNotifier()
    sink = IntakeMailTaskSink(
        IntakeMailConfig(to="intake@example.nl"),
        notifier=notifier,
        clock=FakeClock(),
        record_dir=tmp / "records",
    )
    yield Harness(
        sink,
        lambda rid: sum(m.subject.startswith(f"IMI-verzoek {rid} ") for m in notifier.sent),
        lambda rid: (tmp / "records" / f"{rid}.json").read_text("utf-8"),
    )


def corsa(tmp: Path) -> Iterator[Harness]:
    server: CorsaTestServer
    server, _url = start(units=UNITS)
    sink = CorsaSoapTaskSink(
        corsa_config(server.url),
        clock=FakeClock(),
        stop=threading.Event(),
        retry_first_wait=0.01,
        retry_max_wait=0.05,
    )
    try:
        yield Harness(
            sink,
            lambda rid: len(server.documents_with("poststuk.kenmerk", rid)),
            lambda rid: "".join(d.memo for d in server.documents_with("poststuk.kenmerk", rid)),
        )
    finally:
        sink.close()
        server.stop()


SINKS: dict[str, Callable[[Path], Iterator[Harness]]] = {
    "memory": memory,
    "drop_folder": drop_folder,
    "intake_mail": intake_mail,
    "corsa_soap": corsa,
}


@pytest.fixture(params=sorted(SINKS))
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    yield from SINKS[request.param](tmp_path)


def test_find_sees_what_create_made(harness: Harness) -> None:
    """Before create, find says None; after it, find gives the reference create gave."""
    sink = harness.sink
    assert sink.find("123456") is None
    ref = sink.create(task_request("123456"))
    assert sink.find("123456") == ref
    assert sink.find("654321") is None


def test_create_is_idempotent_per_request(harness: Harness) -> None:
    """A second create for the same request returns the same reference and creates nothing."""
    sink = harness.sink
    ref = sink.create(task_request("123456"))
    sink.annotate(ref, "17-11-2026: toewijzing ontvangen")
    again = sink.create(task_request("123456"))
    assert again == ref
    assert harness.created("123456") == 1
    assert "toewijzing ontvangen" in harness.memo("123456")  # the second create kept it
    sink.annotate(ref, "17-11-2026: toewijzing ontvangen")  # the line is there once
    other = sink.create(task_request("123457", unit="ORG-ECO"))
    assert other != ref and harness.created("123457") == 1
