"""The business calendar: Dutch holidays, weekends, working hours, DST and midnight."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imi_mailwatch.deadlines import BusinessCalendar
from imi_mailwatch.deadlines.calendar import _dutch_closed_days

CAL = BusinessCalendar()


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 4, 27),  # Koningsdag
        date(2026, 4, 3),  # Good Friday
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 5),  # Bevrijdingsdag, not a lustrum year (Algemene termijnenwet)
        date(2026, 5, 14),  # Ascension Day
        date(2026, 5, 25),  # Whit Monday
        date(2026, 12, 25),  # Christmas
        date(2026, 12, 26),  # Boxing Day (a Saturday too)
        date(2027, 1, 1),  # New Year
        date(2026, 11, 21),  # a Saturday
        date(2026, 11, 22),  # a Sunday
    ],
)
def test_holidays_and_weekends_are_closed(day: date) -> None:
    """Dutch public holidays, 5 May every year and weekends are no working days."""
    assert not CAL.is_working_day(day)


def test_ordinary_weekdays_are_working_days() -> None:
    """An ordinary Monday to Friday is open."""
    assert all(CAL.is_working_day(date(2026, 11, d)) for d in range(16, 21))


def test_extra_closed_days_are_closed() -> None:
    """A bridge day set by decree closes the day only when configured."""
    bridge = date(2026, 5, 15)
    assert CAL.is_working_day(bridge)
    assert not BusinessCalendar(extra_closed_days=[bridge]).is_working_day(bridge)


def test_offsets_count_working_days_around_christmas() -> None:
    """Five working days before 30 Dec 2026 skip Christmas and the weekend."""
    assert CAL.shift(date(2026, 12, 30), -5) == date(2026, 12, 22)
    assert CAL.shift(date(2026, 12, 24), 1) == date(2026, 12, 28)


def test_offsets_around_easter_and_koningsdag() -> None:
    """Around Easter and Koningsdag the closed days are skipped both ways."""
    assert CAL.shift(date(2026, 4, 7), -2) == date(2026, 4, 1)  # Good Friday, Easter Monday
    assert CAL.shift(date(2026, 4, 24), 1) == date(2026, 4, 28)  # Koningsdag on Monday


def test_offset_zero_on_a_closed_day_is_the_working_day_before() -> None:
    """A reply date on a Saturday is reminded of on the Friday before, not after."""
    assert CAL.shift(date(2026, 11, 21), 0) == date(2026, 11, 20)
    assert CAL.shift(date(2026, 11, 20), 0) == date(2026, 11, 20)


def test_working_days_between() -> None:
    """Days left count working days after today up to the date; negative once overdue."""
    friday = date(2026, 11, 27)
    assert CAL.working_days_between(date(2026, 11, 20), friday) == 5
    assert CAL.working_days_between(friday, friday) == 0
    assert CAL.working_days_between(date(2026, 11, 30), friday) == -1
    assert CAL.working_days_between(date(2026, 11, 28), friday) == 0  # a Saturday after


def test_opening_hours_follow_dst_in_march() -> None:
    """08:30 in Amsterdam is 07:30 UTC before and 06:30 UTC after the spring change."""
    assert CAL.opening(date(2026, 3, 27)) == datetime(2026, 3, 27, 7, 30, tzinfo=UTC)
    assert CAL.opening(date(2026, 3, 30)) == datetime(2026, 3, 30, 6, 30, tzinfo=UTC)


def test_opening_hours_follow_dst_in_october() -> None:
    """And back to 07:30 UTC after the autumn change."""
    assert CAL.opening(date(2026, 10, 23)) == datetime(2026, 10, 23, 6, 30, tzinfo=UTC)
    assert CAL.opening(date(2026, 10, 26)) == datetime(2026, 10, 26, 7, 30, tzinfo=UTC)


def test_midnight_is_local() -> None:
    """23:30 UTC on a Sunday in winter is already Monday in Amsterdam."""
    late = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert CAL.local_date(late) == date(2026, 11, 23)
    assert not CAL.is_working_moment(late)  # 00:30 local: outside working hours
    assert CAL.next_working_moment(late) == datetime(2026, 11, 23, 7, 30, tzinfo=UTC)


def test_working_moments() -> None:
    """Working hours are [08:30, 17:00) local on working days."""
    assert CAL.is_working_moment(datetime(2026, 11, 20, 7, 30, tzinfo=UTC))
    assert not CAL.is_working_moment(datetime(2026, 11, 20, 16, 0, tzinfo=UTC))  # 17:00
    friday_evening = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    assert CAL.next_working_moment(friday_evening) == datetime(2026, 11, 23, 7, 30, tzinfo=UTC)
    custom = BusinessCalendar(start=time(9, 0), end=time(12, 0))
    assert not custom.is_working_moment(datetime(2026, 11, 20, 11, 30, tzinfo=UTC))


days = st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31))


@settings(max_examples=200, deadline=None)
@given(day=days, k=st.integers(min_value=1, max_value=15))
def test_shift_lands_on_working_days_k_apart(day: date, k: int) -> None:
    """Shifting by k working days lands on a working day exactly k working days away."""
    reply = CAL.on_or_after(day)
    before, after = CAL.shift(reply, -k), CAL.shift(reply, k)
    assert CAL.is_working_day(before) and CAL.is_working_day(after)
    assert CAL.working_days_between(before, reply) == k
    assert CAL.working_days_between(after, reply) == -k
    assert before < reply < after


@settings(max_examples=200, deadline=None)
@given(day=days, minutes=st.integers(min_value=0, max_value=24 * 60 - 1))
def test_next_working_moment_is_a_working_moment_not_in_the_past(day: date, minutes: int) -> None:
    """Whatever the instant, the next working moment is one, and never earlier."""
    instant = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minutes)
    nxt = CAL.next_working_moment(instant)
    assert nxt >= instant
    assert CAL.is_working_moment(nxt)
    assert nxt - instant < timedelta(days=6)


def test_dutch_calendar_loads_only_the_dutch_holidays() -> None:
    """Memory: the Dutch calendar must not import the holidays of every other country."""
    code = (
        "import sys\n"
        "from datetime import date\n"
        "from imi_mailwatch.deadlines import BusinessCalendar\n"
        "assert not BusinessCalendar().is_working_day(date(2026, 4, 27))\n"
        "print(sorted(m for m in sys.modules if m.startswith('holidays.countries.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert "holidays.countries.germany" not in out


@pytest.mark.parametrize("year", [2020, 2025, 2026, 2027, 2030, 2035])
def test_dutch_closed_days_match_the_holidays_package(year: int) -> None:
    """The Dutch-only source gives the same closed days as holidays.country_holidays('NL')."""
    import holidays

    expected = holidays.country_holidays("NL", years=year, categories=("public", "optional"))
    assert _dutch_closed_days(year) == frozenset(expected.keys())
