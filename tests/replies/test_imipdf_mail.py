"""IMI's own PDF report, end to end: a beheerder mails it to the Dovecot mailbox, the daemon
(wired by ``build_app``, real SQLite, fake clock) adds it to the request's document in the
Corsa test server over a real socket, and the confirmation reaches the aiosmtpd server."""

from __future__ import annotations

import itertools
import json
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink
from imi_mailwatch.app import build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import config_from_data
from imi_mailwatch.model import TaskRef
from imi_mailwatch.testing.corsa_server import CorsaTestServer, FileVersion, start
from tests.corsa.conftest import PROFILE_CONFIG, corsa_config
from tests.deadlines.smtp_server import SmtpTestServer
from tests.replies.e2e import (
    AMS,
    AR_FAIL,
    AR_PASS,
    BEHEERDER,
    COLLEAGUE,
    FUNCTIONAL,
    OWN,
    REQUEST,
    SAMPLES,
    World,
    _config,
    dovecot_server,
)
from tests.servers.dovecot import DovecotServer

__all__ = ["dovecot_server"]  # the fixture

PDF = b"%PDF-1.4\n% synthetic IMI report for the tests\n" + b"0" * 3000 + b"\n%%EOF\n"
SEQ = itertools.count(1)


class PdfWorld(World):
    corsa: CorsaTestServer

    def pdfs(self) -> list[FileVersion]:
        """The forwarded reports among the files of the request's Corsa document."""
        (doc,) = self.corsa.documents_for(REQUEST)
        return [f for f in doc.files if f.extension == ".pdf" and "IMI-rapport" in f.name]


@pytest.fixture(params=["documented", "production"])
def pdf_world(dovecot_server: DovecotServer, request: pytest.FixtureRequest) -> Iterator[PdfWorld]:
    """The daemon on Dovecot and the Corsa test server (per profile), holding one request
    whose Corsa document exists."""
    corsa, _url = start(profile=request.param)
    sink = CorsaSoapTaskSink(
        corsa_config(corsa.url, **PROFILE_CONFIG[request.param]),
        clock=FakeClock(),
        stop=threading.Event(),
        retry_first_wait=0.01,
        retry_max_wait=0.05,
    )
    smtp = SmtpTestServer().start("none")
    tmp = Path(tempfile.mkdtemp(prefix="imi-pdf-e2e-"))
    data = _config(tmp, dovecot_server, smtp.port)
    data["replies"]["pdf_max_mb"] = 1
    cfg = config_from_data(data, {"IMI_IMAP_PASSWORD": dovecot_server.password},
                           base_dir=str(tmp))  # fmt: skip
    clock = FakeClock(datetime(2026, 11, 16, 10, 0, tzinfo=AMS))
    app = build_app(cfg, clock=clock, sink=sink)
    w = PdfWorld(app, dovecot_server, smtp, clock)
    w.corsa = corsa
    try:
        w.deliver((SAMPLES / "nl_new_request.eml").read_bytes())
        assert len(corsa.documents_for(REQUEST)) == 1
        yield w
    finally:
        app.close()
        sink.close()
        smtp.stop()
        corsa.stop()


