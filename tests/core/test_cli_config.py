"""The configuration as commands meet it: which file, which secrets, which exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = next((REPO / "imi_mailwatch" / "demo" / "mailbox").glob("*_nl_new_request.eml"))
SECRET_VARS = ("IMI_TEST_IMAP_PASSWORD", "IMI_TEST_CORSA_LICENCE", "IMI_TEST_CORSA_PASSWORD")


def cli(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    return subprocess.run(
        [sys.executable, "-m", "imi_mailwatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**environ, **(env or {})},
        check=False,
    )


def _write(tmp: Path, body: str) -> Path:
    path = tmp / "imi-mailwatch.yaml"
    path.write_text(
        "state:\n  path: state/state.sqlite3\n"
        f"rules:\n  paths: [{REPO / 'rules'}]\n"
        "service:\n  health_listen: null\n" + body,
        encoding="utf-8",
    )
    return path


WITH_SECRETS = (
    "mailboxes:\n"
    "  - name: imi\n    kind: imap\n"
    "    imap: {host: imap.example.org, username: imi@example.org,"
    " password: {env: IMI_TEST_IMAP_PASSWORD}}\n"
    "task_sink:\n  kind: corsa\n"
    "  corsa: {url: 'https://corsa.example.org/ws.asmx', username: svc,"
    " password: {env: IMI_TEST_CORSA_PASSWORD}, license_key: {env: IMI_TEST_CORSA_LICENCE}}\n"
)


def test_beheerder_commands_run_without_the_daemons_secrets(tmp_path: Path) -> None:
    """rules check/test, route and calibrate work when the config names unset env secrets."""
    config = str(_write(tmp_path, WITH_SECRETS))
    rules = str(REPO / "rules")
    for args in (
        ("rules", "check", "-c", config),
        ("rules", "check", rules, "-c", config),
        ("rules", "test", rules, "--activiteit", "sloop van een schuur", "-c", config),
        ("route", str(SAMPLE), "--today", "2026-11-16", "-c", config),
        ("calibrate", str(SAMPLE), "-c", config),
    ):
        done = cli(*args)
        assert done.returncode in (0, 1), (args, done.stderr)
        assert "is not set" not in done.stdout + done.stderr, args
    assert not (tmp_path / "state").exists()


def test_run_and_check_config_both_demand_the_secrets_of_the_parts_in_use(tmp_path: Path) -> None:
    """run and check-config give the same verdict on missing secrets: 78, each one named."""
    config = str(_write(tmp_path, WITH_SECRETS))
    for command in (("check-config",), ("run", "--once")):
        done = cli(*command, "-c", config)
        assert done.returncode == 78, (command, done.stderr)
        for name in SECRET_VARS:
            assert f"environment variable {name} is not set" in done.stderr, (command, name)


def test_run_with_a_misspelt_timezone_exits_78_like_check_config(tmp_path: Path) -> None:
    """A misspelt timezone stops `run` with 78 (config error), never 1; check-config agrees."""
    (tmp_path / "in").mkdir()
    mailbox = f"mailboxes: [{{name: m, kind: eml_dir, path: {tmp_path / 'in'}}}]\n"
    config = str(_write(tmp_path, mailbox + "deadlines: {timezone: Europe/Amsterdm}\n"))
    for command in (("run", "--once"), ("check-config",)):
        done = cli(*command, "-c", config)
        assert done.returncode == 78, (command, done.stderr[-2000:])
        assert "deadlines.timezone" in done.stderr and "Europe/Amsterdam" in done.stderr
        assert "Traceback" not in done.stderr


def test_check_config_names_the_file_it_read_and_refuses_zero_mailboxes(tmp_path: Path) -> None:
    """check-config prints the path it validated; a file with no mailboxes is an error (78)."""
    (tmp_path / "in").mkdir()
    good = _write(tmp_path, f"mailboxes: [{{name: m, kind: eml_dir, path: {tmp_path / 'in'}}}]\n")
    done = cli("check-config", "-c", str(good))
    assert done.returncode == 0, done.stderr
    assert f"configuration OK: {good.resolve()}" in done.stdout
    empty = tmp_path / "empty.yaml"
    empty.write_text("state: {path: s.sqlite3}\n", encoding="utf-8")
    done = cli("check-config", "-c", str(empty))
    assert done.returncode == 78
    assert f"configuration read: {empty.resolve()}" in done.stderr
    assert "mailboxes: no mailbox is configured" in done.stderr
    assert cli("run", "--once", "-c", str(empty)).returncode == 78


def test_read_only_commands_never_create_a_state_store(tmp_path: Path) -> None:
    """status, history, quarantine list and health report a missing store and create nothing."""
    config = str(_write(tmp_path, WITH_SECRETS))
    store = tmp_path / "state" / "state.sqlite3"
    for args, code in (
        (("status",), 78),
        (("status", "--json"), 78),
        (("history", "184523"), 78),
        (("quarantine", "list"), 78),
        (("purge", "--dry-run"), 78),
        (("health",), 1),
    ):
        done = cli(*args, "-c", config)
        assert done.returncode == code, (args, done.stderr)
        assert f"{store}" in done.stdout + done.stderr, args
        assert "is not set" not in done.stderr, args
        assert not (tmp_path / "state").exists(), args
    assert "no state store at" in cli("status", "-c", config).stderr


def test_check_config_names_each_plaintext_connection_it_accepts(tmp_path: Path) -> None:
    """IMAP without TLS to a remote host: refused (78), or accepted with a warning when allowed."""
    (tmp_path / "d").mkdir()
    imap = (
        "mailboxes: [{name: m, kind: imap, imap: {host: imap.example.org, security: none, "
        "username: u, password: {env: IMI_TEST_IMAP_PASSWORD}%s}}]\n"
    )
    env = {"IMI_TEST_IMAP_PASSWORD": "synthetic"}
    refused = cli("check-config", "-c", str(_write(tmp_path, imap % "")), env=env)
    assert refused.returncode == 78
    assert "password and the mail in clear to imap.example.org" in refused.stderr
    accepted = cli(
        "check-config", "-c", str(_write(tmp_path, imap % ", allow_insecure: true")), env=env
    )
    assert accepted.returncode == 0, accepted.stderr
    assert "warning: allow_insecure:" in accepted.stdout and "imap.example.org" in accepted.stdout


def test_corsa_check_reads_only_corsas_secrets(tmp_path: Path) -> None:
    """`corsa check` needs Corsa's secrets (named when missing, 78), not the mailbox's."""
    config = str(_write(tmp_path, WITH_SECRETS))
    done = cli("corsa", "check", "-c", config)
    assert done.returncode == 78, done.stderr
    assert "environment variable IMI_TEST_CORSA_LICENCE is not set" in done.stderr
    assert "IMI_TEST_IMAP_PASSWORD" not in done.stderr
