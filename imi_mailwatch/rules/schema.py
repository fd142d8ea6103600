"""The rules file: its vocabulary as pydantic models (and so its JSON Schema).

Beheerders edit these files, so the keys are Dutch and every validator explains
itself in Dutch. A rules file holds any of four top-level blocks::

    teams:        {sleutel: {naam, organisatie_eenheid, mailbox, behandelaars}}
    regels:       [{naam, als: {...}, dan: {team, vakgebied, behandelaars, herinneringen}}]
    standaard:    {team, vakgebied, herinneringen}    # exactly once over all files
    voorbeelden:  [{activiteiten | bericht, ..., verwacht_team, verwacht_regel}]

Checks that need more than one value (a team named in a rule exists, rule names
are unique over all files) run in :mod:`imi_mailwatch.rules.loader`; the team
keys reach the validators here through the validation context.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from imi_mailwatch.model import AlertType, Module
from imi_mailwatch.rules.regex import compile_pattern

# The member states of IMI: the EU (ISO 3166-1 alpha-2, so Greece is GR) plus the EEA.
MEMBER_STATES: dict[str, str] = {
    "AT": "Oostenrijk", "BE": "België", "BG": "Bulgarije", "CY": "Cyprus",
    "CZ": "Tsjechië", "DE": "Duitsland", "DK": "Denemarken", "EE": "Estland",
    "ES": "Spanje", "FI": "Finland", "FR": "Frankrijk", "GR": "Griekenland",
    "HR": "Kroatië", "HU": "Hongarije", "IE": "Ierland", "IT": "Italië",
    "LT": "Litouwen", "LU": "Luxemburg", "LV": "Letland", "MT": "Malta",
    "NL": "Nederland", "PL": "Polen", "PT": "Portugal", "RO": "Roemenië",
    "SE": "Zweden", "SI": "Slovenië", "SK": "Slowakije",
    "IS": "IJsland", "LI": "Liechtenstein", "NO": "Noorwegen",
}  # fmt: skip
_STATE_ALIASES = {"EL": "GR", "UK": None, "GB": None}

ALERT_TYPES: tuple[str, ...] = tuple(t.value for t in AlertType)
MODULES: tuple[str, ...] = tuple(m.value for m in Module)

RECIPIENTS: dict[str, str] = {
    "team": "team",
    "behandelaars": "handlers",
    "beheerders": "beheerders",
    "escalatie": "escalation",
}

DEFAULT_FIELD = (
    "een nog onbekend vakgebied (geen routeringsregel herkende de "
    "dienstverleningsactiviteiten; de IMI-beheerders bepalen het team)"
)


def suggest(word: str, options: Iterable[str]) -> str | None:
    """The closest of ``options`` to ``word``, for a "bedoelde u …?"."""
    folded = {o.casefold(): o for o in options}
    hits = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.6)
    return folded[hits[0]] if hits else None


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (bedoelde u 'x'?)`` or nothing: the same wording as yamlsource.Problem."""
    hit = suggest(word, options)
    return f" (bedoelde u '{hit}'?)" if hit else ""


def _as_list(value: Any) -> Any:
    """Let a beheerder write one value where a list is expected."""
    return [value] if isinstance(value, str | int) and not isinstance(value, bool) else value


def _ja_nee(value: Any) -> Any:
    """Accept the Dutch ja/nee next to YAML's true/false."""
    if isinstance(value, str) and value.strip().lower() in ("ja", "nee"):
        return value.strip().lower() == "ja"
    return value


JaNee = Annotated[
    bool, BeforeValidator(_ja_nee, json_schema_input_type=bool | Literal["ja", "nee"])
]
_V = TypeVar("_V")
OneOrMore = Annotated[list[_V], BeforeValidator(_as_list), Field(min_length=1)]
"""A list of at least one value, where a beheerder may write one value without a list."""
Text = Annotated[str, Field(min_length=1)]
TextList = Annotated[
    list[Text],
    BeforeValidator(_as_list, json_schema_input_type=Text | list[Text]),
    Field(min_length=1),
]


