"""The history attached to the task on closing: a PDF in Corsa, a memo line elsewhere."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink
from imi_mailwatch.adapters.memory import InMemoryTaskSink
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW
from imi_mailwatch.model import TaskRef
from imi_mailwatch.privacy.attach import HistoryAttacher
from imi_mailwatch.testing.corsa_server import CorsaTestServer, start
from tests.corsa.conftest import corsa_config
from tests.privacy.helpers import desk


@pytest.fixture
def corsa() -> Iterator[tuple[CorsaTestServer, CorsaSoapTaskSink]]:
    server, _url = start(units=("ORG-ECO",))
    sink = CorsaSoapTaskSink(
        corsa_config(server.url),
        clock=FakeClock(DEMO_NOW),
        stop=threading.Event(),
        retry_first_wait=0.01,
        retry_max_wait=0.05,
    )
    try:
        yield server, sink
    finally:
        sink.close()
        server.stop()


def test_corsa_gets_the_history_pdf_once(
    tmp_path: Path, corsa: tuple[CorsaTestServer, CorsaSoapTaskSink]
) -> None:
    """On closing, the Corsa document gets one more file: the history PDF, never twice."""
    server, sink = corsa
    d = desk(tmp_path, sink=sink)
    d.feed("imi", "500001", "new_request", "2026-12-20")
    attacher = HistoryAttacher(d.store, sink)
    assert attacher() == 0  # still open: nothing to archive
    d.feed("imi", "500001", "closed")
    assert attacher() == 1
    assert attacher() == 0
    rec = d.store.get_request("500001")
    assert rec is not None and rec.task_ref is not None
    files = server.documents[rec.task_ref].files
    assert [f.extension for f in files] == [".eml", ".pdf", ".pdf"]
    assert files[-1].name == "Verloop IMI-verzoek 500001"
    assert files[-1].data.startswith(b"%PDF")
    # a second attacher (after a restart) does not add it again either
    assert HistoryAttacher(d.store, sink)() == 0


def test_other_sinks_get_a_memo_line(tmp_path: Path) -> None:
    """A sink without files gets one dated memo line saying where the history is."""
    d = desk(tmp_path)
    d.feed("imi", "500002", "new_request", "2026-12-20")
    d.feed("imi", "500002", "withdrawn")
    assert HistoryAttacher(d.store, d.sink)() == 1
    assert isinstance(d.sink, InMemoryTaskSink)
    ref = d.store.get_request("500002")
    assert ref is not None and ref.task_ref is not None
    assert "bij de IMI-beheerders (verzoek 500002)" in d.sink.memos[ref.task_ref][-1]
    assert "imi-mailwatch" not in d.sink.memos[ref.task_ref][-1]  # no command for staff


def test_old_closings_are_not_attached_late(tmp_path: Path) -> None:
    """A request closed longer ago than the window is left alone (switched on later)."""
    d = desk(tmp_path)
    d.feed("imi", "500003", "new_request", "2026-12-20")
    d.feed("imi", "500003", "closed")
    d.clock.advance(timedelta(days=31))
    assert HistoryAttacher(d.store, d.sink, within=timedelta(days=30))() == 0


class _BreaksOnOne(InMemoryTaskSink):
    """Raises an unexpected error (a bug, not a sink answer) when annotating one task."""

    broken_ref = ""

    def annotate(self, ref: TaskRef, line: str) -> None:
        if ref.ref == self.broken_ref:
            raise ValueError("unexpected")
        super().annotate(ref, line)


def test_one_history_that_breaks_the_code_does_not_stop_the_others(tmp_path: Path) -> None:
    """Poisoned periodic item: an unexpected error on one history is recorded; the rest go on."""
    sink = _BreaksOnOne()
    d = desk(tmp_path, sink=sink)
    for rid in ("500010", "500011"):
        d.feed("imi", rid, "new_request", "2026-12-20")
        d.feed("imi", rid, "withdrawn")
    first = d.store.get_request("500010")
    assert first is not None and first.task_ref is not None
    sink.broken_ref = first.task_ref
    assert HistoryAttacher(d.store, sink)() == 1
    assert HistoryAttacher(d.store, sink)() == 0  # the broken one is not tried every tick
