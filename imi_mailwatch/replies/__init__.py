"""Replies to the daemon's mails: reading, linking, trusting and authorising commands.

Pure: bytes and values in, values out; no clock, no I/O. Wiring them to a request's
state is the caller's part.
"""

from imi_mailwatch.replies.authz import Decision, Role, decide
from imi_mailwatch.replies.commands import Command, CommandKind, NotUnderstood, parse_command
from imi_mailwatch.replies.reader import ReplyReading, read
from imi_mailwatch.replies.trust import ReplyTrust, TrustMode, TrustVerdict

__all__ = [
    "Command",
    "CommandKind",
    "Decision",
    "NotUnderstood",
    "ReplyReading",
    "ReplyTrust",
    "Role",
    "TrustMode",
    "TrustVerdict",
    "decide",
    "parse_command",
    "read",
]