class _Block(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HerinneringStap(_Block):
    """Eén herinnering: wanneer (in werkdagen t.o.v. de antwoorddatum) en aan wie."""

    werkdagen: int = Field(
        description="Werkdagen t.o.v. de gevraagde antwoorddatum: -5 = vijf werkdagen ervoor, "
        "0 = op de dag zelf, 1 = de eerste werkdag erna."
    )
    aan: OneOrMore[Literal["team", "behandelaars", "beheerders", "escalatie"]] = Field(
        default=["team"], description="Aan wie: team, behandelaars, beheerders, escalatie."
    )
    herhalen: JaNee = Field(
        default=False, description="Ja: daarna elke werkdag opnieuw (voor een verlopen termijn)."
    )


Herinneringen = Annotated[
    list[HerinneringStap],
    Field(min_length=1, description="Een eigen herinneringsschema voor deze regel."),
]


def _check_schedule(steps: list[HerinneringStap] | None) -> list[HerinneringStap] | None:
    if steps is None:
        return None
    offsets = [s.werkdagen for s in steps]
    doubles = sorted({o for o in offsets if offsets.count(o) > 1})
    if doubles:
        raise ValueError(
            "elke herinnering moet een eigen aantal werkdagen hebben; dubbel: "
            + ", ".join(str(d) for d in doubles)
        )
    if sum(1 for s in steps if s.herhalen) > 1:
        raise ValueError("maar één herinnering mag 'herhalen: ja' hebben")
    return steps


class Team(_Block):
    """Een team dat verzoeken behandelt (een Corsa-organisatie-eenheid / taakbak)."""

    naam: Text = Field(description="De naam van het team zoals mensen die lezen.")
    organisatie_eenheid: Text = Field(
        description="De organisatie-eenheid (taakbak) in Corsa waar de taak heen gaat."
    )
    mailbox: Text | None = Field(
        default=None, description="Het e-mailadres van het team voor herinneringen."
    )
    behandelaars: TextList | None = Field(
        default=None, description="E-mailadressen van vaste behandelaars (voor herinneringen)."
    )

    @field_validator("mailbox")
    @classmethod
    def _mailbox(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError("hier hoort een e-mailadres, zoals team@voorbeeld.nl")
        return value


def _team_exists(value: str, info: ValidationInfo) -> str:
    teams: Iterable[str] | None = (info.context or {}).get("teams")
    if teams is not None and value not in teams:
        raise ValueError(f"onbekend team '{value}'" + did_you_mean(value, teams))
    return value


def _member_state(value: str) -> str:
    code = value.strip().upper()
    if code in MEMBER_STATES:
        return code
    if code in _STATE_ALIASES:
        better = _STATE_ALIASES[code]
        if better:
            raise ValueError(f"gebruik de ISO-code '{better}' in plaats van '{value}'")
        raise ValueError(f"'{value}' is geen lidstaat van de EU/EER")
    raise ValueError(
        f"onbekende lidstaatcode '{value}'; verwacht een code van twee letters zoals NL, BE, DE"
        + did_you_mean(code, MEMBER_STATES)
    )


def _alert_type(value: str) -> str:
    if value in ALERT_TYPES:
        return value
    hint = did_you_mean(value, ALERT_TYPES)
    raise ValueError(
        f"onbekend meldingstype '{value}'"
        + (hint if hint else f"; kies uit: {', '.join(ALERT_TYPES)}")
    )


def _module(value: str) -> str:
    if value in MODULES:
        return value
    hint = did_you_mean(value, MODULES)
    raise ValueError(
        f"onbekende IMI-module '{value}'" + (hint if hint else f"; kies uit: {', '.join(MODULES)}")
    )


def _regex(value: str) -> str:
    compile_pattern(value)  # RegexError is a ValueError: pydantic places it, in Dutch
    return value


MemberState = Annotated[
    str,
    BeforeValidator(lambda v: _member_state(v) if isinstance(v, str) else v),
    Field(json_schema_extra={"enum": sorted(MEMBER_STATES)}),
]
AlertTypeCode = Annotated[
    str,
    BeforeValidator(lambda v: _alert_type(v) if isinstance(v, str) else v),
    Field(json_schema_extra={"enum": list(ALERT_TYPES)}),
]
ModuleCode = Annotated[
    str,
    BeforeValidator(lambda v: _module(v) if isinstance(v, str) else v),
    Field(json_schema_extra={"enum": list(MODULES)}),
]
Regex = Annotated[
    str, Field(min_length=1), BeforeValidator(lambda v: _regex(v) if isinstance(v, str) else v)
]
TeamKey = Annotated[str, Field(min_length=1, description="De sleutel van een team uit 'teams'.")]

CONDITION_KEYS = (
    "activiteit_bevat",
    "activiteit_een_van",
    "activiteiten_alle",
    "activiteit_exact",
    "activiteit_regex",
    "meldingstype",
    "wetgevingsgebied",
    "lidstaat",
    "module",
)


class Voorwaarden(_Block):
    """Wanneer een regel past. Alle genoemde voorwaarden moeten kloppen (EN);
    binnen één voorwaarde is één treffer genoeg (OF). Hoofdletters en accenten tellen niet."""

    activiteit_bevat: TextList | None = Field(
        default=None,
        description="Een dienstverleningsactiviteit bevat (een van) deze tekst(en) als hele "
        "woorden: 'taxi' past op 'Taxi en bus', niet op 'Taxidermie'. Liever "
        "activiteit_een_van: precieze waarden kunnen niet per ongeluk passen.",
    )
    ook_binnen_woord: JaNee | None = Field(
        default=None,
        description="Ja: de teksten van activiteit_bevat passen ook midden in een woord "
        "('sloop' past dan ook op 'Sloopwerkzaamheden', maar 'taxi' ook op 'Taxidermie'). "
        "'imi-mailwatch rules check' waarschuwt bij elke regel die dit gebruikt.",
    )
    activiteit_een_van: TextList | None = Field(
        default=None, description="Een activiteit is precies een van deze."
    )
    activiteiten_alle: TextList | None = Field(
        default=None, description="Al deze activiteiten komen (precies zo) in de melding voor."
    )
    activiteit_exact: Text | None = Field(
        default=None, description="Een activiteit is precies deze tekst."
    )
    activiteit_regex: (
        Annotated[
            list[Regex],
            BeforeValidator(_as_list, json_schema_input_type=Regex | list[Regex]),
            Field(min_length=1),
        ]
        | None
    ) = Field(
        default=None,
        description="Een activiteit past op (een van) deze reguliere expressie(s) "
        "(zoeken, niet de hele tekst; gebruik ^ en $ voor de hele tekst).",
    )
    meldingstype: OneOrMore[AlertTypeCode] | None = Field(
        default=None, description="Het soort IMI-melding, bijv. new_request."
    )
    wetgevingsgebied: TextList | None = Field(
        default=None, description="Het wetgevingsgebied, bijv. Diensten of Services."
    )
    lidstaat: OneOrMore[MemberState] | None = Field(
        default=None, description="De lidstaat van de verzoekende autoriteit: NL, BE, DE …"
    )
    module: OneOrMore[ModuleCode] | None = Field(
        default=None,
        description="De IMI-module: services (Dienstenrichtlijn), sdg_evidence (SDG: "
        "echtheid van elektronisch bewijs) of sdg_exceptions (SDG: uitzonderingen op "
        "onlineprocedures).",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> Voorwaarden:
        if self.ook_binnen_woord is not None and self.activiteit_bevat is None:
            raise ValueError(
                "'ook_binnen_woord' hoort bij 'activiteit_bevat'; deze regel heeft geen "
                "'activiteit_bevat'"
            )
        if all(getattr(self, key) is None for key in CONDITION_KEYS):
            raise ValueError(
                "een regel zonder voorwaarden past op alles; noem minstens één van: "
                + ", ".join(CONDITION_KEYS)
                + " (voor alles wat overblijft is er 'standaard')"
            )
        return self


FORWARD = "doorsturen"  # what an example expects of a rule that forwards (verwacht_team)


class Gevolg(_Block):
    """Wat er gebeurt als de regel past: een team, of doorsturen buiten de provincie."""

    team: TeamKey | None = None
    vakgebied: Text | None = Field(
        default=None, description="Het vakgebied in het memo: 'op het gebied van …'."
    )
    behandelaars: TextList | None = Field(
        default=None, description="Behandelaars voor deze regel (in plaats van die van het team)."
    )
    herinneringen: Herinneringen | None = None
    doorsturen: Text | None = Field(
        default=None,
        description="In plaats van een team: de autoriteit buiten de provincie waar het verzoek "
        "heen moet, bijv. een omgevingsdienst. Er komt geen taak in Corsa; de beheerders "
        "krijgen bericht dat zij het verzoek in IMI moeten doorsturen.",
    )
    reden: Text | None = Field(
        default=None,
        description="Bij doorsturen (verplicht): waarom, voor het bericht aan de beheerders.",
    )

    check_team = field_validator("team")(_team_exists)
    check_schedule = field_validator("herinneringen")(_check_schedule)

    @model_validator(mode="after")
    def _team_or_forward(self) -> Gevolg:
        if self.doorsturen is None:
            missing = [k for k in ("team", "vakgebied") if getattr(self, k) is None]
            if missing:
                what = " en ".join(f"'{k}'" for k in missing)
                raise ValueError(
                    f"{what} {'ontbreekt' if len(missing) == 1 else 'ontbreken'}; noem een "
                    "team met vakgebied, of 'doorsturen' met een 'reden'"
                )
            if self.reden is not None:
                raise ValueError("'reden' hoort bij 'doorsturen'; deze regel stuurt niet door")
            return self
        extra = [
            k for k in ("team", "vakgebied", "behandelaars", "herinneringen")
            if getattr(self, k) is not None
        ]  # fmt: skip
        if extra:
            raise ValueError(
                f"een regel die doorstuurt, heeft geen {', '.join(extra)}: het verzoek gaat "
                "buiten de provincie en er komt geen taak"
            )
        if self.reden is None:
            raise ValueError(
                "bij 'doorsturen' hoort een 'reden': die staat in het bericht aan de beheerders"
            )
        return self


class Regel(_Block):
    """Eén routeringsregel. De eerste regel die past, wint."""

    naam: Text = Field(description="Een unieke naam; staat in het logboek en in 'route --explain'.")
    als: Voorwaarden
    dan: Gevolg


class Standaard(_Block):
    """Waar een verzoek heen gaat als geen regel past (meestal de IMI-beheerders)."""

    team: TeamKey
    vakgebied: Text = Field(default=DEFAULT_FIELD, description="Tekst voor het memo.")
    herinneringen: Herinneringen | None = None

    check_team = field_validator("team")(_team_exists)
    check_schedule = field_validator("herinneringen")(_check_schedule)


class Voorbeeld(_Block):
    """Een voorbeeldmelding en het team waar die moet uitkomen; bij elke lading gecontroleerd."""

    naam: Text | None = None
    activiteiten: (
        Annotated[list[Text], BeforeValidator(_as_list, json_schema_input_type=Text | list[Text])]
        | None
    ) = Field(
        default=None, description="De dienstverleningsactiviteiten ([] voor een melding zonder)."
    )
    bericht: Text | None = Field(
        default=None,
        description="Een voorbeeld-e-mail (.eml), relatief ten opzichte van dit bestand.",
    )
    meldingstype: AlertTypeCode = "new_request"
    wetgevingsgebied: Text | None = None
    lidstaat: MemberState | None = None
    module: ModuleCode = "services"
    verwacht_team: TeamKey = Field(
        description="Het team waar dit voorbeeld moet uitkomen, of 'doorsturen'."
    )
    verwacht_regel: Text | None = Field(
        default=None, description="Optioneel: de regel die moet beslissen, of 'standaard'."
    )

    @field_validator("verwacht_team")
    @classmethod
    def _expected_team(cls, value: str, info: ValidationInfo) -> str:
        return value if value == FORWARD else _team_exists(value, info)

    @model_validator(mode="after")
    def _one_source(self) -> Voorbeeld:
        if (self.activiteiten is None) == (self.bericht is None):
            raise ValueError("geef 'activiteiten' of 'bericht' (een .eml-bestand), niet allebei")
        return self


class RegelsBestand(_Block):
    """Een bestand met routeringsregels voor imi-mailwatch."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="imi-mailwatch routeringsregels")

    teams: dict[Annotated[str, Field(pattern=r"^[a-z0-9_-]+$")], Team] | None = Field(
        default=None,
        description="De teams, elk onder een korte sleutel (kleine letters, cijfers, _ en -).",
    )
    regels: list[Regel] | None = Field(default=None, description="De regels, in volgorde.")
    standaard: Standaard | None = Field(
        default=None, description="De route als geen regel past (in precies één bestand)."
    )
    voorbeelden: list[Voorbeeld] | None = Field(
        default=None, description="Voorbeelden die bij elke lading worden gecontroleerd."
    )

    @field_validator("teams")
    @classmethod
    def _reserved_team(cls, teams: dict[str, Team] | None) -> dict[str, Team] | None:
        if teams and FORWARD in teams:
            raise ValueError(
                f"'{FORWARD}' is geen teamnaam: het betekent dat een verzoek buiten de "
                "provincie heen moet; kies een andere sleutel"
            )
        return teams


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a rules file, for editors (yaml-language-server)."""
    schema = RegelsBestand.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
