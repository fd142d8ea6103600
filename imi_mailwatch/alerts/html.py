"""HTML bodies to text lines, with beautifulsoup4. Pure: nothing executed, nothing fetched.

beautifulsoup4 (and soupsieve with it, tens of milliseconds) is imported at the first
conversion, not with this module: most mail has a plain-text part, and ``route`` or
``calibrate`` on such a message never needs it.

Table rows of two cells become ``Label: value`` lines (a value of several lines,
such as a list of service activities, follows on its own lines), paragraphs,
line breaks and list items become lines. Scripts, styles and embedded objects are
dropped unread; no URL is ever followed.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from imi_mailwatch.alerts.text import squash

if TYPE_CHECKING:
    from bs4 import Tag
    from bs4.element import PageElement

_DROP = [
    "script",
    "style",
    "head",
    "title",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
]
_BLOCKS = [
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote",
    "pre", "hr", "section", "article", "header", "footer", "dt", "dd", "address",
]  # fmt: skip
_TAGS = re.compile(r"<[^<>]{0,2000}>")
MAX_LABEL = 80


def html_to_text(markup: str) -> str:
    """The text of an HTML body as lines (see the module docstring)."""
    try:
        text = _convert(markup)
    except RecursionError:
        text = _TAGS.sub("\n", markup)
    lines = [squash(line) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


@functools.cache
def _parser() -> str:
    """lxml when it is installed (it is faster; it comes with zeep), else html.parser."""
    try:
        import lxml  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the installation
        return "html.parser"
    return "lxml"


def _convert(markup: str) -> str:
    from bs4 import BeautifulSoup  # here, not above: see the module docstring

    return _render(BeautifulSoup(markup, _parser()))


def _render(root: Tag) -> str:
    """The text of ``root`` in one pass over the tree, without changing it.

    Iterative (no recursion on deep markup) and linear: a table row is rendered
    from its cells and not entered again.
    """
    from bs4 import Tag
    from bs4.element import (
        CData,
        Comment,
        Declaration,
        Doctype,
        NavigableString,
        ProcessingInstruction,
    )

    skip = (Comment, CData, ProcessingInstruction, Declaration, Doctype)
    out: list[str] = []
    stack: list[PageElement | str] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, NavigableString):
            if not isinstance(node, skip):
                out.append(str(node))
            continue
        if isinstance(node, str):  # a line break queued for the end of a block
            out.append(node)
            continue
        if not isinstance(node, Tag) or node.name in _DROP:
            continue
        if node.name == "br":
            out.append("\n")
            continue
        if node.name == "tr":
            cells = [_cell_text(c) for c in node.find_all(["td", "th"], recursive=False)]
            out.append("\n" + _render_row([c for c in cells if c]) + "\n")
            continue
        if node.name in _BLOCKS or node.name == "li":
            out.append("\n• " if node.name == "li" else "\n")
            stack.append("\n")
        stack.extend(reversed(node.contents))
    return "".join(out)


def _cell_text(cell: object) -> str:
    from bs4 import Tag

    if not isinstance(cell, Tag):
        return ""
    lines = [squash(line) for line in _render(cell).splitlines()]
    return "\n".join(line for line in lines if line)


def _render_row(cells: list[str]) -> str:
    if len(cells) == 2 and "\n" not in cells[0] and len(cells[0]) <= MAX_LABEL:
        label = cells[0].rstrip(":").rstrip()
        values = cells[1].splitlines()
        if len(values) == 1:
            return f"{label}: {values[0]}"
        return f"{label}:\n" + "\n".join(values)
    return "\n".join(cells)
