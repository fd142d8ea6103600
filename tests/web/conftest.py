"""The web desk's fixtures: real state from the demo mailbox, the app over it, and a
real OpenID Connect provider on loopback (oidc-provider-mock)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imi_mailwatch.app import App
from imi_mailwatch.config import Config
from imi_mailwatch.web.serve import build_desk
from tests.privacy.helpers import demo_app

BEHEERDER = "beheerder@example.org"
LEZER = "lezer@example.org"
STRANGER = "iemand@example.org"
BEHEERDERS_GROUP = "imi-beheerders"


def web_config(cfg: Config, **web: Any) -> Config:
    """``cfg`` with its ``web`` section replaced by ``web``."""
    from imi_mailwatch.config_web import WebConfig

    return cfg.model_copy(update={"web": WebConfig.model_validate(web)})


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[App]:
    """The demo's synthetic alerts through the real pipeline into a SQLite store."""
    app = demo_app(tmp_path)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def local_client(demo: App) -> Any:
    """A client of the desk with ``auth: none`` (everyone beheerder), over https."""
    from starlette.testclient import TestClient

    from imi_mailwatch.web.app import create_app

    cfg = web_config(demo.config, auth="none")
    return TestClient(create_app(build_desk(cfg, demo.store)), base_url="https://testserver")


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[str]:
    """A real OpenID Connect provider on loopback; its issuer URL. Users are made by
    typing their ``sub`` (an e-mail address) into its form; the beheerder has a group."""
    from oidc_provider_mock import User, run_server_in_thread

    users = [
        User(
            sub=BEHEERDER,
            claims={"email": BEHEERDER, "name": "B. Heerder", "groups": [BEHEERDERS_GROUP]},
        ),
        User(sub=LEZER, claims={"email": LEZER, "name": "L. Ezer", "groups": ["iedereen"]}),
        User(sub=STRANGER, claims={"email": STRANGER, "groups": []}),
    ]
    with run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


def oidc_web(issuer: str, listen: str = "127.0.0.1:8080", **extra: Any) -> dict[str, Any]:
    """A ``web`` section that logs in at ``issuer``; roles by group and by address."""
    return {
        "listen": listen,
        "auth": "oidc",
        "oidc": {
            "issuer": issuer,
            "client_id": "imi-desk",
            "client_secret": {"env": "TEST_OIDC_SECRET"},
        },
        "beheerders": {"groups": [BEHEERDERS_GROUP]},
        "lezers": {"addresses": [LEZER]},
        **extra,
    }
