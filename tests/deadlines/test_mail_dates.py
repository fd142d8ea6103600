"""Regressions: the follow-up mails tell the right dates and never contradict themselves."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

from imi_mailwatch.model import RequestStatus
from imi_mailwatch.records import AlertEntry
from imi_mailwatch.reports import BeheerderReports
from tests.deadlines.conftest import Desk, make_request


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_overdue_reminder_never_says_nog_with_te_laat(desk: Desk) -> None:
    """Contradiction: an overdue reminder must not say "Nog te gaan: 2 werkdagen te laat"."""
    desk.record(make_request())  # reply date Friday 27 Nov 2026
    desk.at(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # Tuesday: 2 working days late
    mail = desk.notifier.sent[-1]
    assert "2 werkdagen te laat" in mail.text
    for line in _lines(mail.text):
        assert not re.search(r"\bnog\b.*\bte laat\b", line, re.IGNORECASE), line


def test_reminder_before_the_date_says_nog_once_per_line(desk: Desk) -> None:
    """Doubling: "Nog te gaan: nog 5 werkdagen" says "nog" twice on one line."""
    desk.record(make_request())
    desk.at(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))  # the d-5 reminder
    (mail,) = desk.notifier.sent
    assert "5 werkdagen" in mail.text
    for text in (mail.text, mail.subject):
        for line in _lines(text):
            assert len(re.findall(r"\bnog\b", line, re.IGNORECASE)) <= 1, line


def test_stale_imi_status_is_shown_with_the_date_it_was_reported(desk: Desk) -> None:
    """Stale fact: long after the date the mail shows the last known IMI status and its date."""
    reported = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
    desk.record(make_request(updated_at=reported))
    with desk.store.transaction():
        desk.store.add_alert(1, AlertEntry("184523", "new_request", date(2026, 11, 27), reported))
    desk.at(datetime(2027, 3, 30, 9, 0, tzinfo=UTC))  # about 82 working days late
    mail = desk.notifier.sent[-1]
    assert "te laat" in mail.text
    (line,) = [x for x in mail.text.splitlines() if "stand in imi" in x.lower()]
    assert "maandag 16 november 2026" in line, line
    assert "laatst bekende" in line.lower(), line


def test_default_route_notice_assigns_the_team_to_the_request(desk: Desk) -> None:
    """Wrong direction: the team is assigned to the request, not the request the team."""
    from imi_mailwatch.config import ReportsConfig
    from tests.deadlines.conftest import BEHEERDERS

    desk.record(make_request(is_default=True))
    reports = BeheerderReports(
        desk.store, desk.notifier, desk.clock, beheerders=BEHEERDERS, config=ReportsConfig()
    )
    desk.clock.set(datetime(2026, 11, 16, 12, 0, tzinfo=UTC))
    assert reports.run() == 1
    text = desk.notifier.sent[-1].text
    assert "Wijs het verzoek het juiste team toe" not in text
    assert "Wijs het verzoek toe aan het juiste team" in text


def test_closing_mail_announces_the_day_the_archive_check_is_really_sent(desk: Desk) -> None:
    """Closed day: the archive check planned for Sunday 12 Sep 2027 goes out Monday 13 Sep."""
    request = make_request()
    desk.record(request)
    closed_at = datetime(2027, 5, 12, 10, 0, tzinfo=UTC)  # +4 months = Sunday 12 Sep 2027
    desk.clock.set(closed_at)
    desk.record(replace(request, status=RequestStatus.CLOSED, closed_at=closed_at), closed=True)
    assert desk.followups.run_due() == 1
    closing = desk.notifier.sent[-1]
    assert "zondag 12 september 2027" not in closing.text
    assert "maandag 13 september 2027" in closing.text
    assert desk.at(datetime(2027, 9, 13, 9, 0, tzinfo=UTC)) == 1
    assert desk.notifier.sent[-1].subject.startswith("[IMI 184523] Controle archivering")


def test_day_zero_reminder_before_a_closed_reply_date_names_today_rightly(desk: Desk) -> None:
    """Closed reply date: on Mon 26 Apr 2027 the reminder must not call Koningsdag "vandaag"."""
    desk.record(make_request(deadline=date(2027, 4, 27)))  # Koningsdag, a closed day
    desk.at(datetime(2027, 4, 26, 7, 0, tzinfo=UTC))  # 09:00 Amsterdam, Monday
    mail = desk.notifier.sent[-1]
    assert "Vandaag, dinsdag 27 april 2027" not in mail.text
    assert "dinsdag 27 april 2027" in mail.text
    assert "maandag 26 april 2027" in mail.text
    assert "Vandaag: antwoorddatum" not in mail.subject
