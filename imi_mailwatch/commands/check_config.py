"""``imi-mailwatch check-config``: validate the configuration and the rules."""

from __future__ import annotations

import argparse
import json

from imi_mailwatch.app import make_reader, rules_paths, sample_parser
from imi_mailwatch.commands.common import EXIT_CONFIG, EXIT_OK, load, print_config_error
from imi_mailwatch.errors import ConfigError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "check-config",
        help="validate the configuration file and the routing rules",
        description="Exit 0 when the configuration and the rules are valid, 78 when not; "
        "every problem is listed with its file, line and path.",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        cfg = load(args)
        from imi_mailwatch.rules import load_rules

        ruleset = load_rules(rules_paths(cfg), parse_sample=sample_parser(make_reader(cfg)))
    except ConfigError as exc:
        print_config_error(exc)
        return EXIT_CONFIG
    summary = cfg.summary()
    summary["teams"] = len(ruleset.teams)
    print("configuration OK: " + json.dumps(summary, ensure_ascii=False))
    return EXIT_OK
