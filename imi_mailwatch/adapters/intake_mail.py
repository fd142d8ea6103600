"""ports.TaskSink as an e-mail to a Corsa intake mailbox, for installations without the Web Service.

The task goes out through the configured ``ports.Notifier`` as one message with
the PDF rendering and the original alert (.eml) attached and the Corsa fields in
the text. Its Message-ID is derived from the request id, so a repeat after a
crash carries the same id and the intake (or a reader) can tell it is a repeat.

``find`` sees what was sent through a local record per request id
(``record_dir``), written right after the notifier accepted the message.
Limitation: a crash between the hand-over and the record makes the next run
send the message once more, with the same Message-ID (at least once, not
exactly once). ``annotate`` sends a short follow-up mail that refers to the
first one (In-Reply-To) and notes the line in the record.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import structlog

from imi_mailwatch.adapters.drop_folder import atomic_write, safe_name, translate_os_error
from imi_mailwatch.adapters.private_files import private_dir
from imi_mailwatch.clock import local_today
from imi_mailwatch.config import IntakeMailConfig
from imi_mailwatch.errors import (
    NotifierRejectedError,
    NotifierUnavailableError,
    TaskSinkRejectedError,
    TaskSinkUnavailableError,
)
from imi_mailwatch.model import Attachment, OutgoingMail, TaskRef, TaskRequest
from imi_mailwatch.msgid import make_message_id
from imi_mailwatch.pdf import render_task_pdf
from imi_mailwatch.ports import Clock, Notifier

log = structlog.get_logger(__name__)

ID_DOMAIN = "imi-mailwatch.invalid"


def task_message_id(request_id: str) -> str:
    """The Message-ID of the intake mail for a request: the same on every attempt."""
    return make_message_id(request_id, "task", "1", ID_DOMAIN)


def intake_text(task: TaskRequest, today: str) -> str:
    """The mail's text: the fields for registration, then the memo (Dutch: for the intake)."""
    rows = [
        ("Kenmerk (IMI-verzoek)", task.request_id),
        ("Onderwerp", task.subject),
        ("Inhoud", task.summary),
        ("Team", task.team.name),
        ("Organisatie-eenheid (taakbak)", task.team.org_unit),
        ("Registratiedatum", today),
        ("Datum poststuk", task.received_on.strftime("%d/%m/%Y")),
        ("Afhandeltermijn", task.deadline.strftime("%d/%m/%Y") if task.deadline else "onbekend"),
    ]
    if task.confidentiality:
        rows.append(("Vertrouwelijkheid", task.confidentiality))
    head = "\n".join(f"{label}: {value}" for label, value in rows)
    return (
        "Graag registreren als inkomend poststuk en als taak naar de taakbak hieronder.\n\n"
        f"{head}\n\nMemo:\n{task.memo}\n\n"
        "Bijlagen: de leesbare weergave (PDF) en de oorspronkelijke IMI-melding (.eml).\n"
    )


class IntakeMailTaskSink:
    """ports.TaskSink sending each task as an e-mail to the Corsa intake mailbox."""

    name = "email"

    def __init__(
        self,
        cfg: IntakeMailConfig,
        *,
        notifier: Notifier,
        clock: Clock,
        record_dir: Path | str | None = None,
        pdf_font: str | None = None,
    ) -> None:
        self._cfg = cfg
        self._notifier = notifier
        self._clock = clock
        self.record_dir = Path(record_dir if record_dir is not None else cfg.record_dir)
        self._pdf_font = pdf_font
        self._lock = threading.Lock()

    def _record(self, name: str) -> Path:
        return self.record_dir / f"{name}.json"

    def find(self, request_id: str) -> TaskRef | None:
        """The intake mail sent for this request, from the local record."""
        name = safe_name(request_id)
        return TaskRef(self.name, name) if self._record(name).is_file() else None

    def create(self, task: TaskRequest) -> TaskRef:
        """Send the intake mail (PDF and .eml attached), then record that it was sent.

        Idempotent: a request whose intake mail is recorded as sent is not sent again.
        """
        name = safe_name(task.request_id)
        existing = self.find(task.request_id)
        if existing is not None:
            return existing
        today = local_today(self._clock.now()).strftime("%d/%m/%Y")
        pdf = render_task_pdf(task, font=self._pdf_font)
        mail = OutgoingMail(
            message_id=task_message_id(task.request_id),
            to=(self._cfg.to,),
            subject=f"IMI-verzoek {task.request_id} voor {task.team.name}",
            text=intake_text(task, today),
            attachments=(
                Attachment(f"IMI-verzoek {name}.pdf", "application/pdf", pdf),
                Attachment(f"IMI-verzoek {name}.eml", "application/octet-stream", task.alert_eml),
            ),
        )
        self._send(mail)
        record: dict[str, Any] = {
            "request_id": task.request_id,
            "message_id": mail.message_id,
            "org_unit": task.team.org_unit,
            "sent_on": today,
            "memo_lines": [],
        }
        self._write(name, record)
        log.info("intake_mail.task_sent", request_id=task.request_id, org_unit=task.team.org_unit)
        return TaskRef(self.name, name)

    def annotate(self, ref: TaskRef, line: str) -> None:
        """Send the line as a follow-up to the intake mail and note it in the record."""
        name = safe_name(ref.ref)
        with self._lock:
            try:
                record = json.loads(self._record(name).read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise TaskSinkRejectedError(f"intake mail: no task sent for {name}") from None
            except (OSError, ValueError) as exc:
                raise TaskSinkRejectedError(
                    f"intake mail: record for {name} unreadable ({type(exc).__name__})"
                ) from None
        lines: list[str] = list(record.get("memo_lines") or [])
        if line in lines:
            return
        digest = hashlib.sha256(line.encode("utf-8")).hexdigest()[:12]
        first = str(record.get("message_id") or task_message_id(name))
        request_id = str(record.get("request_id") or name)
        self._send(
            OutgoingMail(
                message_id=make_message_id(request_id, "memo", digest, ID_DOMAIN),
                to=(self._cfg.to,),
                subject=f"Aanvulling memo IMI-verzoek {request_id}",
                text=(
                    f"Graag aan het memo van het poststuk met kenmerk {request_id} toevoegen:\n\n"
                    f"{line}\n"
                ),
                headers=(("In-Reply-To", first), ("References", first)),
            )
        )
        lines.append(line)
        record["memo_lines"] = lines
        self._write(name, record)
        log.info("intake_mail.memo_sent", task_ref=name)

    def close(self) -> None:
        """Nothing to release."""

    def _send(self, mail: OutgoingMail) -> None:
        """Hand the mail to the notifier; its errors become the task sink's own."""
        try:
            self._notifier.send(mail)
        except NotifierUnavailableError as exc:
            raise TaskSinkUnavailableError(f"intake mail: {exc}") from None
        except NotifierRejectedError as exc:
            raise TaskSinkRejectedError(f"intake mail: {exc}") from None

    def _write(self, name: str, record: dict[str, Any]) -> None:
        with self._lock:
            try:
                private_dir(self.record_dir)
                atomic_write(
                    self._record(name),
                    json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8"),
                )
            except OSError as exc:
                raise translate_os_error(exc, "intake mail record") from None
