"""docs/logging.md stays true: every log event in the code is listed there, with its fields."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "logging.md"
EVENT = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "msg"}
ROW = re.compile(r"^\|\s*`(?P<event>[a-z0-9_]+(?:\.[a-z0-9_]+)+)`\s*\|(?P<rest>.*)$")


@dataclass
class Used:
    fields: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)


def events_in_code() -> tuple[dict[str, Used], dict[str, Used]]:
    """(literal event names, f-string templates as regexes) with their keyword fields."""
    literal: dict[str, Used] = {}
    templates: dict[str, Used] = {}
    for path in sorted((REPO / "imi_mailwatch").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in METHODS
                and node.args
            ):
                continue
            first = node.args[0]
            where = f"{path.relative_to(REPO)}:{node.lineno}"
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                if not EVENT.match(first.value):
                    continue  # standard-library style messages are not events
                used = literal.setdefault(first.value, Used())
            elif isinstance(first, ast.JoinedStr):
                pattern = "".join(
                    re.escape(part.value)
                    if isinstance(part, ast.Constant) and isinstance(part.value, str)
                    else "[a-z0-9_]+"
                    for part in first.values
                )
                if "." not in pattern:
                    continue
                used = templates.setdefault(f"^{pattern}$", Used())
            else:
                continue
            used.fields |= {k.arg for k in node.keywords if k.arg is not None}
            used.places.add(where)
    return literal, templates


def documented() -> dict[str, str]:
    """Event name -> the rest of its table row in docs/logging.md."""
    rows: dict[str, str] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = ROW.match(line.strip())
        if m:
            rows[m["event"]] = m["rest"]
    return rows


def _fields(row: str) -> set[str]:
    return set(re.findall(r"`([a-z0-9_]+)`", row))


def test_every_event_in_the_code_is_documented_with_its_fields() -> None:
    """Each log event name used in imi_mailwatch/ has a row with every field it logs."""
    literal, templates = events_in_code()
    assert len(literal) > 50  # the scan found the code's events
    rows = documented()
    missing = sorted(
        f"{name} ({sorted(u.places)[0]})" for name, u in literal.items() if name not in rows
    )
    assert not missing, "add these events to docs/logging.md: " + ", ".join(missing)
    for pattern, used in templates.items():
        matching = [name for name in rows if re.match(pattern, name)]
        assert matching, f"no event in docs/logging.md matches {pattern} ({sorted(used.places)})"
        for name in matching:
            literal.setdefault(name, Used()).fields |= used.fields
    for name, used in literal.items():
        lacking = used.fields - _fields(rows[name])
        assert not lacking, f"docs/logging.md: {name} lacks fields {sorted(lacking)}"


def test_every_documented_event_exists() -> None:
    """No row in docs/logging.md names an event the code no longer logs."""
    literal, templates = events_in_code()
    stale = [
        name
        for name in documented()
        if name not in literal and not any(re.match(p, name) for p in templates)
    ]
    assert not stale, "events listed in docs/logging.md but not in the code: " + ", ".join(stale)
