"""The desk's pages over real state (the demo mailbox through the pipeline): what they
show, the export's format, CSRF and the roles. Browser and accessibility: test_browser."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from openpyxl import load_workbook

from imi_mailwatch.app import App
from imi_mailwatch.clock import FakeClock


def _ids(html: str) -> list[str]:
    return re.findall(r'href="/verzoek/([^"]+)"', html)


def test_overview_lists_open_requests_with_proposals_first(local_client: Any, demo: App) -> None:
    """Every open request is a row; default routes waiting for confirmation come first."""
    page = local_client.get("/")
    assert page.status_code == 200
    open_ids = {r.request_id for r in demo.store.requests(open_only=True)}
    shown = _ids(page.text)
    assert set(shown) == open_ids
    proposals = [r.request_id for r in demo.store.requests(open_only=True) if r.is_default]
    assert proposals and shown[: len(proposals)] == sorted(proposals, key=shown.index)
    assert page.text.count("voorstel: wacht op bevestiging") == len(proposals)
    assert "MEM-0000" in page.text  # the task's reference (the Corsa number)


def test_overview_filters_by_team_and_state(local_client: Any, demo: App) -> None:
    """?team= and ?status= narrow the rows; the sort order can be reversed."""
    rows = demo.store.requests(open_only=True)
    team = next(r.team_key for r in rows if r.team_key and not r.is_default)
    page = local_client.get("/", params={"team": team})
    assert set(_ids(page.text)) == {r.request_id for r in rows if r.team_key == team}
    page = local_client.get("/", params={"status": "allocated"})
    assert set(_ids(page.text)) == {r.request_id for r in rows if r.status.value == "allocated"}
    proposals = {r.request_id for r in rows if r.is_default}
    up = _ids(local_client.get("/", params={"sorteer": "verzoek"}).text)
    down = _ids(local_client.get("/", params={"sorteer": "verzoek", "volgorde": "af"}).text)
    rest_up = [i for i in up if i not in proposals]
    rest_down = [i for i in down if i not in proposals]
    assert len(rest_up) > 1 and rest_up == sorted(rest_up) and rest_down == rest_up[::-1]


def test_request_page_shows_the_timeline(local_client: Any, demo: App) -> None:
    """The request page holds its alerts, route and task, in Dutch."""
    rid = next(r.request_id for r in demo.store.requests(open_only=True) if r.task_ref)
    page = local_client.get(f"/verzoek/{rid}")
    assert page.status_code == 200
    assert "Tijdlijn" in page.text and "Taak" in page.text
    assert local_client.get("/verzoek/999999").status_code == 404


def test_quarantine_shows_headers_only_with_dutch_reasons(local_client: Any, demo: App) -> None:
    """The list and an item show the reason in Dutch and never the message body."""
    page = local_client.get("/quarantaine")
    assert page.status_code == 200
    items = demo.store.quarantine()
    assert items and all(f"/quarantaine/{q.id}" in page.text for q in items)
    item = local_client.get(f"/quarantaine/{items[0].id}")
    assert item.status_code == 200
    assert "De inhoud wordt niet getoond" in item.text or "geen kopie" in item.text


def test_rules_page_shows_validity_examples_and_a_dry_run(local_client: Any) -> None:
    """The rules in force are valid, their examples listed; pasted activities are routed."""
    page = local_client.get("/regels")
    assert page.status_code == 200 and "In orde" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    trial = local_client.post(
        "/regels/proef",
        data={"csrf_token": token.group(1), "activiteiten": "Afvalstoffen vervoeren"},
        files={"bericht": ("", b"", "application/octet-stream")},
    )
    assert trial.status_code == 200
    assert "Uitkomst" in trial.text and "standaardroute" in trial.text


def test_export_csv_opens_in_dutch_excel(local_client: Any, demo: App) -> None:
    """CSV: UTF-8 with BOM, ';' between fields, dd-mm-jjjj dates; every request of the period."""
    got = local_client.get(
        "/export", params={"van": "2026-01-01", "tot": "2026-12-31", "formaat": "csv"}
    )
    assert got.status_code == 200
    assert got.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig")), delimiter=";"))
    header = rows[1]
    assert header[:4] == ["verzoek", "team", "status", "ontvangen"]
    body = rows[2 : rows.index([])]
    assert {r[0] for r in body} == {r.request_id for r in demo.store.requests()}
    assert all(re.fullmatch(r"\d\d-\d\d-\d{4}", r[3]) for r in body)
    assert ["Per team"] in rows


def test_export_xlsx_reads_back(local_client: Any, demo: App) -> None:
    """The .xlsx holds the same requests and the per-team sheet."""
    got = local_client.get("/export", params={"formaat": "xlsx"})
    assert got.status_code == 200
    wb = load_workbook(io.BytesIO(got.content))
    assert wb.sheetnames == ["Verzoeken", "Per team"]
    ids = {row[0] for row in wb["Verzoeken"].iter_rows(min_row=3, values_only=True)}
    assert ids == {r.request_id for r in demo.store.requests()}
    assert wb["Per team"].cell(row=2, column=1).value == "team"


def test_a_forged_post_without_csrf_token_is_refused(local_client: Any, demo: App) -> None:
    """A POST without the session's token (or with another) changes nothing: 403."""
    item = demo.store.quarantine()[0]
    local_client.get("/quarantaine")  # a session exists
    for data in ({"actie": "oplossen"}, {"actie": "oplossen", "csrf_token": "forged"}):
        got = local_client.post(f"/quarantaine/{item.id}/actie", data=data)
        assert got.status_code == 403
    assert all(q.resolved_at is None for q in demo.store.quarantine(unresolved_only=False))


