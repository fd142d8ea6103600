"""Small text helpers shared by the alert reader. Pure."""

from __future__ import annotations

import re
import unicodedata

_COMBINING = re.compile("[\u0300-\u036f]")
_SPACE = re.compile(r"\s+")
BULLETS = "•·▪◦‣∙●○■□\u2013\u2014-*"  # en and em dash too


def fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive form used for every comparison."""
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return _SPACE.sub(" ", text.casefold()).strip()


def squash(text: str) -> str:
    """Collapse runs of white space (header folding, non-breaking spaces) to one space."""
    return _SPACE.sub(" ", text.replace("\xa0", " ")).strip()


def strip_bullet(text: str) -> str:
    """A list item without its bullet: '• Bouw' and '- Bouw' give 'Bouw'."""
    text = text.strip()
    while text and text[0] in BULLETS and (len(text) == 1 or text[1] in " \t\xa0"):
        text = text[1:].strip()
    return text


def is_bullet(text: str) -> bool:
    """Whether a line starts with a bullet followed by a space."""
    text = text.strip()
    return len(text) > 1 and text[0] in BULLETS and text[1] in " \t\xa0"
