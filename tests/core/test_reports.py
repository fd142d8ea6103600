"""Reports to the beheerders: once per occasion, gathered, repeated only with the same id."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.adapters.postgres import PostgresStateStore
from imi_mailwatch.adapters.sqlite import SqliteStateStore
from imi_mailwatch.adapters.state_store import DurableStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import Beheerder, ReportsConfig
from imi_mailwatch.errors import ConfigError, NotifierRejectedError, NotifierUnavailableError
from imi_mailwatch.model import Disposition, MessageKind, OutgoingMail
from imi_mailwatch.records import MessageEntry, QuarantineEntry
from imi_mailwatch.reports import BeheerderReports


class FlakyNotifier(InMemoryNotifier):
    """Refuses the first ``failures`` mails as a relay that is down would."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def send(self, mail: OutgoingMail) -> None:
        if self.failures:
            self.failures -= 1
            raise NotifierUnavailableError("relay down")
        super().send(mail)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[DurableStore]:
    """A state store in a temporary file, or in a fresh PostgreSQL database."""
    s: DurableStore
    if request.param == "postgres":
        s = PostgresStateStore(request.getfixturevalue("postgres_url"), clock)
    else:
        s = SqliteStateStore(Path(tempfile.mkdtemp(prefix="imi-reports-")) / "state.sqlite3", clock)
    yield s
    s.close()


def _reports(store: DurableStore, notifier: InMemoryNotifier, clock: FakeClock) -> BeheerderReports:
    return BeheerderReports(
        store,
        notifier,
        clock,
        beheerders=[Beheerder(name="Beheerder Een", email="beheer1@example.org")],
        config=ReportsConfig(
            digest_minutes=60, sink_failing_minutes=30, mailbox_unreachable_minutes=30
        ),
    )


def _quarantine(store: DurableStore, n: int, kind: str = "quarantined") -> None:
    with store.transaction():
        row = store.record_message(
            MessageEntry(
                source="imi",
                ref=f"ref-{n}",
                message_id=f"<m{n}@example.org>",
                content_hash=f"h{n}",
                kind=MessageKind.IMI_ALERT,
                disposition=Disposition.QUARANTINED,
                reason="no request id",
                request_id=None,
                alert_type=None,
            )
        )
        store.quarantine_add(
            row,
            QuarantineEntry(
                source="imi",
                ref=f"ref-{n}",
                kind=kind,
                reason="no request id",
                request_id=None,
                raw=None,
            ),
        )


def test_a_burst_of_quarantined_mail_makes_one_mail(store: DurableStore, clock: FakeClock) -> None:
    """Ten quarantined messages in one pass: one Dutch mail listing all ten, sent once."""
    notifier = InMemoryNotifier()
    reports = _reports(store, notifier, clock)
    for n in range(10):
        _quarantine(store, n)
    assert reports.run() == 10
    assert reports.run() == 0
    assert len(notifier.sent) == 1
    mail = notifier.sent[0]
    assert mail.to == ("beheer1@example.org",)
    assert "10 meldingen" in mail.subject
    assert mail.text.count("Bericht in quarantaine") == 1
    assert "ref-9" in mail.text


def test_later_notices_wait_for_the_digest_window(store: DurableStore, clock: FakeClock) -> None:
    """After a report, the next ordinary notice waits until the digest window passed."""
    notifier = InMemoryNotifier()
    reports = _reports(store, notifier, clock)
    _quarantine(store, 1)
    reports.run()
    clock.advance(timedelta(minutes=5))
    _quarantine(store, 2)
    assert reports.run() == 0
    clock.advance(timedelta(minutes=56))
    assert reports.run() == 1
    assert len(notifier.sent) == 2


