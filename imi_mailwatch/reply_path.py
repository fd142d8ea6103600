"""Replies to the daemon's mails, in the pipeline: read, decide, apply or answer, record.

A message that is no IMI alert is read as a reply (:func:`imi_mailwatch.replies.read`).
When it is one (it names a request by the daemon's Message-IDs or ``[IMI n]``, or a
trusted colleague typed a command without naming one), ONE transaction holds its
outcome (a message record), and either the command carried out through the desk
(:func:`imi_mailwatch.desk.service.apply_command`, which records the change, the
action and the confirmation) or a Dutch answer to the sender queued in the outbox
(:mod:`imi_mailwatch.mail_outbox`) with a Message-ID made from the reply, or, for an
automatic message (out-of-office, delivery report), nothing but the record.

=================  ==================================  ===============  ===========
outcome            when                                answer           folder
=================  ==================================  ===============  ===========
reply_applied      trusted, allowed, carried out       the desk's       processed
reply_refused      trusted, but not allowed or         refusal          processed
                   refused by the desk
reply_untrusted    the sender is not confirmed         not trusted      rejected
reply_help         no command, or not one              help             processed
reply_unlinked     no request known                    which request?   processed
reply_automatic    out-of-office, report, list         none             processed
=================  ==================================  ===============  ===========

A reply is recorded once (by source, Message-ID and content hash), so replaying the
mailbox applies and answers nothing twice; its answer's outbox key is made from the
reply too. Refused and untrusted replies become a notice in the beheerders' report. An
untrusted reply about a request the daemon does not know is recorded and not answered:
a forged From with any ``[IMI n]`` subject must not make the daemon mail anyone.
Nothing here changes a request unless the sender is trusted and the desk allows it.

A trusted message with a PDF attachment is judged first as IMI's own PDF report for
Corsa (:mod:`imi_mailwatch.replies.imipdf`): reply_applied when queued for Corsa (its
outbox row, history line and confirmation recorded with the message), reply_refused
with a Dutch answer otherwise.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from imi_mailwatch.alerts.mime import MailMessage, read_headers
from imi_mailwatch.decide import Outcome, ReplyResult, message_entry
from imi_mailwatch.desk.service import Actor, DeskContext, Via, apply_command
from imi_mailwatch.model import (
    LOOP_HEADER,
    Classification,
    MessageKind,
    OutgoingMail,
    RawMessage,
)
from imi_mailwatch.msgid import make_message_id
from imi_mailwatch.ports import StateStore
from imi_mailwatch.records import (
    AuditEntry,
    NoticeEntry,
    Recording,
    RequestRecord,
)
from imi_mailwatch.replies import imipdf, texts
from imi_mailwatch.replies.authz import Role, allowed_commands, decide, roles_of
from imi_mailwatch.replies.commands import WORD, Command, NotUnderstood, Problem
from imi_mailwatch.replies.linking import LinkedBy, link_request
from imi_mailwatch.replies.reader import ReplyReading, read
from imi_mailwatch.replies.trust import ReplyTrust
from imi_mailwatch.texts import TextBook

__all__ = ["MAX_ANSWERS_PER_DAY", "ReplyHandler", "ReplyResult", "ReplySettings"]

# answers to one sender about one request (or about none) in 24 hours: a mailbox rule that
# sends the daemon's mail back without auto-reply marks cannot keep a loop going
MAX_ANSWERS_PER_DAY = 3
_ANSWER = re.compile(r"^<imi(?:\.[^.]+\.answer\.|-answer\.)")  # the ids of _answer_mail


@dataclass(frozen=True, slots=True)
class ReplySettings:
    trust: ReplyTrust
    id_domains: tuple[str, ...]
    beheerders: tuple[str, ...]  # addresses
    contacts: tuple[str, ...] = ()  # "Naam (adres)" of the beheerders, for the answers
    never_answer: tuple[str, ...] = ()  # the daemon's own addresses
    reply_to: str = "imi@brabant.nl"  # the functional mailbox
    answer: bool = True
    pdf_max_bytes: int = imipdf.DEFAULT_MAX_BYTES  # IMI's PDF report (replies.imipdf)


class ReplyHandler:
    """Handles the replies among the messages that are no IMI alert (module docstring)."""

    def __init__(
        self,
        settings: ReplySettings,
        desk: DeskContext | None = None,
        texts: TextBook | None = None,
    ) -> None:
        self.settings = settings
        self.desk = desk  # None: no command is carried out (each is refused)
        self.texts = texts  # the beheerders' teksten/ for the answers; None: the shipped ones

    def answers_daemon(self, data: bytes, message: MailMessage | None = None) -> bool:
        """Whether ``data`` answers one of the daemon's own mails by its headers
        (``In-Reply-To``/``References`` name one of its Message-IDs), its loop header aside.

        Such a message is a reply whatever the alert reader made of it: the history it
        quotes may hold an IMI alert's text (a proposal quotes what the alert said), which
        the reader would take for a forwarded alert. IMI's own alerts never answer the
        daemon's mails; a forgery that claims to is judged as a reply, and changes nothing.
        ``message``: ``data`` as the alert reader parsed it already (None: read its headers).
        """
        message = message or read_headers(data)
        if message.get(LOOP_HEADER) is not None:
            return False
        link = link_request(message, self.settings.id_domains)
        return link is not None and link.by is not LinkedBy.SUBJECT

    def record(self, store: StateStore, raw: RawMessage, c: Classification) -> ReplyResult | None:
        """Record ``raw`` as a reply inside the caller's transaction; None when it is none."""
        s = self.settings
        reading = read(raw.data, trust=s.trust, id_domains=s.id_domains)
        pdf = imipdf.plan_pdf(store, raw.data, reading, beheerders=s.beheerders,
                              contacts=s.contacts, domain=s.id_domains[0],
                              reply_to=s.reply_to, max_bytes=s.pdf_max_bytes)  # fmt: skip
        plan = self._plan(store, raw, reading) if pdf is None else _pdf_outcome(pdf)
        if plan is None:
            return None
        outcome, request_id, reason, answer, notice = plan
        if pdf is not None and pdf.confirmation is not None:  # IMI's PDF: queued for Corsa
            store.desk_mail_add(pdf.request_id or "", pdf.confirmation)
        key = hashlib.sha256(f"{raw.source}\n{raw.content_hash}".encode()).hexdigest()[:24]
        answered = False
        sender = (reading.sender or _single_from(reading) or "").lower()
        if answer is not None and sender and s.answer and sender not in s.never_answer:
            if self._answered_lately(store, request_id or "", sender) >= MAX_ANSWERS_PER_DAY:
                reason += "; not answered: the day's answers to this sender were sent"
            else:
                mail = self._answer_mail(answer, sender, request_id, key, reading)
                answered = store.desk_mail_add(request_id or "", mail)  # sent by the DeskMailer
        notices: tuple[NoticeEntry, ...] = ()
        if notice is not None:
            where = f"mailbox {raw.source}, bericht {raw.ref}"
            about = f"verzoek {request_id}: " if request_id else ""
            notices = (NoticeEntry(f"reply:{key}", "reply", f"{about}{notice} ({where})."),)
        entry = message_entry(
            raw, c, outcome, request_id=request_id, reason=reason, kind=MessageKind.REPLY
        )
        audit = AuditEntry(f"reply.{outcome.value.removeprefix('reply_')}", request_id,
                           {"source": raw.source, "reason": reason,
                            "answered": answered})  # fmt: skip
        extra = pdf or imipdf.PdfPlan(ok=False, request_id=None, reason="")
        row = store.commit(Recording(entry, audits=(audit, *extra.audits), notices=notices,
                                     intents=extra.intents))  # fmt: skip
        return ReplyResult(outcome, request_id, reason, row)

    # -- deciding ----------------------------------------------------------------------

    def _plan(  # noqa: PLR0911 - one return per outcome, in the order of judgement
        self, store: StateStore, raw: RawMessage, reading: ReplyReading
    ) -> tuple[Outcome, str | None, str, str | None, str | None] | None:
        """(outcome, request id, reason, answer text, notice text) or None: no reply."""
        s = self.settings
        message = reading.message
        if reading.automatic is not None:
            if reading.automatic == "the daemon's own mail":
                return None
            link = link_request(message, s.id_domains)
            if link is None:
                return None
            why = f"automatic: {reading.automatic}"
            return Outcome.REPLY_AUTOMATIC, link.request_id, why, None, None
        trusted = reading.trust is not None and reading.trust.trusted
        command = reading.command
        if reading.link is None:
            if trusted and isinstance(command, Command):
                answer = texts.unlinked_answer(beheerders=s.contacts, book=self.texts)
                return Outcome.REPLY_UNLINKED, None, "names no request", answer, None
            return None
        request_id = reading.link.request_id
        request = store.get_request(request_id)
        if not trusted:
            why = reading.trust.reason if reading.trust else "not read"
            if request is None:  # no answer: a forged From must not make us mail anyone
                return Outcome.REPLY_UNTRUSTED, None, f"sender not trusted: {why}", None, None
            answer = texts.untrusted_answer(request_id=request_id, beheerders=s.contacts,
                                            book=self.texts)  # fmt: skip
            what = f"opdracht {_word(command)}" if isinstance(command, Command) else "antwoord"
            notice = f"{what} niet uitgevoerd: de afzender kon niet worden bevestigd"
            return Outcome.REPLY_UNTRUSTED, request_id, f"sender not trusted: {why}", answer, notice
        if request is None:
            answer = texts.unlinked_answer(beheerders=s.contacts, book=self.texts)
            return Outcome.REPLY_UNLINKED, None, "names an unknown request", answer, None
        sender = (reading.sender or "").lower()
        claimer = store.desk_state(request_id).claimer
        roles = roles_of(sender, team_addresses=self._team(request), claimer=claimer,
                         beheerders=s.beheerders, own_domains=s.trust.own_domains)  # fmt: skip
        if isinstance(command, NotUnderstood) or command is None:
            problem = command or NotUnderstood(Problem.EMPTY)
            answer = texts.help_answer(problem, allowed_commands(roles), request_id=request_id,
                                       beheerders=s.contacts, book=self.texts)  # fmt: skip
            return Outcome.REPLY_HELP, request_id, f"no command: {problem.problem}", answer, None
        if self.desk is None:
            decision = decide(command.kind, sender, team_addresses=self._team(request),
                              claimer=claimer, beheerders=s.beheerders,
                              own_domains=s.trust.own_domains)  # fmt: skip
            reason = None if not decision.allowed else "Opdrachten per mail staan hier uit."
            answer = texts.refusal_answer(command.kind, decision, request_id=request_id,
                                          beheerders=s.contacts, reason=reason,
                                          book=self.texts)  # fmt: skip
            notice = f"opdracht {_word(command)} niet uitgevoerd: {reason or decision.explanation}"
            return Outcome.REPLY_REFUSED, request_id, f"refused: {command.kind}", answer, notice
        actor = Actor(sender, Via.MAIL, frozenset({Role.COLLEAGUE}))
        result = apply_command(store, self.desk, request_id, command, actor,
                               reply_message_id=message.message_id)  # fmt: skip
        if result.ok:
            return Outcome.REPLY_APPLIED, request_id, f"applied: {command.kind}", None, None
        # the desk refused it and owes the sender its answer (DeskMailer)
        notice = f"opdracht {_word(command)} niet uitgevoerd: {_first_line(result.text)}"
        return Outcome.REPLY_REFUSED, request_id, f"refused: {command.kind}", None, notice

    def _team(self, request: RequestRecord) -> tuple[str, ...]:
        """The request's team addresses: as recorded, and as the current rules say."""
        found = [request.team_mailbox, *request.handlers]
        team = self.desk.teams().get(request.team_key or "") if self.desk else None
        if team is not None:
            found += [team.mailbox, *team.handlers]
        return tuple(dict.fromkeys(a.lower() for a in found if a))

    @staticmethod
    def _answered_lately(store: StateStore, request_id: str, sender: str) -> int:
        """Answers (not confirmations) owed or sent to ``sender`` about the request in the
        last 24 hours."""
        since = store.now() - timedelta(days=1)
        return sum(
            1
            for row in store.desk_mails_of(request_id)
            if _ANSWER.search(row.message_id) and sender in row.mail.to and row.created_at >= since
        )

    def _answer_mail(
        self, text: str, to: str, request_id: str | None, key: str, reading: ReplyReading
    ) -> OutgoingMail:
        domain = self.settings.id_domains[0]
        if request_id:
            message_id = make_message_id(request_id, "answer", key, domain)
            subject = f"[IMI {request_id}] Uw antwoord aan IMI-mailwatch"
        else:  # not one of the ids that name a request
            message_id = f"<imi-answer.{key}@{domain}>"
            subject = "IMI-mailwatch: over welk verzoek gaat uw bericht?"
        headers: list[tuple[str, str]] = [("Reply-To", self.settings.reply_to)]
        if reading.message.message_id:
            headers += [("In-Reply-To", reading.message.message_id),
                        ("References", reading.message.message_id)]  # fmt: skip
        return OutgoingMail(message_id=message_id, to=(to,), subject=subject, text=text + "\n",
                            headers=tuple(headers))  # fmt: skip


def _pdf_outcome(
    pdf: imipdf.PdfPlan,
) -> tuple[Outcome, str | None, str, str | None, str | None]:
    outcome = Outcome.REPLY_APPLIED if pdf.ok else Outcome.REPLY_REFUSED
    return outcome, pdf.request_id, pdf.reason, pdf.answer, None


def _word(command: Command) -> str:
    return WORD[command.kind].split(" dd-")[0].split(" teamnaam")[0]


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "geweigerd")


def _single_from(reading: ReplyReading) -> str | None:
    found = reading.message.from_addresses
    return found[0].lower() if len(found) == 1 else None
