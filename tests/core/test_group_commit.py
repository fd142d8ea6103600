"""Group commit: the messages of one fetch share a transaction, each acknowledged after it."""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from imi_mailwatch.adapters.memory import InMemoryTaskSink
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.clock import SystemClock
from imi_mailwatch.model import Disposition, RawMessage
from imi_mailwatch.pipeline import Outcome
from imi_mailwatch.records import MessageEntry, MessageRecord
from tests.privacy.helpers import Desk, desk


class CheckingSource:
    """Acknowledges only what another connection already reads as recorded (durable)."""

    name = "imi"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.acknowledged: list[tuple[str, bool]] = []

    def fetch(self) -> Iterable[RawMessage]:
        return ()

    def acknowledge(self, message: RawMessage, disposition: Disposition) -> None:
        reader = SqliteStateStore(self.path, SystemClock(), read_only=True)
        try:
            rows = reader.message_log()
        finally:
            reader.close()
        self.acknowledged.append((message.ref, any(r["ref"] == message.ref for r in rows)))

    def wait(self, timeout: float, stop: threading.Event) -> None:
        return None

    def close(self) -> None:
        return None


def raw(n: int, kind: str = "ordinary", request_id: str = "", alert_type: str = "") -> RawMessage:
    return RawMessage(
        source="imi", ref=f"1:{n}", data=f"{kind}|{request_id}|{alert_type}||{n}".encode()
    )


def test_a_batch_of_ordinary_mail_is_one_transaction_and_each_ack_follows_its_commit(
    tmp_path: Path,
) -> None:
    """Ten ordinary messages: recorded in one write transaction, every ack after its commit."""
    d = desk(tmp_path)
    commits = depth = 0
    recorded_in: list[int] = []
    outer, record = d.store.transaction, d.store.record_message

    @contextmanager
    def counting() -> Iterator[None]:  # numbers the outermost transactions
        nonlocal commits, depth
        depth += 1
        try:
            with outer():
                yield
        finally:
            depth -= 1
        commits += depth == 0

    def noting(entry: MessageEntry) -> int:
        recorded_in.append(commits)
        return record(entry)

    d.store.transaction = counting  # type: ignore[method-assign]
    d.store.record_message = noting  # type: ignore[method-assign]
    source = CheckingSource(tmp_path / "state.sqlite3")
    results = d.pipeline.handle_batch(source, [raw(n) for n in range(10)])
    assert [r.outcome for r in results] == [Outcome.IGNORED] * 10
    assert len(recorded_in) == 10 and len(set(recorded_in)) == 1  # one transaction
    assert source.acknowledged == [(f"1:{n}", True) for n in range(10)]
    assert all(m.acknowledged_at for m in map(find(d), range(10)))


def find(d: Desk) -> Callable[[int], MessageRecord]:
    def one(n: int) -> MessageRecord:
        data = raw(n).data
        mid = f"<{hashlib.sha1(data).hexdigest()}@example.org>"  # as ScriptedClassifier says
        found = d.store.find_message("imi", mid, raw(n).content_hash)
        assert found is not None
        return found

    return one


