"""The hot standby at full size: 500 alerts, 20 SIGKILLs of whichever node is active.

    .venv/bin/python bench/bench_failover.py [--alerts 500] [--kills 20]
        [--lease-seconds 15] [--seed 7]

Two daemon processes on one PostgreSQL (a throw-away server, durable as in
production), Dovecot, the Corsa test server and an SMTP server: the harness of
tests/faults/failover.py. Prints duplicates (Corsa documents beyond one per
request), double reminders (one follow-up delivered under two identities, or the
same one resent), lost (alerts not recorded and filed) and the takeover time from
each kill to the standby's lease (p50/p95) as JSON, then every broken promise;
exits 1 when any was found. Figures go into RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.faults.failover import run_failover, takeover_figures
from tests.faults.harness import check, summary
from tests.servers.postgres import PostgresServer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=500)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--lease-seconds", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    with (
        PostgresServer(durable=True) as server,
        tempfile.TemporaryDirectory(prefix="imi-bench-failover-") as tmp,
    ):
        outcome = run_failover(
            Path(tmp),
            url=server.new_database(),
            alerts=args.alerts,
            kills=args.kills,
            lease_seconds=args.lease_seconds,
            seed=args.seed,
            progress=not args.quiet,
        )
    problems = check(outcome)
    codes = outcome.extra["exit_codes"]
    problems += [f"node {n}: the last run exited {c}" for n, c in codes.items() if c != 0]
    per_request = Counter(d["request"] for d in outcome.documents)
    duplicates = sum(n - 1 for n in per_request.values() if n > 1)
    delivered = Counter(r["message_id"] for r in outcome.received if r["followup"])
    resent = sum(n - 1 for n in delivered.values() if n > 1)
    second_identity = sum(1 for p in problems if "(a second identity)" in p)
    recorded = {m["message_id"] for m in outcome.messages if m["acknowledged_at"] is not None}
    lost = sum(1 for i in outcome.corpus.items if i.message_id not in recorded)
    figures = {
        **summary(outcome),
        "lease_seconds": args.lease_seconds,
        "duplicate_documents": duplicates,
        "double_reminders": second_identity,
        "reminders_resent_same_message_id": resent,
        "lost_alerts": lost,
        **takeover_figures(outcome.extra["takeovers"]),
        "problems": len(problems),
    }
    print(json.dumps(figures, indent=2))
    for p in problems:
        print("BROKEN:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
