"""What the subcommands share: loading the configuration, exit codes, printing.

Three ways to load, by what a command needs:

- :func:`load`: the validated file; no secret is read (``rules check``, ``route``,
  ``calibrate``, ``status``: a dry run never needs the daemon's secrets);
- :func:`load_for_run`: the same, then :func:`imi_mailwatch.config_checks.prepare`,
  which reads the secrets of the parts in use and checks what ``run`` needs
  (``run``, ``check-config``, the Corsa commands);
- :func:`open_state`: the configuration and the state store opened read-only; a
  missing store is reported, never created; :func:`using_state` runs a function
  with them and closes the store after.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from imi_mailwatch.clock import SystemClock
from imi_mailwatch.config import Config, config_from_data, load_config
from imi_mailwatch.errors import ConfigError, StateError

if TYPE_CHECKING:  # imported by open_state only: route and calibrate open no store
    from imi_mailwatch.adapters.state_store import DurableStore

T = TypeVar("T")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 78  # EX_CONFIG (sysexits.h)

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


def print_config_error(exc: ConfigError) -> None:
    print(str(exc), file=sys.stderr)


def print_list(title: str, lines: Iterable[str], empty: str) -> None:
    """A heading, then each line indented; ``empty`` (indented) when there are none."""
    print(title)
    shown = [f"  {line}" for line in lines]
    print("\n".join(shown or [f"  {empty}"]))


def open_state(
    args: argparse.Namespace, *, write: bool = False
) -> tuple[Config, DurableStore] | int:
    """The configuration and its state store, or the exit code after saying why not.

    Read-only unless ``write``. A store that does not exist is reported ("no state
    store at PATH"), never created: a forgotten ``-c`` must not leave an empty
    store behind. Only ``run`` creates the store.
    """
    from imi_mailwatch.adapters.state_store import open_state_store

    try:
        cfg = load_for_state(args)
    except ConfigError as exc:
        print_config_error(exc)
        return EXIT_CONFIG
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
