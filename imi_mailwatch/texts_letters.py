"""The placeholders of the letters to the behandelaars in ``teksten/`` (pure data).

``imi_mailwatch.texts`` turns each entry of :data:`LETTERS` into a
:class:`~imi_mailwatch.texts.TextSpec` with the blocks :data:`LETTER_BLOCKS`;
every letter also has the placeholders of :data:`LETTER_COMMON`. Per
placeholder: what it holds (Dutch, for docs/teksten.md and ``teksten check``)
and a sample value for the check's trial render.
"""

from __future__ import annotations

from typing import Any

from imi_mailwatch.texts_beheerders import BEHEERDERS

LIST_NL = "de IMI-beheerders, elk met naam, email, telefoon en rol (teksten/beheerders.yaml)"
SAMPLE_BEHEERDER = {
    "naam": "A. Voorbeeld",
    "email": "imi@voorbeeld.nl",
    "telefoon": "",
    "rol": "eerste aanspreekpunt",
}

LETTER_BLOCKS = ("onderwerp", "aanhef", "inleiding", "kop", "stappen", "notities")
LETTER_COMMON: dict[str, tuple[str, Any]] = {
    "verzoek": ("het nummer van het IMI-verzoek", "184523"),
    "team": ("de naam van het team", "Milieu, afval en bodem (VTH)"),
    "beheerders": BEHEERDERS,
    "activiteit": ("de dienstverleningsactiviteit(en)", "Inzameling van afval"),
    "corsa": ("het Corsa-kenmerk van de taak", "20260000001"),
    "beheerders_lijst": (LIST_NL, [SAMPLE_BEHEERDER]),
}
# Placeholders that several letters share: (what it holds, sample value).
_IMI_URL = ("het adres van IMI", "https://webgate.ec.europa.eu/imi-net/")
_VAKGEBIED = ("het vakgebied van de regel", "milieu en afval")
_AFGESLOTEN_OP = ("de dag van afsluiten voluit", "maandag 23 november 2026")
_ZAAKTYPE = ("het zaaktype in Corsa", "Informatieverzoeken algemeen")
_BEWAARTERMIJN = ("de bewaartermijn", "10 jaar")
_BLOKKEERT = ("de dag waarop IMI blokkeert, voluit", "zondag 23 mei 2027")
_BLOKKEERT_KORT = ("die dag als 23-05-2027", "23-05-2027")
LETTERS: dict[str, tuple[str, str, dict[str, tuple[str, Any]]]] = {
    "herinnering": (
        "herinnering.j2",
        "de herinnering en de escalatie over de antwoorddatum",
        {
            "antwoorddatum": ("de antwoorddatum voluit", "vrijdag 27 november 2026"),
            "antwoorddatum_kort": ("de antwoorddatum als 27-11-2026", "27-11-2026"),
            "vandaag": ("de dag van verzenden voluit", "vrijdag 20 november 2026"),
            "termijn": ('"nog 5 werkdagen", "2 werkdagen te laat", ...', "nog 5 werkdagen"),
            "toestand": ('"voor", "vandaag", "laatste_werkdag" of "verstreken"', "voor"),
            "escalatie": ("waar bij een escalatie", False),
            "vakgebied": _VAKGEBIED,
            "imi_url": _IMI_URL,
        },
    ),
    "afsluiting": (
        "afsluiting.j2",
        "het bericht bij het afsluiten: zo archiveert de behandelaar het verzoek",
        {
            "afgesloten_op": _AFGESLOTEN_OP,
            "archiveren_voor": _BLOKKEERT,
            "archiveren_voor_kort": _BLOKKEERT_KORT,
            "controle_op": ("de werkdag van het controlebericht", "dinsdag 23 maart 2027"),
            "zaaktype": _ZAAKTYPE,
            "bewaartermijn": _BEWAARTERMIJN,
        },
    ),
    "eigen_verzoek": (
        "eigen-verzoek.j2",
        "een verzoek van de provincie zelf: er wacht een antwoord, of het is afgesloten",
        {
            "afgesloten": ("waar als IMI het verzoek afsloot (anders: antwoord wacht)", False),
            "afgesloten_op": ("de dag van afsluiten voluit (leeg als niet afgesloten)", ""),
            "imi_url": _IMI_URL,
        },
    ),
    "archiefcontrole": (
        "archiefcontrole.j2",
        "de controle vóór IMI de persoonsgegevens blokkeert",
        {
            "afgesloten_op": _AFGESLOTEN_OP,
            "blokkeert_op": _BLOKKEERT,
            "blokkeert_op_kort": _BLOKKEERT_KORT,
            "zaaktype": _ZAAKTYPE,
            "bewaartermijn": _BEWAARTERMIJN,
        },
    ),
    "taakbericht": (
        "taakbericht.j2",
        "het bericht aan het team als de taak in Corsa is aangemaakt",
        {
            "antwoorddatum": (
                'de antwoorddatum voluit, of "nog niet bekend"',
                "vrijdag 27 november 2026",
            ),
            "antwoorddatum_kort": (
                "de antwoorddatum als 27-11-2026; leeg als onbekend",
                "27-11-2026",
            ),
            "vakgebied": _VAKGEBIED,
            "imi_url": _IMI_URL,
        },
    ),
    "taak_sluiten": (
        "taak_sluiten.j2",
        "het bericht aan het team dat de taak in Corsa dicht kan",
        {
            "reden": ('"ingetrokken", "doorgestuurd" of "afgewezen"', "ingetrokken"),
        },
    ),
    "voorstel": (
        "voorstel.j2",
        "het routevoorstel aan de beheerders (routing.mode: propose), en de herinnering",
        {
            "regel": ('de regel die het team koos, of "de standaardroute"', "regel Afval"),
            "herinnering": ("waar als het voorstel nog niet is bevestigd (herinnering)", False),
            "termijn": ('de werkuren sinds het voorstel, als "4 werkuren"', "4 werkuren"),
        },
    ),
    "aanvaarden": (
        "aanvaarden.j2",
        "de herinnering dat een verzoek nog niet als aanvaard is gemeld",
        {
            "termijn": ('de werkdagen sinds de taak, als "3 werkdagen"', "3 werkdagen"),
            "beheerders_ook": ("waar als de IMI-beheerders het bericht ook krijgen", False),
            "imi_url": _IMI_URL,
        },
    ),
}
