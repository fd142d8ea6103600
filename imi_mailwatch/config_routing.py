"""The ``routing`` section: whether a new request's task is created at once (``auto``)
or first proposed to the beheerders (``propose``, see :mod:`imi_mailwatch.proposals`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from imi_mailwatch.config_types import Section as _Section


class RoutingConfig(_Section):
    # propose: the beheerders confirm each new request's team (AKKOORD / TEAM x) before
    # its Corsa task is created; recommended for the first weeks after go-live
    mode: Literal["auto", "propose"] = "auto"
    # an unconfirmed proposal is put to the beheerders again after this many working
    # hours (the deadlines calendar); 0: never
    proposal_reminder_hours: int = Field(default=4, ge=0, le=400)
