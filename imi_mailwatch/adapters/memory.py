"""In-memory adapters: real implementations of the ports, for tests and dry runs."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from imi_mailwatch.errors import TaskSinkUnavailableError
from imi_mailwatch.model import OutgoingMail, TaskRef, TaskRequest


class InMemoryCursorStore:
    """ports.CursorStore in a dict."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], str] = {}

    def get_cursor(self, source: str, folder: str) -> str | None:
        return self.values.get((source, folder))

    def set_cursor(self, source: str, folder: str, value: str) -> None:
        self.values[(source, folder)] = value


class InMemoryTaskSink:
    """ports.TaskSink keeping tasks in a dict; ``fail_next`` simulates outages."""

    name = "memory"

    def __init__(self) -> None:
        self.tasks: dict[str, TaskRequest] = {}
        self.refs: dict[str, TaskRef] = {}
        self.memos: dict[str, list[str]] = {}
        self.units: dict[str, str] = {}  # task ref -> the unit it was moved to (reroute)
        self.fail_next = 0
        self.create_calls = 0
        self._lock = threading.Lock()

    def _maybe_fail(self) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise TaskSinkUnavailableError("in-memory sink: simulated outage")

    def find(self, request_id: str) -> TaskRef | None:
        with self._lock:
            self._maybe_fail()
            return self.refs.get(request_id)

    def create(self, task: TaskRequest) -> TaskRef:
        with self._lock:
            self._maybe_fail()
            self.create_calls += 1
            if task.request_id in self.refs:  # idempotent per request (ports.TaskSink)
                return self.refs[task.request_id]
            ref = TaskRef(self.name, f"MEM-{len(self.tasks) + 1:05d}")
            self.tasks[ref.ref] = task
            self.refs[task.request_id] = ref
            self.memos[ref.ref] = [task.memo]
            return ref

    def annotate(self, ref: TaskRef, line: str) -> None:
        with self._lock:
            self._maybe_fail()
            self.memos[ref.ref].append(line)

    def reroute(self, ref: TaskRef, org_unit: str) -> bool:
        """Move the task to ``org_unit`` (``tasksync.ports.RoutableSink``); False if there."""
        with self._lock:
            self._maybe_fail()
            if self.units.get(ref.ref) == org_unit:
                return False
            self.units[ref.ref] = org_unit
            return True


class InMemoryNotifier:
    """ports.Notifier that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> None:
        self.sent.append(mail)

    def message_ids(self) -> Iterable[str]:
        return [m.message_id for m in self.sent]
