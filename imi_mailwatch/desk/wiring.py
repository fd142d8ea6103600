"""The desk's context from a built app: the one place the desk meets the configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from imi_mailwatch.config import Config
from imi_mailwatch.deadlines.calendar import calendar_of
from imi_mailwatch.desk.service import DeskContext
from imi_mailwatch.model import OutgoingMail, Team
from imi_mailwatch.ports import Clock, StateStore
from imi_mailwatch.texts import TextBook

if TYPE_CHECKING:
    from imi_mailwatch.app import App


def own_domains(cfg: Config) -> tuple[str, ...]:
    """The organisation's own mail domains: ``replies.own_domains`` when configured,
    else the domains of the functional mailbox and of the beheerders."""
    configured = getattr(getattr(cfg, "replies", None), "own_domains", None)
    if configured:
        return tuple(str(d).lower() for d in configured)
    found = [cfg.functional_mailbox, *(b.email for b in cfg.beheerders)]
    return tuple(dict.fromkeys(a.rpartition("@")[2].lower() for a in found if "@" in a))


def context_from_app(app: App) -> DeskContext:
    """The desk over the app's clock, rules, beheerders and follow-ups."""
    cfg = app.config
    followups = app.extras.get("followups")
    calendar = followups.calendar if followups is not None else calendar_of(cfg.deadlines)
    domain = cfg.notify.from_address.rpartition("@")[2] or "imi-mailwatch.invalid"

    def teams() -> Mapping[str, Team]:
        current: Mapping[str, Team] = app.rules.current().teams
        return current

    return DeskContext(
        clock=app.clock,
        teams=teams,
        beheerders=tuple(cfg.beheerders),
        own_domains=own_domains(cfg),
        domain=domain,
        reply_to=cfg.notify.reply_to or cfg.functional_mailbox,
        planner=followups,
        calendar=calendar,
        texts=app.extras.get("texts"),
    )


class _NoMail:
    """The notifier of a desk that only plans (the CLI): the daemon sends."""

    def send(self, mail: OutgoingMail) -> None:
        raise RuntimeError("this desk does not send mail; the daemon does")


def context_from_config(cfg: Config, *, store: StateStore, clock: Clock) -> DeskContext:
    """The desk for a command outside the daemon (``imi-mailwatch verzoek``): the rules
    read from their files (ConfigError when they are invalid), the follow-ups planned
    in ``store``, the mails left for the daemon to send."""
    from imi_mailwatch.deadlines import build_followups
    from imi_mailwatch.reading import make_reader, rules_paths, sample_parser
    from imi_mailwatch.rules import load_rules

    ruleset = load_rules(rules_paths(cfg), parse_sample=sample_parser(make_reader(cfg)),
                         check_examples=False)  # fmt: skip
    followups = build_followups(cfg, store=store, notifier=_NoMail(), clock=clock)
    return DeskContext(
        clock=clock,
        teams=lambda: ruleset.teams,
        beheerders=tuple(cfg.beheerders),
        own_domains=own_domains(cfg),
        domain=followups.domain,
        reply_to=cfg.notify.reply_to or cfg.functional_mailbox,
        planner=followups,
        calendar=followups.calendar,
        texts=TextBook(cfg.resolve(cfg.texts.path), beheerders=cfg.beheerders),
    )
