"""YAML with positions: load a document and remember where every value stands.

Configuration and rules files are validated with pydantic; this module keeps the
line and column of every key and value, so that each validation problem can be
reported as ``file:line:column: path: what is wrong``. Only the safe loader is
used (libyaml's ``CSafeLoader`` when PyYAML has it). Pure apart from the text handed in
(and :func:`read_limited`, the one bounded read of such a file).

Scalars follow the YAML 1.2 core schema, as editors with yaml-language-server
check them, not PyYAML's YAML 1.1 default: ``8:30`` is text (not the base-60
number 510), ``NO``/``yes``/``on`` are text (only ``true``/``false`` are
booleans), ``017`` is 17 and ``0o17`` is 15, a date is text for the schema to
parse, and ``<<`` is an ordinary key.

Anchors and aliases are refused, before anything is built: a few lines of nested
aliases ("billion laughs") would otherwise expand to billions of values. A
document larger than :data:`MAX_YAML_BYTES` is refused before it is parsed.
"""

from __future__ import annotations

import difflib
import errno
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from imi_mailwatch import yamlsyntax

Path = tuple[str | int, ...]

MAX_YAML_BYTES = 1024 * 1024  # per file: configuration, one rules file, one layout table


@dataclass(frozen=True, slots=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a YAML file, with where it is and, maybe, a suggestion."""

    filename: str
    mark: Mark | None
    path: Path
    message: str
    suggestion: str | None = None

    def render(self, lang: str = "en") -> str:
        where = self.filename
        if self.mark is not None:
            where += f":{self.mark.line}:{self.mark.column}"
        path = format_path(self.path)
        if path or lang != "nl":
            text = f"{where}: {path or '(document)'}: {self.message}"
        else:  # a problem of the whole file (a syntax error): no path to show
            text = f"{where}: {self.message}"
        if self.suggestion:
            text += (
                f" (bedoelde u '{self.suggestion}'?)"
                if lang == "nl"
                else f" (did you mean '{self.suggestion}'?)"
            )
        return text


@dataclass(slots=True)
class YamlDocument:
    """A loaded YAML document: plain Python data plus the marks of its nodes."""

    filename: str
    data: Any
    value_marks: dict[Path, Mark] = field(default_factory=dict)
    key_marks: dict[Path, Mark] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def mark_for(self, path: Path, *, key: bool = False) -> Mark | None:
        """The mark of ``path``, or of its nearest ancestor that has one."""
        marks = self.key_marks if key else self.value_marks
        probe = tuple(path)
        while True:
            if probe in marks:
                return marks[probe]
            if key and probe in self.value_marks:
                return self.value_marks[probe]
            if not probe:
                return None
            probe = probe[:-1]


def format_path(path: Sequence[str | int]) -> str:
    """``('rules', 3, 'match', 'activities')`` -> ``rules[3].match.activities``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def read_limited(path: FilePath, limit: int = MAX_YAML_BYTES) -> bytes:
    """The bytes of ``path``, refusing (OSError EFBIG) a file larger than ``limit``.

    Reads at most ``limit + 1`` bytes, so a huge or endless file costs no more.
    The reason (``strerror``) is Dutch: rules files are the beheerders'.
    """
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"het bestand is groter dan {_size(limit)}", str(path))
    return data


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB" if limit % (1024 * 1024) == 0 else f"{limit} bytes"