def test_a_quarantine_action_is_audited_with_the_user(local_client: Any, demo: App) -> None:
    """Resolve with the form's token: done, and the audit names who did it."""
    item = demo.store.quarantine()[0]
    page = local_client.get(f"/quarantaine/{item.id}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    got = local_client.post(
        f"/quarantaine/{item.id}/actie",
        data={"actie": "oplossen", "csrf_token": token.group(1)},
        follow_redirects=True,
    )
    assert got.status_code == 200 and "is opgelost" in got.text
    resolved = {q.id: q for q in demo.store.quarantine(unresolved_only=False)}
    assert resolved[item.id].resolved_at is not None
    audit = [
        a
        for a in demo.store.query("SELECT action, detail FROM audit")
        if a["action"] == "web.action"
    ]
    assert audit and "lokaal@localhost" in audit[-1]["detail"]


def test_pages_carry_security_headers(local_client: Any) -> None:
    """CSP without inline script, no framing, no sniffing, nothing cached."""
    got = local_client.get("/")
    assert "default-src 'none'" in got.headers["content-security-policy"]
    assert got.headers["x-frame-options"] == "DENY"
    assert got.headers["cache-control"] == "no-store"


def test_overdue_requests_show_their_days_in_red(demo: App) -> None:
    """Past the reply date the working days left are negative, marked "te laat" and red."""
    from datetime import timedelta

    from starlette.testclient import TestClient

    from imi_mailwatch.web.app import create_app
    from imi_mailwatch.web.serve import build_desk
    from tests.web.conftest import web_config

    assert isinstance(demo.clock, FakeClock)
    demo.clock.advance(timedelta(days=70))
    cfg = web_config(demo.config, auth="none")
    client = TestClient(create_app(build_desk(cfg, demo.store)), base_url="https://testserver")
    page = client.get("/").text
    late = re.findall(r'desk-overdue">(-\d+) \(te laat\)', page)
    dated = [r for r in demo.store.requests(open_only=True) if r.deadline]
    assert late and len(late) == len(dated)


