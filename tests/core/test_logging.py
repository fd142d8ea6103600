"""Log output: every line from every source (structlog, libraries, Python warnings) is one
line of the configured format, with no raw control character from the text it carries."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imi_mailwatch.logging_setup import escape_controls
from imi_mailwatch.pdf import find_unicode_font

RAW_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
HOSTILE = "Naam\x01 \x1b[2J\x1b]0;titel\x07 \x7f \x9b"  # terminal escapes, DEL, C1

SCRIPT = textwrap.dedent(
    """
    import logging, sys, warnings
    import structlog
    from imi_mailwatch.logging_setup import configure_logging
    from imi_mailwatch.pdf import PdfDocument, find_unicode_font

    configure_logging("info", sys.argv[1])
    text = sys.argv[2]
    doc = PdfDocument("Melding", [], font=find_unicode_font())
    doc.section("Tekst", [text])
    doc.output()  # fpdf2 logs the glyphs missing from the font, the text's among them
    warnings.warn("a warning about " + text)
    logging.getLogger("zeep").error("a library error about %s", text)
    structlog.get_logger().warning("test.event", value=text, items=[text])
    """
)


def run_logging(fmt: str) -> list[str]:
    """Every line the script writes on stdout and stderr."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, fmt, HOSTILE],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return (done.stdout.decode("utf-8") + done.stderr.decode("utf-8")).split("\n")


@pytest.mark.skipif(find_unicode_font() is None, reason="needs a TrueType font (fonts-dejavu-core)")
def test_library_warnings_are_json_lines_without_raw_control_characters() -> None:
    """fpdf's missing-glyph warning, a Python warning and a library error with control
    characters from alert text: each a JSON line, none with a raw control character."""
    lines = [line for line in run_logging("json") if line]
    assert len(lines) >= 4
    events = []
    for line in lines:
        assert not RAW_CONTROL.search(line), repr(line)
        events.append(json.loads(line))
    loggers = {e.get("logger") for e in events}
    assert {"fpdf.output", "py.warnings", "zeep"} <= loggers
    assert any(e["event"] == "test.event" for e in events)


@pytest.mark.skipif(find_unicode_font() is None, reason="needs a TrueType font (fonts-dejavu-core)")
def test_console_log_lines_carry_no_raw_control_characters() -> None:
    """The readable format escapes control characters too (no terminal escape gets through)."""
    lines = [line for line in run_logging("console") if line]
    assert len(lines) >= 4
    for line in lines:
        assert not RAW_CONTROL.search(line), repr(line)
    assert any("fpdf.output" in line for line in lines)
    assert any(r"\x1b" in line for line in lines)


@given(st.text())
def test_escaped_text_has_no_control_character(text: str) -> None:
    """escape_controls leaves no control character, whatever the text."""
    assert not RAW_CONTROL.search(escape_controls(text))


def test_cli_output_carries_no_raw_control_characters(tmp_path: Path) -> None:
    """What a command prints from outside text (an alert's subject, a file name) has its
    control characters escaped, on stdout and stderr alike."""
    eml = tmp_path / "melding.eml"
    eml.write_bytes(
        b"From: IMI <imi-notifications@ec.europa.eu>\r\n"
        b"Subject: IMI - Diensten - Verzoek 186001 \x1b[2J\x07 =?utf-8?q?=1B]0;x=07?=\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nVerzoek-ID: 186001\x01\r\n"
    )
    for name in ("melding.eml", "ontbreekt\x1b[31m\x9b.eml"):
        done = subprocess.run(
            [sys.executable, "-m", "imi_mailwatch", "calibrate", name],
            cwd=tmp_path,
            capture_output=True,
            timeout=120,
            check=False,
        )
        out = (done.stdout + done.stderr).decode("utf-8", "surrogateescape")
        assert out.strip()
        for line in out.split("\n"):
            assert not RAW_CONTROL.search(line), repr(line)
