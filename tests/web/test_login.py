"""Login through a real OpenID Connect provider on loopback; roles; a reader cannot act."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from imi_mailwatch.app import App
from imi_mailwatch.config_checks import resolve_section_secrets
from imi_mailwatch.web.app import create_app
from imi_mailwatch.web.serve import build_desk
from tests.web.conftest import BEHEERDER, LEZER, STRANGER, oidc_web, web_config


@pytest.fixture
def oidc_client(demo: App, oidc_provider: str) -> Iterator[Any]:
    from starlette.testclient import TestClient

    cfg = web_config(demo.config, **oidc_web(oidc_provider))
    resolve_section_secrets(cfg, ("web",), cfg.web, {"TEST_OIDC_SECRET": "synthetic-secret"})
    app = create_app(build_desk(cfg, demo.store), session_secret="s" * 32)
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def log_in(client: Any, sub: str) -> httpx.Response:
    """The authorization code flow: the desk sends us to the provider, we choose the user
    there, the provider sends us back with a code, which the desk exchanges."""
    start = client.get("/auth/inloggen", follow_redirects=False)
    assert start.status_code == 302
    at_provider = start.headers["location"]
    assert at_provider.startswith("http://localhost:")
    back = httpx.post(at_provider, data={"sub": sub}, follow_redirects=False)
    assert back.status_code == 302, back.text
    callback = back.headers["location"]
    assert callback.startswith("http://127.0.0.1:8080/auth/callback?")
    result: httpx.Response = client.get(callback.removeprefix("http://127.0.0.1:8080"))
    return result


def test_without_login_every_page_asks_to_log_in(oidc_client: Any) -> None:
    """No session: the pages answer 401 with a login link and show no request."""
    for path in ("/", "/quarantaine", "/regels", "/export", "/verzoek/185110"):
        got = oidc_client.get(path)
        assert got.status_code == 401, path
        assert "/auth/inloggen" in got.text and "185110" not in got.text


def test_a_beheerder_logs_in_by_group_and_sees_the_overview(oidc_client: Any) -> None:
    """The groups claim gives the role beheerder; the session cookie is Secure, HttpOnly, Lax."""
    got = log_in(oidc_client, BEHEERDER)
    assert got.status_code == 200
    assert "Openstaande IMI-verzoeken" in got.text
    assert "B. Heerder (beheerder)" in got.text
    cookie = got.history[0].headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_a_reader_sees_but_cannot_act(oidc_client: Any, demo: App) -> None:
    """A lezer (by address) reads every page, gets no action buttons, and a POST with a
    valid CSRF token is still refused (403) with nothing changed."""
    assert log_in(oidc_client, LEZER).status_code == 200
    item = demo.store.quarantine()[0]
    page = oidc_client.get(f"/quarantaine/{item.id}")
    assert page.status_code == 200 and "(lezer)" in page.text
    assert "/actie" not in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', oidc_client.get("/regels").text)
    assert token is not None
    got = oidc_client.post(
        f"/quarantaine/{item.id}/actie", data={"actie": "oplossen", "csrf_token": token.group(1)}
    )
    assert got.status_code == 403
    assert demo.store.quarantine()[0].resolved_at is None
    rid = next(r.request_id for r in demo.store.requests(open_only=True))
    got = oidc_client.post(
        f"/verzoek/{rid}/actie", data={"actie": "beantwoord", "csrf_token": token.group(1)}
    )
    assert got.status_code == 403


def test_someone_without_a_role_is_refused(oidc_client: Any) -> None:
    """A valid login without a configured group or address gets no session: 403."""
    got = log_in(oidc_client, STRANGER)
    assert got.status_code == 403 and "geen rol" in got.text
    assert oidc_client.get("/").status_code == 401


def test_a_forged_callback_is_refused(oidc_client: Any) -> None:
    """A callback with a state the desk never issued logs nobody in."""
    got = oidc_client.get("/auth/callback", params={"code": "x", "state": "forged"})
    assert got.status_code == 401
    assert oidc_client.get("/").status_code == 401


def test_logout_ends_the_session(oidc_client: Any) -> None:
    """After uitloggen the pages ask to log in again."""
    log_in(oidc_client, BEHEERDER)
    assert oidc_client.get("/").status_code == 200
    oidc_client.get("/auth/uitloggen")
    assert oidc_client.get("/").status_code == 401


def test_an_unreachable_identity_provider_gives_a_dutch_503(demo: App) -> None:
    """When the provider's metadata cannot be fetched, login says so (503), no traceback."""
    from starlette.testclient import TestClient

    from tests.deadlines.smtp_server import free_port

    cfg = web_config(demo.config, **oidc_web(f"http://127.0.0.1:{free_port()}"))
    resolve_section_secrets(cfg, ("web",), cfg.web, {"TEST_OIDC_SECRET": "synthetic-secret"})
    client = TestClient(create_app(build_desk(cfg, demo.store)), base_url="https://testserver")
    got = client.get("/auth/inloggen", follow_redirects=False)
    assert got.status_code == 503 and "niet bereikbaar" in got.text
