"""``imi-mailwatch check-config``: validate the configuration and the rules as ``run`` would.

It says which file it read (or that it read the built-in defaults), runs the
same checks ``run`` runs before it starts (:func:`imi_mailwatch.config_checks.prepare`:
at least one mailbox, the secrets of the parts in use, the files they name), and
names every plaintext connection that an ``allow_insecure: true`` lets through.
"""

from __future__ import annotations

import argparse
import json
import sys

from imi_mailwatch.commands.common import (
    EXIT_CONFIG,
    EXIT_OK,
    config_source,
    load_for_run,
    print_config_error,
)
from imi_mailwatch.config_checks import insecure_accepted
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.reading import make_reader, rules_paths, sample_parser


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "check-config",
        help="validate the configuration file and the routing rules",
        description="Exit 0 when the configuration and the rules are valid, 78 when not; "
        "every problem is listed with its file, line and path. The checks are the ones "
        "'run' makes before it starts, secrets included.",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source = config_source(args)
    try:
        cfg = load_for_run(args)
        from imi_mailwatch.rules import load_rules

        ruleset = load_rules(rules_paths(cfg), parse_sample=sample_parser(make_reader(cfg)))
    except ConfigError as exc:
        print(f"configuration read: {source}", file=sys.stderr)
        print_config_error(exc)
        return EXIT_CONFIG
    for risk in insecure_accepted(cfg):
        print(f"warning: allow_insecure: {risk}")
    summary = cfg.summary()
    summary["teams"] = len(ruleset.teams)
    print(f"configuration OK: {source}: " + json.dumps(summary, ensure_ascii=False))
    return EXIT_OK
