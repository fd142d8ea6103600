"""Wiring and serving the web desk: configuration and state store in, uvicorn out."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping

from imi_mailwatch.config import Config
from imi_mailwatch.deadlines import build_followups
from imi_mailwatch.deadlines.calendar import calendar_of
from imi_mailwatch.desk import DeskContext, own_domains
from imi_mailwatch.errors import ConfigError, NotifierRejectedError
from imi_mailwatch.model import OutgoingMail, Team
from imi_mailwatch.ports import Clock, StateStore
from imi_mailwatch.web.app import Desk, create_app


class _PlanOnly:
    """The web desk plans follow-ups and owes mails; the daemon sends them (its desk
    mailer and follow-ups), so that one process sends each mail. Never called."""

    def send(self, mail: OutgoingMail) -> None:
        raise NotifierRejectedError("the web desk sends no mail; the daemon does")


def desk_context(cfg: Config, store: StateStore, clock: Clock) -> DeskContext:
    """The desk service's context for the web process (the daemon's is ``context_from_app``)."""
    from imi_mailwatch.reading import rules_paths
    from imi_mailwatch.rules import load_rules

    followups = build_followups(cfg, store=store, notifier=_PlanOnly(), clock=clock)

    def teams() -> Mapping[str, Team]:
        try:  # the rules in force, read anew: they may have changed since the start
            return load_rules(rules_paths(cfg), check_examples=False).teams
        except ConfigError:
            return {}

    return DeskContext(
        clock=clock,
        teams=teams,
        beheerders=tuple(cfg.beheerders),
        own_domains=own_domains(cfg),
        domain=cfg.notify.from_address.rpartition("@")[2] or "imi-mailwatch.invalid",
        reply_to=cfg.functional_mailbox,
        planner=followups,
        calendar=followups.calendar,
    )


def build_desk(cfg: Config, store: StateStore, *, actions: DeskContext | None = None) -> Desk:
    """The pages' dependencies for this configuration and store."""
    return Desk(cfg=cfg, store=store, calendar=calendar_of(cfg.deadlines), actions=actions)


def serve(
    desk: Desk,
    *,
    host: str,
    port: int,
    on_ready: Callable[[str], None] | None = None,
    session_secret: str | None = None,
) -> None:
    """Serve until interrupted (SIGINT/SIGTERM: uvicorn's graceful stop). Uvicorn hands the
    signal on after its stop; Ctrl+C then ends here quietly, SIGTERM ends the process."""
    import uvicorn

    app = create_app(desk, session_secret=session_secret)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=list(desk.cfg.web.trusted_proxies),
        log_config=None,
        access_log=False,
        server_header=False,
    )
    server = uvicorn.Server(config)
    if on_ready is not None:
        shown = f"[{host}]" if ":" in host else host
        on_ready(f"http://{shown}:{port}/")
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
