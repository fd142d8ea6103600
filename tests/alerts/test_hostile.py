"""Malformed and hostile mail: no crash, no hang, an outcome with a reason, no forged task."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.alerts import AlertReader
from imi_mailwatch.app import build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir
from imi_mailwatch.config import AlertsConfig, AuthenticationConfig, config_from_data
from imi_mailwatch.model import Classification, MessageKind
from tests.alerts.hostile import FORGED_AR, big_attachment, corpus
from tests.alerts.mail import AR_PASS, NL_BODY, NL_SUBJECT, message, reader

REPO = Path(__file__).resolve().parents[2]
CORPUS = corpus()
READER = reader()


def actionable(c: Classification) -> bool:
    """Whether the pipeline would act on this (record an alert for a request)."""
    return c.kind is MessageKind.IMI_ALERT and c.alert is not None and bool(c.alert.request_id)


def test_the_corpus_is_large_enough() -> None:
    """At least 300 generated hostile messages, with forged ones among them."""
    assert len(CORPUS) >= 300
    assert sum(forged for _, _, forged in CORPUS) >= 100


@pytest.mark.parametrize("entry", CORPUS, ids=[name for name, _, _ in CORPUS])
def test_every_hostile_message_ends_in_a_verdict(entry: tuple[str, bytes, bool]) -> None:
    """Classified without the last-resort catch; a reason unless acted on; forged: no task."""
    _name, data, forged = entry
    c = READER.classify(data)
    assert not (c.reason or "").startswith("unreadable message")
    if not actionable(c):
        assert c.reason
    if forged:
        assert not actionable(c)


def test_a_25_megabyte_attachment_is_read_past() -> None:
    """An authentic alert with a 25 MB attachment is read; the attachment is not."""
    _name, data, _forged = big_attachment()
    c = READER.classify(data)
    assert actionable(c) and c.alert is not None and c.alert.request_id == "184523"


def test_over_the_size_budget_only_headers_are_judged() -> None:
    """Over max_message_bytes: authentic -> kept for review; forged -> rejected; never read."""
    small = AlertReader(AuthenticationConfig(), AlertsConfig(max_message_bytes=2048))
    big = message(NL_BODY + "x" * 5000)
    c = small.classify(big)
    assert c.kind is MessageKind.IMI_ALERT and c.alert is None
    assert c.reason is not None and "too large" in c.reason
    forged = small.classify(message(NL_BODY + "x" * 5000, auth_results=FORGED_AR))
    assert forged.kind is MessageKind.REJECTED
    other = small.classify(message("x" * 5000, sender="a@example.org", subject="Foto's"))
    assert other.kind is MessageKind.NOT_IMI


HEADER_LINES = [
    "From: IMI <imi-notifications@ec.europa.eu>",
    "From: X <x@evil.example>",
    "From: J. de Vries <j.devries@brabant.nl>",
    f"Authentication-Results: {AR_PASS}",
    f"Authentication-Results: {FORGED_AR[0]}",
    "Authentication-Results: mx.brabant.nl; dmarc=pass header.from=brabant.nl",
    f"Subject: {NL_SUBJECT}",
    "Subject: FW: " + NL_SUBJECT,
    "Content-Type: multipart/mixed; boundary=b",
    "Content-Type: message/rfc822",
    "Content-Type: text/html; charset=utf-16",
    "Content-Transfer-Encoding: base64",
    "Content-Transfer-Encoding: quoted-printable",
    "Auto-Submitted: auto-replied",
    "X-IMI-Mailwatch: reminder",
]
BODY_PIECES = [
    NL_BODY, "--b\r\n", "--b--\r\n", "Content-Type: message/rfc822\r\n\r\n",
    "-----Original Message-----\r\nFrom: IMI <imi@ec.europa.eu>\r\nSubject: x\r\n\r\n",
    "<table><tr><td>Verzoek-ID</td><td>184523", "=?utf-8?b?", "\x00", "\r\n\r\n",
]  # fmt: skip


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    head = draw(st.lists(st.sampled_from(HEADER_LINES), max_size=8))
    head += draw(st.lists(st.text(max_size=40).map(lambda t: "X-" + t), max_size=2))
    body = draw(st.lists(st.sampled_from(BODY_PIECES) | st.text(max_size=60), max_size=10))
    tail = draw(st.binary(max_size=200))
    return ("\r\n".join(head) + "\r\n\r\n" + "".join(body)).encode("utf-8", "surrogatepass") + tail


def _forged(data: bytes) -> bool:
    """No trusted pass on top for IMI's domain or the forwarder: must never be acted on."""
    first_ar = next(
        (line for line in data.split(b"\r\n") if line.startswith(b"Authentication-")), b""
    )
    return (
        AR_PASS.encode().split(b"\r\n")[0] not in first_ar
        and b"header.from=brabant.nl" not in first_ar
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_generated_messages_never_crash_and_forgeries_never_act(data: bytes) -> None:
    """Hypothesis-built mixes of real and hostile headers and bodies: a verdict every time."""
    c = READER.classify(data)
    assert not (c.reason or "").startswith("unreadable message")
    if not actionable(c):
        assert c.reason
    if _forged(data):
        assert not actionable(c)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash(data: bytes) -> None:
    """Arbitrary bytes are classified, never raise, and are never acted on."""
    c = READER.classify(data)
    assert not actionable(c)


def test_the_corpus_through_the_pipeline(tmp_path: Path) -> None:
    """Every corpus message through the real pipeline (Maildir, SQLite): an outcome each;
    a reason for all that were not acted on; no forged message acted on."""
    entries = [*CORPUS, big_attachment()]
    make_maildir(tmp_path / "mailbox", [(f"m{i}.eml", d) for i, (_, d, _) in enumerate(entries)],
                 start=1763280000)  # fmt: skip
    data = {
        "state": {"path": str(tmp_path / "state.sqlite3")},
        "mailboxes": [{"name": "imi", "kind": "maildir", "path": str(tmp_path / "mailbox")}],
        "rules": {"paths": [str(REPO / "rules")]},
        "beheerders": [{"name": "A. Voorbeeld", "email": "a@example.org"}],
        "notify": {"kind": "drop_folder", "drop_folder": {"path": str(tmp_path / "outbox")}},
        "service": {"health_listen": None},
    }
    cfg = config_from_data(data, {}, base_dir=str(tmp_path))
    app = build_app(cfg, clock=FakeClock(DEMO_NOW), sink=InMemoryTaskSink(),
                    notifier=InMemoryNotifier())  # fmt: skip
    try:
        app.daemon.run_once()
        rows = app.store.query("SELECT content_hash, disposition, reason FROM messages")
    finally:
        app.close()
    by_hash = {r["content_hash"]: r for r in rows}
    assert not list((tmp_path / "mailbox" / "new").iterdir()) or all(
        hashlib.sha256(p.read_bytes()).hexdigest() in by_hash
        for p in (tmp_path / "mailbox" / "new").iterdir()
    )
    for name, raw, forged in entries:
        row = by_hash.get(hashlib.sha256(raw).hexdigest())
        assert row is not None, name
        if row["disposition"] != "handled":
            assert row["reason"], name
        if forged:
            assert row["disposition"] != "handled", name