def load_yaml(
    text: str, filename: str, lang: str = "en", *, max_bytes: int = MAX_YAML_BYTES
) -> YamlDocument:
    """Parse ``text`` safely (YAML 1.2 core schema, no aliases, bounded size).

    Syntax errors, duplicate keys, aliases and an oversized text become problems.
    """
    doc = YamlDocument(filename=filename, data=None)
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        message = (
            f"het bestand is groter dan {_size(max_bytes)}; splits het op"
            if lang == "nl"
            else f"the file is larger than {_size(max_bytes)}"
        )
        doc.problems.append(Problem(filename, None, (), message))
        return doc
    alias = _first_reference(text) if ("&" in text or "*" in text) else None
    if alias is not None:
        doc.problems.append(Problem(filename, alias, (), _NO_ALIASES[lang == "nl"]))
        return doc
    loader = _Yaml12Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.data = _construct(loader, node, (), doc, lang=lang, seen=set())
    except yaml.MarkedYAMLError as exc:
        report = yamlsyntax.describe(exc, text, lang)
        where = Mark(report.line, report.column) if report.line and report.column else None
        doc.problems.append(Problem(filename, where, (), report.message))
    except yaml.YAMLError as exc:  # pragma: no cover - every parser error is marked
        doc.problems.append(Problem(filename, None, (), f"YAML error: {exc}"))
    finally:
        loader.dispose()
    if any(p.message == _NO_ALIASES[lang == "nl"] for p in doc.problems):
        doc.data = None
    return doc


_NO_ALIASES = {
    False: "YAML anchors and aliases (&name, *name) are not allowed; write the value out",
    True: "YAML-ankers en -verwijzingen (&naam, *naam) zijn niet toegestaan; "
    "schrijf de waarde voluit",
}

# libyaml's safe loader when PyYAML was built with it: the same safe construction,
# several times faster on large files (1,000 routing rules: 0.64 s -> 0.22 s to load)
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Yaml12Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """The safe loader with the YAML 1.2 core schema's implicit types instead of 1.1's."""

    yaml_implicit_resolvers: typing.ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {}


def _construct_core_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    value = str(loader.construct_scalar(node))
    if value.startswith("0o"):
        return int(value[2:], 8)
    if value.startswith("0x"):
        return int(value[2:], 16)
    return int(value, 10)  # 017 is seventeen in YAML 1.2


for _tag, _pattern, _first in (
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
):
    _Yaml12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), _first)
_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_core_int)


