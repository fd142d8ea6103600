"""``imi-mailwatch web``: the web desk, beside the daemon, on the same state store.

Refuses to start (exit 78) without a login (``web.oidc``), unless it listens on a
loopback address with ``web.auth: none``; see :func:`imi_mailwatch.config_web.startup_problems`.
"""

from __future__ import annotations

import argparse
import os
import sys

from imi_mailwatch.commands import EXIT_CONFIG, EXIT_OK
from imi_mailwatch.commands.common import Subparsers, add_command, arg, using_state
from imi_mailwatch.config import Config
from imi_mailwatch.config_web import startup_problems
from imi_mailwatch.ports import StateStore

MIN_SECRET = 32  # characters of the key that signs the session cookie


def register(subparsers: Subparsers) -> None:
    listen = arg("--listen", metavar="HOST:PORT", help="override web.listen")
    add_command(subparsers, "web", listen, run=run)


def run(args: argparse.Namespace) -> int:
    return using_state(args, lambda cfg, store: _serve(args, cfg, store), write=True)


def _serve(args: argparse.Namespace, cfg: Config, store: StateStore) -> int:
    from imi_mailwatch.config_checks import resolve_section_secrets
    from imi_mailwatch.logging_setup import configure_logging

    web = cfg.web
    if args.listen:
        web = web.model_validate({**web.model_dump(exclude_unset=True), "listen": args.listen})
        cfg = cfg.model_copy(update={"web": web})
    problems = startup_problems(web)
    if problems:
        for problem in problems:
            print(f"web: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    resolve_section_secrets(cfg, ("web",), web, dict(os.environ))
    if web.session_secret is not None and len(web.session_secret.reveal()) < MIN_SECRET:
        print(
            f"web: web.session_secret ({web.session_secret.source}) is shorter than "
            f"{MIN_SECRET} characters; use e.g. `openssl rand -base64 48`",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    configure_logging(cfg.logging.level, cfg.logging.format)
    from imi_mailwatch.clock import SystemClock
    from imi_mailwatch.web.serve import build_desk, desk_context, serve

    desk = build_desk(cfg, store, actions=desk_context(cfg, store, SystemClock()))
    serve(desk, host=web.host, port=web.port,
          on_ready=lambda url: print(f"IMI-desk op {url}", flush=True))  # fmt: skip
    return EXIT_OK
