"""What a task sink offers beyond ``ports.TaskSink`` to keep a request and its task in step.

Both are optional: a sink that has them is used (``isinstance`` at run time), one
that has not (the drop folder, the intake mailbox) is left alone.

- :class:`ReadableSink`: ``read_task`` reads where the task is now and whether it
  was completed (the status read-back). It changes nothing. Errors as
  ``TaskSink``: ``TaskSinkUnavailableError`` (transient: the pass ends, nothing
  changes), ``TaskSinkRejectedError`` (this task cannot be read).
- :class:`RoutableSink`: ``reroute`` moves the task to another organisation unit.
  Idempotent: a task already there is left alone (returns False). A
  ``TaskSinkRejectedError`` means the installation does not allow it; the caller
  then tells the beheerders what to move by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable

from imi_mailwatch.model import TaskRef


@dataclass(frozen=True, slots=True)
class TaskReading:
    """What the task sink says of one task now."""

    route: str  # the organisation unit the task is at ("" when the sink does not say)
    completed: bool  # completed in the sink (Corsa: the completion field is filled)
    completed_on: date | None = None  # when, if the sink says so in a readable form


@runtime_checkable
class ReadableSink(Protocol):
    """A task sink that can read a task back (Corsa)."""

    def read_task(self, ref: TaskRef) -> TaskReading: ...


@runtime_checkable
class RoutableSink(Protocol):
    """A task sink that can move a task to another organisation unit (Corsa)."""

    def reroute(self, ref: TaskRef, org_unit: str) -> bool: ...
