"""What a beheerder can do about a notice, said in words. Pure.

Mails to the beheerders never ask them to run a command on a server. Where a
notice needs an action, :func:`offer` says in Dutch what to do with the tools
they have: Outlook (the folders of the functional mailbox), Corsa and the rules
files.

It is also the single place that says which reply commands a mail about a
request offers (:func:`reply_actions`): every such mail ends with the block
"Antwoord met één woord op de eerste regel:" for its recipients, built here from
the commands each role may give (:mod:`imi_mailwatch.replies.authz`). A mail to
the team with the beheerders in copy lists the team's commands and then the ones
only the beheerders may give. A request that no longer runs in IMI (closed,
withdrawn) offers no command: its mails say that no answer is needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from imi_mailwatch.replies.authz import Role
from imi_mailwatch.replies.commands import WORD
from imi_mailwatch.replies.texts import DOES, actions_block, commands_for


class Action(StrEnum):
    """An action a notice can ask of the beheerders."""

    HANDLE_QUARANTINED = "handle_quarantined"  # a real alert that could not be read
    CHECK_REJECTED = "check_rejected"  # a message that failed the authenticity check
    ASSIGN_TEAM = "assign_team"  # a request on the default route
    CREATE_TASK = "create_task"  # the task could not be created in Corsa
    WARN_TEAM = "warn_team"  # a reminder could not be sent
    FIX_RULES = "fix_rules"  # the rules files were refused
    FIX_TEXTS = "fix_texts"  # a template in teksten/ was refused
    REVIEW = "review"  # the general pointer at the end of the report


_WORDS = {
    Action.HANDLE_QUARANTINED: "Open het bericht in de map {quarantine} van de functionele "
    "mailbox en handel het met de hand af, zoals vóór imi-mailwatch. Gebeurt dit vaker, meld "
    "het dan aan functioneel beheer, zodat de herkenning van IMI-meldingen wordt bijgewerkt.",
    Action.CHECK_REJECTED: "Ze staan in de map {rejected} van de functionele "
    "mailbox; er is niets mee gedaan. Is een bericht toch echt van IMI, meld het dan aan "
    "functioneel beheer en handel het verzoek met de hand af.",
    Action.ASSIGN_TEAM: "Wijs het verzoek toe aan het juiste team (stuur de taak in Corsa door "
    "naar de taakbak van dat team) en vul zo nodig de regels aan.",
    Action.CREATE_TASK: "Maak de taak met de hand aan in Corsa, of laat functioneel beheer de "
    "oorzaak oplossen; daarna maakt imi-mailwatch de taak alsnog aan.",
    Action.WARN_TEAM: "Waarschuw het team zelf en controleer het e-mailadres van het team in "
    "de regels.",
    Action.FIX_RULES: "Herstel de fout in het regelbestand; imi-mailwatch leest de regels "
    "daarna vanzelf opnieuw in.",
    Action.FIX_TEXTS: "Herstel de fout in het sjabloon in de map teksten; "
    "tot dan gebruikt imi-mailwatch de standaardtekst.",
    Action.REVIEW: "Berichten in quarantaine of afgewezen staan in hun eigen map van de "
    "functionele mailbox ({quarantine}, {rejected}); er is niets verwijderd.",
}


_PAGES = {  # the web desk's page for the action (imi-mailwatch web)
    Action.HANDLE_QUARANTINED: "/quarantaine",
    Action.CHECK_REJECTED: "/quarantaine",
    Action.REVIEW: "/quarantaine",
    Action.ASSIGN_TEAM: "/",
    Action.CREATE_TASK: "/",
    Action.WARN_TEAM: "/",
    Action.FIX_RULES: "/regels",
}


def desk_page(action: Action, desk_url: str | None) -> str | None:
    """The web desk's page where the beheerders do this, when the desk has an address."""
    page = _PAGES.get(action)
    if not desk_url or page is None:
        return None
    return desk_url.rstrip("/") + page


def offer(
    action: Action,
    *,
    quarantine_folder: str = "IMI/Quarantaine",
    rejected_folder: str = "IMI/Afgewezen",
) -> str:
    """What to do, in Dutch words (later also the reply command and the link)."""
    return _WORDS[action].format(quarantine=quarantine_folder, rejected=rejected_folder)


BEHEERDERS_ONLY = "Alleen voor de IMI-beheerders:"
NO_ANSWER_NEEDED = (
    "Dit verzoek loopt niet meer in IMI. U hoeft op deze mail niet te antwoorden; "
    "een antwoord verandert niets."
)


def reply_actions(roles: Iterable[Role], *, open_request: bool = True) -> str:
    """The reply commands a mail about a request offers its recipients, in Dutch.

    ``roles`` are the roles of the recipients (the team in To, the beheerders in
    copy). The team's commands come first; the commands only the beheerders may
    give follow under their own heading. ``open_request`` False (closed, withdrawn,
    the task may be closed): no command, one sentence that no answer is needed.
    """
    have = set(roles)
    if not open_request:
        return NO_ANSWER_NEEDED
    if not have:
        return ""
    team_side = bool(have & {Role.TEAM, Role.CLAIMER})
    block = actions_block(Role.TEAM if team_side else Role.BEHEERDER)
    if not team_side or Role.BEHEERDER not in have:
        return block
    own = set(commands_for(Role.TEAM))
    extra = [k for k in commands_for(Role.BEHEERDER) if k not in own]
    lines = [f"  {WORD[k]}: {DOES[k]}" for k in extra]
    return "\n".join([block, "", BEHEERDERS_ONLY, "", *lines]) if lines else block
