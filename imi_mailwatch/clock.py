"""Clocks: the system clock for production and a fake one that tests move by hand."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
"""The province's time zone: local days, and the times staff read."""


def local_minute(ts: datetime) -> str:
    """``dd-mm-yyyy HH:MM`` in Amsterdam time, as staff read a moment."""
    return f"{ts.astimezone(AMSTERDAM):%d-%m-%Y %H:%M}"


def local_today(now: datetime) -> date:
    """The day it is in Amsterdam at ``now``."""
    return now.astimezone(AMSTERDAM).date()


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to. Thread-safe."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by a timedelta or a number of seconds; returns the new time."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            self._now += step
            return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FakeClock.set needs a timezone-aware datetime")
        with self._lock:
            self._now = when.astimezone(UTC)


def parse_ts(value: str | None) -> datetime | None:
    """A stored ISO timestamp, or None."""
    return datetime.fromisoformat(value) if value else None


def parse_day(value: str | None) -> date | None:
    """A stored ISO day, or None."""
    return date.fromisoformat(value) if value else None
