"""The task outbox's actions besides creating and annotating a task.

:class:`imi_mailwatch.outbox.TaskOutbox` carries out ``create_task`` and
``annotate`` itself; the daemon's wiring hands it these:

- ``reroute`` (HERROUTEER through the desk): move the task too
  (:mod:`imi_mailwatch.tasksync.reroute`);
- ``attach_pdf``: IMI's PDF report, forwarded by a beheerder, added to the task
  (:mod:`imi_mailwatch.replies.imipdf`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from imi_mailwatch.records import OutboxItem
from imi_mailwatch.replies.imipdf import ATTACH_PDF, carry_out_attach_pdf
from imi_mailwatch.tasksync.payload import REROUTE
from imi_mailwatch.tasksync.reroute import carry_out_reroute

if TYPE_CHECKING:
    from imi_mailwatch.outbox import OutboxAction, TaskOutbox

__all__ = ["task_actions"]


def _reroute(outbox: TaskOutbox, item: OutboxItem) -> bool:
    return carry_out_reroute(outbox.store, outbox.sink, item, book=outbox.texts)


def _attach_pdf(outbox: TaskOutbox, item: OutboxItem) -> bool:
    return carry_out_attach_pdf(outbox.store, outbox.sink, item)


def task_actions() -> dict[str, OutboxAction]:
    """The actions by name, for ``TaskOutbox(..., actions=task_actions())``."""
    return {REROUTE: _reroute, ATTACH_PDF: _attach_pdf}
