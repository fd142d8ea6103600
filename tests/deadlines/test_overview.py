"""The Monday overview: once a week per team and for the beheerders, on a fake clock,
through the real SMTP notifier to aiosmtpd; moved to Tuesday when Monday is closed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time
from email.message import EmailMessage

import pytest

from imi_mailwatch.adapters.smtp import SmtpNotifier
from imi_mailwatch.config import SmtpConfig
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.errors import NotifierUnavailableError
from imi_mailwatch.mailings import ScheduledMailer
from imi_mailwatch.model import OutgoingMail, RequestStatus
from imi_mailwatch.overview import MondayOverview, request_line, send_day
from imi_mailwatch.texts import shipped_texts
from tests.deadlines.conftest import BEHEERDERS, Desk, make_request
from tests.deadlines.smtp_server import SmtpTestServer
from tests.dutch import problems_in

CAL = BusinessCalendar()


@pytest.fixture
def server() -> Iterator[SmtpTestServer]:
    srv = SmtpTestServer().start("none")
    yield srv
    srv.stop()


class CrashAfterSend:
    """The real notifier, then a crash before the daemon can record that it sent."""

    def __init__(self, inner: SmtpNotifier) -> None:
        self.inner = inner

    def send(self, mail: OutgoingMail) -> None:
        self.inner.send(mail)
        raise RuntimeError("killed after the mail went out")


class Down:
    def send(self, mail: OutgoingMail) -> None:
        raise NotifierUnavailableError("relay down")


def _smtp(server: SmtpTestServer, desk: Desk) -> SmtpNotifier:
    cfg = SmtpConfig(host="127.0.0.1", port=server.port, security="none")
    return SmtpNotifier(cfg, from_address="imi@brabant.example", from_name="IMI", clock=desk.clock)


def _overview(desk: Desk, notifier: object) -> MondayOverview:
    mailer = ScheduledMailer(desk.store, notifier, desk.clock)  # type: ignore[arg-type]
    return MondayOverview(desk.store, mailer, CAL, beheerders=BEHEERDERS, at=time(8, 0))


def _body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _requests(desk: Desk) -> None:
    desk.record(make_request())  # reply date Friday 27 November 2026
    desk.record(make_request("184600", deadline=date(2026, 11, 18)))  # overdue
    desk.record(make_request("184700", deadline=None, team_key="eco", team_name="Economie",
                             team_mailbox="eco@example.org"))  # fmt: skip
    desk.record(make_request("184800", status=RequestStatus.CLOSED))
    desk.record(make_request("184900", is_default=True, team_key="icb", team_name="ICB"))


def test_the_overview_goes_out_once_on_monday_at_eight(desk: Desk, server: SmtpTestServer) -> None:
    """Monday overview: 08:00 Amsterdam, one mail per team and one for the beheerders, once."""
    _requests(desk)
    overview = _overview(desk, _smtp(server, desk))
    desk.clock.set(datetime(2026, 11, 23, 6, 59, tzinfo=UTC))  # 07:59 in Amsterdam
    assert overview.run() == 0
    desk.clock.set(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert overview.run() == 3
    got = {tuple(r.rcpt_tos): r.message for r in server.handler.received}
    assert set(got) == {
        ("vth-milieu@example.org",),
        ("eco@example.org",),
        tuple(b.email for b in BEHEERDERS),
    }
    team = got[("vth-milieu@example.org",)]
    assert team["Subject"] == (
        "IMI-overzicht week 48: 2 open verzoeken voor Milieu, afval en bodem (VTH), 1 te laat"
    )
    text = _body(team)
    assert text.index("Verzoek 184600") < text.index("Verzoek 184523")  # earliest date first
    assert "Antwoorddatum: vrijdag 27 november 2026 (nog 4 werkdagen)" in text
    assert "Antwoorddatum: woensdag 18 november 2026 (3 werkdagen te laat)" in text
    assert "184700" not in text and "184800" not in text and "184900" not in text
    assert problems_in(text, today=date(2026, 11, 23)) == [], text
    everyone = _body(got[tuple(b.email for b in BEHEERDERS)])
    for rid in ("184523", "184600", "184700", "184900"):
        assert f"Verzoek {rid} (" in everyone
    assert "Antwoorddatum: onbekend" in everyone and "184800" not in everyone
    assert problems_in(everyone, today=date(2026, 11, 23)) == [], everyone
    desk.clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    assert overview.run() == 0
    assert _overview(desk, _smtp(server, desk)).run() == 0  # a restart: nothing again
    assert len(server.handler.received) == 3
    desk.clock.set(datetime(2026, 11, 30, 7, 0, tzinfo=UTC))  # the next Monday
    assert overview.run() == 3


def test_on_a_closed_monday_the_overview_comes_the_next_working_day(
    desk: Desk, server: SmtpTestServer
) -> None:
    """Monday overview: Easter Monday 29 March 2027 is closed; it comes Tuesday at 08:00."""
    desk.record(make_request(deadline=date(2027, 4, 2)))
    assert send_day(CAL, date(2027, 3, 31)) == date(2027, 3, 30)
    overview = _overview(desk, _smtp(server, desk))
    desk.clock.set(datetime(2027, 3, 29, 9, 0, tzinfo=UTC))  # Easter Monday, 11:00
    assert overview.run() == 0
    desk.clock.set(datetime(2027, 3, 30, 5, 59, tzinfo=UTC))  # Tuesday 07:59 (summer time)
    assert overview.run() == 0
    desk.clock.set(datetime(2027, 3, 30, 6, 0, tzinfo=UTC))
    assert overview.run() == 2
    text = _body(server.handler.received[0].message)
    assert "Dit is het overzicht van dinsdag 30 maart 2027 (week 13)" in text
    assert problems_in(text, today=date(2027, 3, 30)) == [], text


def test_a_crash_after_sending_repeats_the_same_message_id_once(
    desk: Desk, server: SmtpTestServer
) -> None:
    """Monday overview: killed between send and record, the repeat has the same Message-ID."""
    desk.record(make_request())
    desk.clock.set(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    with pytest.raises(RuntimeError):
        _overview(desk, CrashAfterSend(_smtp(server, desk))).run()
    assert _overview(desk, _smtp(server, desk)).run() == 2
    assert _overview(desk, _smtp(server, desk)).run() == 0
    ids = [r.message["Message-ID"] for r in server.handler.received]
    assert len(ids) == 3 and ids[0] == ids[1] and ids[2] != ids[0]


def test_a_relay_that_is_down_defers_the_overview(desk: Desk, server: SmtpTestServer) -> None:
    """Monday overview: the notifier down at 08:00 sends it after the back-off, once."""
    desk.record(make_request())
    desk.clock.set(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert _overview(desk, Down()).run() == 0
    overview = _overview(desk, _smtp(server, desk))
    assert overview.run() == 0  # waits for its next attempt
    desk.clock.set(datetime(2026, 11, 23, 7, 2, tzinfo=UTC))
    assert overview.run() == 2
    assert overview.run() == 0


def test_no_mail_when_there_is_nothing_to_say(desk: Desk, server: SmtpTestServer) -> None:
    """Monday overview: no open request and nothing in quarantine: no mail, nothing claimed."""
    desk.record(make_request(status=RequestStatus.CLOSED))
    desk.clock.set(datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    assert _overview(desk, _smtp(server, desk)).run() == 0
    assert server.handler.received == []
    assert desk.store.mailing("overview:2026-W48:beheerders") is None


@pytest.mark.parametrize(
    "deadline",
    [None, date(2026, 11, 23), date(2026, 11, 24), date(2026, 12, 25), date(2026, 11, 2)],
)
@pytest.mark.parametrize("default", [False, True])
def test_overview_template_reads_right_in_every_state(deadline: date | None, default: bool) -> None:
    """Overview template: before, on, after the date, a closed day, unknown, default route."""
    today = date(2026, 11, 23)
    request = make_request(deadline=deadline, is_default=default)
    proposal = [{"alert_type": "deadline_proposed", "deadline": "2026-12-04",
                 "sent_at": "2026-11-20T09:00:00+00:00", "recorded_at": "x"}]  # fmt: skip
    for alerts in ([], proposal):
        line = request_line(request, alerts, today, CAL)
        for for_beheerders in (False, True):
            context = {
                "datum": "maandag 23 november 2026",
                "week": 48,
                "voor_beheerders": for_beheerders,
                "team": "alle teams" if for_beheerders else str(request.team_name),
                "verzoeken": [line, replace_line(line)],
                "aantal": 2,
                "te_laat": 2 * int(line["te_laat"]),
                "voorstellen": 2 * int(bool(line["voorstel"])),
                "quarantaine": 1,
                "geweigerd": 2,
                "beheerders": "A. Voorbeeld (eerste aanspreekpunt, a@example.org)",
            }
            parts = shipped_texts().letter("maandagoverzicht", **context)
            for part in parts.values():
                assert problems_in(part, today=today) == [], part


def replace_line(line: dict[str, object]) -> dict[str, object]:
    return {**line, "verzoek": "184999"}


def test_the_imi_state_shown_is_the_latest_with_its_date() -> None:
    """Overview line: the state carries the date of the latest alert from IMI."""
    request = replace(make_request(), status=RequestStatus.ALLOCATED)
    alerts = [{"alert_type": "allocated", "deadline": None,
               "sent_at": "2026-11-19T10:00:00+00:00", "recorded_at": "x"}]  # fmt: skip
    line = request_line(request, alerts, date(2026, 11, 23), CAL)
    assert line["stand"] == "toegewezen in IMI (laatste melding uit IMI: 19-11-2026)"
    assert line["verwacht"] == "beantwoord het verzoek in IMI"
