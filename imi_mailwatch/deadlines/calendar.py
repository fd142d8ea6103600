"""The business calendar: working days and working hours in Europe/Amsterdam. Pure.

A working day is a weekday that is not closed. Closed are the Dutch public
holidays of the ``holidays`` package together with the days the Algemene
termijnenwet also counts (5 May every year, not only in lustrum years; the
package files it under "optional"), plus the configured ``extra_closed_days``
(bridge days set by decree). Good Friday is a public holiday in the package.

Offsets count working days relative to a reply date (see ``model.ReminderStep``):

- ``-k``: the k-th working day before the reply date;
- ``0``: the reply date itself, or the last working day before it when the
  reply date is closed (a reminder "on the day" is worth nothing the day after);
- ``+k``: the k-th working day after the reply date.

Every reminder is due at the start of working hours, local time, on its day;
the instant is handed back in UTC, so DST is handled by ``zoneinfo``.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from imi_mailwatch.config import DeadlinesConfig

_MAX_SCAN = 366 * 3  # a safety bound: no real calendar is closed for three years


_NL_MODULE = "holidays.countries.netherlands"
_NL_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _dutch_holidays() -> Callable[..., Any]:
    """The ``holidays`` class of the Netherlands, loaded without the other countries.

    ``holidays.countries`` imports all 250 countries in its ``__init__`` (about 9 MiB
    of a daemon that needs one), so the Dutch module is loaded from its file on its
    own; it imports only the shared core. If a release moves it, the package's own
    lookup is the fallback.
    """
    with _NL_LOCK:
        module = sys.modules.get(_NL_MODULE) or _load_dutch_module()
    cls = getattr(module, "Netherlands", None) if module is not None else None
    if cls is None:  # pragma: no cover - a holidays release that moved the module
        import holidays

        return functools.partial(holidays.country_holidays, "NL")
    return cls  # type: ignore[no-any-return]


def _load_dutch_module() -> ModuleType | None:
    root = importlib.util.find_spec("holidays")
    places = root.submodule_search_locations if root is not None else None
    path = Path(next(iter(places))) / "countries" / "netherlands.py" if places else None
    if path is None or not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location(_NL_MODULE, path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NL_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[_NL_MODULE]
        raise
    return module


@lru_cache(maxsize=64)
def _dutch_closed_days(year: int) -> frozenset[date]:
    days = _dutch_holidays()(years=year, categories=("public", "optional"))
    return frozenset(days.keys())


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the last day of a shorter month)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError("unreachable")


class BusinessCalendar:
    """Working days and hours of the province."""

    def __init__(
        self,
        *,
        timezone: str = "Europe/Amsterdam",
        start: time = time(8, 30),
        end: time = time(17, 0),
        extra_closed_days: Iterable[date] = (),
    ) -> None:
        if end <= start:
            raise ValueError("working hours must end after they start")
        self.tz = ZoneInfo(timezone)
        self.start = start
        self.end = end
        self.extra_closed_days = frozenset(extra_closed_days)

    # -- days -------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """A weekday that is neither a Dutch holiday nor a configured closed day."""
        return (
            day.weekday() < 5
            and day not in self.extra_closed_days
            and day not in _dutch_closed_days(day.year)
        )

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self._scan(day, +1)

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        return self._scan(day, -1)

    def on_or_after(self, day: date) -> date:
        return day if self.is_working_day(day) else self.next_working_day(day)

    def on_or_before(self, day: date) -> date:
        return day if self.is_working_day(day) else self.previous_working_day(day)

    def _scan(self, day: date, step: int) -> date:
        current = day
        for _ in range(_MAX_SCAN):
            current += timedelta(days=step)
            if self.is_working_day(current):
                return current
        raise ValueError("no working day within three years: check extra_closed_days")

    def shift(self, reply_date: date, offset: int) -> date:
        """The day of a reminder ``offset`` working days from ``reply_date`` (see module)."""
        if offset == 0:
            return self.on_or_before(reply_date)
        day = reply_date
        for _ in range(abs(offset)):
            day = self.next_working_day(day) if offset > 0 else self.previous_working_day(day)
        return day

    def working_days_between(self, today: date, reply_date: date) -> int:
        """Working days left until the reply date, as the reminder e-mail says them.

        The working days after ``today`` up to and including ``reply_date``: 0 on the
        day itself, 1 the working day before. Once overdue, minus the working days
        after ``reply_date`` up to and including ``today``.
        """
        if today == reply_date:
            return 0
        lo, hi, sign = (today, reply_date, 1) if today < reply_date else (reply_date, today, -1)
        count = 0
        day = lo + timedelta(days=1)
        while day <= hi:
            if self.is_working_day(day):
                count += 1
            day += timedelta(days=1)
        return sign * count

    # -- instants ---------------------------------------------------------------------------

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def opening(self, day: date) -> datetime:
        """The start of working hours on ``day``, in UTC."""
        return datetime.combine(day, self.start, tzinfo=self.tz).astimezone(UTC)

    def is_working_moment(self, instant: datetime) -> bool:
        """Whether ``instant`` falls within working hours on a working day."""
        local = instant.astimezone(self.tz)
        return self.is_working_day(local.date()) and self.start <= local.time() < self.end

    def next_working_moment(self, instant: datetime) -> datetime:
        """``instant`` itself when it is within working hours, else the next opening (UTC)."""
        if self.is_working_moment(instant):
            return instant.astimezone(UTC)
        local = instant.astimezone(self.tz)
        day = local.date()
        if self.is_working_day(day) and local.time() < self.start:
            return self.opening(day)
        return self.opening(self.next_working_day(day))

    def due_at(self, reply_date: date, offset: int) -> datetime:
        """When the reminder ``offset`` working days from ``reply_date`` is due (UTC)."""
        return self.opening(self.shift(reply_date, offset))


def calendar_of(d: DeadlinesConfig) -> BusinessCalendar:
    """The province's working days and hours as the ``deadlines`` section sets them."""
    return BusinessCalendar(
        timezone=d.timezone,
        start=d.working_hours_start,
        end=d.working_hours_end,
        extra_closed_days=d.extra_closed_days,
    )
