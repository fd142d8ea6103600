"""Local mail sources: a Maildir, and a directory of .eml files.

The embedded default, and the way to replay mail. Both keep every file: an
acknowledged message is renamed into the folder its disposition names (an atomic
``os.rename`` on one file system), never deleted. Ordinary mail stays where it
is; the names of messages left alone are remembered through the CursorStore, so
that they are not handed over again.

Maildir folders follow Maildir++: the folder ``IMI/Verwerkt`` is the directory
``.IMI.Verwerkt`` beside ``cur``/``new``/``tmp``. For an .eml directory the
folder is a plain sub-directory ``IMI/Verwerkt``.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import structlog

from imi_mailwatch.adapters.folders import move_targets
from imi_mailwatch.adapters.private_files import private_dir
from imi_mailwatch.errors import MailSourceRejectedError, MailSourceUnavailableError
from imi_mailwatch.model import Disposition, RawMessage
from imi_mailwatch.ports import CursorStore

log = structlog.get_logger(__name__)

_IGNORED_CURSOR = "ignored"
# moves between two syncs of the folders they went to: a move the disk lost (a power
# failure, not a killed process) only brings a recorded message back, acknowledged again
_SYNC_EVERY = 100


class _LocalSource:
    """What the Maildir and .eml directory sources share."""

    name: str

    def __init__(
        self,
        name: str,
        root: Path,
        *,
        processed_folder: str,
        quarantine_folder: str,
        rejected_folder: str,
        cursors: CursorStore,
        poll_seconds: float = 5.0,
        max_bytes: int = 30 * 1024 * 1024,
    ) -> None:
        self.name = name
        self.root = Path(root)
        self.cursors = cursors
        self.poll_seconds = poll_seconds
        self.max_bytes = max_bytes
        self._targets = move_targets(processed_folder, quarantine_folder, rejected_folder)
        self._ignored: set[str] | None = None
        self._ignored_dirty = False  # names added since the list was last written
        self._lock = threading.Lock()
        self._unsynced: set[Path] = set()  # folders moved into since their last fsync
        self._moves = 0

    # -- to be provided by the concrete source ---------------------------------------

    def _inbox_files(self) -> list[Path]:
        raise NotImplementedError

    def _folder_dir(self, folder: str) -> Path:
        raise NotImplementedError

    def _candidates(self, ref: str) -> list[Path]:
        """Where a message named ``ref`` is found in the inbox, most likely first."""
        raise NotImplementedError

    # -- ports.MailSource ---------------------------------------------------------------

    def fetch(self) -> Iterator[RawMessage]:
        self._sync()
        if not self.root.is_dir():
            raise MailSourceRejectedError(f"mailbox {self.name}: folder does not exist")
        ignored = self._ignored_names()
        try:
            files = [f for f in self._inbox_files() if f.name not in ignored]
        except OSError as exc:
            raise MailSourceUnavailableError(
                f"mailbox {self.name}: cannot list: {exc.strerror}"
            ) from None
        for path in sorted(files, key=_age_key):
            try:
                size = path.stat().st_size
                data = _head(path, self.max_bytes) if size > self.max_bytes else path.read_bytes()
                received = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except FileNotFoundError:
                continue  # moved meanwhile by another reader
            except OSError as exc:
                raise MailSourceUnavailableError(
                    f"mailbox {self.name}: cannot read a message: {exc.strerror}"
                ) from None
            yield RawMessage(source=self.name, ref=path.name, data=data, received_at=received)

    def acknowledge(self, message: RawMessage, disposition: Disposition) -> None:
        if disposition is Disposition.IGNORED:
            # Kept in memory and written with the folder syncs: writing the whole list for
            # every message makes a backlog of N ordinary mails cost N^2. A list lost in a
            # kill hands those mails over again; the pipeline knows them (duplicates).
            with self._lock:
                ignored = self._ignored_names()
                if message.ref not in ignored:
                    ignored.add(message.ref)
                    self._ignored_dirty = True
                    self._count_move()
            return
        target = self._folder_dir(self._targets[disposition])
        private_dir(target)
        # The file is where fetch found it, so its path is built, not searched for:
        # listing the inbox for every message makes a backlog of N cost N listings.
        ref = message.ref
        direct = [] if "/" in ref or ref.startswith(".") else self._candidates(ref)
        for current in direct:
            try:
                os.rename(current, target / current.name)
            except FileNotFoundError:
                continue
            self._moved(target)
            return
        found = self._locate(ref)  # moved meanwhile (say, new -> cur)
        if found is None:
            if (target / message.ref).exists() or any(target.glob(message.ref + "*")):
                return  # moved already: acknowledging twice is no error
            log.warning("mailbox.ack_missing", source=self.name, ref=message.ref)
            return
        os.rename(found, target / found.name)
        self._moved(target)

    def wait(self, timeout: float, stop: threading.Event) -> None:
        self._sync()
        stop.wait(min(timeout, self.poll_seconds))

    def close(self) -> None:
        self._sync()

    # -- helpers --------------------------------------------------------------------------

    def _moved(self, target: Path) -> None:
        """A rename survives a killed process as it is; for the disk, the folders are
        synced every ``_SYNC_EVERY`` moves and before the source fetches or waits."""
        self._unsynced.add(target)
        self._count_move()

    def _count_move(self) -> None:
        self._moves += 1
        if self._moves >= _SYNC_EVERY:
            self._sync()

    def _sync(self) -> None:
        for folder in sorted(self._unsynced):
            _fsync_dir(folder)
        self._unsynced.clear()
        self._moves = 0
        if self._ignored_dirty and self._ignored is not None:
            names = json.dumps(sorted(self._ignored))
            self.cursors.set_cursor(self.name, _IGNORED_CURSOR, names)
            self._ignored_dirty = False

    def _ignored_names(self) -> set[str]:
        if self._ignored is None:
            raw = self.cursors.get_cursor(self.name, _IGNORED_CURSOR)
            names = json.loads(raw) if raw else []
            # forget names of files that are gone, so the set does not grow forever
            present = {p.name for p in self._inbox_files()} if self.root.is_dir() else set()
            self._ignored = {n for n in names if n in present}
        return self._ignored

    def _locate(self, ref: str) -> Path | None:
        for path in self._inbox_files():
            if path.name == ref:
                return path
        return None


class MaildirMailSource(_LocalSource):
    """A Maildir (``cur``, ``new``, ``tmp``) with Maildir++ sub-folders."""

    def _inbox_files(self) -> list[Path]:
        files: list[Path] = []
        for sub in ("new", "cur"):
            d = self.root / sub
            if d.is_dir():
                files.extend(p for p in d.iterdir() if p.is_file() and not p.name.startswith("."))
        return files

    def _folder_dir(self, folder: str) -> Path:
        return self.root / ("." + folder.replace("/", ".")) / "cur"

    def _candidates(self, ref: str) -> list[Path]:
        return [self.root / "new" / ref, self.root / "cur" / ref]


class EmlDirMailSource(_LocalSource):
    """A directory of ``*.eml`` files; folders are sub-directories."""

    def _inbox_files(self) -> list[Path]:
        return [p for p in self.root.iterdir() if p.is_file() and p.suffix.lower() == ".eml"]

    def _folder_dir(self, folder: str) -> Path:
        return self.root / Path(*folder.split("/"))

    def _candidates(self, ref: str) -> list[Path]:
        return [self.root / ref]


def _age_key(path: Path) -> tuple[float, str]:
    """Oldest first: Maildir names start with the delivery time; else the mtime."""
    head = path.name.split(".", 1)[0]
    if head.isdigit():
        return (float(head), path.name)
    try:
        return (path.stat().st_mtime, path.name)
    except OSError:
        return (0.0, path.name)


def _head(path: Path, limit: int) -> bytes:
    with path.open("rb") as fh:
        return fh.read(limit + 1)  # one byte more than allowed: the reader sees it is too big


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
