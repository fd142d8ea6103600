"""The web desk in a real browser: Playwright drives Debian's chromium (never a downloaded
browser) against the desk served by uvicorn on loopback, logged in through a real OpenID
Connect provider. Every page is checked with axe-core for WCAG 2.1 A/AA (0 violations)
and photographed into tmp/artifacts/web (IMI_TEST_ARTIFACTS overrides) for review.
"""

from __future__ import annotations

import csv
import io
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from imi_mailwatch.adapters.smtp import SmtpNotifier
from imi_mailwatch.app import App
from imi_mailwatch.config import SmtpConfig
from imi_mailwatch.config_checks import resolve_section_secrets
from imi_mailwatch.desk import DeskMailer
from imi_mailwatch.web.serve import build_desk, desk_context
from tests.deadlines.smtp_server import SmtpTestServer, free_port
from tests.web.conftest import BEHEERDER, LEZER, oidc_web, web_config

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("IMI_TEST_ARTIFACTS", ROOT / "tmp" / "artifacts")) / "web"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]
sync_api = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")


@pytest.fixture
def desk_url(demo: App, oidc_provider: str) -> Iterator[str]:
    """The desk over the demo's state, served by uvicorn on a free loopback port."""
    import uvicorn

    from imi_mailwatch.web.app import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cfg = web_config(demo.config, **oidc_web(oidc_provider, listen=f"127.0.0.1:{port}"))
    resolve_section_secrets(cfg, ("web",), cfg.web, {"TEST_OIDC_SECRET": "synthetic-secret"})
    desk = build_desk(cfg, demo.store, actions=desk_context(cfg, demo.store, demo.clock))
    config = uvicorn.Config(create_app(desk), host="127.0.0.1", port=port, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "the desk did not start"
        time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def page(desk_url: str) -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = browser.new_context(base_url=desk_url, accept_downloads=True, locale="nl-NL")
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def check(page: Any, name: str) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation; the page is photographed."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    options = {"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]}
    results = axe_module.Axe().run(page, options=options)
    assert results.violations_count == 0, f"{name}:\n{results.generate_report()}"


def log_in(page: Any, sub: str) -> None:
    page.goto("/")
    check(page, "inloggen")
    page.get_by_role("link", name="Inloggen met uw organisatie-account").click()
    page.locator("input[name=sub]").fill(sub)
    page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_url(re.compile(r"127\.0\.0\.1:\d+/$"))


def act(page: Any, label: str) -> str:
    page.get_by_role("button", name=label).click()
    page.wait_for_load_state()
    status: str = page.get_by_role("status").inner_text()
    return status


