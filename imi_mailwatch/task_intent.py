"""What every outbox row that changes a created task asks first: is there one?

Annotating, moving (``reroute``) and attaching a PDF (``attach_pdf``) change the
task a ``create_task`` row made. Without a task in the sink (never asked for,
or parked) the row is skipped; a task not created yet makes the row wait, as its
``create_task`` row comes first.
"""

from __future__ import annotations

from imi_mailwatch.model import TaskRef, TaskStatus
from imi_mailwatch.ports import StateStore
from imi_mailwatch.records import OutboxItem, RequestRecord


def task_to_change(
    store: StateStore, item: OutboxItem, what: str
) -> tuple[RequestRecord, TaskRef] | None:
    """The request of ``item`` and its task; None when the row is skipped (no task:
    ``no task to <what>``) or waits (the task is not created yet)."""
    request = store.get_request(item.request_id)
    if request is None or request.task_status in (TaskStatus.PARKED, None):
        with store.transaction():
            store.outbox_finish(item.id, "skipped", f"no task to {what}")
        return None
    if request.task_ref is None or request.task_sink is None:
        return None  # the task is not created yet; its create intent comes first
    return request, TaskRef(request.task_sink, request.task_ref)