def _first_reference(text: str) -> Mark | None:
    """Where the first anchor or alias stands, from the event stream (linear, nothing built)."""
    try:
        for event in yaml.parse(text, Loader=_SafeLoader):
            reference = isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None)
            if reference and event.start_mark is not None:
                return Mark(event.start_mark.line + 1, event.start_mark.column + 1)
    except yaml.YAMLError:
        return None  # the syntax error is reported by the parse proper
    return None


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _construct(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: Path,
    doc: YamlDocument,
    *,
    lang: str,
    seen: set[int],
) -> Any:
    if id(node) in seen:  # an alias the event scan did not see: never expand it
        doc.problems.append(Problem(doc.filename, _mark(node), path, _NO_ALIASES[lang == "nl"]))
        return None
    seen.add(id(node))
    doc.value_marks[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                key: Any = f"<{key_node.id}>"  # a complex key: never built, refused by the schema
            else:
                key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                key = str(key)
            if key in result:
                message = (
                    f"de sleutel '{key}' komt twee keer voor"
                    if lang == "nl"
                    else f"duplicate key '{key}'"
                )
                doc.problems.append(Problem(doc.filename, _mark(key_node), path, message))
            doc.key_marks[(*path, key)] = _mark(key_node)
            result[key] = _construct(loader, value_node, (*path, key), doc, lang=lang, seen=seen)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _construct(loader, item, (*path, index), doc, lang=lang, seen=seen)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


# -- pydantic errors, translated and placed ---------------------------------------

_NL_MESSAGES: dict[str, str] = {
    "missing": "dit veld is verplicht maar ontbreekt",
    "extra_forbidden": "onbekende sleutel",
    "string_type": "hier hoort tekst",
    "int_type": "hier hoort een geheel getal",
    "int_parsing": "hier hoort een geheel getal",
    "bool_type": "hier hoort ja/nee (true/false)",
    "bool_parsing": "hier hoort ja/nee (true/false)",
    "list_type": "hier hoort een lijst (regels die met '-' beginnen)",
    "dict_type": "hier hoort een blok met sleutels",
    "model_type": "hier hoort een blok met sleutels",
    "literal_error": "ongeldige waarde",
    "enum": "ongeldige waarde",
    "string_too_short": "mag niet leeg zijn",
    "too_short": "mag niet leeg zijn",
    "date_from_datetime_parsing": "hier hoort een datum (JJJJ-MM-DD)",
    "date_parsing": "hier hoort een datum (JJJJ-MM-DD)",
    "date_type": "hier hoort een datum (JJJJ-MM-DD)",
    "value_error": "ongeldige waarde",
    "greater_than_equal": "waarde is te klein",
    "less_than_equal": "waarde is te groot",
    "string_pattern_mismatch": "waarde heeft niet de juiste vorm",
}


def _nl_message(error: Mapping[str, Any]) -> str:
    base = _NL_MESSAGES.get(str(error.get("type")), "")
    ctx = error.get("ctx") or {}
    if error.get("type") == "value_error":
        # our own validators raise ValueError with a Dutch text where it matters
        return str(ctx.get("error", error.get("msg", base)))
    if error.get("type") in ("literal_error", "enum") and "expected" in ctx:
        return f"{base}; verwacht: {ctx['expected']}".replace(" or ", " of ")
    return base or str(error.get("msg"))


def _en_message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown key"
    if error.get("type") == "value_error":
        return str((error.get("ctx") or {}).get("error", error.get("msg")))
    return str(error.get("msg"))


def problems_from_validation(
    exc: ValidationError,
    doc: YamlDocument,
    model: type[BaseModel],
    *,
    lang: str = "en",
    base_path: Path = (),
    known_values: Mapping[str, Iterable[str]] | None = None,
) -> list[Problem]:
    """Turn a pydantic ValidationError into placed, translated problems.

    ``known_values`` maps a field name (the last element of a path) to the
    allowed names, for a "did you mean" on values such as team keys.
    """
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc: Path = tuple(
            part
            for part in error["loc"]
            if not (isinstance(part, str) and part.startswith("function-"))
        )
        path = (*base_path, *loc)
        is_key = error["type"] == "extra_forbidden"
        mark = doc.mark_for(path, key=is_key)
        message = _nl_message(error) if lang == "nl" else _en_message(error)
        suggestion = None
        if is_key and loc:
            allowed = _allowed_keys(model, loc[:-1])
            suggestion = _closest(str(loc[-1]), allowed)
            if lang == "nl":
                message = f"onbekende sleutel '{loc[-1]}'"
            else:
                message = f"unknown key '{loc[-1]}'"
        elif known_values and loc and isinstance(loc[-1], str) and loc[-1] in known_values:
            suggestion = _closest(str(error.get("input")), known_values[loc[-1]])
        problems.append(Problem(doc.filename, mark, path, message, suggestion))
    return problems


def _closest(word: str, options: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _allowed_keys(model: type[BaseModel], loc: Path) -> list[str]:
    """The keys the model allows at ``loc`` (walking nested models and lists)."""
    current: Any = model
    skip_key = False  # after a dict[str, Model] field, the next part is a key of that dict
    for part in loc:
        if isinstance(part, int) or skip_key:
            skip_key = False
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        skip_key = _is_mapping(fields[part].annotation)
        current = _inner_model(fields[part].annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None) or {}
    names = []
    for name, info in fields.items():
        names.append(info.alias or name)
    return names


def _is_mapping(annotation: Any) -> bool:
    """``dict[K, V]`` or ``dict[K, V] | None``."""
    origin = typing.get_origin(annotation)
    if origin is dict or origin is Mapping:
        return True
    if origin is typing.Union or origin is types.UnionType:
        return any(_is_mapping(arg) for arg in typing.get_args(annotation))
    return False


def _inner_model(annotation: Any) -> Any:
    """The BaseModel inside ``X``, ``list[X]``, ``tuple[X, ...]``, ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
