"""The drop-folder and intake-mail task sinks, and the PDF rendering they share."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from imi_mailwatch.adapters.drop_folder import DropFolderTaskSink
from imi_mailwatch.adapters.intake_mail import IntakeMailTaskSink, task_message_id
from imi_mailwatch.adapters.memory import InMemoryNotifier
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.config import IntakeMailConfig
from imi_mailwatch.errors import (
    NotifierUnavailableError,
    TaskSinkRejectedError,
    TaskSinkUnavailableError,
)
from imi_mailwatch.model import OutgoingMail, TaskRef
from imi_mailwatch.pdf import alert_text, find_unicode_font, render_task_pdf, to_latin1
from imi_mailwatch.ports import TaskSink

from .conftest import alert_eml, task_request


@pytest.fixture
def folder() -> Iterator[Path]:
    """A fresh temporary folder under /tmp."""
    path = Path(tempfile.mkdtemp(prefix="imi-drop-"))
    yield path
    for p in sorted(path.rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()
    path.rmdir()


def test_drop_folder_writes_pdf_eml_and_sidecar(folder: Path) -> None:
    """create leaves <id>.pdf, <id>.eml and <id>.json with the fields and no temp files."""
    sink = DropFolderTaskSink(folder, clock=FakeClock())
    assert isinstance(sink, TaskSink)
    ref = sink.create(task_request("123456"))
    assert ref == TaskRef("drop_folder", "123456")
    assert (folder / "123456.pdf").read_bytes().startswith(b"%PDF")
    assert (folder / "123456.eml").read_bytes() == alert_eml("123456")
    side = json.loads((folder / "123456.json").read_text(encoding="utf-8"))
    assert side["reference"] == "123456"
    assert side["org_unit"] == "ORG-VTH"
    assert side["deadline"] == "01/12/2026"
    assert side["memo"].startswith("Dit is een IMI-verzoek")
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_drop_folder_find_and_annotate(folder: Path) -> None:
    """find sees the sidecar; annotate appends each line once to the sidecar's memo lines."""
    sink = DropFolderTaskSink(folder, clock=FakeClock())
    assert sink.find("123456") is None
    ref = sink.create(task_request("123456"))
    assert DropFolderTaskSink(folder, clock=FakeClock()).find("123456") == ref
    sink.annotate(ref, "20-11-2026: toegewezen")
    sink.annotate(ref, "20-11-2026: toegewezen")
    sink.annotate(ref, "25-11-2026: gesloten")
    side = json.loads((folder / "123456.json").read_text(encoding="utf-8"))
    assert side["memo_lines"] == ["20-11-2026: toegewezen", "25-11-2026: gesloten"]


def test_drop_folder_after_import_took_the_sidecar(folder: Path) -> None:
    """After the import took the sidecar, find still sees the task; annotate leaves an addendum."""
    sink = DropFolderTaskSink(folder, clock=FakeClock())
    ref = sink.create(task_request("123456"))
    for suffix in (".json", ".pdf", ".eml"):
        (folder / f"123456{suffix}").unlink()
    assert sink.find("123456") == ref
    sink.annotate(ref, "20-11-2026: toegewezen")
    addendum = json.loads((folder / "123456.memo-1.json").read_text(encoding="utf-8"))
    assert addendum["memo_lines"] == ["20-11-2026: toegewezen"]


def test_drop_folder_unknown_task_is_permanent(folder: Path) -> None:
    """Annotating a task that was never written is refused."""
    with pytest.raises(TaskSinkRejectedError):
        DropFolderTaskSink(folder, clock=FakeClock()).annotate(TaskRef("drop_folder", "1"), "x")


def test_drop_folder_read_only_is_permanent(folder: Path) -> None:
    """A folder that cannot be written (a file in its way) is a permanent error."""
    blocker = folder / "blocked"
    blocker.write_text("not a folder")
    with pytest.raises((TaskSinkRejectedError, TaskSinkUnavailableError)):
        DropFolderTaskSink(blocker, clock=FakeClock()).create(task_request("1"))


def test_drop_folder_cleans_odd_request_ids(folder: Path) -> None:
    """A request id with path characters cannot escape the folder."""
    ref = DropFolderTaskSink(folder, clock=FakeClock()).create(task_request("../../x 1"))
    assert ref.ref == "_.._x_1"
    assert (folder / "_.._x_1.json").is_file()


