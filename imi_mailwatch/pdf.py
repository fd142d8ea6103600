"""A readable PDF of an IMI alert, attached to the task next to the original .eml.

Pure apart from reading a font file: it takes the task and returns bytes.

Fonts: fpdf2's core fonts cover Latin-1 only, and requesting authorities write
names such as "Urząd Marszałkowski Województwa Śląskiego". The renderer uses a
Unicode TrueType font when one is found (``task_sink.pdf_font`` in the
configuration, else DejaVu Sans, Liberation Sans or Noto Sans in the usual
system places, else matplotlib's bundled DejaVu Sans when that is installed).
Without one it falls back to the core font Helvetica and transliterates what
Latin-1 cannot show (ą -> a, ł -> l, Ś -> S; other scripts become "?"), so a
PDF is always produced; the .eml beside it keeps the exact text.

Cost: the TrueType font is read once per process and cut down to the scripts of
the EU's official languages (Latin, Greek, Cyrillic) with their punctuation; a
PDF whose text needs another script embeds from the whole font as before. Lines
are wrapped here, by words, measuring each distinct character once: fpdf2's own
line breaker re-measures the whole line for every character it adds.
"""

from __future__ import annotations

import email
import email.policy
import io
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage, Message
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imi_mailwatch.model import TaskRequest

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/noto/NotoSans-Regular.ttf",
)

# letters that NFKD does not decompose into a Latin-1 base letter
_TRANSLIT = str.maketrans(
    {
        "\u0142": "l",
        "\u0141": "L",
        "\u0111": "d",
        "\u0110": "D",
        "\u0127": "h",
        "\u0126": "H",
        "\u0131": "i",
        "\u0140": "l",
        "\u013f": "L",
        "\u0153": "oe",
        "\u0152": "OE",
        "\u014b": "n",
        "\u014a": "N",
        "\u017f": "s",
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": ",",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u20ac": "EUR",
        "\u2022": "*",
        "\u00a0": " ",
    }
)


# Basic Latin, Latin-1, Latin Extended-A and -B, Greek, Cyrillic (Bulgarian), the
# common punctuation, the euro, trade mark and minus signs: what the EU's
# official languages are written with. About 840 of DejaVu Sans' 6,250 glyphs.
_COMMON_RANGES: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),
    (0x00A0, 0x024F),
    (0x0370, 0x03FF),
    (0x0400, 0x045F),
    (0x2010, 0x2027),
    (0x2030, 0x203A),
    (0x20AC, 0x20AC),
    (0x2122, 0x2122),
    (0x2212, 0x2212),
)
# tables fpdf2 drops from an embedded font anyway
_DROP_TABLES = (
    "FFTM",
    "GDEF",
    "GPOS",
    "GSUB",
    "MATH",
    "hdmx",
    "meta",
    "sbix",
    "CBDT",
    "CBLC",
    "EBDT",
    "EBLC",
    "EBSC",
    "SVG ",
    "CPAL",
    "COLR",
)


@dataclass(frozen=True)
class CommonFont:
    """A TrueType font cut down, once per process, to the common scripts.

    ``data`` is the cut-down font file; ``covers`` the characters it shows;
    ``source`` the whole font, for text in other scripts.
    """

    source: Path
    data: bytes
    covers: frozenset[int]


FontChoice = Path | CommonFont

_font_lock = threading.Lock()


def common_font(path: Path) -> CommonFont | None:
    """The cut-down font made from ``path`` (made on first use, then kept)."""
    with _font_lock:
        return _common_font(path.resolve())


@lru_cache(maxsize=4)
def _common_font(path: Path) -> CommonFont | None:
    from fontTools import subset, ttLib

    try:
        font = ttLib.TTFont(str(path), recalcTimestamp=False, lazy=True)
        covers = frozenset(font.getBestCmap() or {}) & frozenset(
            c for lo, hi in _COMMON_RANGES for c in range(lo, hi + 1)
        )
        options = subset.Options(
            notdef_outline=True, recommended_glyphs=True, name_IDs=["*"], name_languages=["*"]
        )
        options.drop_tables += list(_DROP_TABLES)
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=covers)
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
    except Exception:  # an unusual font: embed from the whole file, as fpdf2 does
        return None
    return CommonFont(source=path, data=out.getvalue(), covers=covers)


def find_unicode_font(configured: str | None = None) -> Path | None:
    """The TrueType font to use: the configured one, else the first known one present."""
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_file() else None
    for candidate in FONT_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    spec = find_spec("matplotlib")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if bundled.is_file():
            return bundled
    return None


def to_latin1(text: str) -> str:
    """Text reduced to what Latin-1 can show: accents kept where Latin-1 has them."""
    out: list[str] = []
    for ch in text.translate(_TRANSLIT):
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base and all(ord(c) < 256 for c in base) else "?")
    return "".join(out)


