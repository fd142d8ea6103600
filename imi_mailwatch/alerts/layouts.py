"""Alert layouts as data: per-language tables of labels, subject and event phrases.

The shipped tables live in ``layouts/{nl,en,de,fr}.yaml`` inside this package. A
directory of override files (``alerts.layouts_dir``) may add entries to a shipped
language (``nl.yaml`` there extends the shipped ``nl.yaml``), replace it
(``replace: true``) or add a new language. Adapting to the wording of real alerts
is therefore a data change. Loading validates every file and reports every
problem at once, with file, line and path, as a :class:`ConfigError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from imi_mailwatch.alerts.text import fold
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.model import AlertType, Module
from imi_mailwatch.yamlsource import Problem, load_yaml, problems_from_validation

FieldName = Literal[
    "request_id",
    "legislative_area",
    "requesting_authority",
    "member_state",
    "service_activities",
    "deadline",
]
FIELD_NAMES: tuple[FieldName, ...] = get_args(FieldName)
EventName = Literal[
    "new_request",
    "allocated",
    "forwarded",
    "deadline_proposed",
    "deadline_changed",
    "info_requested",
    "reply_received",
    "reminder",
    "closed",
    "withdrawn",
    "referred",
]
ModuleName = Literal["services", "sdg_evidence", "sdg_exceptions"]
SHIPPED_LANGUAGES: tuple[str, ...] = ("nl", "en", "de", "fr")
DEFAULT_ID_PATTERN = r"\d{5,8}"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class EventPhrases(_Model):
    subject: tuple[str, ...] = ()
    body: tuple[str, ...] = ()

    @field_validator("subject", "body")
    @classmethod
    def _placeholders(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for phrase in value:
            if not phrase.strip():
                raise ValueError("a phrase may not be empty")
            for name in _PLACEHOLDER.findall(phrase):
                if name != "id":
                    raise ValueError(f"unknown placeholder {{{name}}} (only {{id}} is known)")
        return value


class ForwardLabels(_Model):
    separators: tuple[str, ...] = ()
    from_: tuple[str, ...] = Field(default=(), alias="from")
    sent: tuple[str, ...] = ()
    to: tuple[str, ...] = ()
    subject: tuple[str, ...] = ()


class SubjectPrefixes(_Model):
    reply: tuple[str, ...] = ()
    forward: tuple[str, ...] = ()


class LayoutFile(_Model):
    """One YAML table. In an override file every key is optional."""

    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    replace: bool = False
    request_id_pattern: str | None = None
    labels: dict[FieldName, tuple[str, ...]] = {}
    events: dict[EventName, EventPhrases] = {}
    modules: dict[ModuleName, tuple[str, ...]] = {}  # names of the module (area, subject)
    months: dict[str, int] = {}
    member_states: dict[str, str] = {}
    forward: ForwardLabels = ForwardLabels()
    subject_prefixes: SubjectPrefixes = SubjectPrefixes()
    auto_reply_subjects: tuple[str, ...] = ()
    bounce_subjects: tuple[str, ...] = ()

    @field_validator("request_id_pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        if compiled.groups:
            raise ValueError("use (?:...) instead of capturing groups")
        if compiled.match(""):
            raise ValueError("the pattern may not match an empty text")
        return value

    @field_validator("months")
    @classmethod
    def _months(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [name for name, number in value.items() if not 1 <= number <= 12]
        if bad:
            raise ValueError(f"month numbers run from 1 to 12 ({', '.join(bad)})")
        return value

    @field_validator("member_states")
    @classmethod
    def _codes(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [name for name, code in value.items() if not re.fullmatch(r"[A-Z]{2}", code)]
        if bad:
            raise ValueError(f"use ISO 3166-1 alpha-2 codes such as DE ({', '.join(bad)})")
        return value


def compile_phrase(phrase: str, id_pattern: str) -> re.Pattern[str]:
    """A phrase as a regular expression on folded text; ``{id}`` captures the id."""
    parts = fold(phrase).split("{id}")
    pieces = [r"\s*".join(re.escape(word) for word in part.split(" ")) for part in parts]
    joined = f"(?P<id>(?<![0-9A-Za-z]){id_pattern}(?![0-9A-Za-z]))".join(pieces)
    return re.compile(joined)


@dataclass(frozen=True, slots=True)
class Phrase:
    """A compiled event phrase."""

    alert_type: AlertType
    text: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Layout:
    """The tables of one language, compiled for matching."""

    language: str
    id_pattern: re.Pattern[str]
    id_source: str
    labels: Mapping[str, tuple[str, ...]]
    subject_phrases: tuple[Phrase, ...]
    body_phrases: tuple[Phrase, ...]
    months: Mapping[str, int]
    member_states: Mapping[str, str]
    forward: ForwardLabels
    reply_prefixes: tuple[str, ...]
    forward_prefixes: tuple[str, ...]
    auto_reply_subjects: tuple[str, ...]
    bounce_subjects: tuple[str, ...]


@dataclass(frozen=True)
class Layouts:
    """Every language's layout plus the indexes the reader looks things up in.

    ``label_index`` maps a folded label to ``(language, field)``; the month,
    member-state and forward-header indexes merge all languages, since a Dutch
    alert may name a member state or a month in any form.
    """

    languages: tuple[Layout, ...]
    label_index: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    months: Mapping[str, int] = field(default_factory=dict)
    member_states: Mapping[str, str] = field(default_factory=dict)
    modules: Mapping[str, Module] = field(default_factory=dict)  # folded name -> module
    forward_headers: Mapping[str, str] = field(default_factory=dict)  # folded label -> role
    forward_separators: tuple[str, ...] = ()
    reply_prefixes: frozenset[str] = frozenset()
    forward_prefixes: frozenset[str] = frozenset()
    auto_reply_subjects: tuple[str, ...] = ()
    bounce_subjects: tuple[str, ...] = ()

    def get(self, language: str) -> Layout | None:
        for layout in self.languages:
            if layout.language == language:
                return layout
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(layout.language for layout in self.languages)

    @classmethod
    def build(cls, files: Iterable[LayoutFile]) -> Layouts:
        files = tuple(files)
        languages = tuple(_compile(f) for f in files)
        label_index: dict[str, tuple[str, str]] = {}
        months: dict[str, int] = {}
        states: dict[str, str] = {}
        modules: dict[str, Module] = {}
        fwd: dict[str, str] = {}
        separators: list[str] = []
        reply: set[str] = set()
        forward: set[str] = set()
        auto: list[str] = []
        bounce: list[str] = []
        for table in files:
            for module, names in table.modules.items():
                modules.update({fold(n): Module(module) for n in names})
        for layout in languages:
            for name, labels in layout.labels.items():
                for label in labels:
                    label_index.setdefault(fold(label), (layout.language, name))
            months.update({fold(k): v for k, v in layout.months.items()})
            states.update({fold(k): v for k, v in layout.member_states.items()})
            for role in ("from_", "sent", "to", "subject"):
                for label in getattr(layout.forward, role):
                    fwd.setdefault(fold(label), role.rstrip("_"))
            separators.extend(fold(s) for s in layout.forward.separators)
            reply.update(fold(p) for p in layout.reply_prefixes)
            forward.update(fold(p) for p in layout.forward_prefixes)
            auto.extend(fold(s) for s in layout.auto_reply_subjects)
            bounce.extend(fold(s) for s in layout.bounce_subjects)
        return cls(
            languages=languages,
            label_index=label_index,
            months=months,
            member_states=states,
            modules=modules,
            forward_headers=fwd,
            forward_separators=tuple(dict.fromkeys(separators)),
            reply_prefixes=frozenset(reply),
            forward_prefixes=frozenset(forward),
            auto_reply_subjects=tuple(dict.fromkeys(auto)),
            bounce_subjects=tuple(dict.fromkeys(bounce)),
        )


def _compile(table: LayoutFile) -> Layout:
    id_source = table.request_id_pattern or DEFAULT_ID_PATTERN
    subject: list[Phrase] = []
    body: list[Phrase] = []
    for name, phrases in table.events.items():
        alert_type = AlertType(name)
        subject.extend(Phrase(alert_type, p, compile_phrase(p, id_source)) for p in phrases.subject)
        body.extend(Phrase(alert_type, p, compile_phrase(p, id_source)) for p in phrases.body)
    return Layout(
        language=str(table.language),
        id_pattern=re.compile(f"(?<![0-9A-Za-z]){id_source}(?![0-9A-Za-z])"),
        id_source=id_source,
        labels={str(name): labels for name, labels in table.labels.items()},
        subject_phrases=tuple(subject),
        body_phrases=tuple(body),
        months=dict(table.months),
        member_states=dict(table.member_states),
        forward=table.forward,
        reply_prefixes=table.subject_prefixes.reply,
        forward_prefixes=table.subject_prefixes.forward,
        auto_reply_subjects=table.auto_reply_subjects,
        bounce_subjects=table.bounce_subjects,
    )


def parse_layout(text: str, filename: str, language: str | None = None) -> LayoutFile:
    """Validate one YAML table; raises ConfigError with every problem placed."""
    doc = load_yaml(text, filename)
    problems: list[Problem] = list(doc.problems)
    data: Any = doc.data if doc.data is not None else {}
    if not problems and not isinstance(data, dict):
        problems.append(Problem(filename, doc.mark_for(()), (), "the file must hold a mapping"))
    if problems:
        raise ConfigError(f"{filename}: layout table is invalid", [p.render() for p in problems])
    try:
        table = LayoutFile.model_validate(data)
    except ValidationError as exc:
        found = problems_from_validation(exc, doc, LayoutFile)
        raise ConfigError(
            f"{filename}: layout table is invalid", [p.render() for p in found]
        ) from None
    if table.language is None:
        if language is None:
            raise ConfigError(
                f"{filename}: layout table is invalid", [f"{filename}: language is missing"]
            )
        table = table.model_copy(update={"language": language})
    elif language is not None and table.language != language:
        raise ConfigError(
            f"{filename}: layout table is invalid",
            [f"{filename}: language '{table.language}' does not match the file name '{language}'"],
        )
    return table


def merge(base: LayoutFile, extra: LayoutFile) -> LayoutFile:
    """``extra`` added to ``base`` (or replacing it when ``extra.replace``)."""
    if extra.replace:
        return extra
    labels = {k: _union(base.labels.get(k, ()), extra.labels.get(k, ())) for k in FIELD_NAMES}
    events = {}
    for name in set(base.events) | set(extra.events):
        a = base.events.get(name, EventPhrases())
        b = extra.events.get(name, EventPhrases())
        events[name] = EventPhrases(
            subject=_union(b.subject, a.subject), body=_union(b.body, a.body)
        )
    fwd = ForwardLabels(
        separators=_union(base.forward.separators, extra.forward.separators),
        from_=_union(base.forward.from_, extra.forward.from_),
        sent=_union(base.forward.sent, extra.forward.sent),
        to=_union(base.forward.to, extra.forward.to),
        subject=_union(base.forward.subject, extra.forward.subject),
    )
    return LayoutFile(
        language=base.language,
        request_id_pattern=extra.request_id_pattern or base.request_id_pattern,
        labels={k: v for k, v in labels.items() if v},
        events=events,
        modules={
            k: _union(base.modules.get(k, ()), extra.modules.get(k, ()))
            for k in {*base.modules, *extra.modules}
        },
        months={**base.months, **extra.months},
        member_states={**base.member_states, **extra.member_states},
        forward=fwd,
        subject_prefixes=SubjectPrefixes(
            reply=_union(base.subject_prefixes.reply, extra.subject_prefixes.reply),
            forward=_union(base.subject_prefixes.forward, extra.subject_prefixes.forward),
        ),
        auto_reply_subjects=_union(base.auto_reply_subjects, extra.auto_reply_subjects),
        bounce_subjects=_union(base.bounce_subjects, extra.bounce_subjects),
    )


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*a, *b)))


def shipped_tables() -> dict[str, LayoutFile]:
    """The tables shipped in the package, by language."""
    tables: dict[str, LayoutFile] = {}
    folder = resources.files("imi_mailwatch.alerts") / "layouts"
    for lang in SHIPPED_LANGUAGES:
        text = (folder / f"{lang}.yaml").read_text(encoding="utf-8")
        tables[lang] = parse_layout(text, f"layouts/{lang}.yaml", lang)
    return tables


def load_layouts(extra_dir: Path | str | None = None) -> Layouts:
    """The shipped tables plus the overrides in ``extra_dir`` (``*.yaml``, one per language).

    Raises ConfigError listing every problem of every file.
    """
    tables = shipped_tables()
    if extra_dir is not None:
        folder = Path(extra_dir)
        if not folder.is_dir():
            raise ConfigError(f"{folder}: layouts directory does not exist")
        problems: list[str] = []
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            try:
                text = path.read_text(encoding="utf-8")
                table = parse_layout(text, str(path), path.stem)
            except OSError as exc:
                problems.append(f"{path}: cannot read: {exc.strerror}")
                continue
            except UnicodeDecodeError:
                problems.append(f"{path}: not UTF-8 text")
                continue
            except ConfigError as exc:
                problems.extend(exc.problems or [str(exc)])
                continue
            lang = str(table.language)
            tables[lang] = merge(tables[lang], table) if lang in tables else table
        if problems:
            raise ConfigError("layout tables are invalid", problems)
    return Layouts.build(tables.values())
