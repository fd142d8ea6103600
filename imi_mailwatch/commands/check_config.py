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

from imi_mailwatch.commands import EXIT_OK
from imi_mailwatch.commands.common import Subparsers, add_command, config_source, load_for_run
from imi_mailwatch.config_checks import insecure_accepted
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.reading import make_reader, rules_paths, sample_parser


def register(subparsers: Subparsers) -> None:
    add_command(subparsers, "check-config", run=run)


def run(args: argparse.Namespace) -> int:
    source = config_source(args)
    try:
        cfg = load_for_run(args)
        from imi_mailwatch.rules import load_rules

        ruleset = load_rules(rules_paths(cfg), parse_sample=sample_parser(make_reader(cfg)))
    except ConfigError:  # printed by the command line, after the file it read
        print(f"configuration read: {source}", file=sys.stderr)
        raise
    for risk in insecure_accepted(cfg):
        print(f"warning: allow_insecure: {risk}")
    summary = cfg.summary()
    summary["teams"] = len(ruleset.teams)
    print(f"configuration OK: {source}: " + json.dumps(summary, ensure_ascii=False))
    return EXIT_OK
