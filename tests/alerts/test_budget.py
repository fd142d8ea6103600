"""The work budget of one message: counted in bytes, lines, parts and depth, never timed."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir
from imi_mailwatch.config import config_from_data
from imi_mailwatch.model import MessageKind
from tests.alerts.hostile import big_attachment, parts_bomb
from tests.alerts.mail import NL_BODY, message, multipart, reader

REPO = Path(__file__).resolve().parents[2]
LIMIT = 30 * 1024 * 1024  # the default max_message_bytes
SPINNERS = 15  # busy processes on the reader's CPU: it gets a sixteenth of that CPU
SPIN = (
    "import os, sys\n"
    "os.sched_setaffinity(0, {int(sys.argv[1])})\n"
    "print(flush=True)\n"
    "while True: pass\n"
)


@contextmanager
def cpu_load(spinners: int = SPINNERS) -> Iterator[None]:
    """This process and ``spinners`` busy loops share one CPU for the duration."""
    before = os.sched_getaffinity(0)
    cpu = min(before)
    procs: list[subprocess.Popen[str]] = []
    try:
        for _ in range(spinners):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", SPIN, str(cpu)], stdout=subprocess.PIPE, text=True
                )
            )
        for proc in procs:
            assert proc.stdout is not None
            proc.stdout.readline()  # pinned and spinning
        os.sched_setaffinity(0, {cpu})
        yield
    finally:
        os.sched_setaffinity(0, before)
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.communicate()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs CPU affinity (Linux)")
def test_a_large_genuine_alert_is_read_on_a_loaded_host() -> None:
    """Host load never decides an outcome: a 25 MB genuine alert is read under CPU load."""
    _name, data, _forged = big_attachment()
    alerts = reader()
    with cpu_load():
        c = alerts.classify(data)
    assert c.reason is None, c.reason
    assert c.alert is not None and c.alert.request_id == "184523"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (parts_bomb(LIMIT - 4096), "lines"),  # millions of empty parts
        (parts_bomb(LIMIT - 4096, pad=990), "MIME parts"),  # long lines: few lines, many parts
        (message(b"a\r\n" * ((LIMIT - 4096) // 3), cte="7bit"), "lines"),  # no parts at all
    ],
    ids=["empty-parts", "padded-parts", "short-lines"],
)
def test_a_work_bomb_under_the_size_limit_is_quarantined_at_bounded_cost(
    data: bytes, why: str
) -> None:
    """A 30 MB bomb of parts or lines is kept for review with its reason, in a few MB."""
    assert len(data) < LIMIT
    alerts = reader()
    tracemalloc.start()
    try:
        c = alerts.classify(data)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert c.kind is MessageKind.IMI_ALERT and c.alert is None
    assert c.reason is not None and why in c.reason and "kept for review" in c.reason
    assert peak < 16 * 1024 * 1024, peak  # the message is 30 MB; the parse never holds it all


def test_html_work_is_bounded_per_message_by_its_tags() -> None:
    """Many HTML parts of nothing but tags (an HTML tree bomb): the HTML read stops at the
    tag budget, noted as a problem; the alert in the plain part is still read."""
    tags = ("Content-Type: text/html; charset=utf-8", b"<i>" * 80_000)
    data = multipart(
        [("Content-Type: text/plain; charset=utf-8", NL_BODY.encode()), *[tags] * 12],
        subtype="mixed",
    )
    c = reader().classify(data)
    assert c.alert is not None and c.alert.request_id == "184523"
    assert any("HTML cut at" in p for p in c.problems), c.problems


def test_the_alert_after_a_parts_bomb_is_handled(tmp_path: Path) -> None:
    """A parts bomb ahead in the mailbox is quarantined with its reason; the next alert is
    handled in the same pass."""
    bomb = parts_bomb(LIMIT - 4096)
    genuine = message(message_id="<after-the-bomb@imi.ec.europa.eu>")
    make_maildir(tmp_path / "mailbox", [("1-bomb.eml", bomb), ("2-alert.eml", genuine)],
                 start=1763280000)  # fmt: skip
    data = {
        "state": {"path": str(tmp_path / "state.sqlite3")},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp_path / "mailbox")}],
        "rules": {"paths": [str(REPO / "rules")]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a@example.org"}],
        "notify": {"kind": "drop_folder", "drop_folder": {"path": str(tmp_path / "outbox")}},
        "service": {"health_listen": None},
    }
    cfg = config_from_data(data, {}, base_dir=str(tmp_path))
    sink = InMemoryTaskSink()
    app = build_app(cfg, clock=FakeClock(DEMO_NOW), sink=sink, notifier=InMemoryNotifier())
    try:
        app.daemon.run_once()
        rows = app.store.query("SELECT message_id, disposition, reason FROM messages")
    finally:
        app.close()
    by_id = {r["message_id"]: r for r in rows}
    assert by_id["<t-1@imi.ec.europa.eu>"]["disposition"] == "quarantined"
    assert "lines" in by_id["<t-1@imi.ec.europa.eu>"]["reason"]
    assert by_id["<after-the-bomb@imi.ec.europa.eu>"]["disposition"] == "handled"
