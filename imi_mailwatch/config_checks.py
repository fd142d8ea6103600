"""What ``run`` needs beyond a valid file, checked once, for ``run`` and ``check-config`` alike.

Loading (:mod:`imi_mailwatch.config`) checks the shape of the file. Before the
daemon is wired, :func:`prepare` checks what only the running daemon needs, so
that ``check-config`` and ``run`` can never disagree:

- at least one mailbox is configured (a forgotten ``-c`` reads the built-in
  defaults, which watch nothing);
- the secrets of the parts in use (the configured mailboxes, the task sink, the
  notifier) can be read, and are read;
- the files those parts name (``ca_file``, ``certificate_file``, ``pdf_font``)
  are readable files.

Secrets of parts not in use (a ``corsa`` block kept while ``task_sink.kind`` is
``drop_folder``) are never read. :func:`insecure_accepted` lists the plaintext
connections an ``allow_insecure: true`` lets through, for ``check-config`` to say.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import BaseModel

from imi_mailwatch.config import Config
from imi_mailwatch.config_types import Secret
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.yamlsource import Path as YPath
from imi_mailwatch.yamlsource import Problem, YamlDocument

_FILE_FIELDS = ("ca_file", "certificate_file")


def in_use(cfg: Config) -> Iterator[tuple[YPath, BaseModel]]:
    """The sections the daemon wires: each mailbox's block, the task sink's, the notifier's,
    and the state's when it is on PostgreSQL."""
    if cfg.state.url is not None:
        yield ("state",), cfg.state
    for index, mbx in enumerate(cfg.mailboxes):
        block = getattr(mbx, mbx.kind, None)
        if isinstance(block, BaseModel):
            yield ("mailboxes", index, mbx.kind), block
    sink = getattr(cfg.task_sink, cfg.task_sink.kind, None)
    if isinstance(sink, BaseModel):
        yield ("task_sink", cfg.task_sink.kind), sink
    notify = getattr(cfg.notify, cfg.notify.kind, None)
    if isinstance(notify, BaseModel):
        yield ("notify", cfg.notify.kind), notify


def _walk(path: YPath, model: BaseModel) -> Iterator[tuple[YPath, BaseModel]]:
    yield path, model
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            yield from _walk((*path, name), value)


def _sections(cfg: Config) -> Iterator[tuple[YPath, BaseModel]]:
    for path, block in in_use(cfg):
        yield from _walk(path, block)


def _problem(cfg: Config, path: YPath, message: str) -> Problem:
    doc = cfg.source
    filename = doc.filename if doc is not None else "<built-in>"
    return Problem(filename, doc.mark_for(path) if doc is not None else None, path, message)


def _raise(cfg: Config, problems: list[Problem]) -> None:
    if problems:
        doc = cfg.source
        name = doc.filename if doc is not None else "built-in configuration"
        raise ConfigError(f"{name}: configuration is invalid", [p.render() for p in problems])


def secret_problems(cfg: Config, environ: Mapping[str, str]) -> list[Problem]:
    """Read every secret of the parts in use; the ones that cannot be read, placed."""
    problems: list[Problem] = []
    for path, section in _sections(cfg):
        if isinstance(section, Secret) and (error := section.resolve(environ)) is not None:
            problems.append(_problem(cfg, path, error))
    return problems


def raw_secret_problems(doc: YamlDocument, environ: Mapping[str, str]) -> list[Problem]:
    """For a file that did not validate: the unreadable secrets of the parts in use.

    So that a file with other mistakes still reports its missing secrets at once.
    A secret reference is a mapping of only ``env`` or only ``file``.
    """
    data = doc.data if isinstance(doc.data, dict) else {}
    blocks: list[tuple[YPath, object]] = []
    mailboxes = data.get("mailboxes")
    for index, mbx in enumerate(mailboxes if isinstance(mailboxes, list) else []):
        if isinstance(mbx, dict) and isinstance(mbx.get("kind"), str):
            blocks.append((("mailboxes", index, mbx["kind"]), mbx.get(mbx["kind"])))
    state = data.get("state")
    if isinstance(state, dict) and state.get("url"):
        blocks.append((("state",), state))
    for key in ("task_sink", "notify"):
        section = data.get(key)
        if isinstance(section, dict) and isinstance(section.get("kind"), str):
            blocks.append(((key, section["kind"]), section.get(section["kind"])))
    problems: list[Problem] = []
    while blocks:
        path, value = blocks.pop()
        if isinstance(value, dict) and set(value) in ({"env"}, {"file"}):
            error = Secret.model_construct(**value).resolve(environ)
            if error is not None:
                problems.append(Problem(doc.filename, doc.mark_for(path), path, error))
        elif isinstance(value, dict):
            blocks.extend(((*path, k), v) for k, v in value.items() if isinstance(k, str))
    return sorted(problems, key=lambda p: (p.mark.line, p.mark.column) if p.mark else (0, 0))


def resolve_secrets(cfg: Config, environ: Mapping[str, str]) -> None:
    """Read the secrets of the parts in use. Raises ConfigError naming each one missing."""
    _raise(cfg, secret_problems(cfg, environ))


def resolve_section_secrets(
    cfg: Config, path: YPath, section: BaseModel, environ: Mapping[str, str]
) -> None:
    """Read the secrets of one section (``corsa check`` with ``task_sink.corsa``)."""
    problems = [
        _problem(cfg, where, error)
        for where, part in _walk(path, section)
        if isinstance(part, Secret) and (error := part.resolve(environ)) is not None
    ]
    _raise(cfg, problems)


def prepare(cfg: Config, environ: Mapping[str, str]) -> None:
    """Everything ``run`` needs before wiring, checked at once. Raises ConfigError.

    ``run`` calls it before building the daemon, ``check-config`` calls it to
    give the same verdict; the secrets of the parts in use are read here.
    """
    problems: list[Problem] = []
    if not cfg.mailboxes:
        problems.append(
            _problem(cfg, ("mailboxes",), "no mailbox is configured, so nothing would be watched")
        )
    problems.extend(secret_problems(cfg, environ))
    for path, section in _sections(cfg):
        for name in _FILE_FIELDS:
            value = getattr(section, name, None)
            if isinstance(value, str) and value and not _readable(Path(value)):
                problems.append(_problem(cfg, (*path, name), f"{value} is not a readable file"))
    font = cfg.task_sink.pdf_font
    if font and not _readable(Path(font)):
        problems.append(_problem(cfg, ("task_sink", "pdf_font"), f"{font} is not a readable file"))
    _raise(cfg, problems)


def _readable(path: Path) -> bool:
    """As the adapters open it: the path as written (relative to the working directory)."""
    path = path.expanduser()
    return path.is_file() and os.access(path, os.R_OK)


def insecure_accepted(cfg: Config) -> list[str]:
    """The plaintext connections of the parts in use that ``allow_insecure: true`` accepts."""
    found: list[str] = []
    for path, section in _sections(cfg):
        plaintext = getattr(section, "plaintext", None)
        if getattr(section, "allow_insecure", False) and plaintext is not None:
            found.extend(f"{_problem(cfg, path, risk).render()}" for risk in plaintext())
    return found
