"""The synthesized IMI samples through the real command line: ``route FILE --json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "tests" / "samples"
EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (SAMPLES / "expected.json").read_text(encoding="utf-8")
)


_ALL = """
import contextlib, io, json, sys
from imi_mailwatch.cli import main
out = {}
for path in sys.argv[1:]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["route", path, "--json"])
    out[path] = {"code": code, "json": json.loads(buf.getvalue())}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def routed() -> dict[str, dict[str, Any]]:
    """``cli.main(["route", FILE, "--json"])`` for every sample, in one fresh process."""
    paths = [str(SAMPLES / name) for name in sorted(EXPECTED)]
    done = subprocess.run(
        [sys.executable, "-c", _ALL, *paths],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results: dict[str, dict[str, Any]] = json.loads(done.stdout)
    assert all(r["code"] == 0 for r in results.values())
    return {Path(p).name: r["json"] for p, r in results.items()}


def route_json(path: Path) -> dict[str, Any]:
    """Run ``imi-mailwatch route FILE --json`` with the built-in defaults; its JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "imi_mailwatch", "route", str(path), "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_every_sample_file_has_an_expectation() -> None:
    """Every .eml in tests/samples is listed in expected.json and the other way round."""
    assert sorted(p.name for p in SAMPLES.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_route_json_reports_the_expected_fields(
    name: str, routed: dict[str, dict[str, Any]]
) -> None:
    """``route --json`` reports exactly the fields of expected.json for the sample."""
    got = routed[name]
    want = EXPECTED[name]
    assert {key: got.get(key) for key in want} == want


def test_the_installed_command_routes_a_sample() -> None:
    """``python -m imi_mailwatch route FILE --json`` prints only the JSON on stdout."""
    got = route_json(SAMPLES / "nl_new_request.eml")
    assert got["kind"] == "imi_alert" and got["request_id"] == "184523"
    assert got["team"] is not None and got["memo"]


def test_a_forged_sample_is_rejected_with_its_reason() -> None:
    """The spoofed alert is rejected, says why, and is neither read nor routed."""
    got = route_json(SAMPLES / "spoofed_new_request_dmarc_fail.eml")
    assert got["kind"] == "rejected"
    assert "dmarc=fail" in got["reason"]
    assert got["team"] is None and got["memo"] is None and got["request_id"] is None
