"""YAML syntax errors in words a beheerder understands: what is wrong, and the usual cause.

PyYAML's messages (``found character '\\t' that cannot start any token``) differ
between the pure-Python parser and libyaml, and say nothing of the cause. This
module recognises both, points at the place where the mistake usually is (the
opening quote of an unclosed string, the key that lacks its colon), and gives a
Dutch message with a hint for the usual causes: a tab, a missing colon, wrong
indentation, an unclosed quote. In English (``lang="en"``, for ops) the parser's
own text is kept. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml


@dataclass(frozen=True, slots=True)
class SyntaxReport:
    line: int | None  # 1-based
    column: int | None  # 1-based
    message: str


_TAB = (
    "er staat een tab-teken. YAML accepteert alleen spaties om in te springen; vervang de "
    "tab door spaties (de meeste editors doen dat met de instelling 'tabs als spaties')"
)
_INDENT = (
    "de inspringing klopt niet: deze regel springt anders in dan de regels ervoor. Zet alles "
    "wat op hetzelfde niveau hoort even ver in, met spaties"
)
_COLON = (
    "hier ontbreekt een dubbele punt: achter elke sleutel hoort ':' en een spatie, "
    "zoals 'team: milieu'"
)
_UNEXPECTED_COLON = (
    "hier staat een dubbele punt die YAML niet verwacht. Meestal ontbreekt er een dubbele punt "
    "op een regel erboven, springt deze regel verkeerd in, of staat er in een tekst ': '; zet "
    "zo'n tekst tussen aanhalingstekens"
)
_QUOTE = (
    "een aanhalingsteken wordt hier geopend maar niet gesloten. Sluit de tekst af met "
    "hetzelfde teken (\" of ') op dezelfde regel"
)
_ESCAPE = (
    "tussen dubbele aanhalingstekens heeft '\\' een speciale betekenis. Gebruik enkele "
    "aanhalingstekens ('...') of schrijf '\\\\'"
)
_FLOW = "een lijst of blok tussen haken ([ ] of { }) wordt niet (goed) gesloten"
_BAD_START = (
    "het teken {char} mag niet aan het begin van een waarde staan. Zet de waarde tussen "
    "aanhalingstekens"
)

# (pattern on the parser's problem text, pattern on its context or None, message, use the
# context's mark: where the mistake usually is)
_RULES: tuple[tuple[re.Pattern[str], re.Pattern[str] | None, str, bool], ...] = (
    (re.compile(r"tab character"), None, _TAB, False),
    (re.compile(r"could not find expected ':'"), None, _COLON, True),
    (re.compile(r"mapping values are not allowed"), None, _UNEXPECTED_COLON, False),
    (re.compile(r"unexpected end of stream"), re.compile(r"quoted scalar"), _QUOTE, True),
    (re.compile(r"unknown escape character"), None, _ESCAPE, False),
    (re.compile(r"expected ',' or|expected ',' or"), None, _FLOW, True),
    (re.compile(r"block end|expected key|expected '-' indicator"), None, _INDENT, False),
)


def describe(exc: yaml.MarkedYAMLError, text: str, lang: str = "en") -> SyntaxReport:
    """Where the syntax error is and what it means (Dutch for ``lang="nl"``)."""
    problem = exc.problem or str(exc)
    context = exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    if lang != "nl":
        return _report(mark, f"YAML syntax error: {problem}")
    char = _char_at(text, mark)
    if "cannot start any token" in problem:
        if char == "\t" or "'\\t'" in problem:
            return _report(mark, _nl(_TAB))
        shown = f"'{char}'" if char and char.isprintable() else "hier"
        return _report(mark, _nl(_BAD_START.format(char=shown)))
    for problem_re, context_re, message, at_context in _RULES:
        if problem_re.search(problem) and (context_re is None or context_re.search(context)):
            chosen = exc.context_mark if at_context and exc.context_mark is not None else mark
            tab = message is _UNEXPECTED_COLON and _has_tab(text, mark)
            return _report(chosen, _nl(_TAB if tab else message))
    return _report(mark, f"YAML-syntaxfout: YAML kan dit niet lezen (technisch: {problem})")


def _nl(message: str) -> str:
    return f"YAML-syntaxfout: {message}"


def _report(mark: yaml.Mark | None, message: str) -> SyntaxReport:
    if mark is None:
        return SyntaxReport(None, None, message)
    return SyntaxReport(mark.line + 1, mark.column + 1, message)


def _line(text: str, mark: yaml.Mark | None) -> str:
    if mark is None:
        return ""
    lines = text.splitlines()
    return lines[mark.line] if 0 <= mark.line < len(lines) else ""


def _char_at(text: str, mark: yaml.Mark | None) -> str:
    line = _line(text, mark)
    return line[mark.column] if mark is not None and 0 <= mark.column < len(line) else ""


def _has_tab(text: str, mark: yaml.Mark | None) -> bool:
    return "\t" in _line(text, mark)