def alert_text(eml: bytes) -> list[str]:
    """The readable lines of an alert: its text/plain part (or HTML stripped of tags)."""
    try:
        msg = email.message_from_bytes(eml, policy=email.policy.default)
    except Exception:
        return eml.decode("utf-8", "replace").splitlines()
    body = _body(msg, "plain")
    if body is None:
        html = _body(msg, "html")
        if html is not None:
            from bs4 import BeautifulSoup

            body = BeautifulSoup(html, "html.parser").get_text("\n")
    return [line.rstrip() for line in (body or "").splitlines()]


def _body(msg: Message, subtype: str) -> str | None:
    if isinstance(msg, EmailMessage):
        try:
            part = msg.get_body(preferencelist=(subtype,))
            if part is not None:
                content = part.get_content()
                return content if isinstance(content, str) else None
        except (KeyError, LookupError, ValueError, IndexError):
            pass
    for sub in msg.walk():
        if sub.get_content_type() == f"text/{subtype}":
            payload = sub.get_payload(decode=True)
            if isinstance(payload, bytes):
                charset = sub.get_content_charset() or "utf-8"
                try:
                    return payload.decode(charset, "replace")
                except LookupError:
                    return payload.decode("utf-8", "replace")
    return None


def _d(value: date | None) -> str:
    return value.strftime("%d-%m-%Y") if value else "onbekend"


def header_lines(task: TaskRequest) -> list[tuple[str, str]]:
    """The header block: label and value, in Dutch (the behandelaar reads it)."""
    alert = task.alert
    rows = [
        ("IMI-verzoek", task.request_id),
        ("Soort melding", alert.alert_type.value),
        ("Ontvangen", _d(task.received_on)),
        ("Antwoorddatum", _d(task.deadline)),
        ("Team", f"{task.team.name} ({task.team.org_unit})"),
    ]
    if alert.requesting_authority:
        rows.append(("Verzoekende instantie", alert.requesting_authority))
    if alert.member_state:
        rows.append(("Lidstaat", alert.member_state))
    if alert.legislative_area:
        rows.append(("Wetgevingsgebied", alert.legislative_area))
    if alert.service_activities:
        rows.append(("Dienstverlening", "; ".join(alert.service_activities)))
    return rows


def render_task_pdf(task: TaskRequest, *, font: str | Path | None = None) -> bytes:
    """The alert as an A4 PDF: title, key fields, the memo, then the alert text.

    Rendered where :func:`set_renderer` says (the daemon: a helper process,
    ``imi_mailwatch.pdf_child``), else here.
    """
    job = task_job(task, font=font)
    render = _where.get("render")
    return render(job) if render is not None else render_job(job)


def task_job(task: TaskRequest, *, font: str | Path | None = None) -> dict[str, Any]:
    """What the PDF of ``task`` is made of, as JSON values."""
    return {
        "title": f"IMI-verzoek {task.request_id}",
        "header": header_lines(task),
        "memo": task.memo,
        "lines": alert_text(task.alert_eml),
        "font": None if font is None else str(font),
    }


def render_job(job: dict[str, Any]) -> bytes:
    """The PDF of a :func:`task_job`."""
    title, memo = str(job["title"]), str(job["memo"])
    header = [(str(k), str(v)) for k, v in job["header"]]
    lines = [str(line) for line in job["lines"]]
    texts = [title, memo, *lines, *(f"{k}: {v}" for k, v in header)]
    doc = PdfDocument(title, header, font=resolve_font(job.get("font"), texts))
    doc.section("Memo", [memo], size=10, height=5)
    doc.section("Melding", lines)
    return doc.output()


_where: dict[str, Callable[[dict[str, Any]], bytes]] = {}


def set_renderer(renderer: Callable[[dict[str, Any]], bytes] | None) -> None:
    """Where :func:`render_task_pdf` renders (None: in this process)."""
    if renderer is None:
        _where.pop("render", None)
    else:
        _where["render"] = renderer


def resolve_font(font: str | Path | None, texts: Iterable[str]) -> FontChoice | None:
    """The Unicode font to embed, or None for the core font.

    The configured font file, else one found on the system, but only when ``texts``
    hold characters outside Latin-1: the core font shows Latin-1 exactly, and
    loading and subsetting a TrueType font costs about ten times the rest of the
    PDF (BENCHMARKS.md, "Load"). The font cut down to the common scripts when it
    shows all of ``texts``, else the whole font file.
    """
    needed = {ord(ch) for text in texts for ch in text}
    if all(c < 0x100 for c in needed):
        return None
    path = Path(font) if font is not None else find_unicode_font()
    if path is None or not path.is_file():
        return None
    common = common_font(path)
    return common if common is not None and needed <= common.covers else path


