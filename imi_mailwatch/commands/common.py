"""What the subcommands share: registering, loading the configuration, printing.

:func:`add_command` adds a command from its name, its arguments (:func:`arg`) and
the function that runs it; :func:`add_group` adds one with subcommands from a
table of :func:`sub`. A command's help and description come from
:data:`imi_mailwatch.commands.COMMANDS` and ``DESCRIPTIONS``, the one place that
names them.

Three ways to load, by what a command needs:

- :func:`load`: the validated file; no secret is read (``rules check``, ``route``,
  ``calibrate``, ``status``: a dry run never needs the daemon's secrets);
- :func:`load_for_run`: the same, then :func:`imi_mailwatch.config_checks.prepare`,
  which reads the secrets of the parts in use and checks what ``run`` needs
  (``run``, ``check-config``, the Corsa commands);
- :func:`open_state`: the configuration and the state store opened read-only; a
  missing store is reported, never created; :func:`using_state` runs a function
  with them and closes the store after.

A :class:`~imi_mailwatch.errors.ConfigError` raised while loading is left to
:func:`imi_mailwatch.cli.main`, which prints it and exits ``EXIT_CONFIG``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from imi_mailwatch.clock import SystemClock
from imi_mailwatch.commands import COMMANDS, DESCRIPTIONS, EXIT_CONFIG, EXIT_FAILED
from imi_mailwatch.config import Config, config_from_data, load_config
from imi_mailwatch.errors import StateError
from imi_mailwatch.logging_setup import configure_logging

if TYPE_CHECKING:  # imported by open_state only: route and calibrate open no store
    from imi_mailwatch.adapters.state_store import DurableStore

T = TypeVar("T")
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Run = Callable[[argparse.Namespace], int]


@dataclass(frozen=True, slots=True)
class Arg:
    """One ``add_argument`` call: the option strings (or a positional's name) and keywords."""

    names: tuple[str, ...]
    options: Mapping[str, Any]


def arg(*names: str, **options: Any) -> Arg:
    """An argument as data: ``arg("--json", action="store_true", help=...)``."""
    return Arg(names, options)


@dataclass(frozen=True, slots=True)
class OneOf:
    """Arguments of which at most one may be given (argparse's mutually exclusive group)."""

    args: tuple[Arg, ...]


def one_of(*args: Arg) -> OneOf:
    return OneOf(args)


JSON = arg("--json", action="store_true", help="print one JSON object")
ITEM_ID = arg("id", type=int)  # the row a list numbered with #
EVERY_ROW = arg("--all", action="store_true")  # a list's rows that are done with, too
MESSAGE_FILE = arg("file", type=Path, metavar="FILE.eml")  # read by load_message


@dataclass(frozen=True, slots=True)
class Sub:
    """A subcommand as data: its help, its arguments and the function that runs it."""

    help: str
    args: tuple[Arg | OneOf, ...]
    run: Run
    description: str | None


def sub(help: str, *args: Arg | OneOf, run: Run, description: str | None = None) -> Sub:
    return Sub(help, args, run, description)


Table = Mapping[str, Sub]  # a command's subcommands by name


def add_command(subparsers: Subparsers, name: str, *args: Arg | OneOf, run: Run) -> None:
    """The command ``name`` with ``args``, run by ``run``; its help and description are the
    ones in ``COMMANDS`` and ``DESCRIPTIONS``."""
    help_text, description = COMMANDS[name][1], DESCRIPTIONS.get(name)
    _add_parser(subparsers, name, sub(help_text, *args, run=run, description=description))


def add_group(subparsers: Subparsers, name: str, dest: str, metavar: str, table: Table) -> None:
    """The command ``name`` and its required subcommands from ``table``; the chosen one's
    name goes into ``dest``. Each inherits ``-c/--config`` from the command line's parser
    class, so it is accepted before and after the subcommand.
    """
    parser = subparsers.add_parser(name, help=COMMANDS[name][1], description=DESCRIPTIONS.get(name))
    group = parser.add_subparsers(dest=dest, metavar=metavar, required=True)
    for sub_name, spec in table.items():
        _add_parser(group, sub_name, spec)


def _add_parser(subparsers: Subparsers, name: str, spec: Sub) -> None:
    parser = subparsers.add_parser(name, help=spec.help, description=spec.description)
    for argument in spec.args:
        group = parser.add_mutually_exclusive_group() if isinstance(argument, OneOf) else parser
        for one in argument.args if isinstance(argument, OneOf) else (argument,):
            group.add_argument(*one.names, **one.options)
    parser.set_defaults(func=spec.run)


DEFAULT_CONFIG_PATHS = (Path("/etc/imi-mailwatch/imi-mailwatch.yaml"),)


def config_path(args: argparse.Namespace) -> Path | None:
    """The configuration file: -c, else the first default path that exists, else None."""
    if getattr(args, "config", None):
        return Path(args.config)
    for candidate in DEFAULT_CONFIG_PATHS:
        if candidate.is_file():
            return candidate
    return None


def config_source(args: argparse.Namespace) -> str:
    """Which configuration is read, said plainly: the file, or the built-in defaults."""
    path = config_path(args)
    if path is not None:
        return str(path.resolve())
    tried = ", ".join(str(p) for p in DEFAULT_CONFIG_PATHS)
    return f"built-in defaults (no -c given, and {tried} does not exist)"


def load(args: argparse.Namespace) -> Config:
    """The validated configuration; the built-in defaults when there is no file. No secrets."""
    path = config_path(args)
    if path is None:
        return config_from_data({}, {}, base_dir=str(Path.cwd()), resolve_secrets=False)
    return load_config(path, {}, resolve_secrets=False)


def load_message(args: argparse.Namespace) -> tuple[Config, bytes] | int:
    """The configuration and the bytes of ``args.file``, for a command that reports on one
    message (``route``, ``calibrate``); EXIT_FAILED after saying the file cannot be read.

    Only errors are logged, on stderr: stdout is the report.
    """
    configure_logging("error", "console", stream=sys.stderr)
    cfg = load(args)
    try:
        return cfg, args.file.read_bytes()
    except OSError as exc:
        print(f"Kan {args.file} niet lezen: {exc.strerror}")
        return EXIT_FAILED


def load_for_state(args: argparse.Namespace) -> Config:
    """The configuration with the state store's secret read (PostgreSQL's password)."""
    cfg = load(args)
    if cfg.state.url is not None:
        from imi_mailwatch.config_checks import resolve_section_secrets

        resolve_section_secrets(cfg, ("state",), cfg.state, dict(os.environ))
    return cfg


def load_for_run(args: argparse.Namespace) -> Config:
    """The configuration checked for running: mailboxes, secrets read, files there."""
    from imi_mailwatch.config_checks import prepare

    cfg = load(args)
    prepare(cfg, dict(os.environ))
    return cfg


def print_list(title: str, lines: Iterable[str], empty: str) -> None:
    """A heading, then each line indented; ``empty`` (indented) when there are none."""
    print(title)
    shown = [f"  {line}" for line in lines]
    print("\n".join(shown or [f"  {empty}"]))


def open_state(
    args: argparse.Namespace, *, write: bool = False
) -> tuple[Config, DurableStore] | int:
    """The configuration and its state store, or the exit code after saying why not
    (an invalid configuration: :class:`ConfigError`).

    Read-only unless ``write``. A store that does not exist is reported ("no state
    store at PATH"), never created: a forgotten ``-c`` must not leave an empty
    store behind. Only ``run`` creates the store.
    """
    from imi_mailwatch.adapters.state_store import open_state_store

    cfg = load_for_state(args)
    try:
        if write:  # never created here: checked by opening it read-only first
            if cfg.state.url is None and not cfg.resolve(cfg.state.path).is_file():
                raise StateError(f"no state store at {cfg.resolve(cfg.state.path)}")
            if cfg.state.url is not None:
                open_state_store(cfg, SystemClock(), read_only=True).close()
        return cfg, open_state_store(cfg, SystemClock(), read_only=not write)
    except StateError as exc:
        print(f"state store: {exc} (configuration: {config_source(args)})", file=sys.stderr)
    return EXIT_CONFIG


def using_state(
    args: argparse.Namespace,
    body: Callable[[Config, DurableStore], T],
    *,
    write: bool = False,
) -> T | int:
    """``body``'s result with the configuration and the opened store, closed after.

    The exit code of :func:`open_state` when the store cannot be opened.
    """
    opened = open_state(args, write=write)
    if isinstance(opened, int):
        return opened
    cfg, store = opened
    try:
        return body(cfg, store)
    finally:
        store.close()


def on_state(
    act: Callable[[argparse.Namespace, Config, DurableStore], int], *, write: bool = False
) -> Run:
    """A run that gives ``act`` the arguments, the configuration and the opened store
    (:func:`using_state`: read-only unless ``write``, closed after)."""

    def run(args: argparse.Namespace) -> int:
        return using_state(args, lambda cfg, store: act(args, cfg, store), write=write)

    return run
