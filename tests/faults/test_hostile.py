"""Hostile input at scale through the whole daemon: 319 generated messages, one run.

The alerts' hostile corpus (truncations, nesting bombs, header and charset abuse,
hostile HTML, forged senders) in a Maildir: once in `make test`, four times over in
`make soak` (1,276 messages, each copy made distinct); ``imi-mailwatch run --once``
as a real process. It must exit normally, account for every message (recorded,
acknowledged and filed where its outcome says) and never act on a forged one.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from imi_mailwatch.commands.demo import make_maildir
from tests.alerts.hostile import corpus
from tests.service.helpers import cli, write_config

FOLDER_OF = {
    "handled": ".IMI.Verwerkt",
    "quarantined": ".IMI.Quarantaine",
    "rejected": ".IMI.Afgewezen",
    "ignored": "",
}


def _copies(copies: int) -> list[tuple[str, bytes, bool]]:
    out = []
    for n in range(copies):
        for i, (_name, data, forged) in enumerate(corpus()):
            out.append((f"m{n}x{i}.eml", f"X-Fault-Copy: {n}\r\n".encode() + data, forged))
    return out


def _files(mailbox: Path, folder: str) -> list[str]:
    """The SHA-256 of every message file in a Maildir++ folder (one entry per file)."""
    base = mailbox / folder if folder else mailbox
    return [
        hashlib.sha256(p.read_bytes()).hexdigest()
        for sub in ("new", "cur")
        if (base / sub).is_dir()
        for p in (base / sub).iterdir()
    ]


@pytest.mark.parametrize("copies", [1, pytest.param(4, marks=pytest.mark.soak)])
def test_hostile_messages_through_the_daemon(tmp_path: Path, copies: int) -> None:
    """The daemon survives, every message is filed by its outcome, no forged one is acted on."""
    messages = _copies(copies)
    assert len(messages) >= 300 * copies
    make_maildir(tmp_path / "mailbox", [(n, d) for n, d, _ in messages], start=1763280000)
    config = write_config(tmp_path)
    result = cli("run", "--once", "-c", str(config), cwd=tmp_path, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr

    con = sqlite3.connect(tmp_path / "state" / "state.sqlite3")
    con.row_factory = sqlite3.Row
    rows = {r["content_hash"]: r for r in con.execute("SELECT * FROM messages")}
    acted_on = {r[0] for r in con.execute("SELECT message_row FROM alerts")}
    placed = {
        disposition: _files(tmp_path / "mailbox", folder)
        for disposition, folder in FOLDER_OF.items()
    }
    problems = []
    for name, data, forged in messages:
        digest = hashlib.sha256(data).hexdigest()
        row = rows.get(digest)
        if row is None or row["acknowledged_at"] is None:
            problems.append(f"{name}: not recorded and acknowledged")
            continue
        if digest not in placed[row["disposition"]]:  # (identical bytes share one row)
            problems.append(f"{name}: {row['disposition']} but not in its folder")
        if forged and (row["disposition"] == "handled" or row["id"] in acted_on):
            problems.append(f"{name}: forged, yet acted on")
    assert problems == [], "\n".join(problems[:50])
    assert sum(len(p) for p in placed.values()) == len(messages)  # nothing lost, nothing copied
