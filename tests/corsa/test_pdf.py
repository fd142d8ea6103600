"""The alert PDF's cost: text measured once per word, the Unicode font parsed once per process."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fontTools import ttLib
from fpdf import FPDF
from fpdf.enums import MethodReturnValue
from fpdf.fonts import CoreFont, TTFFont

from imi_mailwatch import pdf as pdf_module
from imi_mailwatch.pdf import find_unicode_font, render_task_pdf, to_latin1

from .conftest import task_request

WORDS = "Informatieverzoek over een dienstverlener in de bouw: vergunning, adres en status "


def _eml(body: str) -> bytes:
    return (
        "From: no-reply@imi.example.eu\r\nSubject: IMI request 123456\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
    ).encode()


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The number of characters fpdf2 measures, counted over every font class."""
    counts = [0]
    for cls in (CoreFont, TTFFont):
        original = cls.get_text_width

        def counting(self: Any, text: str, *args: Any, _orig: Any = original) -> Any:
            counts[0] += len(text)
            return _orig(self, text, *args)

        monkeypatch.setattr(cls, "get_text_width", counting)
    yield counts


@pytest.fixture
def font_opens(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The font files fontTools opens by path."""
    opened: list[str] = []
    original = ttLib.TTFont.__init__

    def recording(self: Any, file: Any = None, *args: Any, **kwargs: Any) -> None:
        if isinstance(file, str | Path):
            opened.append(str(file))
        original(self, file, *args, **kwargs)

    monkeypatch.setattr(ttLib.TTFont, "__init__", recording)
    yield opened


def _unicode_font() -> Path:
    font = find_unicode_font()
    if font is None:
        pytest.skip("no Unicode TrueType font on this machine")
    return font


def test_long_text_is_measured_about_once_per_character(measured: list[int]) -> None:
    """Quadratic wrapping: each character is measured a bounded number of times, not per line."""
    body = "\n".join(WORDS * 6 for _ in range(40))
    task = dataclasses.replace(task_request("123456"), alert_eml=_eml(body))
    render_task_pdf(task, font=Path("/nonexistent/font.ttf"))
    assert measured[0] <= 3 * len(body)


def test_the_unicode_font_file_is_parsed_once_for_many_pdfs(font_opens: list[str]) -> None:
    """Font reload per task: the TrueType file is read once per process, not per PDF."""
    font = _unicode_font()
    for n in range(3):
        pdf = render_task_pdf(task_request(f"12345{n}"), font=font)
        assert b"FontFile2" in pdf
    assert font_opens.count(str(font)) <= 1


def test_pdf_with_unicode_text_shows_every_glyph(caplog: pytest.LogCaptureFixture) -> None:
    """The font made once covers Polish, Greek and Bulgarian names: no glyph goes missing."""
    font = _unicode_font()
    body = "Urząd Marszałkowski Województwa Śląskiego\nΥπουργείο Ανάπτυξης\nОбщина София – €"  # noqa: RUF001
    task = dataclasses.replace(task_request("123456"), alert_eml=_eml(body))
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        pdf = render_task_pdf(task, font=font)
    assert b"FontFile2" in pdf
    assert not [r for r in caplog.records if "missing" in r.getMessage()]


def test_text_in_other_scripts_uses_the_whole_font(caplog: pytest.LogCaptureFixture) -> None:
    """Characters outside the common subset still come from the whole font, as before."""
    font = _unicode_font()
    body = "Հայաստան ქართული עברית"
    task = dataclasses.replace(task_request("123456"), alert_eml=_eml(body))
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        pdf = render_task_pdf(task, font=font)
    assert b"FontFile2" in pdf
    assert not [r for r in caplog.records if "missing" in r.getMessage()]


@pytest.mark.parametrize(
    "text",
    [
        WORDS * 5,
        "kort",
        "",
        "x" * 400,
        "a  b   c " * 40,
        "Urząd Marszałkowski " * 12 + "https://webgate.ec.europa.eu/imi-net/" + "q" * 150,
        " leading space and a trailing one " * 6,
    ],
)
@pytest.mark.parametrize("size", [9.0, 14.0])
@pytest.mark.parametrize("family", ["body", "helvetica"])
def test_wrap_breaks_lines_where_fpdf_does(text: str, size: float, family: str) -> None:
    """Same layout rules: the word wrap breaks where fpdf2's multi_cell breaks."""
    pdf = FPDF(format="A4")
    if family == "body":
        pdf.add_font("body", "", str(_unicode_font()))
    else:
        text = to_latin1(text)
    pdf.add_page()
    pdf.set_font(family, size=size)
    expected = pdf.multi_cell(pdf.epw, 5, text or " ", dry_run=True, output=MethodReturnValue.LINES)
    assert pdf_module.wrap(pdf, text or " ", pdf.epw) == expected
