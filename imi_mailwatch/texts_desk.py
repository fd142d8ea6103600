"""The placeholders of the desk's mails and the answers to replies in ``teksten/`` (pure data).

``imi_mailwatch.texts`` turns each entry of :data:`DESK_TEXTS` into a
:class:`~imi_mailwatch.texts.TextSpec` with the blocks the entry names: ``onderwerp``
(one line; the product puts ``[IMI nummer]`` before it, which links a reply to its
request) and ``tekst`` (the whole plain-text mail). Per placeholder: what it holds
(Dutch, for docs/teksten.md and ``teksten check``) and a sample value for the
check's trial render. :meth:`~imi_mailwatch.texts.TextBook.mail` fills them in.
"""

from __future__ import annotations

from typing import Any

from imi_mailwatch.texts_beheerders import MAIL_BLOCKS

# The beheerders' names for the line "Vragen? Neem contact op met ...".
BEHEERDERS = (
    "namen en contactgegevens van de IMI-beheerders; leeg als er geen bekend zijn",
    "A. Voorbeeld (imi@voorbeeld.nl)",
)
_VERZOEK = ("het nummer van het IMI-verzoek", "184523")
_OPDRACHT = ("de opdracht zoals de tekst hem noemt: PAUZE, IK PAK DIT OP, ...", "PAUZE")
_STAND = (
    "hoe het verzoek nu staat: een lijst van regels (team, antwoorddatum, aanvaard, "
    "afgehandeld, pauze, volgende bericht)",
    ["Team: Milieu, afval en bodem (VTH)", "Antwoorddatum: 27-11-2026"],
)
_OPDRACHTEN_BLOK = (
    'het blok "Antwoord met één woord op de eerste regel:" met de opdrachten die de '
    "ontvanger mag geven; leeg als er geen zijn",
    "Antwoord met één woord op de eerste regel:\n\n  HERVAT: de herinneringen gaan weer door.",
)
_TAAK = ("het Corsa-kenmerk van de taak; leeg als dat onbekend is", "20260000001")

DESK_TEXTS: dict[str, tuple[str, str, tuple[str, ...], dict[str, tuple[str, Any]]]] = {
    "bevestiging": (
        "bevestiging.j2",
        "de bevestiging van een opdracht (per e-mail, opdrachtregel of website)",
        MAIL_BLOCKS,
        {
            "verzoek": _VERZOEK,
            "opdracht": _OPDRACHT,
            "gedaan": (
                "wat er is gedaan, als zin met een hoofdletter",
                "Er gaan geen herinneringen uit tot en met 04-12-2026.",
            ),
            "stand": _STAND,
            "extra": ("een extra alinea (bij IK PAK DIT OP en HERROUTEER); meestal leeg", ""),
            "opdrachten": _OPDRACHTEN_BLOK,
            "beheerders": BEHEERDERS,
        },
    ),
    "weigering": (
        "weigering.j2",
        "het antwoord op een opdracht die niet is uitgevoerd",
        MAIL_BLOCKS,
        {
            "verzoek": _VERZOEK,
            "opdracht": _OPDRACHT,
            "reden": (
                "waarom de opdracht niet is uitgevoerd, als zin",
                "Alleen het team van het verzoek mag dit.",
            ),
            "wie_mag": ("wie de opdracht wel mag geven; leeg als dat niet de reden is", ""),
            "beheerders": BEHEERDERS,
        },
    ),
    "antwoorden": (
        "antwoorden.j2",
        "het antwoord op een e-mail aan IMI-mailwatch zonder bruikbare opdracht",
        ("tekst",),
        {
            "soort": (
                '"hulp" (geen opdracht herkend), "onbevestigd" (afzender niet bevestigd) '
                'of "onbekend" (geen bekend verzoek genoemd)',
                "hulp",
            ),
            "verzoek": ("het nummer van het IMI-verzoek; leeg als dat onbekend is", "184523"),
            "waarom": (
                "bij hulp: waarom er geen opdracht is herkend, als zin",
                "Wij vonden geen opdracht bovenaan uw antwoord.",
            ),
            "opdrachten": (
                "bij hulp: de opdrachten die de afzender mag geven, elk als "
                '"WOORD: wat het doet" (een lijst; leeg als er geen zijn)',
                ["HERVAT: een pauze stopt: de herinneringen gaan weer door."],
            ),
            "beheerders": BEHEERDERS,
        },
    ),
    "herrouteer": (
        "herrouteer.j2",
        "het bericht aan het oude en het nieuwe team als een verzoek van team wisselt",
        MAIL_BLOCKS,
        {
            "verzoek": _VERZOEK,
            "naar_ons": ("waar in het bericht aan het nieuwe team, onwaar aan het oude", True),
            "oud_team": ("het team waar het verzoek was", "Milieu, afval en bodem (VTH)"),
            "nieuw_team": ("het team waar het verzoek nu is", "Wegen en water (VTH)"),
            "door": ("wie het verzoek verplaatste", "een IMI-beheerder"),
            "taak": _TAAK,
            "in_corsa": ("waar als de taak in Corsa al verplaatst was", False),
            "opdrachten": _OPDRACHTEN_BLOK,
            "beheerders": BEHEERDERS,
        },
    ),
    "teruggelezen": (
        "teruggelezen.j2",
        "het bericht aan de beheerders over wat in Corsa is teruggelezen (verplaatst of "
        "afgehandeld)",
        MAIL_BLOCKS,
        {
            "verzoek": _VERZOEK,
            "verplaatst": (
                "waar als de taak in Corsa is verplaatst, onwaar als hij is afgehandeld",
                False,
            ),
            "taak": _TAAK,
            "gedaan": (
                "wat IMI-mailwatch daarom deed, als zin zonder hoofdletter",
                "de herinneringen gestopt.",
            ),
            "stand": _STAND,
            "beheerders": BEHEERDERS,
        },
    ),
    "verplaatsen": (
        "verplaatsen.j2",
        "het verzoek aan de beheerders om een taak in Corsa zelf te verplaatsen",
        MAIL_BLOCKS,
        {
            "verzoek": _VERZOEK,
            "taak": ("het Corsa-kenmerk van de taak", "20260000001"),
            "team": ("het nieuwe team", "Wegen en water (VTH)"),
            "eenheid": ("de eenheid (taakbak) van het nieuwe team in Corsa", "OE-WW"),
            "oude_eenheid": ("de eenheid waar de taak nu staat; leeg als onbekend", "OE-MAB"),
            "waarom": (
                "waarom IMI-mailwatch de taak niet zelf verplaatste",
                "Corsa stond het wijzigen van de registratie niet toe",
            ),
            "beheerders": BEHEERDERS,
        },
    ),
}
