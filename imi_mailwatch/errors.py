"""The project's exceptions, under one root.

Library exceptions (imaplib/imapclient, zeep, httpx, smtplib, sqlite3, exchangelib)
are translated at the adapter edge into these; nothing above the adapters sees a
library exception. The kind of error decides what happens to the work in hand::

    MailwatchError
    ├── ConfigError            configuration or rules invalid: never runs, exit 78
    ├── TransientError         network, timeouts, 5xx, lost session: retried (tenacity)
    │   ├── MailSourceUnavailableError
    │   ├── TaskSinkUnavailableError
    │   └── NotifierUnavailableError
    │       └── NotifierUncertainError  lost after the message was handed over: it may
    │                      have arrived; retried, but not before the resend period
    └── PermanentError         bad input or rejected by the far side: never retried
        ├── MessageError       this message cannot be handled: quarantined with its reason
        ├── MailSourceRejectedError  authentication, permission, missing folder:
        │                      reported, the mailbox is marked unhealthy, the daemon stays up
        ├── TaskSinkRejectedError    the task sink refused the request: the request is parked
        └── NotifierRejectedError    the mail server refused the message
    StateError                 the state store is unusable (outside the two kinds above)
    └── LeaseLostError         a hot standby took the lease over: this daemon's writes are
                               fenced off, it stops (the standby's lease, PostgreSQL)

Every error carries a short, safe ``str()``: it never holds a message body, a
password, a token or personal data, so it may be logged as it is.
"""

from __future__ import annotations


class MailwatchError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(MailwatchError):
    """The configuration or the rules are invalid.

    ``problems`` lists every problem found, each already formatted with its
    file, line and path, so that a caller can print them all at once.
    """

    def __init__(self, summary: str, problems: list[str] | None = None) -> None:
        super().__init__(summary)
        self.problems: list[str] = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return super().__str__()
        return super().__str__() + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class TransientError(MailwatchError):
    """A temporary failure: trying again later may succeed."""


class PermanentError(MailwatchError):
    """A failure that retrying will not cure."""


class MessageError(PermanentError):
    """This message cannot be handled; it is quarantined with this reason."""


class MailSourceUnavailableError(TransientError):
    """The mailbox could not be reached (network, timeout, server gone, session lost)."""


class MailSourceRejectedError(PermanentError):
    """The mailbox refused us: authentication, permission or a missing folder."""


class TaskSinkUnavailableError(TransientError):
    """The task sink (Corsa, drop folder, intake mailbox) is temporarily unavailable."""


class TaskSinkRejectedError(PermanentError):
    """The task sink refused the request (validation, unknown unit, licence)."""


class NotifierUnavailableError(TransientError):
    """The outgoing mail server is temporarily unavailable."""


class NotifierUncertainError(NotifierUnavailableError):
    """The connection was lost after the message was handed over, before the server
    confirmed it: it may have arrived. Retried with the same Message-ID, but no sooner
    than the resend period, so that a server that takes mail and drops the confirmation
    does not cause a flood."""


class NotifierRejectedError(PermanentError):
    """The outgoing mail server refused the message or the credentials."""


class StateError(MailwatchError):
    """The state store is unusable (corrupt file, newer schema than this version knows)."""


class LeaseLostError(StateError):
    """This daemon no longer holds the lease (another node took it over): its write is refused."""
