"""The work budget of one message for the alert reader: counted, never timed. Pure.

Reading a message is bounded by size and counted work, so that the load of the
host never decides an outcome. One :class:`Budget` per message, attached messages
included, counts:

- the lines, in the raw bytes before the parser sees them (a cheap scan);
- the MIME parts and their nesting, as the standard library's feed parser builds
  them: it is fed in chunks and stops at the first part too many, before it has
  built millions of objects;
- the bytes of attached messages parsed again, the bytes of text decoded, and the
  HTML tags read into a tree (``<`` counted before the HTML parser runs).

Over the first three counts the message is judged on its headers alone
(:class:`BudgetExceededError`); over the others, what is beyond is not read and
a problem is noted (:mod:`imi_mailwatch.alerts.mime`).
"""

from __future__ import annotations

import re
from email.feedparser import BytesFeedParser
from email.message import Message
from email.policy import compat32
from itertools import islice

# Per message, attached messages included (the message is judged on its headers beyond):
MAX_LINES = 1_000_000  # a 25 MB base64 attachment is 340,000 lines
MAX_PARTS = 1_000  # every part and attached message; an alert has a handful
MAX_DEPTH = 40  # multiparts and attached messages, one inside the other
# Per message, attached messages included (what is beyond is not read):
MAX_ATTACHED_BYTES = 12_000_000  # attached .eml files, parsed again
MAX_TOTAL_TEXT_BYTES = 3_000_000  # text and HTML decoded
MAX_HTML_TAGS = 20_000  # HTML read into a tree (an alert has a few hundred tags)

_FEED_CHUNK = 64 * 1024  # the parser is fed this much at a time, so a bomb stops early


class BudgetExceededError(Exception):
    """A message needs more work than its :class:`Budget` allows (internal to the reader).

    ``str()`` is the reason, in English, without anything from the message.
    """


class Budget:
    """The work allowed for one message and the messages attached to it: counts only."""

    def __init__(self) -> None:
        self.lines = 0
        self.parts = 0
        self.attached_bytes = 0
        self.text_bytes = 0
        self.html_tags = 0

    def add_lines(self, data: bytes) -> None:
        """Count the lines the parser would make of ``data`` (CRLF, CR, LF), before it does."""
        crlf = data.count(b"\r\n")
        self.lines += data.count(b"\n") + data.count(b"\r") - crlf + 1
        if self.lines > MAX_LINES:
            raise BudgetExceededError(f"too many lines (more than {MAX_LINES:,})")

    def add_part(self, depth: int) -> None:
        """One more part (or attached message) at ``depth`` levels of nesting."""
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise BudgetExceededError(f"too many MIME parts (more than {MAX_PARTS:,})")
        if depth > MAX_DEPTH:
            raise BudgetExceededError(f"nesting too deep (more than {MAX_DEPTH} levels)")

    def take_html(self, markup: str) -> str:
        """``markup`` cut where the HTML tag budget runs out (the tags then counted)."""
        count = markup.count("<")
        room = MAX_HTML_TAGS - self.html_tags
        if count <= room:
            self.html_tags += count
            return markup
        self.html_tags = MAX_HTML_TAGS
        cut = next(islice(re.finditer("<", markup), room, None)).start()
        return markup[:cut]

    def take_attached(self, size: int) -> bool:
        """Whether an attached message of ``size`` bytes may still be parsed (then counted)."""
        if self.attached_bytes + size > MAX_ATTACHED_BYTES:
            return False
        self.attached_bytes += size
        return True


class _BoundedParser(BytesFeedParser):
    """The standard library's feed parser, counting each part before it is built.

    ``_new_message`` is the feed parser's own hook for a new part (unchanged since
    Python 3.2); tests/alerts/test_budget.py fails should it stop being called.
    """

    def __init__(self, budget: Budget) -> None:
        super().__init__(policy=compat32)
        self._budget = budget

    def _new_message(self) -> None:
        # _msgstack holds the parts open around the new one
        self._budget.add_part(len(self._msgstack))  # type: ignore[attr-defined]
        super()._new_message()  # type: ignore[misc]


def parse_bounded(data: bytes, budget: Budget) -> Message:
    """``data`` parsed into the standard library's tree, within ``budget``.

    Raises BudgetExceededError: before any parsing for the lines, and at the first
    part too many for the parts and their depth.
    """
    budget.add_lines(data)
    parser = _BoundedParser(budget)
    view = memoryview(data)
    for start in range(0, len(data), _FEED_CHUNK):
        parser.feed(bytes(view[start : start + _FEED_CHUNK]))
    return parser.close()
