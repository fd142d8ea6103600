"""The Authentication-Results header field read by its grammar (RFC 8601, section 2.2). Pure.

The value is read as it stands in the message: unfolded, never RFC 2047 decoded
(an encoded word is text like any other). Comments nest and may hold quoted pairs
(``\\)`` does not end a comment); quoted strings may hold ``;`` and quoted pairs.
Nothing inside a comment or a quoted string is ever read as a result or property.

The field is read whole or not at all: a value over :data:`MAX_AR_CHARS`, an
unterminated comment or quoted string, a result missing its ``=``, or one
``ptype.property`` given twice in a result raises :class:`AuthResError`. The caller
turns that into a failed check, never into a partial reading.

Two liberties, both of Exchange Online, which writes ``dmarc=pass action=none
header.from=...`` and no authserv-id: a bare ``keyword=value`` after a result is
read and ignored, and :func:`parse` reports a field without authserv-id as such
(``authserv_id=None``) rather than failing. Whether such a field is trusted is the
caller's decision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_AR_CHARS = 16_000
_WSP = " \t\r\n"
_KEYWORD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?")
_DIGITS = re.compile(r"[0-9]+")
_TSPECIALS = set('()<>@,;:\\"/[]?=')
_PVALUE_STOP = set(_WSP) | set('();"\\')
_FOLD = re.compile(r"\r?\n(?=[ \t])")


class AuthResError(ValueError):
    """An Authentication-Results value that does not follow the grammar (or is too long)."""


@dataclass(frozen=True, slots=True)
class MethodResult:
    """One resinfo: ``method=result [reason=...] ptype.property=value ...``."""

    method: str
    result: str
    props: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedResults:
    """One field: its authserv-id (None when it has none) and its results in order."""

    authserv_id: str | None
    results: tuple[MethodResult, ...]


def unfold(raw: str) -> str:
    """The value with folding line breaks removed (RFC 5322, 2.2.3); nothing else changes."""
    return _FOLD.sub("", raw).replace("\r", " ").replace("\n", " ")


def authserv_id_of(raw: str) -> str | None:
    """The authserv-id of a field, lower case, read without reading the rest; None if absent."""
    lx = _Lexer(unfold(raw)[: MAX_AR_CHARS + 1])
    try:
        return lx.authserv_id()
    except AuthResError:
        return None


def parse(raw: str) -> ParsedResults:
    """One Authentication-Results value, read whole. Raises :class:`AuthResError`."""
    text = unfold(raw)
    if len(text) > MAX_AR_CHARS:
        raise AuthResError(f"longer than {MAX_AR_CHARS} characters")
    lx = _Lexer(text)
    authserv_id = lx.authserv_id()
    results: list[MethodResult] = []
    if authserv_id is None:
        results.append(lx.resinfo())
    while True:
        lx.cfws()
        if lx.end():
            break
        lx.expect(";")
        lx.cfws()
        if lx.end():
            break  # a trailing ';'
        if not lx.no_result():
            results.append(lx.resinfo())
    return ParsedResults(authserv_id, tuple(results))


class _Lexer:
    """A cursor over one unfolded value, with the RFC 5322 / RFC 8601 lexical pieces."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def end(self) -> bool:
        return self.i >= len(self.s)

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            found = repr(self.peek()) if self.peek() else "the end"
            raise AuthResError(f"expected {ch!r} at {self.i}, found {found}")
        self.i += 1

    def cfws(self) -> bool:
        """Skip white space and comments (nested, with quoted pairs). False: nothing skipped."""
        start = self.i
        s = self.s
        while self.i < len(s):
            ch = s[self.i]
            if ch in _WSP:
                self.i += 1
            elif ch == "(":
                self._comment()
            else:
                break
        return self.i > start

    def _comment(self) -> None:
        s = self.s
        depth = 0
        while self.i < len(s):
            ch = s[self.i]
            if ch == "\\":
                self.i += 2
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    self.i += 1
                    return
            self.i += 1
        raise AuthResError("unterminated comment")

    def quoted(self) -> str:
        self.expect('"')
        out: list[str] = []
        s = self.s
        while self.i < len(s):
            ch = s[self.i]
            if ch == "\\":
                if self.i + 1 >= len(s):
                    break
                out.append(s[self.i + 1])
                self.i += 2
            elif ch == '"':
                self.i += 1
                return "".join(out)
            else:
                out.append(ch)
                self.i += 1
        raise AuthResError("unterminated quoted string")

    def keyword(self) -> str:
        m = _KEYWORD.match(self.s, self.i)
        if m is None:
            raise AuthResError(f"expected a keyword at {self.i}")
        self.i = m.end()
        return m.group().lower()

    def token(self) -> str:
        """An RFC 2045 token (the authserv-id, a reason)."""
        start = self.i
        s = self.s
        while self.i < len(s) and 32 < ord(s[self.i]) != 127 and s[self.i] not in _TSPECIALS:
            self.i += 1
        if self.i == start:
            raise AuthResError(f"expected a value at {start}")
        return s[start : self.i]

    def value(self) -> str:
        return self.quoted() if self.peek() == '"' else self.token()

    def pvalue(self) -> str:
        """A property value: a quoted string (with an optional ``@domain``), or a plain run.

        Lenient on purpose (IPv6 addresses, ``@domain``, empty values are seen in the
        wild); it never runs over white space, ``;``, a comment or a quote.
        """
        if self.peek() == '"':
            local = self.quoted()
            if self.peek() != "@":
                return local
            return local + self._run()
        return self._run()

    def _run(self) -> str:
        start = self.i
        s = self.s
        while self.i < len(s) and s[self.i] not in _PVALUE_STOP:
            self.i += 1
        return s[start : self.i]

    def authserv_id(self) -> str | None:
        """``[CFWS] authserv-id [CFWS version]``, or None (and nothing read) when it is absent."""
        self.cfws()
        start = self.i
        if self.peek() != '"' and _KEYWORD.match(self.s, self.i):
            self.keyword()
            self.cfws()
            if self.peek() in ("=", "/"):  # a result: the field names no authserv-id
                self.i = start
                return None
            self.i = start
        ident = self.value().lower()
        self.cfws()
        version = _DIGITS.match(self.s, self.i)
        if version is not None:
            self.i = version.end()
        return ident

    def no_result(self) -> bool:
        """``none`` standing alone (RFC 8601 no-result): read it and say so."""
        start = self.i
        m = _KEYWORD.match(self.s, self.i)
        if m is not None and m.group().lower() == "none":
            self.i = m.end()
            self.cfws()
            if self.end() or self.peek() == ";":
                return True
        self.i = start
        return False

    def resinfo(self) -> MethodResult:
        """``method[/version] = result`` then reason, extensions and properties up to ';'."""
        self.cfws()
        method = self.keyword()
        self.cfws()
        if self.peek() == "/":
            self.i += 1
            self.cfws()
            if _DIGITS.match(self.s, self.i) is None:
                raise AuthResError(f"expected a method version at {self.i}")
            self.keyword()
            self.cfws()
        self.expect("=")
        self.cfws()
        result = self.keyword()
        props: dict[str, str] = {}
        reason: str | None = None
        while True:
            self.cfws()
            if self.end() or self.peek() == ";":
                break
            name = self.keyword()
            self.cfws()
            if self.peek() == ".":
                self.i += 1
                self.cfws()
                name = f"{name}.{self.keyword()}"
                self.cfws()
                self.expect("=")
                self.cfws()
                value = self.pvalue()
                if name in props:
                    raise AuthResError(f"{method}: {name} given twice")
                props[name] = value.lower()
            else:
                self.expect("=")
                self.cfws()
                value = self.pvalue()
                if name == "reason":
                    if reason is not None:
                        raise AuthResError(f"{method}: reason given twice")
                    reason = value
        return MethodResult(method, result, props, reason)
