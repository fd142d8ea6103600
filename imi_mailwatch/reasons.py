"""Why a message was set aside or something failed: one catalogue, a Dutch sentence each. Pure.

The producers of reasons (``alerts/``, the pipeline, the adapters, the deadline
follow-up) keep writing short English texts: they go to the logs and the audit
trail as they are, and the state store keeps them. Whatever staff read (the
beheerders' report, ``quarantine``, ``status``, ``history``, the demo) passes
them through :func:`explain` first, which recognises the English text, gives it
a stable code and a Dutch sentence, and keeps the part that helps a beheerder
or ops (a domain, the failed check, a size) as technical detail in brackets.

Exception class names (``NotifierRejectedError``) are never shown: they are
mapped to a sentence; the logs keep them.

A text the catalogue does not know comes out as a generic Dutch sentence with
the original in brackets, so nothing is hidden; ``tests/core/test_reasons.py``
keeps the catalogue in step with the reasons the code produces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reason:
    """One entry of the catalogue applied to one text."""

    code: str  # stable: "auth_failed", "no_request_id", ...
    sentence: str  # Dutch, one sentence, ends with a full stop
    detail: str | None = None  # technical detail worth showing, without class names

    def text(self) -> str:
        """``Dutch sentence (technisch: detail)``, or the sentence alone."""
        if not self.detail:
            return self.sentence
        return f"{self.sentence[:-1]} (technisch: {self.detail})."


@dataclass(frozen=True, slots=True)
class _Entry:
    code: str
    pattern: re.Pattern[str]
    sentence: str


def _e(code: str, pattern: str, sentence: str) -> _Entry:
    return _Entry(code, re.compile(pattern, re.IGNORECASE | re.DOTALL), sentence)


def _error(code: str, class_name: str, sentence: str, *, detail: bool = False) -> _Entry:
    """An error by its class name, alone or with its text (shown as detail if ``detail``)."""
    text = "(?P<detail>.*)" if detail else ".*"
    return _e(code, rf"{class_name}(?:: {text})?", sentence)


_TOO_BIG = r"(?:message too large|too many lines|too many MIME parts|nesting too deep)"

# The order matters: the first entry whose pattern matches the whole text wins.
# A named group "detail" is the technical detail shown in brackets.
CATALOGUE: tuple[_Entry, ...] = (
    # -- the alert reader (imi_mailwatch/alerts/reader.py) ---------------------------------
    _e(
        "loop",
        r"sent by imi-mailwatch itself.*",
        "Het bericht komt van imi-mailwatch zelf en wordt niet nog eens verwerkt.",
    ),
    _e("auto_reply", r"automatic reply", "Het is een automatisch antwoord (bijvoorbeeld afwezig)."),
    _e("delivery_report", r"delivery report", "Het is een melding over de bezorging van e-mail."),
    _e(
        "reply",
        r"a reply in a conversation, not an alert",
        "Het is een antwoord in een e-mailwisseling, geen IMI-melding.",
    ),
    # -- replies to the daemon's mails (imi_mailwatch/reply_path.py) ----------------------
    _e(
        "reply_untrusted",
        r"sender not trusted: (?P<detail>.*)",
        "De afzender van het antwoord kon niet worden bevestigd; er is niets veranderd.",
    ),
    _e(
        "reply_no_command",
        r"no command: (?P<detail>.*)",
        "In het antwoord stond geen opdracht die werd herkend; de afzender kreeg uitleg.",
    ),
    _e("reply_applied", r"applied: (?P<detail>.*)", "De opdracht uit het antwoord is uitgevoerd."),
    _e(
        "reply_refused",
        r"refused: (?P<detail>.*)",
        "De opdracht uit het antwoord is niet uitgevoerd; de afzender kreeg uitleg.",
    ),
    _e(
        "reply_unlinked",
        r"names (?:no|an unknown) request",
        "Het antwoord noemt geen bekend IMI-verzoek; de afzender kreeg uitleg.",
    ),
    _e(
        "reply_automatic",
        r"automatic: (?P<detail>.*)",
        "Het is een automatisch antwoord op een mail van imi-mailwatch (afwezig, "
        "bezorgmelding); het krijgt geen antwoord.",
    ),
    _e(
        "over_budget_review",
        rf"(?P<detail>{_TOO_BIG}.*?): kept for review",
        "Het bericht is te groot of te ingewikkeld om helemaal te lezen; het is bewaard om "
        "met de hand te bekijken.",
    ),
    _e(
        "over_budget_auth_failed",
        rf"{_TOO_BIG}.*?; failed authentication: (?P<detail>.*)",
        "Het bericht is te groot om te lezen en kwam niet door de echtheidscontrole; er is "
        "niets mee gedaan.",
    ),
    _e(
        "over_budget_not_imi",
        rf"(?P<detail>{_TOO_BIG}.*?); not from an allowed IMI sender",
        "Het bericht is te groot om te lezen en komt niet van een toegestane IMI-afzender.",
    ),
    _e(
        "not_imi_sender",
        r"not from an allowed IMI sender",
        "Het bericht komt niet van een toegestane IMI-afzender.",
    ),
    _e(
        "not_an_alert",
        r"from (?P<detail>\S+), but not an IMI alert",
        "Het bericht komt van het IMI-domein, maar is geen IMI-melding.",
    ),
    _e("not_imi", r"not an IMI alert", "Het bericht is geen IMI-melding."),
    _e(
        "no_request_id",
        r"IMI alert without a request id",
        "In de IMI-melding is geen verzoeknummer gevonden; daarom kan er geen taak worden "
        "aangemaakt.",
    ),
    _e(
        "unreadable",
        r"unreadable message.*",
        "Het bericht kon niet worden gelezen; het is bewaard om met de hand te bekijken.",
    ),
    _e(
        "multiple_from",
        r"(?:more than one From address|looks like an IMI alert but has more than one From)",
        "Het bericht heeft meer dan één afzender; zo'n bericht wordt niet vertrouwd.",
    ),
    _e(
        "sender_not_allowed",
        r"looks like an IMI alert but (?P<detail>.+) is not an allowed sender",
        "Het bericht lijkt op een IMI-melding, maar komt niet van een toegestane IMI-afzender.",
    ),
    _e(
        "auth_failed",
        r"claims to be from \S+ but failed authentication: (?P<detail>.*)",
        "Het bericht zegt van IMI te komen, maar kwam niet door de echtheidscontrole "
        "(DMARC/DKIM); er is niets mee gedaan.",
    ),
    _e(
        "forward_auth_failed",
        r"the forwarded message failed authentication: (?P<detail>.*)",
        "Het doorgestuurde bericht kwam niet door de echtheidscontrole (DMARC/DKIM); er is "
        "niets mee gedaan.",
    ),
    _e(
        "auth_failed",
        r"(?P<detail>(?:dmarc|dkim|spf)=\S+.*|no trusted Authentication-Results.*|no valid "
        r"aligned DKIM.*|trusted Authentication-Results unreadable.*|no dmarc or aligned.*)",
        "Het bericht kwam niet door de echtheidscontrole (DMARC/DKIM); er is niets mee gedaan.",
    ),
    _e(
        "auth_failed",
        r"failed authentication",
        "Het bericht kwam niet door de echtheidscontrole (DMARC/DKIM); er is niets mee gedaan.",
    ),
    # -- the pipeline ---------------------------------------------------------------------------
    _e(
        "internal_error",
        r"internal error: .*",
        "Bij het verwerken ging intern iets mis; het bericht is bewaard en kan na herstel "
        "opnieuw worden verwerkt.",
    ),
    # -- errors of the task sink, the mail server and the mailbox (class names, then text) ----
    _error("task_refused", "TaskSinkRejectedError", "Corsa weigerde de taak.", detail=True),
    _error("task_sink_down", "TaskSinkUnavailableError", "Corsa was niet bereikbaar.", detail=True),
    _error(
        "mail_refused",
        "NotifierRejectedError",
        "De mailserver weigerde het bericht; controleer het e-mailadres.",
    ),
    _error("mail_down", "NotifierUnavailableError", "De mailserver was niet bereikbaar."),
    _error(
        "mailbox_refused",
        "MailSourceRejectedError",
        "De mailbox weigerde de toegang (aanmelding, rechten of een ontbrekende map).",
    ),
    _error("mailbox_down", "MailSourceUnavailableError", "De mailbox was niet bereikbaar."),
    _error("state_error", "StateError", "De statusopslag van imi-mailwatch gaf een fout."),
    _e(
        "no_recipients",
        r"no recipients(?: configured)?",
        "Er is geen e-mailadres om het bericht naar te sturen; vul het adres van het team "
        "in de regels aan.",
    ),
    _e(
        "request_closed",
        r"request no longer open",
        "Het verzoek is niet meer open; het bericht is niet meer nodig.",
    ),
    _e("no_task", r"no task to annotate", "Er is (nog) geen taak om een regel aan toe te voegen."),
    _e("refused", r"geweigerd|refused", "Het werd geweigerd."),
    # -- health rows -------------------------------------------------------------------------------
    _e("stopped", r"stopped", "De dienst is gestopt."),
    _e("rules_invalid", r"invalid rules", "De routeringsregels zijn ongeldig."),
    _e(
        "rules_from_store",
        r"degraded: stored rules",
        "De dienst werkt met de laatst goedgekeurde routeringsregels.",
    ),
)

_CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b:?\s*")


def explain(text: str | None) -> Reason:
    """The catalogue entry for one reason or error text (the first whose pattern matches)."""
    if not text:
        return Reason("none", "Geen reden opgegeven.")
    raw = text.strip()
    for entry in CATALOGUE:
        m = entry.pattern.fullmatch(raw)
        if m is not None:
            detail = m.groupdict().get("detail")
            return Reason(entry.code, entry.sentence, _clean(detail))
    return Reason("unknown", "Reden niet in de lijst van imi-mailwatch.", _clean(raw))


def dutch(text: str | None) -> str:
    """The Dutch sentence for a reason text, with its technical detail in brackets."""
    return explain(text).text()


def _clean(detail: str | None) -> str | None:
    """Technical detail without exception class names; None when nothing is left."""
    if not detail:
        return None
    cleaned = _CLASS_NAME.sub("", detail).strip(" :;,()")
    return cleaned or None
