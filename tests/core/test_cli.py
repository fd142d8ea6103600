"""The command line as a user meets it: demo, check-config, run --once twice, route, status."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import structlog

from imi_mailwatch.adapters.sqlite import MIGRATIONS, migration_sql
from imi_mailwatch.cli import main

REPO = Path(__file__).resolve().parents[2]
DEMO_MAILBOX = REPO / "imi_mailwatch" / "demo" / "mailbox"


def cli(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "imi_mailwatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _config(tmp: Path, replay: Path) -> Path:
    path = tmp / "imi-mailwatch.yaml"
    path.write_text(
        "state:\n  path: state.sqlite3\n"
        "mailboxes:\n  - name: replay\n    kind: eml_dir\n    path: " + str(replay) + "\n"
        "rules:\n  paths: [" + str(REPO / "rules") + "]\n"
        "task_sink:\n  kind: drop_folder\n  drop_folder: {path: corsa-drop}\n"
        "notify:\n  kind: drop_folder\n  drop_folder: {path: outbox}\n"
        "service:\n  health_listen: null\n"
        "logging:\n  format: json\n",
        encoding="utf-8",
    )
    return path


def test_demo_runs_and_prints_a_summary() -> None:
    """`imi-mailwatch demo` exits 0 and names every request, the forged alert and the reason."""
    result = cli("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for request_id in ("184523", "184777", "185110", "185201", "185300", "185412", "185002"):
        assert request_id in out
    assert "afgewezen" in out and "dmarc" in out.lower()
    for english in ("rejected", "quarantined", "handled", " new_request ", "IMI alert without"):
        assert english not in out, english


def test_check_config_exit_codes() -> None:
    """check-config exits 0 for a valid file and 78 with placed problems for a broken one."""
    tmp = Path(tempfile.mkdtemp(prefix="imi-cli-"))
    good = _config(tmp, tmp / "replay")
    (tmp / "replay").mkdir()
    ok = cli("check-config", "-c", str(good))
    assert ok.returncode == 0, ok.stderr
    bad = tmp / "bad.yaml"
    bad.write_text("state:\n  pth: x\nmailboxes: 3\n", encoding="utf-8")
    result = cli("check-config", "-c", str(bad))
    assert result.returncode == 78
    assert "bad.yaml:2:3: state.pth: unknown key 'pth' (did you mean 'path'?)" in result.stderr
    assert "bad.yaml:3:12: mailboxes" in result.stderr


def test_replaying_a_directory_twice_does_nothing_the_second_time() -> None:
    """`run --once` over .eml files files them and creates tasks; a second run adds nothing."""
    tmp = Path(tempfile.mkdtemp(prefix="imi-cli-"))
    replay = tmp / "replay"
    replay.mkdir()
    for f in sorted(DEMO_MAILBOX.glob("*.eml")):
        shutil.copy(f, replay / f.name)
    config = _config(tmp, replay)
    first = cli("run", "--once", "-c", str(config))
    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines() if line.startswith("{")]
    handled = [x for x in lines if x["event"] == "message.handled"]
    assert len(handled) == 19
    drops = sorted((tmp / "corsa-drop").glob("*.json"))
    assert len(drops) == 7
    # put the filed messages back, as after restoring a mailbox
    for f in replay.glob("IMI/*/*.eml"):
        f.rename(replay / f.name)
    second = cli("run", "--once", "-c", str(config))
    assert second.returncode == 0, second.stderr
    lines = [json.loads(line) for line in second.stdout.splitlines() if line.startswith("{")]
    outcomes = {x["outcome"] for x in lines if x["event"] == "message.handled"}
    assert outcomes == {"duplicate"}
    assert sorted((tmp / "corsa-drop").glob("*.json")) == drops
    status = cli("status", "--json", "-c", str(config))
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert {r["request_id"] for r in data["requests"]} >= {"184777", "185110"}
    assert [q["kind"] for q in data["quarantine"]] == ["quarantined", "rejected"]


def test_route_json_reports_fields_route_and_memo() -> None:
    """`route --json` gives the fields read, the team, the rule and the memo with {dagen}."""
    sample = next(DEMO_MAILBOX.glob("*_en_new_request.eml"))  # a rule routes it
    result = cli("route", str(sample), "--json", "--today", "2026-11-16")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "imi_alert" and data["request_id"] == "184777"
    assert data["team"] == "milieu" and data["rule"]
    assert "binnen 35 dagen" in data["memo"]


def test_config_option_before_or_after_a_nested_subcommand() -> None:
    """`rules -c F check` and `rules check -c F` both read F."""
    from imi_mailwatch.cli import build_parser

    parser = build_parser()
    for argv in (["rules", "-c", "x.yaml", "check"], ["rules", "check", "-c", "x.yaml"]):
        assert parser.parse_args(argv).config == "x.yaml"


_HEAVY = ("zeep", "lxml", "fpdf", "exchangelib", "msal", "imapclient", "bs4", "holidays", "httpx")


def _modules_after(argv: list[str], tmp: Path, also: tuple[str, ...] = ()) -> list[str]:
    """The imi_mailwatch.commands and heavy library modules a CLI call leaves imported."""
    code = (
        "import contextlib, io, sys\n"
        "from imi_mailwatch.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    heavy = (*_HEAVY, *also)
    return [
        m
        for m in out
        if m.startswith("imi_mailwatch.commands.") or m.split(".")[0] in heavy or m in also
    ]


def test_version_imports_no_subcommand() -> None:
    """Slow CLI: `--version` imports no subcommand module, no adapter library, no logging
    or configuration library."""
    with tempfile.TemporaryDirectory() as tmp_name:
        assert _modules_after(["--version"], Path(tmp_name), also=("structlog", "pydantic")) == []


def test_health_imports_only_its_own_subcommand() -> None:
    """Slow CLI: `health` imports its own module (and the shared one), no other subcommand."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        config = _config(tmp, tmp)
        found = _modules_after(["health", "-c", str(config)], tmp)
        assert found == ["imi_mailwatch.commands.common", "imi_mailwatch.commands.health"]


