"""The ports: every interface between the core and the outside world.

Each adapter in ``imi_mailwatch.adapters`` implements one of these. The core
(pipeline, daemon, deadlines) only ever talks to these Protocols, and each has a
local implementation that is real code, used by the tests and the demo.

``world``: time, the mail sources, the task sink and the notifier. ``state``: the
state the core keeps, one narrow Protocol per kind, and ``StateStore`` over all.
"""

from imi_mailwatch.model import RawMessage, TaskRef, TaskRequest
from imi_mailwatch.ports.lease import Lease
from imi_mailwatch.ports.state import (
    AuditLog,
    CursorStore,
    DeskStore,
    FollowUpStore,
    MailingLog,
    MessageLog,
    NoticeStore,
    OutboxStore,
    QuarantineStore,
    Recorder,
    RequestStore,
    RetentionStore,
    StateStore,
    StatisticsStore,
    Transactional,
)
from imi_mailwatch.ports.world import Clock, MailSource, Notifier, PeriodicTask, TaskSink

__all__ = [
    "AuditLog",
    "Clock",
    "CursorStore",
    "DeskStore",
    "FollowUpStore",
    "Lease",
    "MailSource",
    "MailingLog",
    "MessageLog",
    "NoticeStore",
    "Notifier",
    "OutboxStore",
    "PeriodicTask",
    "QuarantineStore",
    "RawMessage",
    "Recorder",
    "RequestStore",
    "RetentionStore",
    "StateStore",
    "StatisticsStore",
    "TaskRef",
    "TaskRequest",
    "TaskSink",
    "Transactional",
]