class PdfDocument:
    """An A4 document: a title, a block of ``label: value`` lines, then sections.

    Shared by the alert PDF and the history PDF, so both look alike and degrade
    alike without a Unicode font.
    """

    def __init__(
        self,
        title: str,
        header: Iterable[tuple[str, str]],
        *,
        font: FontChoice | None,
        created: datetime | None = None,
    ) -> None:
        from fpdf import FPDF  # imported here: fpdf takes a quarter second to import

        pdf = FPDF(format="A4")
        pdf.set_creator("imi-mailwatch")
        pdf.set_auto_page_break(auto=True, margin=15)
        if isinstance(font, CommonFont):
            _add_common_font(pdf, font)
            self.family, self.clean = "body", _identity
        elif font is not None:
            pdf.add_font("body", "", str(font))
            self.family, self.clean = "body", _identity
        else:
            self.family, self.clean = "helvetica", to_latin1
        pdf.set_title(self.clean(title))
        if created is not None:
            pdf.set_creation_date(created)
        pdf.add_page()
        self.pdf = pdf
        self.width = pdf.epw
        self.lines([title], size=14, height=8)
        pdf.ln(2)
        self.lines([f"{label}: {value}" for label, value in header], size=10, height=5)

    def lines(self, lines: Iterable[str], *, size: float, height: float) -> None:
        pdf = self.pdf
        pdf.set_font(self.family, size=size)
        widths: dict[str, float] = {}
        for line in lines:
            text = self.clean(line) or " "
            rows = wrap(pdf, text, self.width, widths)
            if rows is None:  # soft hyphens, line breaks: fpdf2 knows their rules
                pdf.multi_cell(self.width, height, text, align="L", new_x="LMARGIN", new_y="NEXT")
                continue
            for row in rows:
                pdf.cell(self.width, height, row, new_x="LMARGIN", new_y="NEXT")

    def section(
        self, heading: str, lines: Iterable[str], *, size: float = 9, height: float = 4.5
    ) -> None:
        self.pdf.ln(3)
        self.lines([heading], size=11, height=6)
        self.lines(lines, size=size, height=height)

    def note(self, text: str) -> None:
        self.pdf.ln(3)
        self.lines([text], size=8, height=4)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _identity(text: str) -> str:
    return text


def _add_common_font(pdf: FPDF, font: CommonFont) -> None:
    """Register the cut-down font as "body" from memory (add_font wants a file)."""
    from fpdf.fonts import TTFFont

    try:
        pdf.fonts["body"] = TTFFont(pdf, io.BytesIO(font.data), "body", "")  # type: ignore[arg-type]
    except (TypeError, ValueError):  # pragma: no cover - an fpdf2 that changed TTFFont
        pdf.add_font("body", "", str(font.source))


# fpdf2's BREAKING_SPACE_SYMBOLS (not imported: fpdf loads slowly, and only for a PDF)
_BREAKING_SPACES = (
    " \t\u200b\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000"
)
_SPECIAL = frozenset("\n\f\u00ad\u00a0")
_TOLERANCE = 1e-9  # fpdf2's FloatTolerance


def wrap(
    pdf: FPDF, text: str, width: float, widths: dict[str, float] | None = None
) -> list[str] | None:
    """``text`` broken into rows that fit a cell ``width`` wide, as fpdf2's multi_cell does.

    A row ends at the last space that fits (the space is dropped); a word longer
    than a row is cut where it overflows. Each distinct character is measured once
    (``widths`` keeps them for the current font and size). None when ``text``
    holds characters whose rules only fpdf2 applies (line breaks, soft hyphens,
    no-break spaces).
    """
    if any(ch in _SPECIAL for ch in text):
        return None
    measured = {} if widths is None else widths
    room = width - 2 * pdf.c_margin
    rows: list[str] = []
    start, i, used, space = 0, 0, 0.0, -1
    while i < len(text):
        ch = text[i]
        w = measured.get(ch)
        if w is None:
            w = measured[ch] = pdf.get_string_width(ch)
        if used + w - room > _TOLERANCE and i > start:
            if ch in _BREAKING_SPACES:  # the overflowing space is dropped
                rows.append(text[start:i])
                start = i = i + 1
            elif space >= 0:  # back to the last space that fitted
                rows.append(text[start:space])
                start = i = space + 1
            else:  # one word wider than the row
                rows.append(text[start:i])
                start = i
            used, space = 0.0, -1
            continue
        if ch in _BREAKING_SPACES:
            space = i
        used += w
        i += 1
    if start < len(text) or not rows:
        rows.append(text[start:])
    return rows
