"""Regular expressions of rules, in a linear-time engine (RE2).

A rule's ``activiteit_regex`` is written by a beheerder and matched against text
from a mail anyone can send. Python's backtracking ``re`` can take exponential
time on patterns such as ``^(\\w+\\s?)+$``, so rules use RE2 (google-re2): the
time to match grows with the length of the text, whatever the pattern. RE2 does
not offer what needs backtracking (backreferences such as ``\\1``, lookaround
such as ``(?=...)``); such a pattern is refused when the rules are loaded, with
a Dutch reason.

Linear is not free: the work per character grows with the number of pattern
positions that can be active at once. ``(.*a){25}`` costs about 5 ms on 10,000
characters, ``(.*a){100}`` about 20 ms; the alert reader cuts every activity at
300 characters, which bounds what one rule can cost (bench/bench_rules.py).

RE2's ``\\w``, ``\\d`` and ``\\b`` are ASCII-only. Activities are compared without
accents (see :func:`~imi_mailwatch.rules.matching.normalize`), so this rarely
matters; ``\\pL`` matches any letter.
"""

from __future__ import annotations

from typing import Protocol

import re2


class Match(Protocol):
    """The part of an RE2 match that rules use: byte offsets into the searched text."""

    def span(self) -> tuple[int, int]: ...


class Pattern(Protocol):
    """The part of a compiled RE2 pattern that rules use."""

    def search(self, text: bytes) -> Match | None: ...


# RE2's messages (the part before ':'), in Dutch, for beheerders
_ERRORS_NL = {
    "missing )": "er ontbreekt een ')'",
    "unexpected )": "er staat een ')' te veel",
    "missing ]": "er ontbreekt een ']'",
    "no argument for repetition operator": "er staat niets vóór *, + of ?",
    "bad repetition operator": "twee herhalingstekens achter elkaar",
    "invalid repetition size": "het getal tussen {} is te groot (hoogstens 1000)",
    "invalid character class range": "ongeldig bereik tussen [ ]",
    "invalid character class": "ongeldige tekenklasse tussen [ ]",
    "invalid escape sequence": "onbekende code na een \\ (verwijzingen terug zoals \\1 kunnen "
    "niet)",
    "trailing \\": "er staat een \\ aan het eind",
    "invalid named capture group": "ongeldige naam van een groep",
    "invalid perl operator": "deze constructie kan niet (vooruit- of terugkijken zoals (?=, "
    "(?!, (?<= en verwijzingen zoals (?P=naam) worden niet ondersteund)",
    "invalid UTF-8": "ongeldige tekens",
    "pattern too large": "de expressie is te groot",
}


class RegexError(ValueError):
    """A pattern RE2 refuses; the message is Dutch and names the offending part."""


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # the error is raised and reported; no stray stderr lines
    return options


_OPTIONS = _options()


def compile_pattern(pattern: str) -> Pattern:
    """Compile for case-insensitive search in UTF-8 bytes. RegexError (Dutch) when refused.

    The compiled pattern searches bytes: activities are encoded once per alert
    (``Facts.encoded``), which spares the wrapper an encoding per rule and activity.
    """
    try:
        compiled: Pattern = re2.compile(pattern.encode("utf-8", "surrogatepass"), _OPTIONS)
    except re2.error as exc:
        raw = exc.args[0] if exc.args else b""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        kind, _, where = text.partition(": ")
        what = next((nl for en, nl in _ERRORS_NL.items() if kind.startswith(en)), kind)
        raise RegexError(f"ongeldige reguliere expressie: {what}{_place(pattern, where)}") from None
    return compiled


def _place(pattern: str, fragment: str) -> str:
    """Where in the pattern RE2 stopped: ``(bij teken 4)``, with the fragment if it is short."""
    pos = pattern.find(fragment) if fragment else -1
    if pos < 0:
        return f" (bij '{fragment}')" if fragment else ""
    if fragment == pattern[pos:]:
        return f" (bij teken {pos + 1})"
    return f" (bij teken {pos + 1}: '{fragment}')"
