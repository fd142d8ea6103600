"""Routing rules that the beheerders edit in YAML: load, validate, route, explain, watch.

The public interface::

    ruleset = load_rules([Path("rules")], parse_sample=...)   # ConfigError with Dutch problems
    route = ruleset.route(alert)          # first matching rule wins, else the default route
    for verdict in ruleset.explain(alert):
        print(verdict.render_nl())
    watcher = RuleWatcher([Path("rules")], on_broken=..., archive=store)  # live reload
    watcher.poll(); watcher.current(); watcher.status()

The vocabulary of a rules file is described in docs/regels.md and by
:func:`json_schema` (``imi-mailwatch rules schema``).
"""

from __future__ import annotations

from imi_mailwatch.rules.files import read_sources, rule_files
from imi_mailwatch.rules.loader import build_rules, load_rules
from imi_mailwatch.rules.matching import RuleVerdict, normalize
from imi_mailwatch.rules.ruleset import Example, ExampleResult, ParseSample, RuleSet
from imi_mailwatch.rules.schema import json_schema
from imi_mailwatch.rules.watcher import BrokenRules, RulesArchive, RulesStatus, RuleWatcher

__all__ = [
    "BrokenRules",
    "Example",
    "ExampleResult",
    "ParseSample",
    "RuleSet",
    "RuleVerdict",
    "RuleWatcher",
    "RulesArchive",
    "RulesStatus",
    "build_rules",
    "json_schema",
    "load_rules",
    "normalize",
    "read_sources",
    "rule_files",
]
