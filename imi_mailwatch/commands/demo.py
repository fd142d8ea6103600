"""``imi-mailwatch demo``: the whole pipeline once, on a built-in sample mailbox.

The sample mailbox (synthetic alerts of every type in nl, en, de and fr, an
ordinary mail, a forged alert and an alert without a request id, which is
quarantined) is copied into a temporary directory as a
Maildir and processed once with SQLite state, the Corsa test server as the task
sink (a drop folder when it is not available) and reminders written to a folder.
The clock is fixed at the morning the sample alerts arrived, so the demo shows
the same thing every time.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from imi_mailwatch.app import App, build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands import EXIT_OK
from imi_mailwatch.commands.common import Subparsers, add_command, arg
from imi_mailwatch.commands.status import collect
from imi_mailwatch.config import config_from_data
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.logging_setup import configure_logging
from imi_mailwatch.reasons import dutch
from imi_mailwatch.wording import ALERT_TYPE, DISPOSITION, FOLLOWUP_KIND, QUARANTINE_KIND, word

DEMO_NOW = datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
# the demo's own synthetic credentials for its own Corsa test server on loopback
# (bandit B105: synthetic, never a real secret)
DEMO_SECRETS = {"DEMO_CORSA_PASSWORD": "demo-password", "DEMO_CORSA_LICENSE": "demo-licence"}  # nosec B105
RULES_CANDIDATES = (Path("rules"), Path("/etc/imi-mailwatch/rules"))


def register(subparsers: Subparsers) -> None:
    add_command(
        subparsers,
        "demo",
        arg("--rules", type=Path, help="rules directory (default: ./rules)"),
        arg("--keep", action="store_true", help="keep the temporary directory"),
        arg("--web", action="store_true", help="then serve the demo's state in the web desk"),
        arg(
            "--port", type=int, default=8080, help="the web desk's port on 127.0.0.1 (default 8080)"
        ),
        run=run,
    )


def sample_mailbox() -> list[tuple[str, bytes]]:
    """The built-in sample messages, in delivery order."""
    folder = resources.files("imi_mailwatch.demo") / "mailbox"
    items = sorted((f.name, f.read_bytes()) for f in folder.iterdir() if f.name.endswith(".eml"))
    return items


def make_maildir(root: Path, messages: list[tuple[str, bytes]], start: int) -> None:
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for offset, (name, data) in enumerate(messages):
        stem = name.rsplit(".", 1)[0]
        (root / "new" / f"{start + offset}.M{offset}P0.{stem}").write_bytes(data)


def _find_rules(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit.resolve()
    for candidate in RULES_CANDIDATES:
        if candidate.is_dir():
            return candidate.resolve()
    raise ConfigError(
        "no rules directory found: run the demo from the project directory or give --rules DIR"
    )


def _start_corsa() -> tuple[Any, dict[str, Any]] | None:
    """The Corsa test server on loopback, if this installation has it."""
    try:
        from imi_mailwatch.testing import corsa_server
    except ImportError:
        return None
    server, url = corsa_server.start(
        username="demo",
        password=DEMO_SECRETS["DEMO_CORSA_PASSWORD"],
        license_key=DEMO_SECRETS["DEMO_CORSA_LICENSE"],
    )
    corsa = {
        "url": url,
        "username": "demo",
        "password": {"env": "DEMO_CORSA_PASSWORD"},
        "license_key": {"env": "DEMO_CORSA_LICENSE"},
    }
    return server, corsa


def run(args: argparse.Namespace) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="imi-mailwatch-demo-"))
    try:
        return _run(args, tmp)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def _run(args: argparse.Namespace, tmp: Path) -> int:
    rules_dir = _find_rules(args.rules)
    messages = sample_mailbox()
    make_maildir(tmp / "mailbox", messages, start=int(DEMO_NOW.timestamp()))
    log_file = (tmp / "daemon.log").open("w", encoding="utf-8")
    configure_logging("info", "json", stream=log_file)

    environ = dict(DEMO_SECRETS)
    corsa = _start_corsa()
    task_sink: dict[str, Any]
    if corsa is not None:
        task_sink = {"kind": "corsa", "corsa": corsa[1]}
    else:
        task_sink = {"kind": "drop_folder", "drop_folder": {"path": str(tmp / "corsa-drop")}}
    data = {
        "state": {"path": str(tmp / "state.sqlite3")},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp / "mailbox")}],
        "rules": {"paths": [str(rules_dir)]},
        "beheerders": [
            {"name": "A. Voorbeeld", "email": "a.voorbeeld@example.org", "role": "first"},
            {"name": "B. Voorbeeld", "email": "b.voorbeeld@example.org", "role": "backup"},
        ],
        "task_sink": task_sink,
        "notify": {"kind": "drop_folder", "drop_folder": {"path": str(tmp / "outbox")}},
        "service": {"health_listen": None},
        "web": {"auth": "none", "listen": f"127.0.0.1:{args.port}"},
    }
    app: App | None = None
    try:
        cfg = config_from_data(data, environ, base_dir=str(tmp))
        app = build_app(cfg, clock=FakeClock(DEMO_NOW))
        app.daemon.run_once()
        print_summary(app, messages, tmp, corsa is not None)
        if args.web:
            serve_web(app)
    finally:
        if app is not None:
            app.close()
        if corsa is not None:
            corsa[0].stop()
        log_file.close()
    return EXIT_OK


def serve_web(app: App) -> None:
    """The demo's state in the web desk on loopback (no login: auth none), until Ctrl+C.
    Actions are applied by the desk service; their mails go to the demo's outbox folder."""
    from imi_mailwatch.desk import context_from_app
    from imi_mailwatch.web.serve import build_desk, serve

    desk = build_desk(app.config, app.store, actions=context_from_app(app))
    desk.after_action = app.extras["desk_mailer"].run_due
    web = app.config.web
    print("\nDe IMI-desk met deze demo (stoppen met Ctrl+C):")
    serve(desk, host=web.host, port=web.port, on_ready=lambda url: print(url, flush=True))


