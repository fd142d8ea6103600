"""IMI's PDF report, judged before the reply path reads a command: which mails are one,
and the refusals that need a request in a state the end-to-end tests cannot easily make."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from imi_mailwatch.adapters.memory_state import MemoryStateStore
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.model import TaskStatus
from imi_mailwatch.replies.imipdf import PdfPlan, plan_pdf, subject_request
from imi_mailwatch.replies.reader import read
from tests.contract.state.samples import request
from tests.replies.mail import AR_OWN_PASS, BEHEERDER, ID_DOMAINS, TRUST

PDF = b"%PDF-1.4\n% synthetic\n%%EOF\n"


def mail(*pdfs: bytes, subject: str = "IMI 300001", attached_mail: bool = False) -> bytes:
    """A beheerder's trusted mail with these PDFs attached (synthetic)."""
    msg = EmailMessage()
    msg["From"] = BEHEERDER
    msg["To"] = "imi@brabant.nl"
    msg["Subject"] = subject
    msg["Message-ID"] = "<pdf-unit@mail.brabant.nl>"
    msg["Authentication-Results"] = AR_OWN_PASS
    msg.set_content("Het rapport.\n")
    for n, pdf in enumerate(pdfs):
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"r{n}.pdf")
    if attached_mail:
        inner = EmailMessage()
        inner["Subject"] = "doorgestuurd"
        inner.set_content("x")
        inner.add_attachment(PDF, maintype="application", subtype="pdf", filename="x.pdf")
        msg.add_attachment(inner)
    return msg.as_bytes()


def plan(store: MemoryStateStore, data: bytes) -> PdfPlan | None:
    reading = read(data, trust=TRUST, id_domains=ID_DOMAINS)
    return plan_pdf(store, data, reading, beheerders=(BEHEERDER,), contacts=(),
                    domain=ID_DOMAINS[0], reply_to="imi@brabant.nl")  # fmt: skip


@pytest.fixture
def store() -> MemoryStateStore:
    """A memory store holding request 300001, its task not yet made."""
    s = MemoryStateStore(FakeClock(datetime(2026, 11, 16, 9, 0, tzinfo=UTC)))
    s.save_request(request("300001"))
    return s


@pytest.mark.parametrize("task", [None, TaskStatus.PARKED])
def test_a_request_without_a_task_gets_no_pdf(store: MemoryStateStore, task: object) -> None:
    """No task (none made, or parked): nothing is queued and the beheerder is told why."""
    store.save_request(request("300001", task_status=task))
    found = plan(store, mail(PDF))
    assert found is not None and not found.ok and found.intents == ()
    assert found.answer is not None and "geen taak in Corsa" in found.answer


def test_a_task_still_being_made_gets_the_pdf_after_it(store: MemoryStateStore) -> None:
    """A task whose creation is queued: the PDF is queued too (the outbox adds it after)."""
    found = plan(store, mail(PDF))
    assert found is not None and found.ok
    (intent,) = found.intents
    assert intent.action == "attach_pdf" and intent.request_id == "300001"
    assert found.confirmation is not None and found.confirmation.to == (BEHEERDER,)


def test_mails_without_the_beheerders_own_pdf_are_no_pdf_report(store: MemoryStateStore) -> None:
    """No PDF, or a PDF only inside an attached mail: the reply path reads it as usual."""
    assert plan(store, mail()) is None
    assert plan(store, mail(attached_mail=True)) is None


def test_two_pdfs_are_refused(store: MemoryStateStore) -> None:
    """Two PDFs in one mail: which is IMI's report is unclear, so none is added."""
    found = plan(store, mail(PDF, PDF + b" "))
    assert found is not None and not found.ok
    assert found.answer is not None and "meer dan één PDF" in found.answer


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("[IMI 300001] rapport", "300001"),
        ("FW: IMI-verzoek 300001", "300001"),
        ("imi 300001", "300001"),
        ("IMI 300001 en IMI 300002", None),
        ("rapport 300001", None),
    ],
)
def test_the_request_id_in_the_subject(subject: str, expected: str | None) -> None:
    """The subject names one request as [IMI n], IMI n or IMI-verzoek n; two ids name none."""
    assert subject_request(subject) == expected


def test_a_command_with_a_pdf_beside_it_stays_a_command(store: MemoryStateStore) -> None:
    """A reply whose first line is a command (BEANTWOORD with the answer attached) is left to
    the command path: a PDF never swallows a handler's command."""
    data = mail(PDF).replace(b"Het rapport.", b"BEANTWOORD")
    assert plan(store, data) is None