def test_alerts_with_a_request_id_share_the_batch_transaction_with_their_marks(
    tmp_path: Path,
) -> None:
    """Group commit covers alerts too (not one commit each): a batch's records, two alerts of
    one request among them, and their acknowledgement marks are one transaction; the task
    is created once after that commit, its memo line added; every ack follows the commit,
    in fetch order, a second copy in the batch acknowledged as a duplicate."""
    d = desk(tmp_path)
    transactions: list[int] = []  # the outermost transaction of each record and mark
    counter = itertools.count()
    current = -1
    outer = d.store.transaction

    @contextmanager
    def numbered() -> Iterator[None]:
        nonlocal current
        if d.store._depth:  # joins the one in hand
            with outer():
                yield
            return
        current = next(counter)
        with outer():
            yield

    def noting(method: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object) -> object:
            transactions.append(current)
            return method(*args)

        return call

    d.store.transaction = numbered  # type: ignore[method-assign]
    d.store.record_message = noting(d.store.record_message)  # type: ignore[method-assign]
    d.store.mark_acknowledged_many = noting(d.store.mark_acknowledged_many)  # type: ignore[method-assign]
    source = CheckingSource(tmp_path / "state.sqlite3")
    batch = [
        raw(1),
        raw(2, "imi", "300071", "new_request"),
        raw(3, "imi", "300071", "info_requested"),
        raw(4, "forged", "300072", "new_request"),
        raw(5, "imi", "300073", "new_request"),
        raw(1),
    ]
    results = d.pipeline.handle_batch(source, batch)
    assert [r.outcome for r in results] == [
        Outcome.IGNORED,
        Outcome.TASK_CREATED,
        Outcome.REQUEST_UPDATED,
        Outcome.REJECTED,
        Outcome.TASK_CREATED,
        Outcome.DUPLICATE,
    ]
    assert len(transactions) == 6 and len(set(transactions)) == 1  # 5 records + the marks
    assert source.acknowledged == [(m.ref, True) for m in batch]
    assert isinstance(d.sink, InMemoryTaskSink)
    assert sorted(d.sink.refs) == ["300071", "300073"] and d.sink.create_calls == 2
    assert len(d.sink.memos[d.sink.refs["300071"].ref]) == 2  # the second alert's memo line
    for m in batch:
        mid = f"<{hashlib.sha1(m.data).hexdigest()}@example.org>"  # as ScriptedClassifier says
        record = d.store.find_message("imi", mid, m.content_hash)
        assert record is not None and record.acknowledged_at, m.ref


def test_no_next_message_begins_after_a_stop(tmp_path: Path) -> None:
    """A stop during a batch: the messages in hand are finished, the rest stays unrecorded."""
    d = desk(tmp_path)
    source = CheckingSource(tmp_path / "state.sqlite3")
    asked = iter([False, False, True, True])
    results = d.pipeline.handle_batch(source, [raw(n) for n in range(4)], lambda: next(asked))
    assert [r.outcome for r in results] == [Outcome.IGNORED, Outcome.IGNORED]
    assert source.acknowledged == [("1:0", True), ("1:1", True)]
    assert [m["ref"] for m in d.store.message_log()] == ["1:0", "1:1"]


class Killed(BaseException):
    """The process dies here (SIGKILL): nothing after this line runs."""


class DyingSource:
    """Holds messages until acknowledged; dies once at one message's acknowledge,
    before or after it took effect."""

    name = "imi"

    def __init__(self, messages: list[RawMessage], victim: str, after: bool) -> None:
        self.waiting = {m.ref: m for m in messages}
        self.victim: str | None = victim
        self.after = after

    def fetch(self) -> list[RawMessage]:
        return list(self.waiting.values())

    def acknowledge(self, message: RawMessage, disposition: Disposition) -> None:
        dies = message.ref == self.victim
        if dies and not self.after:
            self.victim = None
            raise Killed
        self.waiting.pop(message.ref, None)  # moved out of the inbox: never handed over again
        if dies:
            self.victim = None
            raise Killed


@pytest.mark.parametrize("after", [True, False], ids=["after-the-move", "before-the-move"])
@pytest.mark.parametrize("victim", ["1:1", "1:2"], ids=["in-a-run", "an-alert-alone"])
def test_a_kill_at_the_source_acknowledge_leaves_every_record_acknowledged(
    tmp_path: Path, victim: str, after: bool
) -> None:
    """Killed at the source's acknowledge, just before or just after it took effect: after
    the restart the inbox is empty and every record carries its acknowledgement mark."""
    d = desk(tmp_path)
    batch = [raw(1), raw(2, "imi", "300072", "new_request"), raw(3)]
    source = DyingSource(batch, victim, after)
    with pytest.raises(Killed):
        d.pipeline.handle_batch(source, source.fetch())
    d.pipeline.handle_batch(source, source.fetch())  # the restart
    assert source.waiting == {}
    for m in batch:
        mid = f"<{hashlib.sha1(m.data).hexdigest()}@example.org>"  # as ScriptedClassifier says
        record = d.store.find_message("imi", mid, m.content_hash)
        assert record is not None and record.acknowledged_at, m.ref
