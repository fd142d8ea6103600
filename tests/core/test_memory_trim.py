"""The daemon gives memory freed after a burst back to the system."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW
from imi_mailwatch.config import config_from_data
from imi_mailwatch.memory import MemoryTrim, malloc_trim
from tests.privacy.helpers import config_data

MIB = 1024 * 1024


def resident() -> int:
    """This process's resident memory in bytes (Linux)."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text)[1]) * 1024  # type: ignore[index]


def burst() -> bytearray:
    """Allocate 32 MiB on the C heap and free all of it but the last block, which keeps
    glibc from giving the rest back by itself (as live data after a burst does)."""
    blocks = [bytearray(64 * 1024) for _ in range(512)]
    return blocks[-1]


pytestmark = pytest.mark.skipif(not malloc_trim(), reason="glibc's malloc_trim is missing")


def test_the_daemons_periodic_work_returns_the_heap_freed_after_a_burst() -> None:
    """Memory leak class (RSS that stays at a burst's peak): a pass of the daemon's
    periodic work gives the pages a burst freed back to the system."""
    tmp = Path(tempfile.mkdtemp(prefix="imi-trim-"))
    (tmp / "mailbox").mkdir()
    cfg = config_from_data(config_data(tmp), {}, base_dir=str(tmp))
    app = build_app(cfg, clock=FakeClock(DEMO_NOW), sink=InMemoryTaskSink(),
                    notifier=InMemoryNotifier())  # fmt: skip
    try:
        kept = burst()
        before = resident()
        app.daemon.run_periodic()
        assert before - resident() > 16 * MIB
        assert len(kept) == 64 * 1024
    finally:
        app.close()


def test_trim_runs_at_most_once_every_period() -> None:
    """The trim is rate-limited: a second call within the period does nothing."""
    trim = MemoryTrim(every=3600)
    assert trim() is True
    assert trim() is False
    assert MemoryTrim(every=0)() is True