def test_route_on_a_plain_text_alert_imports_no_html_parser_and_no_daemon() -> None:
    """Slow CLI: `route` on an alert with a plain-text part imports no HTML parser (bs4),
    no state store, no pipeline and no daemon wiring."""
    daemon = (
        "imi_mailwatch.app",
        "imi_mailwatch.pipeline",
        "imi_mailwatch.adapters.sqlite_store",
        "imi_mailwatch.outbox",
        "imi_mailwatch.texts",
    )
    sample = REPO / "tests" / "samples" / "en_new_request.eml"  # plain text and HTML
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        config = _config(tmp, tmp)
        found = _modules_after(["route", "-c", str(config), str(sample)], tmp, also=daemon)
        assert found == ["imi_mailwatch.commands.common", "imi_mailwatch.commands.route"]


def test_help_lists_every_subcommand_with_the_help_its_module_gives() -> None:
    """Lazy subcommands: top-level help still lists every command, with its module's help."""
    import argparse

    from imi_mailwatch.cli import build_parser
    from imi_mailwatch.commands import COMMANDS

    text = cli("--help").stdout
    for name, (module, help_text) in COMMANDS.items():
        assert name in text
        scratch = argparse.ArgumentParser().add_subparsers()
        __import__(module, fromlist=["register"]).register(scratch)
        (action,) = scratch._choices_actions
        assert (action.dest, action.help) == (name, help_text)
    assert set(build_parser()._subparsers._group_actions[0].choices) == set(COMMANDS)  # type: ignore[union-attr]


def _state_of_an_older_version(path: Path) -> None:
    """A state store one schema version behind: opening it to write migrates (and logs)."""
    db = sqlite3.connect(path)
    for version in sorted(MIGRATIONS)[:-1]:
        db.executescript(migration_sql(version, "sqlite"))
    db.execute(f"PRAGMA user_version = {sorted(MIGRATIONS)[-2]}")
    db.commit()
    db.close()


def test_json_commands_print_only_json_on_stdout() -> None:
    """Output hygiene: purge/status --json print one JSON document on stdout; log lines
    (here the state store's migration) go to stderr."""
    tmp = Path(tempfile.mkdtemp(prefix="imi-cli-"))
    (tmp / "replay").mkdir()
    config = _config(tmp, tmp / "replay")
    for command in (["purge", "--json"], ["purge", "--dry-run", "--json"], ["status", "--json"]):
        (tmp / "state.sqlite3").unlink(missing_ok=True)
        _state_of_an_older_version(tmp / "state.sqlite3")
        result = cli(*command, "-c", str(config))
        assert result.returncode == 0, (command, result.stderr)
        json.loads(result.stdout)  # stdout carries the JSON and nothing else
        if command == ["purge", "--json"]:
            assert "state.migrated" in result.stderr


def test_command_logs_follow_sys_stderr_after_the_command() -> None:
    """Logging set up by a command writes to the current sys.stderr, never to a stream that
    was swapped out and closed since (in-process callers such as test runners)."""
    tmp = Path(tempfile.mkdtemp(prefix="imi-cli-"))
    (tmp / "replay").mkdir()
    config = _config(tmp, tmp / "replay")
    _state_of_an_older_version(tmp / "state.sqlite3")
    first = io.StringIO()
    with contextlib.redirect_stderr(first), contextlib.redirect_stdout(io.StringIO()):
        assert main(["status", "--json", "-c", str(config)]) == 0
    first.close()
    later = io.StringIO()
    with contextlib.redirect_stderr(later):
        structlog.get_logger("test").info("after.the_command")
    assert "after.the_command" in later.getvalue()
