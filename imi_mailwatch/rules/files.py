"""Reading rules files and the example messages they name, bounded and safely.

The files named by the configuration (files as given, directories' ``*.yaml`` in
name order) and an example message (``bericht:``) inside the rules folder: never
outside it, never a device or pipe, never larger than :data:`MAX_EXAMPLE_BYTES`.
Problems are Dutch (the beheerders read them).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from imi_mailwatch.yamlsource import Problem, read_limited

RULE_SUFFIXES = (".yaml", ".yml")
MAX_EXAMPLE_BYTES = 10 * 1024 * 1024  # an example message (``bericht:``) is read up to this size


def rule_files(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """The rules files named by ``paths``: files as given, directories' *.yaml by name."""
    found: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.suffix in RULE_SUFFIXES and p.is_file())
            if not inside:
                problems.append(Problem(str(path), None, (), "deze map bevat geen .yaml-bestanden"))
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            problems.append(Problem(str(path), None, (), "dit bestand of deze map bestaat niet"))
    return found, problems


def read_sources(paths: Sequence[Path]) -> tuple[list[tuple[Path, bytes]], list[Problem]]:
    """The bytes of every rules file, in order."""
    files, problems = rule_files(paths)
    sources: list[tuple[Path, bytes]] = []
    for path in files:
        try:
            sources.append((path, read_limited(path)))  # bounded: MAX_YAML_BYTES
        except OSError as exc:
            problems.append(
                Problem(str(path), None, (), f"kan niet gelezen worden: {exc.strerror}")
            )
    return sources, problems


class ExampleFileError(ValueError):
    """An example message that may not or cannot be read; the message is Dutch."""


def read_example(folder: Path, name: str) -> bytes:
    """The bytes of an example message ``name``, a regular file inside ``folder``.

    The name is resolved (``..`` and symbolic links followed) and must stay inside
    the rules folder; devices, pipes and directories are refused before they are
    opened, and a file larger than :data:`MAX_EXAMPLE_BYTES` is refused unread.
    Raises ExampleFileError.
    """
    base = folder.resolve()
    target = (folder / name).resolve()
    if not target.is_relative_to(base):
        raise ExampleFileError(
            f"het voorbeeldbericht '{name}' staat buiten de map met regels ({base}); "
            "zet het .eml-bestand in die map of in een submap ervan"
        )
    try:
        if not stat.S_ISREG(target.stat().st_mode):
            raise ExampleFileError(_NOT_REGULAR.format(name=name))
        # O_NONBLOCK: a pipe swapped in after the check cannot block the open;
        # O_NOFOLLOW: nor can a symbolic link swapped in for the resolved name.
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise ExampleFileError(_NOT_REGULAR.format(name=name))
            data = fh.read(MAX_EXAMPLE_BYTES + 1)
    except OSError as exc:
        raise ExampleFileError(f"kan het voorbeeldbericht niet lezen: {exc.strerror}") from None
    if len(data) > MAX_EXAMPLE_BYTES:
        raise ExampleFileError(
            f"het voorbeeldbericht '{name}' is te groot (meer dan "
            f"{MAX_EXAMPLE_BYTES // (1024 * 1024)} MB)"
        )
    return data


_NOT_REGULAR = (
    "het voorbeeldbericht '{name}' is geen gewoon bestand (maar bijv. een map of apparaat)"
)


def fingerprint_of(sources: Sequence[tuple[Path, bytes]]) -> str:
    digest = hashlib.sha256()
    for path, data in sources:
        digest.update(str(path).encode("utf-8", "surrogateescape") + b"\0")
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()
