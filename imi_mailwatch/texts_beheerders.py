"""The placeholders of the mails to the beheerders and teams in ``teksten/`` (pure data).

``imi_mailwatch.texts`` turns each entry into a :class:`~imi_mailwatch.texts.TextSpec`
with two blocks: ``onderwerp`` (one line) and ``tekst`` (the whole plain-text
mail). Per placeholder: what it holds (Dutch, for docs/teksten.md and
``teksten check``) and a sample value for the check's trial render.
"""

from __future__ import annotations

from typing import Any

MAIL_BLOCKS = ("onderwerp", "tekst")

# The beheerders' contact line, as every text gets it.
BEHEERDERS = (
    "namen en contactgegevens van de IMI-beheerders",
    "A. Voorbeeld (eerste aanspreekpunt, imi@voorbeeld.nl)",
)

_SAMPLE_REQUEST = {
    "verzoek": "184523",
    "team": "Milieu, afval en bodem (VTH)",
    "antwoorddatum": "vrijdag 27 november 2026",
    "antwoorddatum_kort": "27-11-2026",
    "termijn": "nog 5 werkdagen",
    "te_laat": False,
    "stand": "toegewezen in IMI",
    "verwacht": "beantwoord het verzoek in IMI",
    "voorstel": "",
}

MAIL_TEXTS: dict[str, tuple[str, str, dict[str, tuple[str, Any]]]] = {
    "meldingen": (
        "meldingen.j2",
        "de meldingen aan de beheerders (quarantaine, storingen, afgekeurde regels, ...)",
        {
            "aantal": ("het aantal meldingen in deze e-mail", 2),
            "groepen": (
                "de meldingen per soort, elk met titel, uitleg, regels (een lijst) en desk (de "
                "pagina van de IMI-desk waar u het afhandelt; leeg zonder web.public_url)",
                [
                    {
                        "titel": "Bericht in quarantaine",
                        "uitleg": "Deze IMI-berichten konden niet gelezen worden.",
                        "regels": ["mailbox imi, bericht 1:7: het verzoeknummer ontbreekt."],
                        "desk": "https://imi-desk.brabant.nl/quarantaine",
                    },
                    {
                        "titel": "Storing",
                        "uitleg": "",
                        "regels": ["het taaksysteem (Corsa) werkt niet."],
                        "desk": None,
                    },
                ],
            ),
            "beoordelen": (
                "wat de beheerders met berichten in quarantaine doen; leeg als er geen zijn",
                "Bekijk deze berichten in de map IMI/Quarantaine.",
            ),
            "beheerders": BEHEERDERS,
        },
    ),
    "maandagoverzicht": (
        "maandagoverzicht.j2",
        "het overzicht op maandag van de open verzoeken, per team en voor de beheerders",
        {
            "datum": ("de dag van het overzicht voluit", "maandag 23 november 2026"),
            "week": ("het weeknummer", 48),
            "voor_beheerders": ("waar in het overzicht van alle teams voor de beheerders", False),
            "team": ("de naam van het team; bij de beheerders: alle teams", "Milieu (VTH)"),
            "verzoeken": (
                "de open verzoeken, vroegste antwoorddatum eerst, elk met verzoek, team, "
                "antwoorddatum, antwoorddatum_kort, termijn, te_laat, stand, verwacht en voorstel",
                [_SAMPLE_REQUEST],
            ),
            "aantal": ("het aantal open verzoeken", 1),
            "te_laat": ("het aantal verzoeken waarvan de antwoorddatum verstreken is", 0),
            "voorstellen": ("het aantal verzoeken met een voorstel dat wacht", 0),
            "quarantaine": ("berichten in quarantaine (alleen bij de beheerders)", 0),
            "geweigerd": ("geweigerde berichten (alleen bij de beheerders)", 0),
            "beheerders": BEHEERDERS,
        },
    ),
    "kwartaalrapport": (
        "kwartaalrapport.j2",
        "het kwartaalrapport voor de coördinator Dienstenwet",
        {
            "kwartaal": ("het kwartaal, bijvoorbeeld 4e kwartaal 2026", "4e kwartaal 2026"),
            "van": ("de eerste dag van het kwartaal voluit", "donderdag 1 oktober 2026"),
            "tot_en_met": ("de laatste dag van het kwartaal voluit", "donderdag 31 december 2026"),
            "ontvangen": ("het aantal ontvangen verzoeken", 12),
            "per_module": (
                "per IMI-module: naam en aantal (een lijst)",
                [{"naam": "Dienstenrichtlijn", "aantal": 12}],
            ),
            "per_team": (
                "per team: naam, aantal, te_laat, open (een lijst)",
                [{"naam": "Milieu (VTH)", "aantal": 12, "te_laat": 1, "open": 2}],
            ),
            "aanvaarden": (
                "kalenderdagen tot aanvaarden: mediaan en langste (leeg als onbekend)",
                {"mediaan": "2", "langste": "6", "aantal": 10},
            ),
            "beantwoorden": (
                "kalenderdagen tot antwoord: mediaan en langste (leeg als onbekend)",
                {"mediaan": "14", "langste": "31", "aantal": 9},
            ),
            "te_laat": ("het aantal verzoeken dat na de antwoorddatum is beantwoord", 1),
            "doorgestuurd": ("het aantal doorgestuurde verzoeken", 1),
            "geweigerd": ("het aantal geweigerde (niet-echte) IMI-berichten", 0),
            "csv_bestand": ("de naam van de bijlage met de cijfers", "imi-kwartaal-2026-4.csv"),
            "beheerders": BEHEERDERS,
        },
    ),
}
