"""The beheerders' names and contact details, kept by the beheerders in ``teksten/``.

``teksten/beheerders.yaml`` lists whom staff contact about IMI::

    beheerders:
      - naam: J. de Vries
        email: j.devries@brabant.nl
        telefoon: 073 680 00 00     # mag weg
        rol: eerste                 # eerste (aanspreekpunt) of reserve

Every text in ``teksten/`` gets them as ``{{ beheerders }}`` (one line) and
``{{ beheerders_lijst }}`` (naam, email, telefoon, rol per beheerder), and the
beheerders' mails go to these addresses. Without the file (or while it is
broken) the ``beheerders`` of the configuration are used, as before. Problems
are Dutch, with file and line, like those of the templates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imi_mailwatch.config import Beheerder
from imi_mailwatch.memo import beheerders_text
from imi_mailwatch.yamlsource import Problem, load_yaml, read_limited

FILENAME = "beheerders.yaml"
MAX_BYTES = 64 * 1024
_ROLES = {"eerste": "first", "reserve": "backup"}
_ROLE_NL = {"first": "eerste aanspreekpunt", "backup": "reserve"}
_KEYS = ("naam", "email", "telefoon", "rol")


@dataclass(frozen=True, slots=True)
class Contacts:
    """The beheerders read from the file (None: no usable file) and its problems."""

    beheerders: tuple[Beheerder, ...] | None
    problems: tuple[tuple[str, int | None, str], ...] = ()  # (file, line, Dutch message)


def load_contacts(path: Path) -> Contacts:
    """``beheerders.yaml`` at ``path``: its beheerders, or its problems (Dutch)."""
    if not path.is_file():
        return Contacts(None)
    try:
        text = read_limited(path, MAX_BYTES).decode("utf-8")
    except UnicodeDecodeError:
        return Contacts(None, ((str(path), None, "het bestand is geen UTF-8-tekst"),))
    except OSError as exc:
        why = exc.strerror or str(exc)
        return Contacts(None, ((str(path), None, f"het bestand kan niet worden gelezen ({why})"),))
    doc = load_yaml(text, str(path), "nl", max_bytes=MAX_BYTES)
    problems: list[Problem] = list(doc.problems)
    found: list[Beheerder] = []
    if not problems:
        entries = doc.data.get("beheerders") if isinstance(doc.data, dict) else None
        if not isinstance(entries, list) or not entries:
            problems.append(
                Problem(str(path), doc.mark_for(()), (), "verwacht 'beheerders:' met een lijst")
            )
        else:
            for index, entry in enumerate(entries):
                problems += _check_entry(doc.filename, doc, index, entry, found)
    if problems:
        return Contacts(
            None,
            tuple((p.filename, p.mark.line if p.mark else None, _message(p)) for p in problems),
        )
    return Contacts(tuple(found))


def _message(problem: Problem) -> str:
    rendered = problem.render("nl")
    where = problem.filename + (
        f":{problem.mark.line}:{problem.mark.column}" if problem.mark else ""
    )
    return rendered.removeprefix(where + ": ")


def _check_entry(
    filename: str, doc: Any, index: int, entry: object, found: list[Beheerder]
) -> list[Problem]:
    path = ("beheerders", index)
    if not isinstance(entry, dict):
        return [Problem(filename, doc.mark_for(path), path, "verwacht naam, email, telefoon, rol")]
    problems = [
        Problem(
            filename,
            doc.mark_for((*path, key), key=True),
            (*path, key),
            f"onbekend veld; toegestaan: {', '.join(_KEYS)}",
        )
        for key in entry
        if key not in _KEYS
    ]
    name, email = entry.get("naam"), entry.get("email")
    phone, role = entry.get("telefoon"), entry.get("rol", "eerste")
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem(filename, doc.mark_for(path), (*path, "naam"), "de naam ontbreekt"))
    if not isinstance(email, str) or not _is_address(email):
        problems.append(
            Problem(
                filename,
                doc.mark_for((*path, "email")),
                (*path, "email"),
                "geen e-mailadres (naam@domein)",
            )
        )
    if phone is not None and not isinstance(phone, str | int):
        problems.append(
            Problem(filename, doc.mark_for((*path, "telefoon")), (*path, "telefoon"), "geen nummer")
        )
    if role not in _ROLES:
        problems.append(
            Problem(
                filename, doc.mark_for((*path, "rol")), (*path, "rol"), "kies eerste of reserve"
            )
        )
    if not problems:
        found.append(
            Beheerder(
                name=str(name).strip(),
                email=str(email).strip().lower(),
                phone=None if phone is None else str(phone),
                role=_ROLES[str(role)],
            )
        )
    return problems


def _is_address(value: str) -> bool:
    local, at, domain = value.strip().rpartition("@")
    return bool(at and local and "." in domain and not any(c.isspace() for c in value.strip()))


def contact_context(beheerders: Sequence[Beheerder]) -> dict[str, Any]:
    """``beheerders`` (one line) and ``beheerders_lijst`` for a template."""
    return {
        "beheerders": beheerders_text(beheerders),
        "beheerders_lijst": [contact_entry(b) for b in beheerders],
    }


def contact_entry(b: Beheerder) -> Mapping[str, str]:
    return {
        "naam": b.name,
        "email": b.email,
        "telefoon": b.phone or "",
        "rol": _ROLE_NL[b.role],
    }
