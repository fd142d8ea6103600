"""Archiving a request's history with its task when the request closes.

With ``privacy.attach_history_on_close`` the daemon runs ``HistoryAttacher`` as
a periodic task. For every request that was closed or withdrawn within the raw
retention period (default 30 days), has a task and has no history attached yet,
it adds the history to the task:

- a sink that can hold files (Corsa: ``attach_file``) gets the history as a PDF,
  "Verloop IMI-verzoek <id>.pdf", which Corsa keeps once (a file of that name
  already there is kept);
- any other sink gets one memo line that says where the history can be had.

Each attachment is recorded in the audit trail (``history.attached``), which is
also what keeps it from being done twice. A transient sink error leaves the
request for the next pass; a permanent one is recorded
(``history.attach_failed``) and not tried again.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

import structlog

from imi_mailwatch.clock import local_today
from imi_mailwatch.errors import PermanentError, TransientError
from imi_mailwatch.memo import memo_line
from imi_mailwatch.model import TaskRef
from imi_mailwatch.ports import StateStore, TaskSink
from imi_mailwatch.privacy.history import load_history, render_pdf
from imi_mailwatch.records import REDUCED_EVENT

log = structlog.get_logger(__name__)

ATTACHED = "history.attached"
FAILED = "history.attach_failed"


@runtime_checkable
class FileSink(Protocol):
    """A task sink that can add a file to a task (the Corsa sink)."""

    def attach_file(
        self, ref: TaskRef, data: bytes, extension: str, name: str, description: str
    ) -> None: ...


@dataclass(eq=False)
class HistoryAttacher:
    """The daemon's periodic task for ``privacy.attach_history_on_close``."""

    store: StateStore
    sink: TaskSink
    _: KW_ONLY
    within: timedelta = timedelta(days=30)
    font: str | Path | None = None
    batch: int = 20

    def due(self) -> list[str]:
        """Request ids whose history is still to be attached, oldest closing first."""
        since = self.store.now() - self.within
        return self.store.closed_without(since, (ATTACHED, FAILED, REDUCED_EVENT), self.batch)

    def __call__(self) -> int:
        """Attach what is due; returns how many histories were attached."""
        done = 0
        for request_id in self.due():
            try:
                if self._attach(request_id):
                    done += 1
            except TransientError as exc:
                log.warning("history.attach_deferred", request_id=request_id, error=_name(exc))
                break  # the sink is down: the rest waits for the next pass
            except Exception as exc:  # refused, or a bug in this one: record it, go on
                unexpected = not isinstance(exc, PermanentError)
                log.error(
                    "history.attach_failed",
                    request_id=request_id,
                    error=_name(exc),
                    exc_info=exc if unexpected else None,
                )
                try:
                    with self.store.transaction():
                        self.store.audit(FAILED, request_id, error=_name(exc))
                except Exception:
                    log.error("history.fail_record_failed", request_id=request_id, exc_info=True)
        return done

    def _attach(self, request_id: str) -> bool:
        history = load_history(self.store, request_id)
        if history is None or history.task is None:
            return False
        request = self.store.get_request(request_id)
        if request is None or request.task_ref is None or request.task_sink is None:
            return False
        ref = TaskRef(request.task_sink, request.task_ref)
        if isinstance(self.sink, FileSink):
            pdf = render_pdf(history, font=self.font, now=self.store.now())
            self.sink.attach_file(
                ref,
                pdf,
                ".pdf",
                f"Verloop IMI-verzoek {request_id}",
                "Verloop van het verzoek volgens imi-mailwatch",
            )
            how = "file"
        else:
            today = local_today(self.store.now())
            text = (
                f"Verloop van het verzoek ({len(history.events)} gebeurtenissen) is op te vragen "
                f"bij de IMI-beheerders (verzoek {request_id})."
            )
            self.sink.annotate(ref, memo_line(today, text))
            how = "memo"
        with self.store.transaction():
            self.store.audit(ATTACHED, request_id, task_ref=ref.ref, how=how)
        log.info("history.attached", request_id=request_id, task_ref=ref.ref, how=how)
        return True


def _name(exc: BaseException) -> str:
    return type(exc).__name__
