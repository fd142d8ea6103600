"""The configuration of the two SDG modules: their memo and their reply term.

Services requests follow ``memo`` and the alert's reply date; each SDG module has
its own memo text, and an evidence verification a short term of working days
when the alert names no date (an assumption, see docs/alerts.md "SDG modules").
"""

from __future__ import annotations

from pydantic import Field, field_validator

from imi_mailwatch.config_types import Section as _Section
from imi_mailwatch.config_types import check_memo_template

SDG_EVIDENCE_MEMO_TEMPLATE = (
    "Dit is een IMI-verzoek uit de SDG-module 'verificatie van de echtheid van "
    "elektronisch bewijs' op het gebied van {vakgebied}: een autoriteit in een andere "
    "lidstaat vraagt te bevestigen dat een bewijsstuk van de provincie echt is. Deze "
    "verificatie heeft een korte termijn: beantwoord haar {dagen} (uiterlijk "
    "{antwoorddatum}) in IMI. Toegang tot IMI en meer informatie bij IMI-beheerder(s) "
    "{beheerders}."
)
SDG_EXCEPTIONS_MEMO_TEMPLATE = (
    "Dit is een IMI-melding uit de SDG-module 'melding van uitzonderingen op "
    "onlineprocedures' op het gebied van {vakgebied}: een uitzondering op een "
    "onlineprocedure is gemeld of wordt gevraagd. Beoordeel de melding {dagen} in IMI. "
    "Toegang tot IMI en meer informatie bij IMI-beheerder(s) {beheerders}."
)
# an evidence verification names its own date when IMI gives one; without it the
# province assumes this short term (working days; docs/alerts.md, "SDG modules")
DEFAULT_EVIDENCE_TERM_WORKING_DAYS = 5


class ModuleConfig(_Section):
    """How requests of one SDG module are handled (the Services ones follow ``memo``)."""

    memo_template: str
    # the reply term when the alert names no reply date; None: no date until IMI gives one
    term_working_days: int | None = Field(default=None, ge=1, le=60)

    @field_validator("memo_template")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        return check_memo_template(value)


class ModulesConfig(_Section):
    sdg_evidence: ModuleConfig = ModuleConfig(
        memo_template=SDG_EVIDENCE_MEMO_TEMPLATE,
        term_working_days=DEFAULT_EVIDENCE_TERM_WORKING_DAYS,
    )
    sdg_exceptions: ModuleConfig = ModuleConfig(memo_template=SDG_EXCEPTIONS_MEMO_TEMPLATE)
