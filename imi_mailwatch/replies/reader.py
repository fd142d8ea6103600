"""One reply read whole: automatic or not, which request, whose, which command. Pure.

What the reply channel knows from the message alone, before it looks at a request:
the caller then looks the request up, decides with :func:`imi_mailwatch.replies.authz.decide`
and answers with :mod:`imi_mailwatch.replies.texts`. An automatic message is read no
further (it is recorded and never answered).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from imi_mailwatch.alerts.mime import MailMessage
from imi_mailwatch.replies.auto import automatic_reason
from imi_mailwatch.replies.body import read_reply
from imi_mailwatch.replies.commands import Command, NotUnderstood, parse_command
from imi_mailwatch.replies.linking import Link, link_request
from imi_mailwatch.replies.trust import ReplyTrust, TrustVerdict, check_reply_sender

__all__ = ["ReplyReading", "read"]


@dataclass(frozen=True, slots=True)
class ReplyReading:
    """``automatic`` set: nothing else was read. Otherwise all of it."""

    message: MailMessage
    automatic: str | None = None
    link: Link | None = None
    trust: TrustVerdict | None = None
    command: Command | NotUnderstood | None = None

    @property
    def sender(self) -> str | None:
        return self.trust.sender if self.trust else None

    @property
    def actionable(self) -> bool:
        """A person's trusted reply about a known request with a command in it."""
        return (
            self.automatic is None
            and self.link is not None
            and self.trust is not None
            and self.trust.trusted
            and isinstance(self.command, Command)
        )


def read(data: bytes, *, trust: ReplyTrust, id_domains: Iterable[str]) -> ReplyReading:
    """Read ``data`` as a reply to the daemon (see the module docstring). Never raises."""
    reply = read_reply(data)
    message = reply.message
    automatic = automatic_reason(message)
    if automatic is not None:
        return ReplyReading(message, automatic=automatic)
    return ReplyReading(
        message,
        link=link_request(message, id_domains),
        trust=check_reply_sender(message, trust),
        command=parse_command(reply.line),
    )
