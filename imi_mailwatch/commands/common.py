"""What the subcommands share: loading the configuration, exit codes, printing."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from imi_mailwatch.adapters.sqlite_store import SqliteStateStore
from imi_mailwatch.clock import SystemClock
from imi_mailwatch.config import Config, config_from_data, load_config
from imi_mailwatch.errors import ConfigError, StateError

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


def load(args: argparse.Namespace, *, resolve_secrets: bool = True) -> Config:
    """The validated configuration; the built-in defaults when there is no file.

    Commands that only read the state store pass ``resolve_secrets=False`` so that
    they run without the daemon's secrets in their environment.
    """
    path = config_path(args)
    if path is None:
        return config_from_data({}, dict(os.environ), base_dir=str(Path.cwd()))
    return load_config(path, dict(os.environ), resolve_secrets=resolve_secrets)


def print_config_error(exc: ConfigError) -> None:
    print(str(exc), file=sys.stderr)


def open_state(args: argparse.Namespace) -> tuple[Config, SqliteStateStore] | int:
    """The configuration and its state store, or the exit code after saying why not."""
    try:
        cfg = load(args, resolve_secrets=False)
        return cfg, SqliteStateStore(cfg.resolve(cfg.state.path), SystemClock())
    except ConfigError as exc:
        print_config_error(exc)
    except StateError as exc:
        print(f"state store: {exc}", file=sys.stderr)
    return EXIT_CONFIG
