"""Synthetic IMI alert streams with what must become of them (no real data).

A stream holds new requests followed, later in the mailbox, by alerts on the same
requests (reply date changed, closed), plus a few ordinary, forged and unreadable
messages. Reply dates are chosen relative to the daemon's "today" so that
reminders are due at once (a date in the past) or not at all (far ahead).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from tests.alerts.mail import IMI_FROM, message

FORGED_AR = ("mx.brabant.nl; dkim=fail header.d=ec.europa.eu; dmarc=fail header.from=ec.europa.eu",)
ACTIVITIES = (
    "Bouwactiviteiten; Sloopwerkzaamheden",
    "Architectenactiviteiten",
    "Detailhandel in voedingsmiddelen",
    "Reisbureaus",
)


@dataclass(frozen=True)
class Item:
    """One message for the mailbox and the disposition it must end with."""

    data: bytes
    message_id: str
    disposition: str  # handled, ignored, rejected, quarantined
    request_id: str | None = None


@dataclass
class RequestPlan:
    """What must hold for one IMI request after everything was handled."""

    request_id: str
    deadline: date
    closed: bool = False
    alerts: list[Item] = field(default_factory=list)


@dataclass
class Corpus:
    items: list[Item]
    requests: dict[str, RequestPlan]
    today: date

    def reminder_due(self, plan: RequestPlan) -> bool:
        """An open request whose reply date has passed must have had a reminder."""
        return not plan.closed and plan.deadline <= self.today


def _d(day: date) -> str:
    return f"{day:%d-%m-%Y}"


def _alert(
    rid: str, kind: str, seq: int, *, deadline: date | None = None, activities: str = ""
) -> Item:
    mid = f"<fault-{rid}-{seq}@imi.ec.europa.eu>"
    if kind == "new":
        subject = f"IMI - Diensten - Nieuw verzoek {rid} ontvangen"
        body = (
            "Geachte IMI-gebruiker,\n\nUw autoriteit heeft een nieuw informatieverzoek "
            f"ontvangen.\n\nVerzoek-ID: {rid}\nWetgevingsgebied: Diensten\n"
            "Verzoekende autoriteit: Testbehoerde Beispielstadt\nLidstaat: Duitsland\n"
            f"Dienstverleningsactiviteiten: {activities}\n"
            f"Gevraagde antwoorddatum: {_d(deadline or date(2030, 1, 1))}\n"
        )
    elif kind == "changed":
        subject = f"IMI - Diensten - Antwoorddatum van verzoek {rid} gewijzigd"
        body = (
            "Geachte IMI-gebruiker,\n\nDe antwoorddatum van het verzoek is gewijzigd.\n\n"
            f"Verzoek-ID: {rid}\nWetgevingsgebied: Diensten\n"
            f"Gevraagde antwoorddatum: {_d(deadline or date(2030, 1, 1))}\n"
        )
    else:
        subject = f"IMI - Diensten - Verzoek {rid} afgesloten"
        body = (
            "Geachte IMI-gebruiker,\n\nHet verzoek is door de verzoekende autoriteit "
            f"afgesloten.\n\nVerzoek-ID: {rid}\nWetgevingsgebied: Diensten\n"
        )
    return Item(message(body, subject=subject, message_id=mid), mid, "handled", rid)


def _others(seq: int) -> list[Item]:
    """An ordinary mail (stays in INBOX), a forged alert, an unreadable IMI alert."""
    ordinary_id = f"<fault-other-{seq}@example.invalid>"
    forged_id = f"<fault-forged-{seq}@imi.ec.europa.eu>"
    unreadable_id = f"<fault-unreadable-{seq}@imi.ec.europa.eu>"
    forged_rid = f"9{seq:06d}"
    return [
        Item(
            message(
                "Beste collega,\n\nDe nieuwsbrief van deze week staat online.\n",
                subject=f"Nieuwsbrief week {seq % 52 + 1}",
                sender="Nieuwsbrief <nieuws@example.invalid>",
                auth_results=("mx.brabant.nl; dkim=pass header.d=example.invalid",),
                message_id=ordinary_id,
            ),
            ordinary_id,
            "ignored",
        ),
        Item(
            message(
                "Geachte IMI-gebruiker,\n\nUw autoriteit heeft een nieuw informatieverzoek "
                f"ontvangen.\n\nVerzoek-ID: {forged_rid}\nWetgevingsgebied: Diensten\n",
                subject=f"IMI - Diensten - Nieuw verzoek {forged_rid} ontvangen",
                sender=IMI_FROM,
                auth_results=FORGED_AR,
                message_id=forged_id,
            ),
            forged_id,
            "rejected",
            forged_rid,
        ),
        Item(
            message(
                "Geachte IMI-gebruiker,\n\nUw autoriteit heeft een nieuw informatieverzoek "
                "ontvangen.\n\nWetgevingsgebied: Diensten\n",
                subject="IMI - Diensten - Nieuw verzoek ontvangen",
                message_id=unreadable_id,
            ),
            unreadable_id,
            "quarantined",
        ),
    ]


def make_corpus(n: int, *, today: date, seed: int = 1) -> Corpus:
    """About ``n`` messages: requests with follow-up alerts, and a few others.

    Of the requests: a third stays open with a passed reply date (a reminder is
    due), a third is closed later (the closing mail is due), a sixth gets a new
    reply date in the past, a sixth stays open with a date far ahead (nothing due).
    """
    rng = random.Random(seed)
    past, ahead = today - timedelta(days=10), today + timedelta(days=120)
    others: list[Item] = []
    for k in range(max(1, n // 40)):
        others.extend(_others(k))
    streams: list[list[Item]] = []
    requests: dict[str, RequestPlan] = {}
    count, k = len(others), 0
    while count < n:
        rid = f"{300000 + k}"
        shape = k % 6
        first_deadline = ahead if shape in (4, 5) else past
        plan = RequestPlan(rid, first_deadline)
        new = _alert(rid, "new", 0, deadline=first_deadline, activities=ACTIVITIES[k % 4])
        stream = [new]
        if shape in (1, 3) and count + 2 <= n:
            stream.append(_alert(rid, "closed", 1))
            plan.closed = True
        elif shape == 4 and count + 2 <= n:
            plan.deadline = today - timedelta(days=3)
            stream.append(_alert(rid, "changed", 1, deadline=plan.deadline))
        plan.alerts = stream
        requests[rid] = plan
        streams.append(stream)
        count += len(stream)
        k += 1
    # interleave the streams at random, keeping each request's own order
    items: list[Item] = []
    pending = [list(s) for s in streams] + [[o] for o in others]
    while pending:
        i = rng.randrange(len(pending))
        items.append(pending[i].pop(0))
        if not pending[i]:
            pending.pop(i)
    return Corpus(items, requests, today)
