"""A rule that forwards a request out of the province: no task, one mail to the beheerders."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from imi_mailwatch.adapters.memory import InMemoryTaskSink
from imi_mailwatch.app import App, build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir
from imi_mailwatch.config import config_from_data
from imi_mailwatch.privacy.history import describe
from tests.alerts.mail import message

RULES = Path(__file__).resolve().parents[2] / "rules"
BRZO = "Opslag en verwerking van gevaarlijke stoffen (Brzo)"  # a forwarding rule in rules/
RID = "186001"


def _alert(kind: str, seq: int, activity: str = BRZO, rid: str = RID) -> tuple[str, bytes]:
    """A synthetic Dutch IMI alert: a new request, a changed reply date, or closed."""
    if kind == "new":
        subject = f"IMI - Diensten - Nieuw verzoek {rid} ontvangen"
        body = (
            "Geachte IMI-gebruiker,\n\nUw autoriteit heeft een nieuw informatieverzoek "
            f"ontvangen.\n\nVerzoek-ID: {rid}\nWetgevingsgebied: Diensten\n"
            "Verzoekende autoriteit: Testbehoerde Beispielstadt\nLidstaat: Duitsland\n"
            f"Dienstverleningsactiviteiten: {activity}\n"
            "Gevraagde antwoorddatum: 14-12-2026\n"
        )
    elif kind == "changed":
        subject = f"IMI - Diensten - Antwoorddatum van verzoek {rid} gewijzigd"
        body = (
            "Geachte IMI-gebruiker,\n\nDe antwoorddatum van het verzoek is gewijzigd.\n\n"
            f"Verzoek-ID: {rid}\nWetgevingsgebied: Diensten\n"
            "Gevraagde antwoorddatum: 21-12-2026\n"
        )
    else:
        subject = f"IMI - Diensten - Verzoek {rid} afgesloten"
        body = (
            "Geachte IMI-gebruiker,\n\nHet verzoek is door de verzoekende autoriteit "
            f"afgesloten.\n\nVerzoek-ID: {rid}\nWetgevingsgebied: Diensten\n"
        )
    mid = f"<fwd-{rid}-{seq}@imi.ec.europa.eu>"
    return f"{seq:02d}_{kind}.eml", message(body, subject=subject, message_id=mid)


@pytest.fixture
def tmp() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="imi-forward-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _app(tmp: Path, sink: InMemoryTaskSink | None = None) -> App:
    """The whole daemon on a Maildir, mailing the beheerders into a drop folder."""
    data = {
        "state": {"path": str(tmp / "state.sqlite3")},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp / "mailbox")}],
        "rules": {"paths": [str(RULES)]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a@example.org"}],
        "notify": {"kind": "drop_folder", "drop_folder": {"path": str(tmp / "outbox")}},
        "service": {"health_listen": None},
        "reports": {"overview": False},  # DEMO_NOW is a Monday after 08:00: only the forward
    }
    cfg = config_from_data(data, {}, base_dir=str(tmp))
    return build_app(cfg, clock=FakeClock(DEMO_NOW), sink=sink or InMemoryTaskSink())


def _mails(tmp: Path) -> list[email.message.EmailMessage]:
    out = []
    for path in sorted((tmp / "outbox").glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, email.message.EmailMessage)
        out.append(msg)
    return out


def _text(msg: email.message.EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_a_forwarding_rule_creates_no_task_and_mails_the_beheerders_once(tmp: Path) -> None:
    """A request a rule forwards: no Corsa task; one Dutch mail with the authority and reason."""
    make_maildir(tmp / "mailbox", [_alert("new", 1)], start=1763280000)
    sink = InMemoryTaskSink()
    app = _app(tmp, sink)
    counts = app.daemon.run_once()
    assert sink.create_calls == 0 and not sink.tasks
    assert counts == {"forward": 1}
    (mail,) = _mails(tmp)
    assert mail["To"] == "a@example.org"
    assert "doorsturen" in str(mail["Subject"]).lower()
    text = _text(mail)
    assert RID in text
    assert "Omgevingsdienst Zuidoost-Brabant (ODZOB)" in text
    assert "Brzo-bedrijven uit en beantwoordt dit verzoek zelf" in text  # the rule's reason
    assert "Brzo-bedrijven naar de omgevingsdienst" in text  # the rule's name
    request = app.store.get_request(RID)
    assert request is not None and request.task_status is None
    notices = app.store.query("SELECT key, sent_at FROM notices WHERE kind = 'forward'")
    assert [(n["key"], n["sent_at"] is not None) for n in notices] == [(f"forward:{RID}", True)]
    trail = [row["action"] for row in app.store.audit_trail(RID)]
    assert "request.forward" in trail and "task.created" not in trail
    (forwarded,) = [r for r in app.store.audit_trail(RID) if r["action"] == "request.forward"]
    text = describe("request.forward", json.loads(forwarded["detail"]))
    assert text.startswith("Niet voor de provincie: de beheerders sturen het verzoek in IMI door")
    app.close()

    # the message handed over again (a restored mailbox) and a second run: nothing new
    box = tmp / "mailbox"
    for f in (box / ".IMI.Verwerkt" / "cur").iterdir():
        f.rename(box / "new" / f.name)
    again = _app(tmp, sink)
    assert again.daemon.run_once() == {"duplicate": 1}
    assert len(_mails(tmp)) == 1
    assert again.store.query("SELECT count(*) AS n FROM notices")[0]["n"] == 1
    assert sink.create_calls == 0


def test_later_alerts_on_a_forwarded_request_leave_no_work_behind(tmp: Path) -> None:
    """Alerts after a forward (new reply date, closed) create no task and no pending work."""
    messages = [_alert("new", 1), _alert("changed", 2), _alert("closed", 3)]
    make_maildir(tmp / "mailbox", messages, start=1763280000)
    sink = InMemoryTaskSink()
    app = _app(tmp, sink)
    app.daemon.run_once()
    app.daemon.run_once()
    assert sink.create_calls == 0 and not sink.tasks
    pending = app.store.query("SELECT action, status FROM outbox WHERE status NOT IN "
                              "('done', 'skipped')")  # fmt: skip
    assert [dict(r) for r in pending] == []
    assert app.store.query("SELECT count(*) AS n FROM notices WHERE kind = 'forward'")[0]["n"] == 1


def test_a_request_no_rule_forwards_still_gets_its_task(tmp: Path) -> None:
    """The forward rule is specific: a request about ontgrondingen gets a task as before."""
    make_maildir(tmp / "mailbox", [_alert("new", 1, "Ontgrondingen", "186002")],
                 start=1763280000)  # fmt: skip
    sink = InMemoryTaskSink()
    app = _app(tmp, sink)
    assert app.daemon.run_once() == {"task_created": 1}
    assert [t.team.key for t in sink.tasks.values()] == ["ontgrondingen"]
    assert app.store.query("SELECT count(*) AS n FROM notices WHERE kind = 'forward'")[0]["n"] == 0


def test_route_explain_shows_the_forward_and_no_memo(tmp: Path) -> None:
    """'route --explain' says the request is forwarded, to whom and why, and writes no memo."""
    name, data = _alert("new", 1)
    eml = tmp / name
    eml.write_bytes(data)
    config = tmp / "imi-mailwatch.yaml"
    config.write_text(
        f"state:\n  path: {tmp / 'state.sqlite3'}\n"
        f"mailboxes:\n  - name: imi\n    kind: maildir\n    path: {tmp / 'mailbox'}\n"
        f"rules:\n  paths: [{RULES}]\n"
        "beheerders:\n  - {name: A. Voorbeeld, email: a@example.org}\n",
        encoding="utf-8",
    )

    def route(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "imi_mailwatch", "route", str(eml), "-c", str(config), *args],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    out = route("--explain")
    assert "Doorsturen:        naar Omgevingsdienst Zuidoost-Brabant (ODZOB)" in out
    assert "Brzo-bedrijven naar de omgevingsdienst: GEKOZEN -> doorsturen naar" in out
    assert "Memo:" not in out
    got = json.loads(route("--json"))
    assert got["forward_to"] == "Omgevingsdienst Zuidoost-Brabant (ODZOB)"
    assert got["memo"] is None
