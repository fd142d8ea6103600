"""The quarterly report: the IMI statistics' figures, a CSV for Dutch Excel, sent once at the
start of the next quarter (fake clock, real SMTP notifier against aiosmtpd), and the CLI."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from email.message import EmailMessage
from pathlib import Path

import pytest

from imi_mailwatch.adapters.smtp import SmtpNotifier
from imi_mailwatch.cli import main
from imi_mailwatch.config import SmtpConfig
from imi_mailwatch.deadlines.calendar import BusinessCalendar
from imi_mailwatch.mailings import ScheduledMailer
from imi_mailwatch.model import Disposition, MessageKind
from imi_mailwatch.quarterly import Quarter, QuarterlyReport, csv_bytes, figures
from imi_mailwatch.records import AlertEntry, MessageEntry, QuarantineEntry, QuarterFacts
from tests.deadlines.conftest import BEHEERDERS, Desk, make_request
from tests.deadlines.smtp_server import SmtpTestServer
from tests.dutch import problems_in

Q4 = Quarter(2026, 4)


def _at(day: int, month: int = 10, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def _facts(rid: str, team: str, received: datetime, **kw: object) -> QuarterFacts:
    values: dict[str, object] = {
        "request_id": rid,
        "team_name": team,
        "module": "services",
        "received_at": received,
        "accepted_at": None,
        "answered_at": None,
        "deadline": None,
        "forwarded": False,
        "final": False,
    }
    values.update(kw)
    return QuarterFacts(**values)  # type: ignore[arg-type]


FACTS = [
    _facts("1", "Milieu", _at(1), accepted_at=_at(3), answered_at=_at(20),
           deadline=date(2026, 10, 29)),
    _facts("2", "Milieu", _at(5), accepted_at=_at(6), answered_at=_at(30),
           deadline=date(2026, 10, 29), final=True),  # answered a day late
    _facts("3", "Economie", _at(10), module="sdg_evidence", forwarded=True),
    _facts("4", None, _at(1, 12)),  # type: ignore[arg-type]
]  # fmt: skip


def test_the_figures_are_those_of_the_imi_statistics() -> None:
    """Quarterly figures: counts per module and team, median and worst days, late, forwarded."""
    got = figures(Q4, FACTS, rejected=2)
    assert got["ontvangen"] == 4
    assert got["per_module"] == [
        {"naam": "Dienstenrichtlijn", "aantal": 3},
        {"naam": "SDG: echtheid van elektronisch bewijs", "aantal": 1},
    ]
    assert got["per_team"] == [
        {"naam": "Economie", "aantal": 1, "te_laat": 0, "open": 1},
        {"naam": "Milieu", "aantal": 2, "te_laat": 1, "open": 0},
        {"naam": "nog geen team", "aantal": 1, "te_laat": 0, "open": 1},
    ]
    assert got["aanvaarden"] == {"mediaan": "1,5", "langste": "2", "aantal": 2}
    assert got["beantwoorden"] == {"mediaan": "22", "langste": "25", "aantal": 2}
    assert (got["te_laat"], got["doorgestuurd"], got["geweigerd"]) == (1, 1, 2)
    assert got["van"] == "donderdag 1 oktober 2026"
    assert got["tot_en_met"] == "donderdag 31 december 2026"


def test_the_csv_opens_in_dutch_excel() -> None:
    """Quarterly CSV: UTF-8 with BOM, ';' separated, Dutch dates and decimal commas."""
    data = csv_bytes(Q4, FACTS, rejected=2)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["Kwartaal", "Van", "Tot en met", "Soort", "Naam"]
    total = dict(zip(rows[0], rows[1], strict=True))
    assert total["Van"] == "01-10-2026" and total["Tot en met"] == "31-12-2026"
    assert total["Ontvangen"] == "4" and total["Dagen tot aanvaarden (mediaan)"] == "1,5"
    assert total["Geweigerde berichten"] == "2"
    assert [r[3:5] for r in rows[2:]] == [
        ["module", "Dienstenrichtlijn"], ["module", "SDG: echtheid van elektronisch bewijs"],
        ["team", "Economie"], ["team", "Milieu"], ["team", "nog geen team"],
    ]  # fmt: skip
    assert all(len(r) == len(rows[0]) for r in rows)
    assert b"\r\n" in data


def test_an_empty_quarter_reads_right() -> None:
    """Quarterly template: a quarter without requests has no holes and no English."""
    from imi_mailwatch.texts import shipped_texts

    parts = shipped_texts().letter(
        "kwartaalrapport", **figures(Q4, [], 0), beheerders="A. Voorbeeld (a@example.org)"
    )
    for part in parts.values():
        assert problems_in(part) == [], part
    assert "geen verzoeken" in parts["tekst"]


def _record_quarter(desk: Desk) -> None:
    """Requests of the fourth quarter of 2026 with their alerts, and a rejected message."""
    rows = [
        ("300001", _at(1), [("new_request", _at(1)), ("allocated", _at(3)),
                            ("reply_received", _at(20))]),
        ("300002", _at(5), [("new_request", _at(5)), ("forwarded", _at(6))]),
        ("300003", _at(2, 9), [("new_request", _at(2, 9))]),  # the third quarter
    ]  # fmt: skip
    n = 0
    for rid, created, alerts in rows:
        desk.clock.set(created)
        desk.record(make_request(rid, deadline=date(2026, 10, 29), created_at=created))
        for kind, when in alerts:
            n += 1
            with desk.store.transaction():
                row = desk.store.record_message(
                    MessageEntry("imi", f"1:{n}", f"<q{n}@example.org>", f"h{n}",
                                 MessageKind.IMI_ALERT, Disposition.HANDLED, None, rid, kind)
                )  # fmt: skip
                desk.store.add_alert(row, AlertEntry(rid, kind, None, when))
    desk.clock.set(_at(7, 11))
    with desk.store.transaction():
        row = desk.store.record_message(
            MessageEntry("imi", "1:99", "<x@example.org>", "hx", MessageKind.IMI_ALERT,
                         Disposition.REJECTED, "vervalst", None, None)
        )  # fmt: skip
        desk.store.quarantine_add(row, QuarantineEntry("imi", "1:99", "rejected", "r", None, None))


@pytest.fixture
def server() -> Iterator[SmtpTestServer]:
    srv = SmtpTestServer().start("none")
    yield srv
    srv.stop()


def _report(desk: Desk, server: SmtpTestServer) -> QuarterlyReport:
    cfg = SmtpConfig(host="127.0.0.1", port=server.port, security="none")
    notifier = SmtpNotifier(
        cfg, from_address="imi@brabant.example", from_name="IMI", clock=desk.clock
    )
    return QuarterlyReport(
        desk.store,
        ScheduledMailer(desk.store, notifier, desk.clock),
        BusinessCalendar(),
        to=("coordinator@example.org",),
        beheerders=BEHEERDERS,
        at=time(8, 0),
    )


def test_the_report_goes_out_once_on_the_first_working_day_of_the_quarter(
    desk: Desk, server: SmtpTestServer
) -> None:
    """Quarterly mail: New Year's Day is closed; Monday 4 January 2027 08:00, once, with CSV."""
    _record_quarter(desk)
    report = _report(desk, server)
    desk.clock.set(datetime(2027, 1, 1, 9, 0, tzinfo=UTC))  # Nieuwjaarsdag
    assert report.run() == 0
    desk.clock.set(datetime(2027, 1, 4, 6, 59, tzinfo=UTC))  # 07:59 in Amsterdam
    assert report.run() == 0
    desk.clock.set(datetime(2027, 1, 4, 7, 0, tzinfo=UTC))
    assert report.run() == 1
    (got,) = server.handler.received
    assert got.rcpt_tos == ["coordinator@example.org", *(b.email for b in BEHEERDERS)]
    message: EmailMessage = got.message
    assert message["Subject"] == "IMI-kwartaalrapport 4e kwartaal 2026: 2 verzoeken"
    body = message.get_body(("plain",))
    assert body is not None
    text = str(body.get_content())
    assert "Ontvangen verzoeken: 2" in text
    assert "Beantwoord na de antwoorddatum: 0" in text
    assert "Doorgestuurd naar een andere autoriteit: 1" in text
    assert "Geweigerde berichten (niet echt van IMI): 1" in text
    assert "- tot aanvaarden in IMI: 2 en 2 (1 verzoek)" in text
    assert problems_in(text) == [], text
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "imi-kwartaal-2026-4.csv"
    assert attachment.get_content_type() == "text/csv"
    assert report.run() == 0
    assert _report(desk, server).run() == 0  # a restart: not again
    desk.clock.set(datetime(2027, 2, 1, 9, 0, tzinfo=UTC))
    assert _report(desk, server).run() == 0
    assert len(server.handler.received) == 1


def test_the_cli_prints_the_report_and_writes_the_csv(
    desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`imi-mailwatch rapport --kwartaal 2026-4 --csv`: Dutch text and the Excel CSV."""
    _record_quarter(desk)
    config = tmp_path / "imi-mailwatch.yaml"
    config.write_text(f"state:\n  path: {desk.path}\n", encoding="utf-8")
    out = tmp_path / "kwartaal.csv"
    code = main(["rapport", "--kwartaal", "2026-4", "--csv", str(out), "-c", str(config)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Onderwerp: IMI-kwartaalrapport 4e kwartaal 2026: 2 verzoeken" in printed.out
    assert out.read_bytes().startswith(b"\xef\xbb\xbfKwartaal;Van;")
    assert main(["rapport", "--kwartaal", "2026-5", "-c", str(config)]) == 2
    assert "'2026-5' is geen kwartaal" in capsys.readouterr().err
