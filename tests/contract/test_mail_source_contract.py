"""The MailSource contract (ports.MailSource), run against every mail source.

Maildir, IMAP (a real Dovecot), Microsoft Graph and EWS (loopback servers speaking
the real protocols, driven by httpx/msal and exchangelib).
"""

from __future__ import annotations

from imi_mailwatch.model import Disposition
from tests.contract.conftest import Harness, message_id


def ids(messages: list) -> list[str]:
    return [message_id(m.data) for m in messages]


def test_fetch_yields_oldest_first(harness: Harness) -> None:
    """Messages come in the order they arrived, oldest first."""
    expected = [harness.deliver(n) for n in range(5)]
    src = harness.source()
    got = list(src.fetch())
    assert ids(got) == expected
    assert all(m.source == "contract" for m in got)


def test_acknowledged_message_is_not_yielded_again(harness: Harness) -> None:
    """Once acknowledged, a message never comes back: not later, not after a restart."""
    for n in range(3):
        harness.deliver(n)
    src = harness.source()
    for m in src.fetch():
        src.acknowledge(m, Disposition.HANDLED)
    assert list(src.fetch()) == []
    src.close()
    assert list(harness.source().fetch()) == []


def test_unacknowledged_message_comes_again_after_restart(harness: Harness) -> None:
    """Yielded but not acknowledged (a crash) means yielded again by a new instance."""
    expected = [harness.deliver(n) for n in range(3)]
    first = harness.source()
    assert ids(list(first.fetch())) == expected
    first.close()
    assert ids(list(harness.source().fetch())) == expected


def test_dispositions_move_to_their_folders_and_nothing_is_deleted(harness: Harness) -> None:
    """HANDLED, QUARANTINED and REJECTED move to their folders; IGNORED stays in the inbox."""
    mids = [harness.deliver(n) for n in range(4)]
    src = harness.source()
    disps = [
        Disposition.HANDLED,
        Disposition.QUARANTINED,
        Disposition.REJECTED,
        Disposition.IGNORED,
    ]
    for m, d in zip(list(src.fetch()), disps, strict=True):
        src.acknowledge(m, d)
    assert harness.folder("IMI/Verwerkt") == [mids[0]]
    assert harness.folder("IMI/Quarantaine") == [mids[1]]
    assert harness.folder("IMI/Afgewezen") == [mids[2]]
    assert harness.folder("INBOX") == [mids[3]]


def test_ignored_stays_in_the_inbox_and_is_not_yielded_again(harness: Harness) -> None:
    """An IGNORED message stays put and does not come back, also after a restart."""
    mid = harness.deliver(0)
    src = harness.source()
    (m,) = list(src.fetch())
    src.acknowledge(m, Disposition.IGNORED)
    assert list(src.fetch()) == []
    src.close()
    assert list(harness.source().fetch()) == []
    assert harness.folder("INBOX") == [mid]


def test_acknowledge_twice_is_no_error(harness: Harness) -> None:
    """Acknowledging an already-moved message again is harmless."""
    mid = harness.deliver(0)
    src = harness.source()
    (m,) = list(src.fetch())
    src.acknowledge(m, Disposition.HANDLED)
    src.acknowledge(m, Disposition.HANDLED)
    assert harness.folder("IMI/Verwerkt") == [mid]


def test_acknowledging_while_iterating(harness: Harness) -> None:
    """The pipeline acknowledges each message before asking for the next: that works."""
    mids = [harness.deliver(n) for n in range(4)]
    src = harness.source()
    seen = []
    for m in src.fetch():
        seen.append(message_id(m.data))
        src.acknowledge(m, Disposition.HANDLED)
    assert seen == mids
    assert harness.folder("IMI/Verwerkt") == sorted(mids)
    assert list(src.fetch()) == []


def test_restart_in_the_middle_of_a_batch_loses_nothing(harness: Harness) -> None:
    """A crash after part of a batch: the rest comes again, the acknowledged part does not."""
    mids = [harness.deliver(n) for n in range(5)]
    first = harness.source()
    batch = list(first.fetch())
    first.acknowledge(batch[0], Disposition.HANDLED)
    first.acknowledge(batch[1], Disposition.IGNORED)
    first.close()  # crash: batch[2:] never acknowledged
    second = harness.source()
    again = list(second.fetch())
    assert ids(again) == mids[2:]
    for m in again:
        second.acknowledge(m, Disposition.HANDLED)
    new = harness.deliver(10)
    assert ids(list(second.fetch())) == [new]
    assert harness.folder("INBOX") == sorted([mids[1], new])