def test_a_beheerder_works_through_every_page(page: Any, demo: App, tmp_path: Path) -> None:
    """Log in, see the overview, confirm a proposal, re-route, mark answered (each in the
    store and in the mails sent through SMTP), quarantine, rules and a dry run, export
    CSV and xlsx and read them back: every page without a WCAG 2.1 A/AA violation."""
    store = demo.store
    log_in(page, BEHEERDER)
    assert page.get_by_role("heading", level=1).inner_text() == "Openstaande IMI-verzoeken"
    check(page, "overzicht")
    page.get_by_label("Team").select_option(index=1)
    page.get_by_role("button", name="Toon").click()
    check(page, "overzicht-gefilterd")

    proposal = next(r for r in store.requests(open_only=True) if r.is_default)
    page.goto(f"/verzoek/{proposal.request_id}")
    check(page, "verzoek")
    assert "is" in act(page, "Route bevestigen (AKKOORD)")
    assert store.desk_state(proposal.request_id).route_confirmed_at is not None
    assert page.get_by_role("button", name="Route bevestigen (AKKOORD)").count() == 0
    check(page, "verzoek-na-actie")

    other = next(r for r in store.requests(open_only=True) if not r.is_default and r.team_key)
    page.goto(f"/verzoek/{other.request_id}")
    options = page.locator("#team-herrouteer option").evaluate_all(
        "els => els.map(e => e.value).filter(v => v)"
    )
    target = next(key for key in options if key != other.team_key)
    page.get_by_label("Nieuw team").select_option(target)
    act(page, "Naar een ander team (HERROUTEER)")
    moved = store.get_request(other.request_id)
    assert moved is not None and moved.team_key == target
    act(page, "Beantwoord in IMI (BEANTWOORD)")
    assert store.desk_state(other.request_id).answered_at is not None
    assert page.get_by_role("button", name="Beantwoord in IMI (BEANTWOORD)").count() == 0
    actions = store.actions_of(other.request_id)
    assert [(a.entry.actor, a.entry.via, a.entry.ok) for a in actions] == [
        (BEHEERDER, "web", True),
        (BEHEERDER, "web", True),
    ]
    assert BEHEERDER in page.locator("table").inner_text()  # who did it, on the timeline
    _mails_go_out(demo, {proposal.request_id, other.request_id})

    page.get_by_role("link", name="Quarantaine").click()
    check(page, "quarantaine")
    page.locator("table a").first.click()
    check(page, "quarantaine-item")
    assert "#" in act(page, "Opgelost")

    page.get_by_role("link", name="Regels").click()
    check(page, "regels")
    page.get_by_label("Of: dienstverleningsactiviteiten, één per regel").fill("Bouwen")
    page.get_by_role("button", name="Probeer").click()
    assert page.get_by_role("heading", name="Uitkomst").is_visible()
    check(page, "regels-proef")

    page.get_by_role("link", name="Export").click()
    check(page, "export")
    page.get_by_label("Ontvangen vanaf").fill("2026-01-01")
    with page.expect_download() as got:
        page.get_by_role("button", name="Download").click()
    data = Path(got.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert other.request_id in {r[0] for r in rows if r}
    page.get_by_label("Excel-werkmap (.xlsx)").check()
    with page.expect_download() as got:
        page.get_by_role("button", name="Download").click()
    from openpyxl import load_workbook

    saved = tmp_path / "export.xlsx"
    got.value.save_as(saved)
    wb = load_workbook(saved)
    assert other.request_id in {r[0] for r in wb["Verzoeken"].iter_rows(values_only=True)}

    page.get_by_role("link", name="Toegankelijkheidsverklaring").click()
    check(page, "toegankelijkheid")
    page.goto("/bestaat-niet")
    check(page, "niet-gevonden")


def _mails_go_out(demo: App, request_ids: set[str]) -> None:
    """The confirmations the actions owe reach a real SMTP server (the daemon's mailer)."""
    smtp = SmtpTestServer().start("none")
    try:
        cfg = SmtpConfig.model_validate(
            {"host": "127.0.0.1", "port": smtp.port, "security": "none"}
        )
        notifier = SmtpNotifier(cfg, from_address="imi@example.org", clock=demo.clock)
        demo.clock.advance(timedelta(seconds=1))
        DeskMailer(demo.store, notifier, demo.clock).run_due()
    finally:
        smtp.stop()
    owed = {m.message_id for rid in request_ids for m in demo.store.desk_mails_of(rid)}
    received = {got.message["Message-ID"] for got in smtp.handler.received}
    assert owed and owed <= received


def test_a_reader_sees_no_actions_and_a_forged_post_is_refused(page: Any, demo: App) -> None:
    """A lezer sees overdue requests in red (still WCAG AA) and gets no buttons; a POST
    without the CSRF token is refused and changes nothing."""
    log_in(page, LEZER)
    demo.clock.advance(timedelta(days=70))  # every reply date passed: red, and still AA
    page.goto("/")
    assert page.locator(".desk-overdue").count() > 0
    check(page, "overzicht-te-laat")
    page.keyboard.press("Tab")  # the keyboard: first the skip link, visible when focused
    skip = page.get_by_role("link", name="Naar de inhoud")
    assert skip.evaluate("el => el === document.activeElement") and skip.is_visible()
    page.keyboard.press("Enter")
    assert page.url.endswith("#inhoud")
    rid = next(r.request_id for r in demo.store.requests(open_only=True) if r.is_default)
    page.goto(f"/verzoek/{rid}")
    check(page, "verzoek-lezer")
    assert page.get_by_role("button").count() == 0
    forged = page.request.post(f"/verzoek/{rid}/actie", form={"actie": "akkoord"})
    assert forged.status == 403
    assert demo.store.desk_state(rid).route_confirmed_at is None
    assert demo.store.actions_of(rid) == []
