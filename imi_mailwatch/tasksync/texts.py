"""The Dutch texts of the task sync for the beheerders: mails and report lines. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from imi_mailwatch.texts import TextBook, shipped_texts
from imi_mailwatch.wording import long_moment

WHY_OFF = "het verplaatsen vanuit IMI-mailwatch staat uit (task_sink.corsa.reroute: false)"
WHY_CASE = "in deze installatie loopt het werk via een zaak in Corsa/Case"
WHY_REFUSED = "Corsa stond het wijzigen van de registratie niet toe"
WHY_UNSUPPORTED = "het taaksysteem kan een taak niet zelf verplaatsen"


def why_not_moved(error: str) -> str:
    """Why the task was not moved, in Dutch, from the sink's (English, safe) error text."""
    if "reroute: false" in error:
        return WHY_OFF
    if "case mode" in error:
        return WHY_CASE
    return WHY_REFUSED


def move_by_hand_mail(  # noqa: PLR0917 - one mail, every fact it names
    request_id: str,
    task_ref: str,
    team: str,
    org_unit: str,
    old_org_unit: str,
    why: str,
    beheerders: Sequence[str] = (),
    *,
    book: TextBook | None = None,
) -> tuple[str, str]:
    """(subject, body): the task could not be moved in Corsa; what to move by hand
    (``teksten/verplaatsen.j2``: the beheerders' own ``book`` when given)."""
    subject, body = (book if book is not None else shipped_texts()).mail(
        "verplaatsen",
        verzoek=request_id,
        taak=task_ref,
        team=team,
        eenheid=org_unit,
        oude_eenheid=old_org_unit,
        waarom=why,
        beheerders=", ".join(beheerders),
    )
    return f"[IMI {request_id}] {subject}", body


def unit_without_team(request_id: str, task_ref: str, unit: str, team: str) -> str:
    """Report line: the document was moved in Corsa to a unit no single team has."""
    return (
        f"verzoek {request_id}: de taak {task_ref} is in Corsa naar eenheid {unit} verplaatst, "
        f"maar geen (of meer dan één) team in de regels hoort bij die eenheid. Het verzoek "
        f"blijft bij {team}; geef HERROUTEER met het juiste team, of vul de eenheid aan in de "
        "regels."
    )


def unreadable(request_id: str, task_ref: str) -> str:
    """Report line: one document could not be read back (deleted, no rights)."""
    return (
        f"verzoek {request_id}: de taak {task_ref} kon niet uit Corsa worden teruggelezen "
        "(verwijderd, of geen rechten). IMI-mailwatch ziet daardoor niet of de taak is "
        "afgehandeld of verplaatst; de herinneringen gaan gewoon door."
    )


def outage(since: datetime, reason: str) -> str:
    """Report line: the read-back has not reached Corsa since ``since`` (``reason``: a
    Dutch sentence)."""
    return (
        f"het teruglezen uit Corsa (afgehandeld, verplaatst) lukt niet sinds "
        f"{long_moment(since)}. {reason} Er verandert niets aan de verzoeken; het "
        "teruglezen gaat door zodra Corsa weer antwoordt."
    )
