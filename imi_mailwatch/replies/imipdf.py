"""IMI's own PDF report, forwarded by a beheerder: added to the request's Corsa document.

Only IMI can make the report with the questions. A beheerder downloads it and mails it
to the functional mailbox with the request id in the subject (``[IMI 184523]``, or
``IMI-verzoek 184523``), or as an answer to one of the daemon's mails about it. A
message that carries a PDF is judged here before it is read as a command
(:class:`imi_mailwatch.reply_path.ReplyHandler`):

- automatic messages, messages without a PDF and replies whose first line is a command
  (a handler's BEANTWOORD with the answer attached) are not handled here;
- the sender is not confirmed (replies.trust): the reply path's own answers apply
  (nothing is attached, a forgery about an unknown request is not answered);
- the sender is confirmed but no beheerder, no request named, an unknown request, a
  request without a task (none made, or parked), more than one PDF, a PDF larger than
  ``replies.pdf_max_mb``, or a file that is no PDF: nothing is attached and the sender
  gets a Dutch answer saying why;
- otherwise ONE transaction records the message, the outbox row ``attach_pdf`` (keyed
  by the request and the PDF's SHA-256, so the same PDF is added once however often
  it arrives), the history line ``imipdf.recorded`` and the beheerder's confirmation.

The confirmation is recorded with the message and says the PDF is on its way: the
outbox adds it when Corsa is reachable (:func:`carry_out_attach_pdf`); a refusal by
Corsa parks the row, which the beheerders' report lists. Judging only reads the state
store; the outbox step calls the sink.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from typing import Any

import structlog

from imi_mailwatch.errors import PermanentError
from imi_mailwatch.model import OutgoingMail, TaskStatus
from imi_mailwatch.msgid import make_message_id
from imi_mailwatch.ports import StateStore, TaskSink
from imi_mailwatch.privacy.attach import FileSink
from imi_mailwatch.records import AuditEntry, Intent, OutboxItem, RequestRecord
from imi_mailwatch.replies.commands import Command
from imi_mailwatch.replies.linking import request_in_subject, strip_reply_prefixes
from imi_mailwatch.replies.reader import ReplyReading
from imi_mailwatch.task_intent import task_to_change

__all__ = [
    "ATTACH_PDF",
    "DEFAULT_MAX_BYTES",
    "PdfPart",
    "PdfPlan",
    "carry_out_attach_pdf",
    "pdf_parts",
    "plan_pdf",
]

log = structlog.get_logger(__name__)

ATTACH_PDF = "attach_pdf"  # the outbox action
RECORDED = "imipdf.recorded"  # audit: the PDF was accepted and queued for Corsa
ATTACHED = "imipdf.attached"  # audit: the outbox added it to the Corsa document
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_PARTS = 200  # MIME parts looked at; a report mail has a handful
_SUBJECT_ID = re.compile(r"\bIMI(?:[\s-]*verzoek)?[\s:#-]*(\d{1,12})\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PdfPart:
    """One attached PDF: its bytes (None when over the limit: not kept), size, name."""

    name: str
    size: int
    data: bytes | None
    is_pdf: bool  # starts with %PDF-


@dataclass(frozen=True, slots=True)
class PdfPlan:
    """What the reply path records for a message with a PDF (module docstring).

    ``answer`` is a refusal for the reply path's answer mail; ``confirmation`` the desk
    mail when accepted. ``intents`` and ``audits`` go into the message's Recording.
    """

    ok: bool
    request_id: str | None
    reason: str
    answer: str | None = None
    confirmation: OutgoingMail | None = None
    intents: tuple[Intent, ...] = ()
    audits: tuple[AuditEntry, ...] = ()


def pdf_parts(data: bytes, max_bytes: int) -> list[PdfPart]:
    """The PDF attachments of ``data`` (by type or by name), outside attached messages."""
    message = BytesParser(policy=compat32).parsebytes(data)
    found: list[PdfPart] = []
    for n, part in enumerate(_leaves(message)):
        if n >= MAX_PARTS:
            break
        ctype = part.get_content_type().lower()
        name = str(part.get_filename() or "")
        if ctype != "application/pdf" and not name.lower().endswith(".pdf"):
            continue
        body = part.get_payload(decode=True)
        raw = body if isinstance(body, bytes) else b""
        kept = raw if len(raw) <= max_bytes else None
        found.append(PdfPart(name[:200], len(raw), kept, raw.startswith(b"%PDF-")))
    return found


def _leaves(message: Message) -> list[Message]:
    if message.get_content_maintype() == "message":
        return []  # an attached mail's PDFs are not the beheerder's
    if not message.is_multipart():
        return [message]
    out: list[Message] = []
    payload = message.get_payload()
    for sub in payload if isinstance(payload, list) else []:
        if isinstance(sub, Message):
            out += _leaves(sub)
    return out


def subject_request(subject: str) -> str | None:
    """The request id in ``[IMI n]``, or in ``IMI n``/``IMI-verzoek n`` (one id only)."""
    found = request_in_subject(subject)
    if found:
        return found
    ids = set(_SUBJECT_ID.findall(strip_reply_prefixes(subject)[:2000]))
    return ids.pop() if len(ids) == 1 else None


def plan_pdf(  # noqa: PLR0911 - one return per refusal, in the order of judgement
    store: StateStore,
    data: bytes,
    reading: ReplyReading,
    *,
    beheerders: Sequence[str],
    contacts: Sequence[str],
    domain: str,
    reply_to: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> PdfPlan | None:
    """The plan for a trusted message with a PDF attachment; None: not one (module doc)."""
    if reading.automatic is not None or reading.trust is None or not reading.trust.trusted:
        return None
    if isinstance(reading.command, Command):  # a command with a PDF beside it: a reply
        return None
    parts = pdf_parts(data, max_bytes)
    if not parts:
        return None
    sender = (reading.sender or "").lower()
    request_id = reading.link.request_id if reading.link else None
    request_id = request_id or subject_request(reading.message.subject)
    if sender not in {b.lower() for b in beheerders}:
        why = "Alleen de IMI-beheerders kunnen een PDF van IMI aan Corsa toevoegen."
        return _refused(request_id, "pdf: sender is no beheerder", why, contacts)
    request = store.get_request(request_id) if request_id else None
    if request is None or request_id is None:
        why = (
            "Wij konden niet vinden bij welk IMI-verzoek de PDF hoort. Zet het nummer in "
            "het onderwerp, zoals [IMI 184523]."
        )
        return _refused(None, "pdf: names no known request", why, contacts)
    if request.task_status in (None, TaskStatus.PARKED):
        why = (
            "Voor dit verzoek is geen taak in Corsa. Voeg de PDF zelf toe in Corsa, of "
            "vraag een collega-beheerder om hulp."
        )
        return _refused(request_id, "pdf: the request has no task", why, contacts)
    if len(parts) > 1:
        why = "De mail bevat meer dan één PDF. Stuur één PDF per mail."
        return _refused(request_id, "pdf: more than one pdf", why, contacts)
    part = parts[0]
    if part.data is None:
        limit = max_bytes // (1024 * 1024)
        why = f"De PDF is groter dan {limit} MB. Voeg hem zelf toe in Corsa."
        return _refused(request_id, "pdf: too large", why, contacts)
    if not part.is_pdf:
        why = "De bijlage is geen PDF-bestand. Stuur de PDF die IMI maakt."
        return _refused(request_id, "pdf: not a pdf", why, contacts)
    return _accepted(request, part.data, sender=sender, domain=domain, reply_to=reply_to,
                     reading=reading)  # fmt: skip


def _refused(request_id: str | None, reason: str, why: str, contacts: Sequence[str]) -> PdfPlan:
    about = f" voor IMI-verzoek {request_id}" if request_id else ""
    contact = "Vragen? Neem contact op met de IMI-beheerders"
    contact += ": " + ", ".join(contacts) + "." if contacts else "."
    text = "\n".join(
        [
            "Beste collega,",
            "",
            f"Uw PDF{about} is niet aan Corsa toegevoegd. Er is niets veranderd.",
            why,
            "",
            contact,
            "",
            "Dit is een automatisch bericht van IMI-mailwatch.",
        ]
    )
    return PdfPlan(False, request_id, reason, answer=text)


def _accepted(
    request: RequestRecord,
    pdf: bytes,
    *,
    sender: str,
    domain: str,
    reply_to: str,
    reading: ReplyReading,
) -> PdfPlan:
    rid = request.request_id
    digest = hashlib.sha256(pdf).hexdigest()
    payload: dict[str, Any] = {
        "pdf": base64.b64encode(pdf).decode("ascii"),
        "sha256": digest,
        "name": f"IMI-rapport verzoek {rid} ({digest[:8]})",
        "by": sender,
    }
    intent = Intent(rid, ATTACH_PDF, f"{ATTACH_PDF}:{rid}:{digest[:32]}", payload)
    audit = AuditEntry(RECORDED, rid, {"by": sender, "bytes": len(pdf), "sha256": digest[:16]})
    text = "\n".join(
        [
            "Beste collega,",
            "",
            f"Wij hebben de PDF van IMI voor IMI-verzoek {rid} ontvangen ({_size(len(pdf))}).",
            "Hij wordt als bestand toegevoegd aan het document van dit verzoek in Corsa, "
            "zodra Corsa bereikbaar is. U hoeft hem niet zelf te uploaden.",
            "Lukt het toevoegen niet, dan staat dat in het overzicht voor de IMI-beheerders.",
            "Stuurt u dezelfde PDF nog eens, dan wordt hij niet nog een keer toegevoegd.",
            "",
            "Dit is een automatisch bericht van IMI-mailwatch.",
        ]
    )
    headers: list[tuple[str, str]] = [("Reply-To", reply_to)]
    if reading.message.message_id:
        headers += [("In-Reply-To", reading.message.message_id),
                    ("References", reading.message.message_id)]  # fmt: skip
    mail = OutgoingMail(
        message_id=make_message_id(rid, "pdf", digest[:24], domain),
        to=(sender,),
        subject=f"[IMI {rid}] PDF van IMI ontvangen",
        text=text + "\n",
        headers=tuple(headers),
    )
    return PdfPlan(True, rid, "applied: imi pdf", confirmation=mail, intents=(intent,),
                   audits=(audit,))  # fmt: skip


def _size(n: int) -> str:
    return (
        f"{n / (1024 * 1024):.1f} MB".replace(".", ",")
        if n >= 1024 * 1024
        else (f"{max(1, n // 1024)} kB")
    )


def carry_out_attach_pdf(store: StateStore, sink: TaskSink, item: OutboxItem) -> bool:
    """Carry out one ``attach_pdf`` row; True when it completed.

    The attempt is counted before the sink is called; the Corsa sink looks for a file
    of this name before it adds one, so a crash or a lost answer never adds it twice.
    The PDF is dropped from the row once it is in Corsa.
    """
    found = task_to_change(store, item, "attach to")
    if found is None:
        return False
    if not isinstance(sink, FileSink):
        raise PermanentError("the task sink cannot hold files")
    (_, ref), item_id, request_id, payload = found, item.id, item.request_id, item.payload
    store.outbox_begin_attempt(item_id)
    pdf = base64.b64decode(payload["pdf"])
    description = "Rapport uit IMI, doorgestuurd door een IMI-beheerder"
    sink.attach_file(ref, pdf, ".pdf", str(payload["name"]), description)
    with store.transaction():
        store.outbox_finish(item_id, "done")
        store.outbox_clear_payload(item_id)
        store.audit(ATTACHED, request_id, task_ref=ref.ref, sha256=str(payload["sha256"])[:16])
    store.record_health("task_sink", ok=True)
    log.info("imipdf.attached", request_id=request_id, task_ref=ref.ref, size=len(pdf))
    return True
