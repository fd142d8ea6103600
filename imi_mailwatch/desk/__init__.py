"""Actions on a request: the one transactional service that reply mails, the CLI
(``imi-mailwatch verzoek``) and the web desk call (:mod:`imi_mailwatch.desk.service`)."""

from imi_mailwatch.desk.mailer import DeskMailer
from imi_mailwatch.desk.service import (
    ActionResult,
    Actor,
    DeskContext,
    Planner,
    Via,
    apply_command,
)
from imi_mailwatch.desk.wiring import context_from_app, own_domains

__all__ = [
    "ActionResult",
    "Actor",
    "DeskContext",
    "DeskMailer",
    "Planner",
    "Via",
    "apply_command",
    "context_from_app",
    "own_domains",
]
