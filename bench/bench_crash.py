"""Crash consistency at full size: 500+ alerts, 50+ SIGKILLs of the real daemon.

    .venv/bin/python bench/bench_crash.py [--alerts 500] [--kills 50] [--seed 7]
        [--profile production|documented]

Uses the harness of tests/faults (Dovecot, the Corsa test server and an SMTP
server in their own processes). Prints the figures as JSON and every broken
promise; exits 1 when any was found. Figures go into RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faults.harness import check, run_crash, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=500)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--profile",
        default="production",
        choices=("production", "documented"),
        help="the Corsa test server's installation profile (production: kenmerk not stored)",
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="imi-bench-crash-") as tmp:
        outcome = run_crash(
            Path(tmp),
            alerts=args.alerts,
            kills=args.kills,
            seed=args.seed,
            progress=not args.quiet,
            corsa_profile=args.profile,
        )
        problems = check(outcome)
        if outcome.extra["exit_code"] != 0:  # the last run, stopped with SIGTERM, must exit 0
            problems.append(f"the last daemon run exited {outcome.extra['exit_code']}")
    figures = {**summary(outcome), "last_run_exit_code": outcome.extra["exit_code"]}
    print(json.dumps({**figures, "problems": len(problems)}, indent=2))
    for p in problems:
        print("BROKEN:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
