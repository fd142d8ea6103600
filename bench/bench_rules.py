"""Benchmark: routing one alert against 1,000 rules, and loading + validating 1,000 rules.

Targets (issue 4): route < 1 ms per alert; load and validate < 1 s. And a hostile
rules file (patterns that backtrack exponentially in Python's ``re``): the worst
rule costs <= 10 ms on a 10,000-character activity (RE2 matches in linear time;
the cost is the CPU time of the matching thread, the wall time is shown beside it).

    .venv/bin/python bench/bench_rules.py [--rules 1000]

The rules are synthetic and mixed like a real file: most match on a text the
activity contains, some on one of a list, some on all of a list, some on a
regular expression, a few also on member state or alert type. The alerts routed
match no rule (the worst case: every rule is tried) or the last rule, and one
alert whose activities hold the texts of hundreds of rules inside longer words:
the plain substring test hits, and only the whole-word check (on by default,
see ``activiteit_bevat``) turns each hit down.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from imi_mailwatch.model import Alert, AlertType
from imi_mailwatch.rules import load_rules
from imi_mailwatch.rules.matching import ActivityRegex, CompiledRule, Facts

TEAMS = """\
teams:
  icb: {naam: ICB, organisatie_eenheid: ICB, mailbox: icb@voorbeeld.nl}
