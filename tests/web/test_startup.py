"""``imi-mailwatch web`` refuses to start without a login, except auth: none on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from imi_mailwatch.app import App
from imi_mailwatch.cli import main
from imi_mailwatch.config_web import WebConfig, startup_problems


def test_the_default_web_section_has_no_login_and_is_refused() -> None:
    """Without web.oidc the desk does not start: it would serve the requests to anyone."""
    problems = startup_problems(WebConfig())
    assert any("web.oidc is not configured" in p for p in problems)


def test_auth_none_is_accepted_on_loopback_only() -> None:
    """auth: none (the demo) is refused on any address but loopback (v4, v6, localhost)."""
    for listen in ("127.0.0.1:8080", "[::1]:8080", "localhost:8080"):
        assert startup_problems(WebConfig(auth="none", listen=listen)) == [], listen
    for listen in ("0.0.0.0:8080", "192.0.2.10:8080", "[::]:8080"):
        problems = startup_problems(WebConfig(auth="none", listen=listen))
        assert problems and "only allowed on a loopback address" in problems[0], listen


def test_login_without_roles_or_public_https_address_is_refused() -> None:
    """OIDC with nobody in a role, or off loopback without an https public_url, is refused."""
    oidc = {
        "issuer": "https://login.example.org/t/v2.0",
        "client_id": "x",
        "client_secret": {"env": "X"},
    }
    no_roles = WebConfig.model_validate({"oidc": oidc})
    assert any("nobody could log in" in p for p in startup_problems(no_roles))
    exposed = WebConfig.model_validate(
        {"oidc": oidc, "listen": "0.0.0.0:8080", "lezers": {"groups": ["g"]}}
    )
    assert any("public_url is not set" in p for p in startup_problems(exposed))
    plain = WebConfig.model_validate(
        {
            "oidc": oidc,
            "listen": "0.0.0.0:8080",
            "lezers": {"groups": ["g"]},
            "public_url": "http://imi.example.org",
        }
    )
    assert any("must be https" in p for p in startup_problems(plain))
    good = WebConfig.model_validate(
        {
            "oidc": oidc,
            "listen": "0.0.0.0:8080",
            "lezers": {"groups": ["g"]},
            "public_url": "https://imi.example.org",
        }
    )
    assert startup_problems(good) == []


def test_an_issuer_in_clear_to_another_host_is_a_configuration_error() -> None:
    """Tokens never travel over plain http to another host (loopback is allowed: tests)."""
    with pytest.raises(ValueError, match="in clear"):
        WebConfig.model_validate(
            {
                "oidc": {
                    "issuer": "http://login.example.org",
                    "client_id": "x",
                    "client_secret": {"env": "X"},
                }
            }
        )
    WebConfig.model_validate(
        {"oidc": {"issuer": "http://localhost:9", "client_id": "x", "client_secret": {"env": "X"}}}
    )


def _write_config(tmp: Path, demo: App, web: dict[str, object]) -> Path:
    data = {
        "state": {"path": str(demo.config.resolve(demo.config.state.path))},
        "rules": {"paths": [str(p) for p in demo.config.rules.paths]},
        "web": web,
    }
    path = tmp / "desk.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_web_command_exits_78_without_login_config(
    demo: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command says why and exits 78 (EX_CONFIG) before it listens anywhere."""
    cfg = _write_config(tmp_path, demo, {"listen": "0.0.0.0:8080", "auth": "none"})
    assert main(["web", "-c", str(cfg)]) == 78
    assert "only allowed on a loopback address" in capsys.readouterr().err
    cfg = _write_config(tmp_path, demo, {})
    assert main(["web", "-c", str(cfg)]) == 78
    assert "web.oidc is not configured" in capsys.readouterr().err
    cfg = _write_config(tmp_path, demo, {"listen": "127.0.0.1:8080", "auth": "none"})
    assert main(["web", "-c", str(cfg), "--listen", "0.0.0.0:8080"]) == 78  # --listen counts
    assert "only allowed on a loopback address, not on 0.0.0.0:8080" in capsys.readouterr().err


def test_demo_web_serves_the_demo_state_on_loopback() -> None:
    """``demo --web`` runs the demo, prints the URL on 127.0.0.1 and serves the overview
    without login; Ctrl+C (SIGINT) stops it with exit 0."""
    import signal
    import subprocess
    import sys
    import urllib.request

    from tests.deadlines.smtp_server import free_port

    port = free_port()
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "imi_mailwatch", "demo", "--web", "--port", str(port)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = f"http://127.0.0.1:{port}/"
        for line in proc.stdout:
            if line.strip() == url:
                break
        else:
            raise AssertionError("the demo never printed its URL")
        page = ""
        for _ in range(100):
            try:
                with urllib.request.urlopen(url, timeout=10) as got:
                    page = got.read().decode()
                break
            except OSError:
                import time

                time.sleep(0.1)
        assert "Openstaande IMI-verzoeken" in page and "/verzoek/185110" in page
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0


def test_a_short_session_secret_is_refused(
    demo: App, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The key that signs the session cookie must be long enough to resist guessing."""
    web = {"listen": "127.0.0.1:8080", "auth": "none", "session_secret": {"env": "DESK_KEY"}}
    cfg = _write_config(tmp_path, demo, web)
    monkeypatch.setenv("DESK_KEY", "kort")
    assert main(["web", "-c", str(cfg)]) == 78
    err = capsys.readouterr().err
    assert "shorter than 32 characters" in err and "kort" not in err