def test_intake_mail_sends_once_and_records(folder: Path) -> None:
    """create mails the intake box with PDF and .eml; find then sees it from the record."""
    notifier = InMemoryNotifier()
    cfg = IntakeMailConfig(to="intake@example.nl")
    sink = IntakeMailTaskSink(cfg, notifier=notifier, clock=FakeClock(), record_dir=folder)
    assert isinstance(sink, TaskSink)
    assert sink.find("123456") is None
    ref = sink.create(task_request("123456"))
    assert sink.find("123456") == ref
    [mail] = notifier.sent
    assert mail.to == ("intake@example.nl",)
    assert mail.message_id == task_message_id("123456")
    assert "ORG-VTH" in mail.text and "01/12/2026" in mail.text
    assert [a.filename.rsplit(".", 1)[1] for a in mail.attachments] == ["pdf", "eml"]


def test_intake_mail_annotate_sends_a_follow_up_once(folder: Path) -> None:
    """annotate sends one follow-up per line, referring to the first mail."""
    notifier = InMemoryNotifier()
    sink = IntakeMailTaskSink(
        IntakeMailConfig(to="intake@example.nl"),
        notifier=notifier,
        clock=FakeClock(),
        record_dir=folder,
    )
    ref = sink.create(task_request("123456"))
    sink.annotate(ref, "20-11-2026: toegewezen")
    sink.annotate(ref, "20-11-2026: toegewezen")
    assert len(notifier.sent) == 2
    assert ("In-Reply-To", task_message_id("123456")) in notifier.sent[1].headers


class _DownNotifier:
    def send(self, mail: OutgoingMail) -> None:
        raise NotifierUnavailableError("smtp down")


def test_intake_mail_notifier_outage_is_transient_and_records_nothing(folder: Path) -> None:
    """A notifier outage is TaskSinkUnavailableError and find stays empty."""
    sink = IntakeMailTaskSink(
        IntakeMailConfig(to="intake@example.nl"),
        notifier=_DownNotifier(),
        clock=FakeClock(),
        record_dir=folder,
    )
    with pytest.raises(TaskSinkUnavailableError):
        sink.create(task_request("123456"))
    assert sink.find("123456") is None


def test_pdf_with_unicode_font_embeds_polish_names() -> None:
    """With a Unicode TTF the PDF embeds that font (Polish names need it)."""
    font = find_unicode_font()
    if font is None:
        pytest.skip("no Unicode TrueType font on this machine; the fallback is tested below")
    pdf = render_task_pdf(task_request("123456"), font=font)
    assert pdf.startswith(b"%PDF") and b"FontFile2" in pdf


def test_pdf_without_font_falls_back_to_transliteration() -> None:
    """Without a TTF a PDF is still made with the core font."""
    pdf = render_task_pdf(task_request("123456"), font=Path("/nonexistent/font.ttf"))
    assert pdf.startswith(b"%PDF") and b"Helvetica" in pdf


def test_transliteration_keeps_latin1_and_simplifies_the_rest() -> None:
    """Latin-1 letters stay; Polish letters lose their marks; other scripts become '?'."""
    assert to_latin1("Urząd Marszałkowski Województwa Śląskiego") == (
        "Urzad Marszalkowski Województwa Slaskiego"
    )
    assert to_latin1("Ελ") == "??"


def test_alert_text_reads_the_plain_part() -> None:
    """The PDF's body lines come from the alert's text part."""
    lines = alert_text(alert_eml("123456"))
    assert any("Urząd Marszałkowski" in line for line in lines)


def test_pdf_of_latin1_text_uses_the_core_font_even_with_a_ttf_at_hand() -> None:
    """Only text outside Latin-1 pays for loading and embedding a TrueType font."""
    import dataclasses

    font = find_unicode_font()
    if font is None:
        pytest.skip("no Unicode TrueType font on this machine")
    task = task_request("123456")
    alert = dataclasses.replace(task.alert, requesting_authority="Stadt Beispielburg, Bürgeramt")
    eml = (Path(__file__).parents[1] / "samples" / "nl_new_request.eml").read_bytes()
    task = dataclasses.replace(task, alert=alert, alert_eml=eml)
    pdf = render_task_pdf(task, font=font)
    assert b"FontFile2" not in pdf and b"Helvetica" in pdf
