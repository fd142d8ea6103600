"""A restart on a broken rules file: `run` goes on with the last good rules, never exits 78."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.service.helpers import RULES, cli, sample_maildir, write_config


def test_run_after_a_typo_in_the_rules_runs_on_the_last_good_rules(tmp_path: Path) -> None:
    """Unwatched mailbox after a reboot: broken rules at start degrade, they do not stop `run`."""
    sample_maildir(tmp_path)
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    config = write_config(tmp_path, rules={"paths": [str(rules)]})
    first = cli("run", "--once", "-c", str(config), cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]

    regels = rules / "10-regels.yaml"
    regels.write_text(regels.read_text(encoding="utf-8").replace("team: milieu", "team: milieuu"))
    for _ in range(2):  # a restart loop tells the beheerders once
        again = cli("run", "--once", "-c", str(config), cwd=tmp_path)
        assert again.returncode == 0, again.stderr[-2000:]
    events = [json.loads(line)["event"] for line in again.stdout.splitlines() if line.strip()]
    assert "rules.started_on_stored" in events

    verdict = json.loads(cli("health", "--json", "-c", str(config), cwd=tmp_path).stdout)
    assert (
        "rules: degraded: the rules files are invalid; running on the last good rules "
        "kept in the state store"
    ) in verdict["problems"]
    mails = [
        p.read_text(encoding="utf-8", errors="replace")
        for p in (tmp_path / "outbox").rglob("*")
        if p.is_file()
    ]
    told = [m for m in mails if "laatst goedgekeurde regels" in m]
    assert len(told) == 1, len(mails)


def test_run_refuses_a_broken_rules_file_without_last_good_rules(tmp_path: Path) -> None:
    """No kept rules yet (first start): a broken rules file still exits 78."""
    sample_maildir(tmp_path)
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    regels = rules / "10-regels.yaml"
    regels.write_text(regels.read_text(encoding="utf-8").replace("team: milieu", "team: milieuu"))
    config = write_config(tmp_path, rules={"paths": [str(rules)]})
    result = cli("run", "--once", "-c", str(config), cwd=tmp_path)
    assert result.returncode == 78
    assert "ongeldig" in result.stderr
