"""The beheerders' report is their text: teksten/meldingen.j2, Dutch, a broken one falls back."""

from __future__ import annotations

import re
from pathlib import Path

from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.adapters.memory_state import MemoryStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import Beheerder, ReportsConfig
from imi_mailwatch.reports import NOTICE_KINDS, BeheerderReports
from imi_mailwatch.texts import TextBook
from tests.dutch import problems_in

CONFIGURED = (Beheerder(name="O. Ops", email="ops@example.org"),)
OWN = """\
{% block onderwerp %}Meldingen ({{ aantal }}){% endblock %}
{% block tekst %}
Hallo {{ beheerders_lijst[0].naam }},
{% for g in groepen %}
{{ g.titel }}: {{ g.regels | length }}
{% endfor %}
{% endblock %}
"""


def _reports(book: TextBook | None) -> tuple[BeheerderReports, InMemoryNotifier]:
    clock = FakeClock()
    notifier = InMemoryNotifier()
    reports = BeheerderReports(
        MemoryStateStore(clock), notifier, clock, beheerders=CONFIGURED, config=ReportsConfig()
    )
    reports.texts = book
    return reports, notifier


def _batch(*kinds: str) -> list[dict[str, str]]:
    return [{"key": f"{k}:1", "kind": k, "text": "verzoek 184523: voorbeeld."} for k in kinds]


def test_the_report_of_every_kind_reads_as_dutch_from_the_shipped_template() -> None:
    """Report template: every notice kind alone and all together, no English or holes."""
    reports, _ = _reports(None)
    for batch in [_batch(k) for k in NOTICE_KINDS] + [_batch(*NOTICE_KINDS)]:
        mail = reports.compose(batch, "<r@example.org>")
        assert problems_in(mail.subject) == [], mail.subject
        assert problems_in(mail.text) == [], mail.text
        assert mail.text.startswith("Beste beheerder,\n")


def test_with_the_web_desk_the_report_links_to_its_page_never_to_a_server_command() -> None:
    """Where a notice asks for an action, the report offers the web desk's page for it
    when the desk has an address (web.public_url); never a command on the server."""
    reports, _ = _reports(None)
    reports.desk_url = "https://imi-desk.example.org"
    mail = reports.compose(_batch("quarantine", "default", "rules"), "<r@example.org>")
    assert "https://imi-desk.example.org/quarantaine" in mail.text
    assert "https://imi-desk.example.org/regels" in mail.text
    assert "https://imi-desk.example.org/\n" in mail.text  # the open requests
    commands = "quarantine|status|history|outbox|verzoek|route|rules|purge|run"
    assert not re.search(rf"imi-mailwatch ({commands})\b", mail.text)
    assert problems_in(mail.text) == []
    plain, _ = _reports(None)
    assert "http" not in plain.compose(_batch("quarantine"), "<r@example.org>").text


def test_the_beheerders_own_report_template_is_used_and_sent_to_them(tmp_path: Path) -> None:
    """Report template: teksten/meldingen.j2 writes the mail; beheerders.yaml says to whom."""
    (tmp_path / "meldingen.j2").write_text(OWN, encoding="utf-8")
    (tmp_path / "beheerders.yaml").write_text(
        "beheerders:\n  - naam: J. de Vries\n    email: j.devries@example.org\n", "utf-8"
    )
    reports, _ = _reports(TextBook(tmp_path, beheerders=CONFIGURED))
    mail = reports.compose(_batch("quarantine", "quarantine", "outage"), "<r@example.org>")
    assert mail.subject == "Meldingen (3)"
    assert mail.text == "Hallo J. de Vries,\nStoring: 1\nBericht in quarantaine: 2\n"
    assert mail.to == ("j.devries@example.org",)


def test_a_broken_report_template_falls_back_and_is_told(tmp_path: Path) -> None:
    """Report template: an unknown placeholder never stops the report; the default is used."""
    (tmp_path / "meldingen.j2").write_text(OWN.replace("aantal", "aantallen"), encoding="utf-8")
    told: list[list[str]] = []
    reports, _ = _reports(TextBook(tmp_path, on_broken=told.append))
    mail = reports.compose(_batch("outage"), "<r@example.org>")
    assert mail.subject == "IMI-mailwatch: storing"
    assert told and "onbekend invulveld 'aantallen'" in told[0][0]


def test_every_shipped_text_with_its_sample_reads_as_dutch() -> None:
    """Every template in teksten/ (memo, letters, the beheerders' mails): no English, no holes."""
    from imi_mailwatch.texts import SPECS, shipped_texts

    book = shipped_texts()
    for name, spec in SPECS.items():
        if spec.blocks:
            parts = list(book.letter(name, **spec.sample).values())
        else:
            parts = [book.render(name, **spec.sample)]
        for part in parts:
            assert problems_in(part) == [], (name, part)


def test_a_notice_of_a_kind_the_report_does_not_know_is_still_shown() -> None:
    """Report: a notice is marked sent with the report, so no kind of notice may be left out
    of it; one of a kind without a title of its own comes under a general heading."""
    reports, _ = _reports(None)
    batch = [
        *_batch("quarantine"),
        {"key": "nieuw:1", "kind": "nieuw", "text": "verzoek 184523: iets nieuws."},
    ]
    mail = reports.compose(batch, "<r@example.org>")
    assert "verzoek 184523: iets nieuws." in mail.text
    assert mail.text.index("Bericht in quarantaine") < mail.text.index("iets nieuws")
    assert problems_in(mail.text) == []
