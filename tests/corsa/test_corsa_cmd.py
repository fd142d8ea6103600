"""``imi-mailwatch corsa check`` and ``corsa todo`` against the Corsa test server."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
import yaml

from imi_mailwatch.cli import main
from imi_mailwatch.testing.corsa_server import CorsaTestServer

from .conftest import ENVIRON, corsa_config, profile_config, task_request


def _config_file(
    url: str, password_env: str = "CORSA_PASSWORD", profile: str = "documented", **extra: Any
) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="imi-corsa-cmd-"))
    path = folder / "imi-mailwatch.yaml"
    corsa = {
        "url": url,
        "username": "imi-mailwatch",
        "password": {"env": password_env},
        "license_key": {"env": "CORSA_LICENCE"},
        "timeout_seconds": 5,
        "retry_attempts": 1,
        **profile_config(profile, **extra),
    }
    path.write_text(
        yaml.safe_dump({"task_sink": {"kind": "corsa", "corsa": corsa}}), encoding="utf-8"
    )
    return path


@pytest.fixture(autouse=True)
def _environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The secrets in the environment; structlog's configuration restored afterwards."""
    for key, value in ENVIRON.items():
        monkeypatch.setenv(key, value)
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def test_check_all_ok_exits_0(server: CorsaTestServer, capsys: pytest.CaptureFixture[str]) -> None:
    """With good credentials every step is ok and the exit code is 0."""
    code = main(
        [
            "corsa",
            "check",
            "-c",
            str(_config_file(server.url, profile=server.profile.name)),
            "--eenheid",
            "ORG-VTH",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    for step in ("wsdl", "licence", "connect", "todo:ORG-VTH", "query", "disconnect"):
        assert any(line.startswith("ok") and step in line for line in out.splitlines()), step
    assert server.documents == {}


def test_check_wrong_password_reports_fout_and_exits_1(
    server: CorsaTestServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refused password shows FOUT at connect, exit code 1, and no password in the output."""
    path = _config_file(server.url, "CORSA_LICENCE", server.profile.name)
    code = main(["corsa", "check", "-c", str(path), "--eenheid", "ORG-VTH"])
    out = capsys.readouterr().out
    assert code == 1
    assert any(line.startswith("FOUT") and "connect" in line for line in out.splitlines())
    assert "TEST-LICENTIE" not in out


def test_check_unknown_unit_and_unreachable_server(
    server: CorsaTestServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown unit fails its own step; a server that is gone fails at the WSDL."""
    path = _config_file(server.url, profile=server.profile.name)
    assert main(["corsa", "check", "-c", str(path), "--eenheid", "ORG-NOPE"]) == 1
    assert "FOUT  todo:ORG-NOPE" in capsys.readouterr().out
    server.stop()
    assert main(["corsa", "check", "-c", str(path), "--eenheid", "ORG-VTH"]) == 1
    assert "FOUT  wsdl" in capsys.readouterr().out


def test_check_without_corsa_block_is_a_configuration_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A configuration without task_sink.corsa exits 78."""
    folder = Path(tempfile.mkdtemp(prefix="imi-corsa-cmd-"))
    path = folder / "c.yaml"
    path.write_text("task_sink:\n  kind: drop_folder\n  drop_folder: {path: drop}\n")
    assert main(["corsa", "check", "-c", str(path)]) == 78


def test_todo_lists_a_units_tasks(
    server: CorsaTestServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """corsa todo UNIT lists the documents waiting in that unit's task box."""
    from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink
    from imi_mailwatch.clock import FakeClock

    config = corsa_config(server.url, **profile_config(server.profile.name))
    sink = CorsaSoapTaskSink(config, clock=FakeClock())
    sink.create(task_request("123456"))
    sink.close()
    assert (
        main(
            [
                "corsa",
                "todo",
                "-c",
                str(_config_file(server.url, profile=server.profile.name)),
                "ORG-VTH",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "1 taken te ontvangen in ORG-VTH" in out and "ONDERWERP=IMI-verzoek 123456" in out
