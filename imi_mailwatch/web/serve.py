"""Wiring and serving the web desk: configuration and state store in, uvicorn out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from imi_mailwatch.commands.status import calendar_of
from imi_mailwatch.config import Config
from imi_mailwatch.ports import StateStore
from imi_mailwatch.web.app import Desk, create_app


def build_desk(cfg: Config, store: StateStore, *, actions: Any = None) -> Desk:
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
    """Serve until interrupted (SIGINT/SIGTERM: uvicorn's graceful stop)."""
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
    server.run()