"""


def rules_text(count: int) -> str:
    lines = [TEAMS]
    for i in range(20):
        lines.append(
            f"  team{i:02d}: {{naam: Team {i}, organisatie_eenheid: T{i}, "
            f"mailbox: t{i}@voorbeeld.nl}}"
        )
    lines += ["standaard: {team: icb}", "regels:"]
    for i in range(count):
        team = f"team{i % 20:02d}"
        kind = i % 10
        lines.append(f"  - naam: Regel {i}")
        lines.append("    als:")
        if kind < 6:
            lines.append(f"      activiteit_bevat: [d{i}a, d{i}b, activitéit {i}z]")
        elif kind == 6:
            lines.append(f"      activiteit_een_van: [Dienst {i}, Service {i}]")
        elif kind == 7:
            lines.append(f"      activiteiten_alle: [Dienst {i}, Bouw {i}]")
        elif kind == 8:
            lines.append(f"      activiteit_regex: '^dienst {i}\\b'")
        else:
            lines.append(f"      activiteit_bevat: d{i}z")
            lines.append("      lidstaat: [BE, DE]")
            lines.append("      meldingstype: [new_request, forwarded]")
        lines.append(f"    dan: {{team: {team}, vakgebied: vakgebied {i}}}")
    lines += [
        "voorbeelden:",
        f"  - activiteiten: [Diënst D{count - 1}Z]",
        "    lidstaat: DE",
        f"    verwacht_team: team{(count - 1) % 20:02d}",
    ]
    return "\n".join(lines) + "\n"


# Patterns with nested or overlapping quantifiers: exponential for a backtracking engine
HOSTILE_PATTERNS = [
    r"^(\w+\s?)+$",
    r"^(a+)+$",
    r"(a|aa)+$",
    r"^(\w|\w\w)*!$",
    r"(.*a){25}",
    r"^(([a-z])+.)+[A-Z]([a-z])+$",
    r"(\w+\s*)+[0-9]$",
    r"^(a|a?)+$",
    r"(x+x+)+y",
    r"^[a-z ]*(a{1,10}){1,10}$",
]
HOSTILE_ACTIVITIES = [
    "a" * 10_000 + "!",
    "a " * 5_000,
    "x" * 10_000,
    ("ab" * 5_000)[:10_000],
]


def hostile_text() -> str:
    lines = [TEAMS, "standaard: {team: icb}", "regels:"]
    for i, pattern in enumerate(HOSTILE_PATTERNS):
        quoted = pattern.replace("'", "''")
        lines.append(f"  - naam: Vijandig {i}")
        lines.append(f"    als: {{activiteit_regex: '{quoted}'}}")
        lines.append(f"    dan: {{team: icb, vakgebied: v{i}}}")
    return "\n".join(lines) + "\n"


def cost(fn: Callable[[], object], repeat: int = 10) -> tuple[float, float]:
    """(best CPU time of this thread, best wall time) over ``repeat`` runs, in seconds.

    CPU time is the cost of the work itself; wall time also counts waiting for a
    core on a loaded host.
    """
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.thread_time(), time.perf_counter()
        fn()
        cpu.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - w0)
    return min(cpu), min(wall)


def hostile(tmp: Path) -> None:
    """Route 10,000-character activities through each hostile rule alone; print the worst."""
    path = tmp / "vijandig.yaml"
    path.write_text(hostile_text(), encoding="utf-8")
    ruleset = load_rules([path])
    worst = (0.0, 0.0, "")
    for rule in ruleset.rules:
        for text in HOSTILE_ACTIVITIES:
            facts = Facts.of(Alert(AlertType.NEW_REQUEST, "1", service_activities=(text,)))
            cpu, wall = cost(lambda rule=rule, facts=facts: rule.matches(facts))
            if cpu > worst[0]:
                worst = (cpu, wall, f"{rule.name} /{rule_pattern(rule)}/, {len(text):,} characters")
    whole = Alert(AlertType.NEW_REQUEST, "1", service_activities=tuple(HOSTILE_ACTIVITIES))
    route_cpu, _ = cost(lambda: ruleset.route(whole), 5)
    print(f"hostile rules: {len(ruleset.rules)} patterns, activities of 10,000 characters")
    print(
        f"hostile, worst single rule: {worst[0] * 1e3:.3f} ms CPU "
        f"({worst[1] * 1e3:.3f} ms wall; {worst[2]})"
    )
    print(
        f"hostile, route one alert with all {len(HOSTILE_ACTIVITIES)} activities through "
        f"every rule: {route_cpu * 1e3:.3f} ms CPU"
    )
    # not a backtracking trap but a large bounded repetition: linear with a large factor
    big = tmp / "groot.yaml"
    big.write_text(
        TEAMS + "standaard: {team: icb}\nregels:\n  - naam: Groot\n"
        "    als: {activiteit_regex: '(.*a){100}'}\n    dan: {team: icb, vakgebied: g}\n",
        encoding="utf-8",
    )
    (rule,) = load_rules([big]).rules
    for length in (10_000, 300):  # 300: the alert reader's cut of one activity
        facts = Facts.of(Alert(AlertType.NEW_REQUEST, "1", service_activities=("a" * length,)))
        cpu, _ = cost(lambda rule=rule, facts=facts: rule.matches(facts))
        print(f"large repetition /(.*a){{100}}/, {length:,} characters: {cpu * 1e3:.3f} ms CPU")


def rule_pattern(rule: CompiledRule) -> str:
    return next((c.patterns[0] for c in rule.conditions if isinstance(c, ActivityRegex)), "")


def infix_activities(count: int, activities: int = 10, width: int = 300) -> tuple[str, ...]:
    """Up to ``activities`` activities of ``width`` characters (the alert reader's cut),
    packed with 'xd{i}ay': each holds the text 'd{i}a' of rule i, inside a word."""
    out: list[str] = []
    line = ""
    for i in range(count):
        if i % 10 >= 6:  # only the rules on 'activiteit_bevat: [d{i}a, ...]'
            continue
        token = f"xd{i}ay"
        if len(line) + len(token) + 1 > width:
            out.append(line)
            line = ""
            if len(out) == activities:
                break
        line = f"{line} {token}" if line else token
    if line and len(out) < activities:
        out.append(line)
    return tuple(out)


def timed(fn: object, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imi-bench-rules-") as tmp:
        path = Path(tmp) / "regels.yaml"
        path.write_text(rules_text(args.rules), encoding="utf-8")
        size_kb = path.stat().st_size / 1024
        load = timed(lambda: load_rules([path]), 5)
        ruleset = load_rules([path])
        assert len(ruleset.rules) == args.rules

    miss = Alert(AlertType.NEW_REQUEST, "1", member_state="PL",
                 service_activities=("Bouwactiviteiten", "Sloopwerkzaamheden"))  # fmt: skip
    last = Alert(AlertType.NEW_REQUEST, "1", member_state="DE",
                 service_activities=("Wegvervoer", f"DIËNST D{args.rules - 1}Z"))  # fmt: skip
    assert ruleset.route(miss).is_default
    assert ruleset.route(last).rule == f"Regel {args.rules - 1}"
    infix = Alert(AlertType.NEW_REQUEST, "1", member_state="PL",
                  service_activities=infix_activities(args.rules))  # fmt: skip
    assert ruleset.route(infix).is_default  # every hit is inside a word

    def per_call(alert: Alert, n: int = 200) -> list[float]:
        def batch() -> None:
            for _ in range(n):
                ruleset.route(alert)

        return [t / n for t in timed(batch, 15)]

    route_miss = per_call(miss)
    route_last = per_call(last)
    route_infix = per_call(infix)
    miss_cpu, _ = cost(lambda: [ruleset.route(miss) for _ in range(200)], 15)
    infix_cpu, _ = cost(lambda: [ruleset.route(infix) for _ in range(200)], 15)
    explain = timed(lambda: ruleset.explain(miss), 10)

    def ms(values: list[float]) -> str:
        return f"median {statistics.median(values) * 1e3:.3f} ms, max {max(values) * 1e3:.3f} ms"

    print(f"rules: {args.rules} ({size_kb:.0f} KiB of YAML)")
    print(f"load + validate + examples: {ms(load)}")
    print(f"route, no rule matches (all tried): {ms(route_miss)}")
    print(f"route, last rule matches: {ms(route_last)}")
    hits = sum(1 for i in range(args.rules) if f"xd{i}ay" in " ".join(infix.service_activities))
    print(f"route, {hits} texts found inside words, none whole (all tried): {ms(route_infix)}")
    print(f"route, no rule matches: best {miss_cpu / 200 * 1e3:.3f} ms CPU per alert")
    print(f"route, texts inside words: best {infix_cpu / 200 * 1e3:.3f} ms CPU per alert")
    print(f"explain, every rule: {ms(explain)}")
    with tempfile.TemporaryDirectory(prefix="imi-bench-rules-") as tmp:
        hostile(Path(tmp))


if __name__ == "__main__":
    main()