def pdf_mail(
    sender: str = BEHEERDER,
    *,
    subject: str = f"IMI-verzoek {REQUEST}: rapport",
    auth: str = AR_PASS,
    pdf: bytes | None = PDF,
) -> bytes:
    """A beheerder's mail to the functional mailbox with IMI's PDF attached (synthetic)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = FUNCTIONAL
    msg["Subject"] = subject
    msg["Message-ID"] = f"<pdf-{next(SEQ)}@mail.{OWN}>"
    msg["Authentication-Results"] = auth
    msg.set_content("Hierbij het rapport uit IMI.\n")
    if pdf is not None:
        msg.add_attachment(pdf, maintype="application", subtype="pdf",
                           filename=f"IMI_{REQUEST}.pdf")  # fmt: skip
    return msg.as_bytes()


def test_a_beheerders_pdf_lands_once_as_a_file_version(pdf_world: PdfWorld) -> None:
    """The beheerder's PDF becomes one file version of the Corsa document, also when the
    same mail is handled twice, and the beheerder is confirmed once, in Dutch."""
    data = pdf_mail()
    pdf_world.deliver(data)
    pdf_world.deliver(data)  # a replay of the same mail
    pdf_world.deliver(pdf_mail(subject=f"[IMI {REQUEST}] het rapport"))  # the same PDF again
    (pdf,) = pdf_world.pdfs()
    assert pdf.data == PDF
    assert REQUEST in pdf.name
    confirmations = [m for m in pdf_world.answers_to(BEHEERDER)
                     if "PDF van IMI ontvangen" in str(m["Subject"])]  # fmt: skip
    assert len(confirmations) == 1
    assert "wordt als bestand toegevoegd" in confirmations[0].get_content()
    trail = [e["action"] for e in pdf_world.app.store.audit_trail(REQUEST)]
    assert trail.count("imipdf.recorded") == 2  # two mails (a replay is no new mail)
    assert trail.count("imipdf.attached") == 1


def test_a_forged_beheerder_pdf_changes_nothing(pdf_world: PdfWorld) -> None:
    """A PDF that claims to come from the beheerder but fails DMARC adds nothing to Corsa."""
    pdf_world.deliver(pdf_mail(auth=AR_FAIL))
    assert pdf_world.pdfs() == []
    assert not any("PDF van IMI ontvangen" in str(m["Subject"]) for m in pdf_world.sent())


def test_an_outsider_pdf_changes_nothing_and_is_not_answered(pdf_world: PdfWorld) -> None:
    """A PDF from outside the organisation adds nothing and makes the daemon mail no one."""
    before = len(pdf_world.sent())
    pdf_world.deliver(pdf_mail("x.buiten@elders.example", auth=f"mx.{OWN}; dmarc=pass "
                               "header.from=elders.example"))  # fmt: skip
    assert pdf_world.pdfs() == []
    assert [m for m in pdf_world.sent()[before:] if "elders" in str(m["To"])] == []


@pytest.mark.parametrize(
    ("sender", "subject", "pdf", "says"),
    [
        (COLLEAGUE, f"IMI {REQUEST}", PDF, "Alleen de IMI-beheerders"),
        (BEHEERDER, "IMI 999999 rapport", PDF, "bij welk IMI-verzoek"),
        (BEHEERDER, f"IMI {REQUEST}", PDF + b"9" * (1024 * 1024), "groter dan 1 MB"),
        (BEHEERDER, f"IMI {REQUEST}", b"MZ not a pdf", "geen PDF-bestand"),
    ],
    ids=["colleague", "unknown-request", "too-large", "not-a-pdf"],
)
def test_a_refused_pdf_is_answered_in_dutch(
    pdf_world: PdfWorld, sender: str, subject: str, pdf: bytes, says: str
) -> None:
    """A colleague's PDF, an unknown request, a PDF over the limit or a fake PDF: nothing
    is added and the sender is told why, in Dutch."""
    pdf_world.deliver(pdf_mail(sender, subject=subject, pdf=pdf))
    assert pdf_world.pdfs() == []
    (answer,) = pdf_world.answers_to(sender)[-1:]
    text = answer.get_content()
    assert "niet aan Corsa toegevoegd" in text
    assert says in text


def test_a_lost_answer_after_adding_the_pdf_adds_it_once(pdf_world: PdfWorld) -> None:
    """Corsa adds the file but its answer is lost: the retry looks first, the PDF is there
    once and the outbox row is done."""
    pdf_world.corsa.lose_response_next("CreateFileVersion", times=5)
    pdf_world.deliver(pdf_mail())
    assert len(pdf_world.pdfs()) == 1
    rows = pdf_world.app.store.outbox_rows()
    assert [r["status"] for r in rows if r["action"] == "attach_pdf"] == ["done"]


def test_a_crash_after_corsa_added_the_pdf_does_not_add_it_again(pdf_world: PdfWorld) -> None:
    """Corsa is down when the PDF arrives (the row waits), then a crashed attempt left the
    file in Corsa without recording it: the next pass finds it and adds no second one."""
    pdf_world.corsa.http_error_next(503, times=50, operation="CreateFileVersion")
    pdf_world.deliver(pdf_mail())
    assert pdf_world.pdfs() == []
    (row,) = [r for r in pdf_world.app.store.outbox_rows() if r["action"] == "attach_pdf"]
    assert row["status"] == "pending"
    pdf_world.corsa.heal()
    (doc,) = pdf_world.corsa.documents_for(REQUEST)
    due = pdf_world.app.store.outbox_due(request_id=REQUEST)
    assert [i for i in due if i.action == "attach_pdf"] == []  # backing off
    sink = pdf_world.app.sink
    assert isinstance(sink, CorsaSoapTaskSink)
    payload = pdf_world.app.store.query("SELECT payload FROM outbox WHERE id = ?", (row["id"],))
    name = json.loads(payload[0]["payload"])["name"]
    sink.attach_file(TaskRef("corsa", doc.object_id), PDF, ".pdf", name, "crashed attempt")
    pdf_world.clock.advance(timedelta(hours=1))
    pdf_world.app.daemon.run_once()
    assert len(pdf_world.pdfs()) == 1
    (row,) = [r for r in pdf_world.app.store.outbox_rows() if r["action"] == "attach_pdf"]
    assert row["status"] == "done"