def test_a_pass_inside_the_digest_window_does_not_read_the_gathered_notices(
    store: DurableStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Notices gathered for the next digest are read when it is sent, not on every pass
    before (a flood of mail no rule routes gathers thousands of them in an hour)."""
    notifier = InMemoryNotifier()
    reports = _reports(store, notifier, clock)
    _quarantine(store, 0)
    assert reports.run() == 1
    reads: list[int] = []
    read_all = store.notices_pending

    def counting() -> list[dict[str, object]]:
        rows = read_all()
        reads.append(len(rows))
        return rows

    monkeypatch.setattr(store, "notices_pending", counting)
    for n in range(1, 51):
        clock.advance(timedelta(seconds=30))
        _quarantine(store, n)
        assert reports.run() == 0
    assert reads == []
    clock.advance(timedelta(minutes=40))
    assert reports.run() == 50
    assert reads == [50]
    assert len(notifier.sent) == 2 and "ref-50" in notifier.sent[1].text


def test_an_outage_is_reported_once_and_a_new_outage_again(
    store: DurableStore, clock: FakeClock
) -> None:
    """A mailbox down longer than the threshold: told once however long it lasts."""
    notifier = InMemoryNotifier()
    reports = _reports(store, notifier, clock)
    store.record_health("mailbox:imi", ok=False, error="MailSourceUnavailableError")
    clock.advance(timedelta(minutes=10))
    assert reports.run() == 0  # not yet long enough
    for _ in range(5):
        clock.advance(timedelta(minutes=30))
        store.record_health("mailbox:imi", ok=False, error="MailSourceUnavailableError")
        reports.run()
    assert len(notifier.sent) == 1
    assert "de mailbox imi werkt niet" in notifier.sent[0].text
    store.record_health("mailbox:imi", ok=True)
    clock.advance(timedelta(hours=1))
    store.record_health("mailbox:imi", ok=False, error="MailSourceUnavailableError")
    clock.advance(timedelta(minutes=31))
    reports.run()
    assert len(notifier.sent) == 2


def test_a_relay_outage_defers_and_the_repeat_keeps_its_message_id(
    store: DurableStore, clock: FakeClock
) -> None:
    """A notifier that is down: nothing lost; retries back off and carry the same Message-ID."""
    notifier = FlakyNotifier(failures=2)
    reports = _reports(store, notifier, clock)
    _quarantine(store, 1, kind="rejected")
    assert reports.run() == 0
    bound = store.query("SELECT message_id FROM notices")[0]["message_id"]
    assert reports.run() == 0  # backing off: not tried again at once
    assert notifier.failures == 1
    clock.advance(timedelta(minutes=1))
    assert reports.run() == 0  # the second failure
    _quarantine(store, 2)  # arrives while the first mail is still pending
    clock.advance(timedelta(minutes=1))
    assert reports.run() == 0  # the back-off has doubled
    clock.advance(timedelta(minutes=1))
    assert reports.run() == 1  # the interrupted mail first, exactly as it was
    assert notifier.sent[0].message_id == bound
    assert "geweigerd" in notifier.sent[0].subject
    clock.advance(timedelta(hours=2))
    assert reports.run() == 1
    assert len(notifier.sent) == 2
    assert notifier.sent[1].message_id != bound


class RefusingNotifier(InMemoryNotifier):
    """A relay that refuses every mail for good (a bad recipient, a policy)."""

    def __init__(self) -> None:
        super().__init__()
        self.tried = 0

    def send(self, mail: OutgoingMail) -> None:
        self.tried += 1
        raise NotifierRejectedError("550 refused")


def test_a_refused_report_waits_resend_after_instead_of_every_pass(
    store: DurableStore, clock: FakeClock
) -> None:
    """Mail flood: a report the relay refuses is tried again after resend_after, not at
    every pass of the daemon, and then under the same Message-ID."""
    notifier = RefusingNotifier()
    reports = _reports(store, notifier, clock)
    _quarantine(store, 1, kind="rejected")
    assert reports.run() == 0
    for _ in range(5):
        clock.advance(timedelta(seconds=30))
        assert reports.run() == 0
    assert notifier.tried == 1
    clock.advance(reports.resend_after)
    reports.notifier = InMemoryNotifier()
    assert reports.run() == 1
    (row,) = store.query("SELECT message_id FROM notices WHERE key = 'quarantine:1'")
    assert reports.notifier.sent[0].message_id == row["message_id"]


def test_broken_rules_are_reported_once_per_distinct_error(
    store: DurableStore, clock: FakeClock
) -> None:
    """The same broken rules seen at every poll make one mail; another error another."""
    notifier = InMemoryNotifier()
    reports = _reports(store, notifier, clock)
    error = ConfigError("rules", ["rules/10-regels.yaml:4:5: onbekende sleutel 'tem'"])
    for _ in range(3):
        with store.transaction():
            reports.report_rules_broken(error)
        reports.run()
    assert len(notifier.sent) == 1
    assert "10-regels.yaml:4:5" in notifier.sent[0].text
    with store.transaction():
        reports.report_rules_broken(ConfigError("rules", ["andere fout"]))
    reports.run()
    assert len(notifier.sent) == 2


def test_audit_records_counts_not_content(store: DurableStore, clock: FakeClock) -> None:
    """The audit trail says a report went out and how many notices, not their text."""
    reports = _reports(store, InMemoryNotifier(), clock)
    _quarantine(store, 1)
    reports.run()
    rows = store.query("SELECT action, detail FROM audit WHERE action = 'report.sent'")
    assert len(rows) == 1
    assert '"notices": 1' in rows[0]["detail"]
    assert "no request id" not in rows[0]["detail"]


def test_a_clock_jumping_back_does_not_delay_the_retry_by_the_jump(
    store: DurableStore, clock: FakeClock
) -> None:
    """Clock jump back (a day): a deferred report is retried after its back-off."""
    notifier = FlakyNotifier(failures=1)
    reports = _reports(store, notifier, clock)
    _quarantine(store, 1)
    assert reports.run() == 0  # fails; retried a minute later
    clock.advance(timedelta(days=-1))
    assert reports.run() == 0
    clock.advance(timedelta(minutes=2))
    assert reports.run() == 1


def test_a_damaged_row_while_collecting_does_not_stop_sending_what_is_pending(
    store: DurableStore, clock: FakeClock
) -> None:
    """Poisoned periodic item: one unreadable health row breaks collecting, not sending."""
    notifier = InMemoryNotifier()
    reports = _reports(store, notifier, clock)
    _quarantine(store, 1)
    with store.transaction():
        reports.collect()  # the notice is pending
    store.execute(
        "INSERT INTO health (component, ok, failing_since, error, updated_at) "
        "VALUES ('notifier', 0, 'not a time', 'x', 'not a time')"
    )
    assert reports.run() == 1
    assert len(notifier.sent) == 1
