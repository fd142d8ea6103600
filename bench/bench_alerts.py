"""Benchmark: parse and classify IMI alerts; mail-parser against the standard library.

Target (issue 3): at least 1,000 typical alerts per second on one core.

    .venv/bin/python bench/bench_alerts.py [--rounds 200]

Three measurements over the shipped samples (tests/samples/*.eml, 16 messages of
every kind: plain, base64, HTML, cp1252, forward, newsletter, forgery):

1. ``AlertReader.classify``: the whole stage (MIME, HTML, forwards, labels,
   authentication) as the daemon runs it.
2. MIME parsing alone, three ways, each to "headers and body text": the
   standard library's ``email`` with ``compat32`` as the reader uses it
   (imi_mailwatch.alerts.mime), ``email`` with ``policy.default`` (get_body,
   get_content), and mail-parser (``parse_from_bytes``, ``text_plain``/``text_html``).
3. ``AlertReader.classify`` per message, in ms, for two common kinds (issue 22):
   an alert with both a plain-text and an HTML part (en_new_request.eml: the
   HTML part is not converted), and ordinary mail of 6 kB of plain text with no
   forward in it (not scanned line by line for one).
4. The same three over the hostile corpus of tests/alerts/hostile.py: how many
   messages each one fails on (raises), which is the other half of the choice.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from importlib.metadata import version
from pathlib import Path

import mailparser

from imi_mailwatch.alerts import AlertReader
from imi_mailwatch.alerts.budget import Budget, BudgetExceededError
from imi_mailwatch.alerts.mime import read_message
from imi_mailwatch.config import AlertsConfig, AuthenticationConfig

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((ROOT / "tests" / "samples").glob("*.eml"))
_DEFAULT = BytesParser(policy=policy.default)


def parse_compat32(data: bytes) -> str:
    try:
        msg = read_message(data, Budget())
    except BudgetExceededError:  # a work bomb refused before it is built: an outcome
        return ""
    return msg.subject + msg.text


def parse_default(data: bytes) -> str:
    msg = _DEFAULT.parsebytes(data)
    subject = str(msg["subject"] or "")
    body = msg.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
    text = body.get_content() if body is not None else ""
    return subject + text


def parse_mailparser(data: bytes) -> str:
    msg = mailparser.parse_from_bytes(data)
    return str(msg.subject) + "".join(msg.text_plain or msg.text_html)


def rate(fn: Callable[[bytes], object], messages: list[bytes], rounds: int) -> tuple[float, float]:
    """Messages per second: the median and the best of ``rounds`` passes."""
    per_pass = []
    for _ in range(rounds):
        start = time.perf_counter()
        for data in messages:
            fn(data)
        per_pass.append(time.perf_counter() - start)
    n = len(messages)
    return n / statistics.median(per_pass), n / min(per_pass)


def ordinary_mail() -> bytes:
    """A letter of 6 kB of plain text from a sender outside IMI, with no forward in it."""
    msg = EmailMessage()
    msg["From"] = "J. Jansen <j.jansen@example.nl>"
    msg["To"] = "imi@example.nl"
    msg["Subject"] = "Overleg over de vergunningaanvraag"
    msg["Date"] = "Mon, 16 Nov 2026 09:12:00 +0100"
    msg["Message-ID"] = "<letter-1@example.nl>"
    line = (
        "Beste collega, naar aanleiding van ons gesprek van vorige week stuur ik je de "
        "stukken over de aanvraag. Graag hoor ik of er nog vragen zijn.\n"
    )
    msg.set_content(line * 40)
    return msg.as_bytes()


def per_message(fn: Callable[[bytes], object], data: bytes, rounds: int) -> tuple[float, float]:
    """Milliseconds for one message: the median and the best of ``rounds`` passes of 20."""
    per_pass = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(20):
            fn(data)
        per_pass.append((time.perf_counter() - start) / 20)
    return statistics.median(per_pass) * 1000, min(per_pass) * 1000


def failures(fn: Callable[[bytes], object], messages: list[bytes]) -> tuple[int, float]:
    """How many messages make ``fn`` raise, and the slowest single message in seconds."""
    failed = 0
    slowest = 0.0
    for data in messages:
        start = time.perf_counter()
        try:
            fn(data)
        except Exception:
            failed += 1
        slowest = max(slowest, time.perf_counter() - start)
    return failed, slowest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--no-hostile", action="store_true", help="skip part 3")
    args = parser.parse_args()
    messages = [p.read_bytes() for p in SAMPLES]
    reader = AlertReader(AuthenticationConfig(), AlertsConfig())
    print(f"{len(messages)} samples, {sum(map(len, messages)) / len(messages):.0f} bytes average")
    print(f"Python {sys.version.split()[0]}, mail-parser {version('mail-parser')}")

    median, best = rate(reader.classify, messages, args.rounds)
    print(f"\nAlertReader.classify: {median:,.0f} msg/s median, {best:,.0f} best")

    print("\nMIME parse to headers + text (msg/s, median / best):")
    ways = {
        "email compat32 (alerts.mime)": parse_compat32,
        "email policy.default": parse_default,
        "mail-parser": parse_mailparser,
    }
    for name, fn in ways.items():
        median, best = rate(fn, messages, args.rounds)
        print(f"  {name:<30}{median:>9,.0f} / {best:,.0f}")

    print("\nAlertReader.classify per message (ms, median / best):")
    kinds = {
        "alert, plain and HTML parts": (ROOT / "tests/samples/en_new_request.eml").read_bytes(),
        "ordinary mail, 6 kB, no forward": ordinary_mail(),
    }
    for name, data in kinds.items():
        median, best = per_message(reader.classify, data, args.rounds)
        print(f"  {name:<32}{median:>6.3f} / {best:.3f}   ({reader.classify(data).kind.value})")

    if not args.no_hostile:
        sys.path.insert(0, str(ROOT))
        from tests.alerts.hostile import corpus

        hostile = [data for _, data, _ in corpus()]
        print(f"\nHostile corpus ({len(hostile)} messages): raised / slowest message")
        for name, fn in ways.items():
            failed, slowest = failures(fn, hostile)
            print(f"  {name:<30}{failed:>5} raised   {slowest:.2f} s")
        failed, slowest = failures(reader.classify, hostile)
        print(f"  {'AlertReader.classify':<30}{failed:>5} raised   {slowest:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
