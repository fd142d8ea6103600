"""What a beheerder can do about a notice, said in words. Pure.

Mails to the beheerders never ask them to run a command on a server. Where a
notice needs an action, :func:`offer` says in Dutch what to do with the tools
they have: Outlook (the folders of the functional mailbox), Corsa and the rules
files.

This is the single place where the reply command (a beheerder answers the mail
with one word) and the link to the web page for the item will be added: each
:class:`Action` then gains its command or URL here, and every mail that offers
the action shows it, without a change to the mails themselves.
"""

from __future__ import annotations

from enum import StrEnum


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


def offer(
    action: Action,
    *,
    quarantine_folder: str = "IMI/Quarantaine",
    rejected_folder: str = "IMI/Afgewezen",
) -> str:
    """What to do, in Dutch words (later also the reply command and the link)."""
    return _WORDS[action].format(quarantine=quarantine_folder, rejected=rejected_folder)
