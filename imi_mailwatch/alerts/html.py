"""HTML bodies to text lines, with beautifulsoup4. Pure: nothing executed, nothing fetched.

Table rows of two cells become ``Label: value`` lines (a value of several lines,
such as a list of service activities, follows on its own lines), paragraphs,
line breaks and list items become lines. Scripts, styles and embedded objects are
dropped unread; no URL is ever followed.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

from imi_mailwatch.alerts.text import squash

try:  # lxml is faster; it comes with zeep. html.parser is the fallback.
    import lxml  # noqa: F401

    _PARSER = "lxml"
except ImportError:  # pragma: no cover - depends on the installation
    _PARSER = "html.parser"

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


def _convert(markup: str) -> str:
    soup = BeautifulSoup(markup, _PARSER)
    for tag in soup(_DROP):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for item in soup.find_all("li"):
        item.insert(0, "• ")
        item.append("\n")
    for block in soup.find_all(_BLOCKS):
        block.insert(0, "\n")
        block.append("\n")
    for row in reversed(soup.find_all("tr")):
        if not isinstance(row, Tag):
            continue
        cells = [_cell_text(c) for c in row.find_all(["td", "th"], recursive=False)]
        row.replace_with("\n" + _render_row([c for c in cells if c]) + "\n")
    return str(soup.get_text(""))


def _cell_text(cell: object) -> str:
    if not isinstance(cell, Tag):
        return ""
    lines = [squash(line) for line in cell.get_text("").splitlines()]
    return "\n".join(line for line in lines if line)


def _render_row(cells: list[str]) -> str:
    if len(cells) == 2 and "\n" not in cells[0] and len(cells[0]) <= MAX_LABEL:
        label = cells[0].rstrip(":").rstrip()
        values = cells[1].splitlines()
        if len(values) == 1:
            return f"{label}: {values[0]}"
        return f"{label}:\n" + "\n".join(values)
    return "\n".join(cells)
