"""Benchmark: reading a reply whole (MIME, first line, command, link, trust, automatic).

The pure part of the reply channel, per message, as the daemon will run it before it
looks at a request. Replies as Outlook for Windows (plain and HTML), Outlook on the
web (HTML only) and an iPhone write them, each with the quoted original below.

    .venv/bin/python bench/bench_replies.py [--rounds 2000] [--replies 100]
        [--only pure|roundtrip ...]

Then the HTML cut alone over hostile markup of 256 kB (the most of one HTML part the
reader takes): it must stay linear in the markup, whatever the tags hold. And the first line over
plain text of a million characters on one line: bounded, whatever the line holds.

Then the round trip (``roundtrip``), the whole daemon as wired (``build_app``, the system
clock, its run loop with the mailbox worker in IMAP IDLE): a reply APPENDed to the watched
mailbox on a real Dovecot, to its confirmation arriving at a real SMTP server (aiosmtpd)
on loopback. Each reply is an Outlook reply with a command (AANVAARD) from the team's
address, with a Message-ID of its own, to the request of tests/samples/nl_new_request.eml;
the next reply is APPENDed when the previous one's answer has arrived. Goal: p95 < 2 s.
Needs /usr/sbin/dovecot (dovecot-imapd).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from imi_mailwatch.alerts.mime import MAX_HTML_BYTES
from imi_mailwatch.replies.body import cut_quoted_html, first_line
from imi_mailwatch.replies.reader import read
from tests.replies.mail import ID_DOMAINS, TRUST_BOTH, iphone, outlook_desktop, outlook_web


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--replies", type=int, default=100, help="round trips to measure")
    parser.add_argument("--only", nargs="*", choices=("pure", "roundtrip"))
    args = parser.parse_args()
    only = set(args.only or ("pure", "roundtrip"))
    if "pure" in only:
        bench_pure(args.rounds)
    if "roundtrip" in only:
        bench_roundtrip(args.replies)


def bench_pure(rounds: int) -> None:
    replies = {
        "outlook_desktop": outlook_desktop("AANVAARD"),
        "outlook_web": outlook_web("Pauze tot 10-12-2026"),
        "iphone": iphone("Ik pak dit op"),
    }
    for name, data in replies.items():
        assert read(data, trust=TRUST_BOTH, id_domains=ID_DOMAINS).actionable
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            read(data, trust=TRUST_BOTH, id_domains=ID_DOMAINS)
            times.append(time.perf_counter() - start)
        times.sort()
        p95 = times[int(len(times) * 0.95)]
        print(
            f"{name:16s} {len(data):6d} bytes  median {statistics.median(times) * 1e6:7.0f} us"
            f"  p95 {p95 * 1e6:7.0f} us  ({rounds} rounds)"
        )

    hostile = {
        "'<a' repeated": "<a" * (MAX_HTML_BYTES // 2),
        "'<' repeated": "<" * MAX_HTML_BYTES,
        "tags full of class=": ("<a " + "class=aaaa " * 36 + "x>") * 700,
        "divs full of id=": ("<div " + "id=" * 600 + ">") * 150,
    }
    for name, whole in hostile.items():
        markup = whole[:MAX_HTML_BYTES]
        start = time.perf_counter()
        cut_quoted_html(markup)
        took = time.perf_counter() - start
        print(f"cut_quoted_html {name:22s} {len(markup):7d} chars  {took:.4f} s")

    lines = {
        "'op ' + 'schreef ' x 120,000": "op " + "schreef " * 120_000 + ":",
        "'on x' over 'wrote ' x 150,000": "on x\n" + "wrote " * 150_000 + ":",
    }
    for name, text in lines.items():
        start = time.perf_counter()
        first_line(text)
        took = time.perf_counter() - start
        print(f"first_line {name:32s} {len(text):7d} chars  {took:.4f} s")


OWN = "brabant.example"
TEAM = f"icb-imi@{OWN}"  # the team of the default route, which the sample request takes
AR_PASS = f"mx.{OWN}; dkim=pass header.d={OWN}; dmarc=pass header.from={OWN}"


def _quiet_logs() -> None:
    """Production-like logging (INFO, JSON) written to /dev/null, so it costs what it costs."""
    structlog.configure(
        processors=[structlog.processors.TimeStamper(fmt="iso"),
                    structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(file=open(os.devnull, "w")),  # noqa: SIM115
        cache_logger_on_first_use=True,
    )  # fmt: skip


def _config(tmp: Path, imap: Any, smtp_port: int) -> dict[str, Any]:
    repo = Path(__file__).resolve().parents[1]
    return {
        "functional_mailbox": f"imi@{OWN}",
        "state": {"path": str(tmp / "state.sqlite3")},
        "mailboxes": [{"name": "imi", "kind": "imap", "imap": imap.imap_settings(
            idle_renew_seconds=300, timeout_seconds=10)}],
        "rules": {"paths": [str(repo / "rules")]},
        "beheerders": [{"name": "A. Beheer", "email": f"a.beheer@{OWN}"}],
        "notify": {"kind": "smtp", "from_address": f"imi@{OWN}",
                   "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"}},
        "service": {"health_listen": None, "drain_seconds": 5},
        "replies": {"own_domains": [OWN], "authserv_id": f"mx.{OWN}"},
    }  # fmt: skip


def _wait(done: Any, what: str, timeout: float = 60.0) -> float:
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.002)
    return time.monotonic()


def bench_roundtrip(replies: int) -> None:
    """APPEND of a reply -> its confirmation at the SMTP server, through the running daemon."""
    from imi_mailwatch.adapters.memory import InMemoryTaskSink
    from imi_mailwatch.app import build_app
    from imi_mailwatch.config import config_from_data
    from imi_mailwatch.msgid import make_message_id
    from tests.deadlines.smtp_server import SmtpTestServer
    from tests.servers.dovecot import DovecotServer

    _quiet_logs()
    samples = Path(__file__).resolve().parents[1] / "tests" / "samples"
    imap = DovecotServer().start()
    smtp = SmtpTestServer().start("none")
    tmp = Path(tempfile.mkdtemp(prefix="imi-bench-replies-"))
    environ = {"IMI_IMAP_PASSWORD": imap.password}
    cfg = config_from_data(_config(tmp, imap, smtp.port), environ, base_dir=str(tmp))
    app = build_app(cfg, sink=InMemoryTaskSink())
    runner = threading.Thread(target=app.daemon.run, name="daemon", daemon=True)
    try:
        runner.start()
        imap.append([(samples / "nl_new_request.eml").read_bytes()])
        _wait(lambda: app.store.get_request("184523") is not None, "the request")
        answers = smtp.handler.received
        reminder_id = make_message_id("184523", "dm5", "20261207", OWN)
        times = []
        for n in range(replies):
            data = outlook_desktop(
                "AANVAARD",
                sender=TEAM,
                auth_results=(AR_PASS,),
                in_reply_to=reminder_id,
                subject="RE: Herinnering: IMI-verzoek 184523",
            ).replace(b"<reply-1@mail.brabant.nl>", f"<bench-{n}@mail.{OWN}>".encode())
            before = sum(1 for r in answers if TEAM in r.rcpt_tos)
            start = time.monotonic()
            imap.append([data])
            end = _wait(lambda b=before: sum(1 for r in answers if TEAM in r.rcpt_tos) > b,
                        "the confirmation")  # fmt: skip
            times.append(end - start)
        subjects = {str(r.message["Subject"]) for r in answers if TEAM in r.rcpt_tos}
        assert all("Bevestiging" in s for s in subjects), subjects  # every one carried out
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(
            f"reply APPEND -> confirmation at the SMTP server ({replies} replies): "
            f"median {statistics.median(times) * 1000:.0f} ms  p95 {p95 * 1000:.0f} ms  "
            f"max {times[-1] * 1000:.0f} ms"
        )
    finally:
        app.stop.set()
        runner.join(30)
        app.close()
        smtp.stop()
        imap.cleanup()


if __name__ == "__main__":
    main()
