"""The standard memo is filled in exactly as the beheerders wrote it, in good Dutch."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from imi_mailwatch.config import DEFAULT_MEMO_TEMPLATE, Beheerder, MemoConfig
from imi_mailwatch.memo import beheerders_text, days_phrase, is_copy, render_memo


def test_memo_fills_field_beheerders_and_calendar_days() -> None:
    """{vakgebied}, {beheerders} and {dagen} (calendar days to the reply date) are filled."""
    b = [
        Beheerder(name="B. Twee", email="b@example.org", role="backup"),
        Beheerder(name="A. Een", email="a@example.org", role="first"),
    ]
    memo = render_memo(
        DEFAULT_MEMO_TEMPLATE,
        field="bouw en sloop",
        beheerders=b,
        today=date(2026, 11, 16),
        deadline=date(2026, 12, 14),
    )
    assert memo.startswith("Dit is een IMI-verzoek op het gebied van bouw en sloop. ")
    assert (
        "IMI-beheerder(s) A. Een (eerste aanspreekpunt, a@example.org) en B. Twee "
        "(backup, b@example.org)." in memo
    )
    assert "vraagt het verzoek binnen 28 dagen binnen IMI te beantwoorden" in memo


def test_memo_without_deadline_or_beheerders_still_reads() -> None:
    """A missing reply date and an empty beheerders list give readable Dutch, not 'None'."""
    memo = render_memo(
        DEFAULT_MEMO_TEMPLATE, field="x", beheerders=[], today=date(2026, 1, 1), deadline=None
    )
    assert "None" not in memo
    assert "binnen een nog onbekende termijn binnen IMI" in memo
    assert beheerders_text([]) in memo


@pytest.mark.parametrize(
    ("deadline", "phrase"),
    [
        (date(2026, 11, 30), "binnen 14 dagen"),
        (date(2026, 11, 17), "binnen 1 dag"),
        (date(2026, 11, 16), "vandaag"),
        (date(2026, 11, 10), "uiterlijk 10-11-2026"),
        (None, "binnen een nog onbekende termijn"),
    ],
)
def test_days_read_as_dutch_on_every_day(deadline: date | None, phrase: str) -> None:
    """Grammar class: {dagen} is "1 dag", "vandaag" or a passed date, never "-6 dagen"."""
    assert days_phrase(date(2026, 11, 16), deadline) == phrase


def test_a_template_written_for_the_old_number_still_reads() -> None:
    """A beheerder's template with "binnen {dagen} dagen" gives no "binnen binnen" or "-6"."""
    template = "Beantwoord binnen {dagen} dagen, uiterlijk {antwoorddatum}."
    memo = render_memo(
        template, field="x", beheerders=[], today=date(2026, 11, 16), deadline=date(2026, 11, 10)
    )
    assert memo == "Beantwoord uiterlijk 10-11-2026, uiterlijk 10-11-2026."
    one = render_memo(
        template, field="x", beheerders=[], today=date(2026, 11, 16), deadline=date(2026, 11, 17)
    )
    assert one == "Beantwoord binnen 1 dag, uiterlijk 17-11-2026."


def test_antwoorddatum_is_offered_and_validated() -> None:
    """{antwoorddatum} is accepted in the template; an unknown placeholder is refused."""
    assert MemoConfig(template="Antwoord op {antwoorddatum}").template
    with pytest.raises(ValueError, match="antwoorddatum"):
        MemoConfig(template="Antwoord op {datum}")


def test_a_copy_of_a_recorded_alert_is_recognised() -> None:
    """Copy class: same type and reply date within a day is a copy; a later reminder is not."""
    sent = datetime(2026, 11, 16, 9, 12, tzinfo=UTC)
    earlier = [("allocated", date(2026, 12, 1), sent)]
    assert is_copy(earlier, "allocated", date(2026, 12, 1), sent + timedelta(hours=3))
    assert not is_copy(earlier, "allocated", date(2026, 12, 1), sent + timedelta(days=3))
    assert not is_copy(earlier, "deadline_changed", date(2026, 12, 1), sent)
    assert not is_copy(earlier, "allocated", date(2026, 12, 5), sent)
