"""``imi-mailwatch health``: exit 0 when the daemon is healthy, 1 when not.

Made for a Docker HEALTHCHECK and a systemd timer: it reads the health rows the
running daemon writes into the state store and judges them (see
``imi_mailwatch.health``). Every failure, a missing or unreadable state store or
an invalid configuration included, exits 1: Docker reserves other codes.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from imi_mailwatch.clock import SystemClock
from imi_mailwatch.commands import EXIT_FAILED, EXIT_OK
from imi_mailwatch.commands.common import Subparsers, add_command, arg, load_for_state
from imi_mailwatch.errors import ConfigError, StateError
from imi_mailwatch.health import HealthReport, check


def register(subparsers: Subparsers) -> None:
    verdict = arg("--json", action="store_true", help="print the verdict as one JSON object")
    add_command(subparsers, "health", verdict, run=run)


def run(args: argparse.Namespace) -> int:
    clock = SystemClock()
    try:
        cfg = load_for_state(args)
        path = cfg.resolve(cfg.state.path)
        if cfg.state.url is None and not path.is_file():
            report = HealthReport(
                ok=False, problems=(f"state store {path} does not exist: the daemon has not run",)
            )
        else:
            from imi_mailwatch.adapters.state_store import open_state_store

            store = open_state_store(cfg, clock, read_only=True)
            try:
                report = check(cfg, store, clock.now())
                if cfg.state.url is not None:  # the hot standby's nodes and their roles
                    from imi_mailwatch.adapters.postgres.lease import lease_nodes

                    nodes = lease_nodes(store, lease_seconds=cfg.state.lease_seconds)
                    report = replace(report, nodes=tuple(nodes))
            finally:
                store.close()
    except (ConfigError, StateError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        report = HealthReport(ok=False, problems=(first,))
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        if report.ok:
            print("healthy")
        else:
            print("unhealthy:")
            for problem in report.problems:
                print(f"  {problem}")
        for node in report.nodes:
            print(f"node {node['node']}: {node['role']} (seen {node['seen_s_ago']} s ago)")
    return EXIT_OK if report.ok else EXIT_FAILED