def test_a_forged_action_on_a_request_is_refused(demo: App) -> None:
    """A POST to a request's action without the session's token changes nothing: 403."""
    from starlette.testclient import TestClient

    from imi_mailwatch.web.app import create_app
    from imi_mailwatch.web.serve import build_desk, desk_context
    from tests.web.conftest import web_config

    cfg = web_config(demo.config, auth="none")
    desk = build_desk(cfg, demo.store, actions=desk_context(cfg, demo.store, demo.clock))
    client = TestClient(create_app(desk), base_url="https://testserver")
    rid = next(r.request_id for r in demo.store.requests(open_only=True) if r.is_default)
    page = client.get(f"/verzoek/{rid}")
    assert "Route bevestigen (AKKOORD)" in page.text
    got = client.post(f"/verzoek/{rid}/actie", data={"actie": "akkoord"})
    assert got.status_code == 403
    assert demo.store.actions_of(rid) == []
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    got = client.post(
        f"/verzoek/{rid}/actie",
        data={"actie": "akkoord", "csrf_token": token[1]},
        follow_redirects=True,
    )
    assert got.status_code == 200
    (done,) = demo.store.actions_of(rid)
    assert (done.entry.actor, done.entry.via, done.entry.command) == (
        "lokaal@localhost",
        "web",
        "akkoord",
    )
    assert demo.store.desk_state(rid).route_confirmed_at is not None
    proposals = [r for r in demo.store.requests(open_only=True) if r.is_default]
    badges = client.get("/").text.count("voorstel: wacht op bevestiging")
    assert badges == len(proposals) - 1


def test_each_action_shows_once_on_the_timeline_with_who(demo: App) -> None:
    """An action is one timeline line (not again from the history), naming who gave it."""
    from starlette.testclient import TestClient

    from imi_mailwatch.web.app import create_app
    from imi_mailwatch.web.serve import build_desk, desk_context
    from tests.web.conftest import web_config

    cfg = web_config(demo.config, auth="none")
    desk = build_desk(cfg, demo.store, actions=desk_context(cfg, demo.store, demo.clock))
    client = TestClient(create_app(desk), base_url="https://testserver")
    rid = next(r.request_id for r in demo.store.requests(open_only=True) if r.is_default)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"/verzoek/{rid}").text)
    assert token is not None
    client.post(f"/verzoek/{rid}/actie", data={"actie": "akkoord", "csrf_token": token[1]})
    page = client.get(f"/verzoek/{rid}").text
    timeline = page[page.index("Tijdlijn") :]
    rows = [row for row in timeline.split("<tr") if "AKKOORD door" in row]
    assert len(rows) == 1 and "lokaal@localhost</td>" in rows[0]
    assert '<td class="utrecht-table__cell">lokaal@localhost</td>' in page


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_dry_run_of_an_uploaded_alert_shows_the_route_explain_trace(local_client: Any) -> None:
    """An uploaded .eml is read and routed as ``route --explain`` does; nothing changes."""
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "samples" / "nl_new_request.eml"
    token = _token(local_client.get("/regels").text)
    got = local_client.post(
        "/regels/proef",
        data={"csrf_token": token},
        files={"bericht": ("melding.eml", sample.read_bytes(), "message/rfc822")},
    )
    assert got.status_code == 200
    assert "Verzoek-ID" in got.text and "GEKOZEN" in got.text and "Team &#39;" in got.text


def test_invalid_rules_are_listed_in_dutch_on_the_rules_page(demo: App, tmp_path: Any) -> None:
    """Rules that do not validate: the page says so with the Dutch problems of rules check."""
    from starlette.testclient import TestClient

    from imi_mailwatch.web.app import create_app
    from imi_mailwatch.web.serve import build_desk
    from tests.web.conftest import web_config

    broken = tmp_path / "regels"
    broken.mkdir()
    (broken / "kapot.yaml").write_text("regels:\n  - naam: x\n", encoding="utf-8")
    cfg = web_config(demo.config, auth="none")
    cfg = cfg.model_copy(update={"rules": cfg.rules.model_copy(update={"paths": (str(broken),)})})
    client = TestClient(create_app(build_desk(cfg, demo.store)), base_url="https://testserver")
    page = client.get("/regels")
    assert page.status_code == 200
    assert "De routeringsregels zijn ongeldig" in page.text and "kapot.yaml" in page.text
