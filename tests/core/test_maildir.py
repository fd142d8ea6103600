"""Local mail sources: oldest first, moved by disposition, nothing deleted, ignored mail left."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from imi_mailwatch.adapters import maildir
from imi_mailwatch.adapters.maildir import EmlDirMailSource, MaildirMailSource
from imi_mailwatch.adapters.memory import InMemoryCursorStore
from imi_mailwatch.model import Disposition
from tests.stopping import wait_ends_on_stop

FOLDERS = {
    "processed_folder": "IMI/Verwerkt",
    "quarantine_folder": "IMI/Quarantaine",
    "rejected_folder": "IMI/Afgewezen",
}


def _maildir(n: int) -> Path:
    root = Path(tempfile.mkdtemp(prefix="imi-maildir-"))
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir()
    for i in range(n):
        (root / "new" / f"{1700000000 + (n - i)}.M{i}P1.host").write_bytes(
            f"Subject: {i}\r\n\r\nbody {i}\r\n".encode()
        )
    return root


def test_maildir_yields_oldest_first_and_moves_by_disposition() -> None:
    """Messages come oldest first; each disposition lands in its Maildir++ folder."""
    root = _maildir(3)
    src = MaildirMailSource("imi", root, cursors=InMemoryCursorStore(), **FOLDERS)
    msgs = list(src.fetch())
    assert [m.ref.split(".")[0] for m in msgs] == ["1700000001", "1700000002", "1700000003"]
    src.acknowledge(msgs[0], Disposition.HANDLED)
    src.acknowledge(msgs[1], Disposition.QUARANTINED)
    src.acknowledge(msgs[2], Disposition.REJECTED)
    assert (root / ".IMI.Verwerkt" / "cur" / msgs[0].ref).exists()
    assert (root / ".IMI.Quarantaine" / "cur" / msgs[1].ref).exists()
    assert (root / ".IMI.Afgewezen" / "cur" / msgs[2].ref).exists()
    assert list(src.fetch()) == []
    src.acknowledge(msgs[0], Disposition.HANDLED)  # twice is no error


def test_ignored_mail_stays_and_is_not_handed_over_again() -> None:
    """Ordinary mail stays in the inbox, and a restart does not hand it over again."""
    root = _maildir(2)
    cursors = InMemoryCursorStore()
    src = MaildirMailSource("imi", root, cursors=cursors, **FOLDERS)
    first, second = list(src.fetch())
    src.acknowledge(first, Disposition.IGNORED)
    assert (root / "new" / first.ref).exists()
    src.close()
    restarted = MaildirMailSource("imi", root, cursors=cursors, **FOLDERS)
    assert [m.ref for m in restarted.fetch()] == [second.ref]


class CountingCursors(InMemoryCursorStore):
    """Counts the writes of each cursor."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: dict[str, int] = {}

    def set_cursor(self, source: str, folder: str, value: str) -> None:
        self.writes[folder] = self.writes.get(folder, 0) + 1
        super().set_cursor(source, folder, value)


def test_a_backlog_of_ordinary_mail_writes_the_ignored_list_seldom_not_per_message() -> None:
    """O(N^2): the list of ignored names is written once per hundred acknowledgements and
    before the next fetch, not once per message; the next fetch skips every one of them."""
    root = _maildir(250)
    cursors = CountingCursors()
    src = MaildirMailSource("imi", root, cursors=cursors, **FOLDERS)
    for m in list(src.fetch()):
        src.acknowledge(m, Disposition.IGNORED)
    assert list(src.fetch()) == []
    assert cursors.writes == {"ignored": 3}
    restarted = MaildirMailSource("imi", root, cursors=cursors, **FOLDERS)
    assert list(restarted.fetch()) == []


def test_unacknowledged_mail_is_handed_over_again_after_restart() -> None:
    """A message fetched but not acknowledged (a crash) comes again."""
    root = _maildir(1)
    cursors = InMemoryCursorStore()
    (msg,) = MaildirMailSource("imi", root, cursors=cursors, **FOLDERS).fetch()
    (again,) = MaildirMailSource("imi", root, cursors=cursors, **FOLDERS).fetch()
    assert again.data == msg.data


def test_eml_directory_moves_into_subdirectories() -> None:
    """An .eml directory moves handled files into IMI/Verwerkt beneath it."""
    root = Path(tempfile.mkdtemp(prefix="imi-eml-"))
    (root / "a.eml").write_bytes(b"Subject: a\r\n\r\nx\r\n")
    (root / "notes.txt").write_text("not mail")
    src = EmlDirMailSource("replay", root, cursors=InMemoryCursorStore(), **FOLDERS)
    (msg,) = src.fetch()
    src.acknowledge(msg, Disposition.HANDLED)
    assert (root / "IMI" / "Verwerkt" / "a.eml").exists()
    assert (root / "notes.txt").exists()


def test_wait_returns_when_stopped() -> None:
    """wait() ends when the stop flag is set, not after its hour-long timeout and poll interval."""
    src = MaildirMailSource(
        "imi", _maildir(0), cursors=InMemoryCursorStore(), poll_seconds=3600, **FOLDERS
    )
    assert wait_ends_on_stop(src.wait), "wait() went on sleeping after the stop flag was set"


class _CountingMaildir(MaildirMailSource):
    listings = 0

    def _inbox_files(self) -> list[Path]:
        self.listings += 1
        return super()._inbox_files()


def test_acknowledging_a_backlog_does_not_list_the_inbox_per_message() -> None:
    """Quadratic backlog: acknowledging N messages must not list the whole inbox N times."""
    root = _maildir(20)
    src = _CountingMaildir("imi", root, cursors=InMemoryCursorStore(), **FOLDERS)
    msgs = list(src.fetch())
    before = src.listings
    for msg in msgs:
        src.acknowledge(msg, Disposition.HANDLED)
    assert src.listings - before <= 1
    assert sorted(p.name for p in (root / ".IMI.Verwerkt" / "cur").iterdir()) == sorted(
        m.ref for m in msgs
    )


def test_acknowledge_finds_a_message_a_mail_client_moved_from_new_to_cur() -> None:
    """A file moved within the Maildir after fetch (new -> cur) is still acknowledged."""
    root = _maildir(1)
    src = MaildirMailSource("imi", root, cursors=InMemoryCursorStore(), **FOLDERS)
    (msg,) = src.fetch()
    (root / "new" / msg.ref).rename(root / "cur" / msg.ref)
    src.acknowledge(msg, Disposition.HANDLED)
    assert (root / ".IMI.Verwerkt" / "cur" / msg.ref).exists()
    assert not (root / "cur" / msg.ref).exists()


def test_a_backlog_syncs_its_folders_once_per_hundred_moves_not_per_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """250 moves cost 2 folder fsyncs (each 100) and one before the next fetch, not 250; a
    rename survives a killed process without one, and every message is where it belongs."""
    synced: list[Path] = []
    monkeypatch.setattr(maildir, "_fsync_dir", synced.append)
    root = _maildir(251)
    src = MaildirMailSource("imi", root, cursors=InMemoryCursorStore(), **FOLDERS)
    msgs = list(src.fetch())
    for m in msgs[:-1]:
        src.acknowledge(m, Disposition.HANDLED)
    src.acknowledge(msgs[-1], Disposition.QUARANTINED)
    assert len(synced) == 2
    assert [m.ref for m in src.fetch()] == []
    assert sorted(synced[2:]) == [root / ".IMI.Quarantaine" / "cur", root / ".IMI.Verwerkt" / "cur"]
    assert len(list((root / ".IMI.Verwerkt" / "cur").iterdir())) == 250
