"""The standard memo is filled in exactly as the beheerders wrote it."""

from __future__ import annotations

from datetime import date

from imi_mailwatch.config import DEFAULT_MEMO_TEMPLATE, Beheerder
from imi_mailwatch.memo import beheerders_text, render_memo


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
    assert "binnen 28 dagen binnen IMI te beantwoorden" in memo


def test_memo_without_deadline_or_beheerders_still_reads() -> None:
    """A missing reply date and an empty beheerders list give readable Dutch, not 'None'."""
    memo = render_memo(
        DEFAULT_MEMO_TEMPLATE, field="x", beheerders=[], today=date(2026, 1, 1), deadline=None
    )
    assert "None" not in memo
    assert "een onbekend aantal dagen" in memo
    assert beheerders_text([]) in memo
