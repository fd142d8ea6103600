"""The beheerders' own texts: Jinja2 templates in ``teksten/`` beside the rules.

Each text the product lets the beheerders write is a :class:`TextSpec`: a file
name, what it is for, and the placeholders it may use. The product ships a
default for each (``imi_mailwatch/teksten/``); a file of the same name in the
configured folder (``texts.path``, default ``teksten`` beside the configuration)
replaces it.

Templates run in Jinja2's sandbox with ``StrictUndefined``: a template cannot
reach Python internals, and a placeholder that does not exist is an error, not
an empty hole. :meth:`TextBook.check` finds, per file, syntax errors and unknown
placeholders (with the line) and renders each template once with sample values;
the messages are Dutch.

A broken template never stops a mail or a task: :meth:`TextBook.render` then uses
the shipped default and tells the beheerders once (``on_broken``), like broken
rules. The folder is looked at again when a file in it changes (live reload).

The folder also holds ``beheerders.yaml`` (``imi_mailwatch.contacts``): every
text gets those names and contact details as ``beheerders`` and
``beheerders_lijst``, whatever the caller passed.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import jinja2
import jinja2.nodes
import structlog
from jinja2 import meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from imi_mailwatch.config import Beheerder
from imi_mailwatch.contacts import FILENAME as CONTACTS_FILE
from imi_mailwatch.contacts import Contacts, contact_context, load_contacts
from imi_mailwatch.texts_beheerders import MAIL_BLOCKS, MAIL_TEXTS
from imi_mailwatch.texts_desk import DESK_TEXTS
from imi_mailwatch.texts_letters import (
    LETTER_BLOCKS,
    LETTER_COMMON,
    LETTERS,
    LIST_NL,
    SAMPLE_BEHEERDER,
)

log = structlog.get_logger(__name__)

_T = TypeVar("_T")

DEFAULTS = Path(__file__).resolve().parent / "teksten"
MAX_TEMPLATE_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class TextSpec:
    """One text the beheerders may write: its file, purpose, placeholders and sample."""

    name: str
    filename: str
    purpose: str
    placeholders: Mapping[str, str]  # name -> what it holds (Dutch)
    sample: Mapping[str, Any]
    one_paragraph: bool = False  # line breaks in the file are only for reading
    blocks: tuple[str, ...] = ()  # a letter: the {% block %}s it must define


SPECS: dict[str, TextSpec] = {
    "memo": TextSpec(
        name="memo",
        filename="memo.j2",
        purpose="het standaardmemo van de Corsa-taak",
        placeholders={
            "vakgebied": "het vakgebied van de regel die paste",
            "beheerders": "namen en contactgegevens van de IMI-beheerders",
            "dagen": "kalenderdagen van vandaag tot de antwoorddatum; leeg (none) als die "
            "onbekend is",
            "antwoorddatum": 'de antwoorddatum voluit ("vrijdag 27 november 2026"), of "onbekend"',
            "verzoek": "het nummer van het IMI-verzoek",
            "team": "de naam van het team dat de taak krijgt",
            "beheerders_lijst": LIST_NL,
        },
        sample={
            "vakgebied": "milieu en afval",
            "beheerders": "A. Voorbeeld (eerste aanspreekpunt, imi@voorbeeld.nl)",
            "dagen": 11,
            "antwoorddatum": "vrijdag 27 november 2026",
            "verzoek": "184523",
            "team": "Milieu, afval en bodem (VTH)",
            "beheerders_lijst": [SAMPLE_BEHEERDER],
        },
        one_paragraph=True,
    ),
}

PER_REQUEST = ("memo", *LETTERS)  # the texts about one request (teksten voorbeeld --verzoek)


def _spec(
    name: str,
    filename: str,
    purpose: str,
    fields: Mapping[str, tuple[str, Any]],
    blocks: tuple[str, ...],
) -> TextSpec:
    """A text whose placeholders are given as name -> (what it holds, sample value)."""
    return TextSpec(
        name=name,
        filename=filename,
        purpose=purpose,
        placeholders={k: v[0] for k, v in fields.items()},
        sample={k: v[1] for k, v in fields.items()},
        blocks=blocks,
    )


for _name, (_file, _purpose, _own) in LETTERS.items():
    SPECS[_name] = _spec(_name, _file, _purpose, {**LETTER_COMMON, **_own}, LETTER_BLOCKS)
for _name, (_file, _purpose, _own) in MAIL_TEXTS.items():
    _fields = {**_own, "beheerders_lijst": LETTER_COMMON["beheerders_lijst"]}
    SPECS[_name] = _spec(_name, _file, _purpose, _fields, MAIL_BLOCKS)
for _name, (_file, _purpose, _blocks, _own) in DESK_TEXTS.items():
    _fields = {**_own, "beheerders_lijst": LETTER_COMMON["beheerders_lijst"]}
    SPECS[_name] = _spec(_name, _file, _purpose, _fields, _blocks)


@dataclass(frozen=True, slots=True)
class TextProblem:
    """One problem in a template file, in Dutch, with its line when known."""

    filename: str
    line: int | None
    message: str

    def render(self) -> str:
        where = f"{self.filename}:{self.line}" if self.line else self.filename
        return f"{where}: {self.message}"


@dataclass(slots=True)
class _Loaded:
    template: jinja2.Template | None
    problems: list[TextProblem] = field(default_factory=list)


def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text: mails and Corsa memos, not HTML
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _line_of(source: str, name: str) -> int | None:
    """The first line that uses ``name`` inside {{ }} or {% %} (else that names it at all)."""
    word = re.compile(rf"\b{re.escape(name)}\b")
    lines = source.splitlines()
    for number, line in enumerate(lines, 1):
        if any(word.search(m) for m in re.findall(r"\{\{.*?\}\}|\{%.*?%\}", line)):
            return number
    return next((n for n, line in enumerate(lines, 1) if word.search(line)), None)


def compile_text(spec: TextSpec, source: str, filename: str) -> _Loaded:
    """Compile one template and check it: syntax, unknown placeholders, a sample render."""
    env = _environment()
    try:
        parsed = env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        return _Loaded(None, [TextProblem(filename, exc.lineno, _syntax_nl(exc))])
    unknown = sorted(meta.find_undeclared_variables(parsed) - set(spec.placeholders))
    problems = [
        TextProblem(
            filename,
            _line_of(source, name),
            f"onbekend invulveld '{name}'; dit sjabloon kent: {', '.join(spec.placeholders)}",
        )
        for name in unknown
    ]
    defined = {b.name for b in parsed.find_all(jinja2.nodes.Block)}
    problems += [
        TextProblem(filename, None, f"het blok '{name}' ontbreekt ({{% block {name} %}})")
        for name in spec.blocks
        if name not in defined
    ]
    if problems:
        return _Loaded(None, problems)
    template = env.from_string(source)
    try:
        if spec.blocks:
            render_blocks(template, spec, spec.sample)
        else:
            template.render(**spec.sample)
    except jinja2.TemplateError as exc:  # sandbox refusals, undefined attributes, ...
        return _Loaded(None, [TextProblem(filename, _error_line(exc), _render_nl(exc))])
    except (TypeError, ValueError, ArithmeticError) as exc:
        return _Loaded(None, [TextProblem(filename, None, _render_nl(exc))])
    return _Loaded(template)


def render_blocks(
    template: jinja2.Template, spec: TextSpec, context: Mapping[str, Any]
) -> dict[str, str]:
    """Each block of a letter template, filled in."""
    ctx = template.new_context(dict(context))
    return {name: "".join(template.blocks[name](ctx)) for name in spec.blocks}


def _syntax_nl(exc: jinja2.TemplateSyntaxError) -> str:
    text = exc.message or ""
    if "unexpected end of template" in text.lower():
        why = "het sjabloon houdt op terwijl er nog een blok open is ({% if %} zonder {% endif %}?)"
    elif "unexpected '}'" in text or "unexpected char" in text:
        why = "een haakje of teken klopt niet; gebruik {{ naam }} voor een invulveld"
    elif "Encountered unknown tag" in text:
        why = "onbekende opdracht tussen {% %}; gebruik if, elif, else, endif of for"
    else:
        why = "het sjabloon is niet te lezen"
    return f"sjabloonfout: {why} (technisch: {text})"


def _render_nl(exc: Exception) -> str:
    if isinstance(exc, SecurityError):
        return f"het sjabloon probeert iets wat in een tekst niet mag (technisch: {exc})"
    return f"het sjabloon loopt vast bij het invullen (technisch: {exc})"


def _error_line(exc: Exception) -> int | None:
    line = getattr(exc, "lineno", None)
    return line if isinstance(line, int) else None


class TextBook:
    """The texts in use: the beheerders' files where valid, else the shipped defaults."""

    def __init__(
        self,
        directory: Path | None,
        *,
        on_broken: Callable[[list[str]], None] | None = None,
        beheerders: Sequence[Beheerder] = (),
    ) -> None:
        self.directory = directory
        self.on_broken = on_broken
        self.configured = tuple(beheerders)  # config.beheerders: used without beheerders.yaml
        self._contacts = Contacts(None)
        self._defaults = {
            name: compile_text(spec, (DEFAULTS / spec.filename).read_text("utf-8"), spec.filename)
            for name, spec in SPECS.items()
        }
        self._own: dict[str, _Loaded] = {}
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._reported: set[str] = set()
        self._lock = threading.RLock()  # mailbox workers render memos, the main loop letters
        self.reload()

    # -- loading -------------------------------------------------------------------------

    def _files(self) -> tuple[tuple[str, int, int], ...]:
        if self.directory is None or not self.directory.is_dir():
            return ()
        out = []
        for filename in (*(spec.filename for spec in SPECS.values()), CONTACTS_FILE):
            path = self.directory / filename
            try:
                st = path.stat()
            except OSError:
                continue
            out.append((filename, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def reload(self) -> bool:
        """Read the folder again when a file in it changed; True when it did.

        The beheerders are told outside the lock: ``on_broken`` writes to the state
        store, whose lock a mailbox worker may hold while it waits for a memo here.
        """
        with self._lock:
            problems = self._reload()
        if problems:
            self._tell(problems)
        return problems is not None

    def _current(self, name: str) -> _Loaded | None:
        """The beheerders' own template ``name`` as it is now (after a reload if needed)."""
        with self._lock:
            problems = self._reload()
            own = self._own.get(name)
        if problems:
            self._tell(problems)
        return own

    def _reload(self) -> list[str] | None:
        """Under the lock: reread a changed folder; its problems, or None when unchanged."""
        signature = self._files()
        if signature == self._signature:
            return None
        self._signature = signature
        self._own = {}
        self._contacts = (
            load_contacts(self.directory / CONTACTS_FILE) if self.directory else Contacts(None)
        )
        for name, spec in SPECS.items():
            if self.directory is None:
                continue
            path = self.directory / spec.filename
            if not path.is_file():
                continue
            try:
                data = path.read_bytes()
                if len(data) > MAX_TEMPLATE_BYTES:
                    raise ValueError(f"het bestand is groter dan {MAX_TEMPLATE_BYTES} bytes")
                source = data.decode("utf-8")
            except (OSError, ValueError) as exc:
                self._own[name] = _Loaded(None, [TextProblem(str(path), None, _read_nl(exc))])
                continue
            self._own[name] = compile_text(spec, source, str(path))
        problems = self.problems()
        log.info("texts.loaded", own=sorted(self._own), problems=len(problems))
        return [p.render() for p in problems]

    def problems(self) -> list[TextProblem]:
        """Every problem in the beheerders' files (the defaults are always valid)."""
        contacts = [TextProblem(*p) for p in self._contacts.problems]
        return [p for loaded in self._own.values() for p in loaded.problems] + contacts

    def beheerders(self) -> tuple[Beheerder, ...]:
        """Whom staff contact: ``beheerders.yaml`` when valid, else the configured ones."""
        with self._lock:
            problems = self._reload()
            own = self._contacts.beheerders
        if problems:
            self._tell(problems)
        return own if own is not None else self.configured

    def own_beheerders(self) -> bool:
        """Whether the beheerders come from a valid ``beheerders.yaml`` (not the configuration)."""
        self.beheerders()
        return self._contacts.beheerders is not None

    def _with_contacts(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """``context`` with the beheerders' contact line and list filled in.

        The book's beheerders win over a caller's line, so that every text names
        the same people; a book without any keeps the caller's line.
        """
        beheerders = self.beheerders()
        out = dict(context)
        if beheerders:
            out.update(contact_context(beheerders))
        else:
            out.setdefault("beheerders_lijst", [])
        return out

    def has_own(self, name: str) -> bool:
        """Whether the beheerders wrote this text themselves (valid or not)."""
        return self._current(name) is not None

    # -- rendering ------------------------------------------------------------------------

    def render(self, name: str, **context: Any) -> str:
        """The text ``name`` filled in; the shipped default when the own one is broken."""
        spec = SPECS[name]
        return _finish(spec, self._fill(name, context, lambda t, ctx: t.render(**ctx)))

    def letter(self, name: str, **context: Any) -> dict[str, str]:
        """The blocks of a letter template filled in; the default's when the own one fails."""
        spec = SPECS[name]
        return self._fill(name, context, lambda t, ctx: render_blocks(t, spec, ctx))

    def mail(self, name: str, **context: Any) -> tuple[str, str]:
        """(subject, body) of a mail template: its blocks ``onderwerp`` (on one line; ""
        without one) and ``tekst``."""
        parts = self.letter(name, **context)
        return " ".join(parts.get("onderwerp", "").split()), parts["tekst"].strip()

    def _fill(
        self,
        name: str,
        context: Mapping[str, Any],
        fill: Callable[[jinja2.Template, dict[str, Any]], _T],
    ) -> _T:
        """``fill`` with the own template ``name``; with the shipped default when that fails."""
        own = self._current(name)
        spec = SPECS[name]
        full = self._with_contacts(context)
        if own is not None and own.template is not None:
            try:
                return fill(own.template, full)
            except (jinja2.TemplateError, TypeError, ValueError, ArithmeticError) as exc:
                path = str(self.directory / spec.filename) if self.directory else spec.filename
                self._tell([TextProblem(path, _error_line(exc), _render_nl(exc)).render()])
        default = self._defaults[name].template
        assert default is not None  # the shipped defaults are tested
        return fill(default, full)

    def _tell(self, problems: list[str]) -> None:
        """Hand the problems to ``on_broken``, which keeps one notice per distinct list."""
        key = hashlib.sha256("\n".join(problems).encode()).hexdigest()[:16]
        with self._lock:
            first = key not in self._reported
            self._reported.add(key)
        if first:
            log.warning("texts.broken", problems=len(problems))
        if self.on_broken is not None:
            self.on_broken(problems)


def _finish(spec: TextSpec, text: str) -> str:
    return " ".join(text.split()) if spec.one_paragraph else text.strip() + "\n"


def _read_nl(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "het bestand is geen UTF-8-tekst; sla het op als UTF-8"
    if isinstance(exc, OSError):
        return f"het bestand kan niet worden gelezen ({exc.strerror or exc})"
    return str(exc)


@cache
def shipped_texts() -> TextBook:
    """The shipped templates, where no TextBook of the beheerders is wired in."""
    return TextBook(None)
