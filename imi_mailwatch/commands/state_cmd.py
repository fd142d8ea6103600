"""``imi-mailwatch state migrate-to URL``: copy the SQLite state into PostgreSQL (for ops).

Reads the SQLite file of ``state.path`` (migrated to this version's schema first,
like a daemon start would) and fills the empty PostgreSQL database at URL: every
table, in one transaction, verified per table by row count and SHA-256 before it
is committed. A target with any row is refused. Stop the daemon first (the copy
holds the file's write lock, so a running daemon waits or the copy does) and back
up the file; afterwards set ``state.url`` (and ``state.password``) in the
configuration. The password comes from ``--password-env NAME`` or
``--password-file PATH``, never from the URL or the command line; TLS is as for
``state.url`` (verify-full to any host but this machine, ``--ca-file``).

Exit codes: 0 copied and verified, 1 refused or not verified, 78 configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from pydantic import ValidationError

from imi_mailwatch.clock import SystemClock
from imi_mailwatch.commands import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from imi_mailwatch.commands.common import (
    Subparsers,
    add_group,
    arg,
    config_source,
    load,
    one_of,
    sub,
)
from imi_mailwatch.config import StateConfig
from imi_mailwatch.errors import StateError


def register(subparsers: Subparsers) -> None:
    migrate = sub(
        "copy the SQLite state (state.path) into an empty PostgreSQL database",
        arg("url", help="postgresql://USER@HOST:PORT/DBNAME (no password in it)"),
        one_of(
            arg("--password-env", metavar="NAME", help="read the password from $NAME"),
            arg("--password-file", metavar="PATH", help="read the password from PATH"),
        ),
        arg("--ca-file", help="the CA of the server's certificate (default: system)"),
        arg("--no-tls", action="store_true", help="no TLS (this machine's server)"),
        arg("--json", action="store_true", help="print the tables copied as JSON"),
        run=run,
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    add_group(subparsers, "state", "action", "ACTION", {"migrate-to": migrate})


def _target(args: argparse.Namespace) -> StateConfig:
    """The target as a state section: password secret and TLS as ``state.url`` has them."""
    data: dict[str, object] = {"url": args.url, "ca_file": args.ca_file}
    if args.password_env:
        data["password"] = {"env": args.password_env}
    elif args.password_file:
        data["password"] = {"file": args.password_file}
    if args.no_tls:
        data["tls"] = False
    return StateConfig.model_validate(data, context={"environ": dict(os.environ)})


def run(args: argparse.Namespace) -> int:
    from imi_mailwatch.adapters.postgres import PostgresStateStore
    from imi_mailwatch.adapters.postgres.copy import copy_state
    from imi_mailwatch.adapters.sqlite import SqliteStateStore
    from imi_mailwatch.adapters.state_store import conninfo

    cfg = load(args)
    try:
        target_cfg = _target(args)
    except ValidationError as exc:
        for error in exc.errors():
            print(f"state migrate-to: {error['msg']}", file=sys.stderr)
        return EXIT_CONFIG
    path = cfg.resolve(cfg.state.path)
    if not path.is_file():
        print(
            f"state migrate-to: no SQLite state at {path} (configuration: {config_source(args)})",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    clock = SystemClock()
    try:
        source = SqliteStateStore(path, clock)
        try:
            target = PostgresStateStore(conninfo(target_cfg), clock)
            try:
                copied = copy_state(source, target)
            finally:
                target.close()
        finally:
            source.close()
    except StateError as exc:
        print(f"state migrate-to: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        rows = [{"table": c.table, "rows": c.rows, "sha256": c.sha256} for c in copied]
        print(json.dumps({"source": str(path), "tables": rows}, indent=2))
        return EXIT_OK
    print(f"Copied {path} into {target.url}, verified per table (rows, sha256):")
    for c in copied:
        print(f"  {c.table:<16} {c.rows:>8}  {c.sha256[:16]}")
    print("Now set state.url (and state.password) in the configuration and start the daemon.")
    return EXIT_OK