def print_summary(app: App, messages: list[tuple[str, bytes]], tmp: Path, corsa: bool) -> None:
    store = app.store
    rows = store.message_log()
    status = collect(store, include_closed=True)
    by_request = {r["request_id"]: r for r in status["requests"]}
    print(
        f"imi-mailwatch demo: {len(messages)} berichten in een voorbeeldmailbox, "
        f"verwerkt op {DEMO_NOW:%d-%m-%Y %H:%M} (vaste klok)."
    )
    print(f"Taken aangemaakt in: {'de Corsa-testserver (SOAP)' if corsa else 'een drop-map'}\n")
    print(
        f"{'bericht':<36} {'uitkomst':<12} {'IMI-melding':<32} {'verzoek':<8} {'team':<28} "
        f"{'taak':<14} volgende e-mail"
    )
    for r in rows:
        name = r["ref"].split(".", 2)[-1][:36]
        req = by_request.get(r["request_id"]) if r["request_id"] else None
        team = (req["team"] or "-") if req else "-"
        task = (req["task"]["ref"] or req["task"]["status"] or "-") if req else "-"
        nxt = req["next_followup"] if req else None
        nxt_text = "-"
        if nxt:
            due = datetime.fromisoformat(nxt["due_at"]).astimezone(DEMO_NOW.tzinfo)
            nxt_text = f"{word(FOLLOWUP_KIND, nxt['kind'])} {due:%d-%m-%Y %H:%M}"
        kind = word(ALERT_TYPE, r["alert_type"]) if r["alert_type"] else "-"
        print(
            f"{name:<36} {word(DISPOSITION, r['disposition']):<12} {kind:<32} "
            f"{r['request_id'] or '-':<8} {team[:28]:<28} {task[:14]:<14} {nxt_text}"
        )
    print("\nQuarantaine en afgewezen:")
    for q in status["quarantine"]:
        print(
            f"  {word(QUARANTINE_KIND, q['kind'])}: {dutch(q['reason'])}"
            + (f" (verzoek {q['request_id']})" if q["request_id"] else "")
        )
    if not status["quarantine"]:
        print("  (geen)")
    outbox = tmp / "outbox"
    sent = len(list(outbox.glob("*.eml"))) if outbox.is_dir() else 0
    print(f"\nE-mails aan teams en beheerders (in de demo naar een map geschreven): {sent}")
    print(f"Logregels (JSON): {sum(1 for _ in (tmp / 'daemon.log').open())}")
