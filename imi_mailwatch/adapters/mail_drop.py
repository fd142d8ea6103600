"""A notifier that writes each e-mail as an .eml file into a folder (demo, dry runs).

The file is named after the Message-ID, so sending the same mail twice leaves
one file: a retry is visible as no change.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from imi_mailwatch.adapters.private_files import private_dir
from imi_mailwatch.errors import NotifierUnavailableError
from imi_mailwatch.mailbuild import build_message
from imi_mailwatch.model import OutgoingMail


class DropFolderNotifier:
    """ports.Notifier writing RFC 5322 files into ``path``."""

    def __init__(self, path: Path, *, from_address: str, from_name: str) -> None:
        self.path = Path(path)
        self.from_address = from_address
        self.from_name = from_name

    def send(self, mail: OutgoingMail) -> None:
        data = build_message(
            mail, from_address=self.from_address, from_name=self.from_name
        ).as_bytes()
        name = hashlib.sha256(mail.message_id.encode()).hexdigest()[:24] + ".eml"
        try:
            private_dir(self.path)
            fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".tmp-")  # mode 0600
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path / name)
        except OSError as exc:
            raise NotifierUnavailableError(
                f"cannot write to the mail drop folder: {exc.strerror}"
            ) from None

    def sent_files(self) -> list[Path]:
        return sorted(self.path.glob("*.eml")) if self.path.is_dir() else []
