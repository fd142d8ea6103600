"""Inline forwards: the ``-----Original Message-----`` / ``Van: ... Onderwerp:`` block. Pure.

Outlook and other mail programs put the forwarded message's headers in the body
as labelled lines, in the language of the forwarder's mail program. The labels
and separators come from the layout tables (``forward:``), so they are data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from imi_mailwatch.alerts.fields import split_label
from imi_mailwatch.alerts.layouts import Layouts
from imi_mailwatch.alerts.text import fold, squash

_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}")
LOOKAHEAD = 8
MAX_FORWARDS = 5


@dataclass(frozen=True, slots=True)
class InlineForward:
    """One forwarded message found in a body."""

    from_value: str
    from_address: str | None
    subject: str
    sent: str
    text: str  # the forwarded body, after the header block
    line: int  # 1-based line of the block's first header


def _role(line: str, layouts: Layouts) -> str | None:
    split = split_label(line)
    if split is None:
        return None
    return layouts.forward_headers.get(fold(split[0]))


def may_hold_forward(text: str, layouts: Layouts) -> bool:
    """Whether ``text`` could hold an inline forward: one pass, no lines split.

    A forward is only read with its subject header, so a text in which no subject
    label occurs (folded, as the lines are compared) holds none. Ordinary mail is
    thereby spared the scan line by line.
    """
    labels = [label for label, role in layouts.forward_headers.items() if role == "subject"]
    if not labels:
        return False
    if text.isascii() and not any(" " in label for label in labels):
        folded = text.casefold()  # what fold() gives, but for runs of white space
    else:
        folded = fold(text)
    return any(label in folded for label in labels)


def find_inline_forwards(text: str, layouts: Layouts) -> list[InlineForward]:
    """The forwarded messages in ``text``, outermost first."""
    if not may_hold_forward(text, layouts):
        return []
    lines = text.splitlines()
    found: list[InlineForward] = []
    i = 0
    while i < len(lines) and len(found) < MAX_FORWARDS:
        start = _block_start(lines, i, layouts)
        if start is None:
            break
        block, end = _read_block(lines, start, layouts)
        if "from" in block and "subject" in block:
            value = block["from"]
            addresses = _ADDRESS.findall(value)
            found.append(
                InlineForward(
                    from_value=value,
                    from_address=addresses[-1].lower().rstrip(".") if addresses else None,
                    subject=block["subject"],
                    sent=block.get("sent", ""),
                    text="\n".join(lines[end:]),
                    line=start + 1,
                )
            )
        i = max(end, start + 1)
    return found


def _block_start(lines: list[str], begin: int, layouts: Layouts) -> int | None:
    separators = layouts.forward_separators
    for i in range(begin, len(lines)):
        stripped = lines[i].strip().lstrip(">").strip()
        if not stripped:
            continue
        folded = fold(stripped)
        if any(folded.startswith(sep) for sep in separators):
            for j in range(i + 1, min(i + 1 + LOOKAHEAD, len(lines))):
                if _role(lines[j], layouts) is not None:
                    return j
            continue
        if _role(stripped, layouts) == "from":
            window = lines[i + 1 : i + 1 + LOOKAHEAD]
            if any(_role(line, layouts) == "subject" for line in window):
                return i
    return None


def _read_block(lines: list[str], start: int, layouts: Layouts) -> tuple[dict[str, str], int]:
    block: dict[str, str] = {}
    j = start
    last: str | None = None
    while j < len(lines) and j - start < 2 * LOOKAHEAD:
        line = lines[j]
        stripped = line.strip().lstrip(">").strip()
        if not stripped:
            if block:
                break
            j += 1
            continue
        role = _role(stripped, layouts)
        if role is not None:
            split = split_label(stripped)
            value = squash(split[1]) if split else ""
            block.setdefault(role, value)
            last = role
        elif last is not None and line[:1] in " \t" and last in block:
            block[last] = squash(block[last] + " " + stripped)  # a wrapped header
        else:
            break
        j += 1
    return block, j
