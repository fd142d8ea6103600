"""ports.TaskSink as files in a drop folder, for installations without the Web Service.

For each request three files appear in the folder, each written atomically (a
hidden temporary file in the same folder, fsync, ``os.replace``):

- ``<request_id>.eml``  the original alert;
- ``<request_id>.pdf``  a readable rendering of it with the memo;
- ``<request_id>.json`` the sidecar with the Corsa fields and the memo, written
  last, so an import that watches ``*.json`` never sees a task without its files.

Temporary files start with a dot and end in ``.tmp``: an import should ignore them.

``find`` looks for the sidecar, or for the record in ``.imi-mailwatch/`` that
stays behind when an import moves or deletes the sidecar. ``annotate`` appends a
line to the memo in both; if the import has already taken the sidecar, the line
goes into an addendum ``<request_id>.memo-<n>.json`` for the import to pick up.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import threading
from pathlib import Path
from typing import Any

import structlog

from imi_mailwatch.adapters.private_files import open_private, private_dir
from imi_mailwatch.clock import local_today
from imi_mailwatch.errors import TaskSinkRejectedError, TaskSinkUnavailableError
from imi_mailwatch.model import TaskRef, TaskRequest
from imi_mailwatch.pdf import render_task_pdf
from imi_mailwatch.ports import Clock

log = structlog.get_logger(__name__)

RECORD_DIR = ".imi-mailwatch"
SIDECAR_VERSION = 1
_PERMANENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR}


def safe_name(request_id: str) -> str:
    """A request id fit for a file name (IMI ids are digits; anything else becomes _)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", request_id).lstrip(".")
    if not name:
        raise TaskSinkRejectedError("request id is empty after cleaning")
    return name[:120]


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    The file is private (0600) from its creation, whatever the umask.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with os.fdopen(open_private(tmp), "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    with contextlib.suppress(OSError):  # make the rename durable where the OS allows it
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def translate_os_error(exc: OSError, what: str) -> Exception:
    """Permission and read-only problems are permanent; a full disk or a lost share is not."""
    text = f"{what}: {exc.strerror or type(exc).__name__}"
    if exc.errno in _PERMANENT_ERRNOS:
        return TaskSinkRejectedError(text)
    return TaskSinkUnavailableError(text)


def sidecar_data(task: TaskRequest, *, today: str, files: dict[str, str]) -> dict[str, Any]:
    """The sidecar's content: the fields a Corsa import needs, dates as dd/MM/yyyy."""
    return {
        "version": SIDECAR_VERSION,
        "request_id": task.request_id,
        "object_kind": "INK",
        "subject": task.subject,
        "content": task.summary,
        "org_unit": task.team.org_unit,
        "team": task.team.name,
        "reference": task.request_id,
        "registered_on": today,
        "document_date": task.received_on.strftime("%d/%m/%Y"),
        "deadline": task.deadline.strftime("%d/%m/%Y") if task.deadline else None,
        "confidentiality": task.confidentiality,
        "files": files,
        "memo": task.memo,
        "memo_lines": [],
    }


class DropFolderTaskSink:
    """ports.TaskSink writing a PDF, the .eml and a JSON sidecar per request."""

    name = "drop_folder"

    def __init__(self, path: Path | str, *, clock: Clock, pdf_font: str | None = None) -> None:
        self.path = Path(path)
        self._clock = clock
        self._pdf_font = pdf_font
        self._lock = threading.Lock()

    def _record(self, name: str) -> Path:
        return self.path / RECORD_DIR / f"{name}.json"

    def find(self, request_id: str) -> TaskRef | None:
        """The task written for this request: its sidecar or its record."""
        name = safe_name(request_id)
        sidecar = self.path / f"{name}.json"
        if sidecar.is_file() or self._record(name).is_file():
            return TaskRef(self.name, name)
        return None

    def create(self, task: TaskRequest) -> TaskRef:
        """Write the .eml, the PDF, the record and, last, the sidecar; all atomically.

        Idempotent: a task written for this request before is kept as it is.
        """
        name = safe_name(task.request_id)
        existing = self.find(task.request_id)
        if existing is not None:
            return existing
        today = local_today(self._clock.now()).strftime("%d/%m/%Y")
        files = {"eml": f"{name}.eml", "pdf": f"{name}.pdf"}
        data = sidecar_data(task, today=today, files=files)
        payload = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        with self._lock:
            try:
                private_dir(self.path / RECORD_DIR)
                atomic_write(self.path / files["eml"], task.alert_eml)
                pdf = render_task_pdf(task, font=self._pdf_font)
                atomic_write(self.path / files["pdf"], pdf)
                atomic_write(self._record(name), payload)
                atomic_write(self.path / f"{name}.json", payload)
            except OSError as exc:
                raise translate_os_error(exc, "drop folder") from None
        log.info(
            "drop_folder.task_written", request_id=task.request_id, org_unit=task.team.org_unit
        )
        return TaskRef(self.name, name)

    def annotate(self, ref: TaskRef, line: str) -> None:
        """Append the line to the memo lines of the record and the sidecar (or an addendum)."""
        name = safe_name(ref.ref)
        sidecar = self.path / f"{name}.json"
        with self._lock:
            try:
                record = self._load(self._record(name)) or self._load(sidecar)
                if record is None:
                    raise TaskSinkRejectedError(f"drop folder: no task for {name}")
                lines: list[str] = list(record.get("memo_lines") or [])
                if line in lines:
                    return
                lines.append(line)
                record["memo_lines"] = lines
                payload = json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8")
                private_dir(self.path / RECORD_DIR)
                atomic_write(self._record(name), payload)
                if sidecar.is_file():
                    atomic_write(sidecar, payload)
                else:  # the import took the sidecar: leave an addendum for it
                    addendum = {
                        "version": SIDECAR_VERSION,
                        "request_id": record.get("request_id"),
                        "reference": record.get("reference"),
                        "memo_lines": [line],
                    }
                    atomic_write(
                        self.path / f"{name}.memo-{len(lines)}.json",
                        json.dumps(addendum, ensure_ascii=False, indent=2).encode("utf-8"),
                    )
            except OSError as exc:
                raise translate_os_error(exc, "drop folder") from None
        log.info("drop_folder.memo_appended", task_ref=name)

    def close(self) -> None:
        """Nothing to release."""

    @staticmethod
    def _load(path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, UnicodeDecodeError):
            raise TaskSinkRejectedError(f"drop folder: {path.name} is not valid JSON") from None
        return data if isinstance(data, dict) else None
