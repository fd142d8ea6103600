"""The first line of a reply: what a person typed above the quoted history. Pure.

The message is read by the alert reader's MIME stage (bounded, never raises on a
broken message). The body read is the plain text, or the HTML when there is no plain
text or it is blank. An HTML body is cut before it becomes text, at the first mark of the quoted
history that mail programs write in their markup: Outlook's ``divRplyFwdMsg`` and
``appendonsend`` divs and its border-top div above the "Van:" block, a
``<blockquote>``, Gmail's ``gmail_quote``, Thunderbird's ``moz-cite-prefix``.

Then the lines are read top to bottom: empty lines are skipped, and the first line
that is a quote marker ends the reading with no line at all. Quote markers are:

- a quoted line (``>``), a signature separator (``--``), a line of underscores;
- ``-----Oorspronkelijk bericht-----`` / ``-----Original Message-----``;
- a header line of a quoted message: ``Van:``, ``Verzonden:``, ``Aan:``,
  ``Onderwerp:``, ``From:``, ``Sent:``, ``To:``, ``Subject:`` (and German ``Von:``,
  ``Gesendet:``, ...);
- ``Op … schreef …:``, ``Op … heeft … het volgende geschreven:``, ``On … wrote:``
  (also when the mail program wrapped it over two lines);
- a phone's signature: "Verzonden vanaf mijn iPhone", "Sent from my iPhone",
  "Outlook voor iOS downloaden" and the like.

Anything below a quote marker is therefore never read, and only the one line above it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imi_mailwatch.alerts.budget import Budget, BudgetExceededError
from imi_mailwatch.alerts.mime import MailMessage, read_headers, read_message
from imi_mailwatch.alerts.text import fold, squash

__all__ = ["Reply", "cut_quoted_html", "first_line", "is_quote_marker", "read_reply"]

MAX_LINE_CHARS = 200  # a longer first line is read as this much (never a command)
MAX_MARKER_CHARS = 1_000  # a quote marker is looked for in this much of a line

_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9]{0,20})([^<>]{0,2000})>")
_QUOTE_IDS = re.compile(r"""\bid\s*=\s*["']?(?:x_)?(?:divrplyfwdmsg|appendonsend)\b""")
_BORDER_TOP = re.compile(r"border-top\s*:\s*solid")
_CLASS = re.compile(r"""\bclass\s*=\s*["']?([^"'>]{0,400})""")
_QUOTE_CLASSES = frozenset(
    {"gmail_quote", "moz-cite-prefix", "yahoo_quoted", "outlookmessageheader"}
)

_HEADER_WORDS = (
    "van", "verzonden", "aan", "onderwerp", "datum", "cc", "from", "sent", "to",
    "subject", "date", "von", "gesendet", "an", "betreff", "de", "envoye", "objet",
)  # fmt: skip
_HEADER_LINE = re.compile(rf"^\*?(?:{'|'.join(_HEADER_WORDS)})\*?\s?:")
_SEPARATOR = re.compile(
    r"^-{2,}\s*(?:oorspronkelijk bericht|original message|doorgestuurd bericht"
    r"|forwarded message|ursprungliche nachricht)\s*-*$"
)
_WROTE = re.compile(r"\b(?:schreef|geschreven|wrote|schrieb)\b.*:$")
_WROTE_START = re.compile(r"^(?:op|on|am)\s")
_PHONE = (
    "verzonden vanaf mijn",
    "verstuurd vanaf mijn",
    "verzonden met mijn",
    "sent from my",
    "get outlook for",
    "outlook voor ios",
    "outlook voor android",
    "download outlook",
    "von meinem iphone gesendet",
)


@dataclass(frozen=True, slots=True)
class Reply:
    """What the reply reader takes from a message: the message and its first line."""

    message: MailMessage
    line: str | None  # None: nothing typed above the quoted history


def cut_quoted_html(markup: str) -> str:
    """The markup above the first mark of quoted history (the whole markup if none).

    One pass over the tags; each tag is looked at once (linear in the markup).
    """
    for tag in _TAG.finditer(markup):
        name, attrs = tag[1].lower(), tag[2].lower()
        if _is_quote_tag(name, attrs):
            return markup[: tag.start()]
    return markup


def _is_quote_tag(name: str, attrs: str) -> bool:
    if name == "blockquote":
        return True
    if name == "div" and (_QUOTE_IDS.search(attrs) or _BORDER_TOP.search(attrs)):
        return True
    if name == "hr" and "stopspelling" in attrs:
        return True
    found = _CLASS.search(attrs)
    return found is not None and not _QUOTE_CLASSES.isdisjoint(found[1].split())


def is_quote_marker(line: str, next_line: str = "") -> bool:
    """Whether ``line`` starts the quoted history (see the module docstring).

    ``next_line`` is the line below, for an "On ... wrote:" that was wrapped. Only the
    first :data:`MAX_MARKER_CHARS` of each are read, so the work per line is bounded.
    """
    raw = line[:MAX_MARKER_CHARS].strip()
    next_line = next_line[:MAX_MARKER_CHARS]
    if raw.startswith((">", "|")) or raw.rstrip() == "--" or raw.startswith("-- "):
        return True
    if len(raw) >= 8 and (set(raw) <= {"_"} or set(raw) <= {"-", "="}):
        return True
    text = fold(raw)
    if _SEPARATOR.match(text) or _HEADER_LINE.match(text):
        return True
    if text.startswith(_PHONE):
        return True
    if _WROTE_START.match(text):
        return bool(_WROTE.search(text) or _WROTE.search(fold(f"{raw} {next_line}")))
    return False


def first_line(text: str) -> str | None:
    """The first line of ``text`` that is not empty, above any quote marker; else None."""
    lines = text.splitlines()
    for idx, raw in enumerate(lines):
        line = squash(raw[: MAX_MARKER_CHARS * 4].replace("\u200b", "").replace("\ufeff", ""))
        if not line:
            continue
        following = lines[idx + 1] if idx + 1 < len(lines) else ""
        if is_quote_marker(line, following):
            return None
        return line[:MAX_LINE_CHARS]
    return None


def read_reply(data: bytes, max_bytes: int = 30 * 1024 * 1024) -> Reply:
    """Read ``data`` as a reply. Never raises: a message over ``max_bytes`` or over the
    reader's work budget is read for its headers only (and has no line)."""
    if len(data) > max_bytes:
        return Reply(read_headers(data), None)
    try:
        message = read_message(data, Budget(), cut_html=cut_quoted_html)
    except BudgetExceededError:
        return Reply(read_headers(data), None)
    plain = "\n".join(message.plain)
    body = plain if plain.strip() else "\n".join(message.html)
    return Reply(message, first_line(body))
