"""Automatic replies are recognised, so the daemon never answers one."""

from __future__ import annotations

import pytest

from imi_mailwatch.replies.auto import automatic_reason
from imi_mailwatch.replies.body import read_reply
from imi_mailwatch.replies.reader import read
from tests.replies.mail import ID_DOMAINS, TRUST, outlook_desktop, plain


@pytest.mark.parametrize(
    "extra",
    [
        ("Auto-Submitted: auto-replied",),
        ("Auto-Submitted: auto-generated",),
        ("X-Auto-Response-Suppress: All",),
        ("X-Autoreply: yes",),
        ("Precedence: bulk",),
        ("Precedence: auto_reply",),
        ("Precedence: list",),
        ("List-Id: <team.brabant.nl>",),
        ("Return-Path: <>",),
        ("X-IMI-Mailwatch: 1",),
    ],
)
def test_automatic_headers_are_recognised(extra: tuple[str, ...]) -> None:
    """Each header an auto-responder, a list or the daemon itself sets marks the mail automatic."""
    reading = read(outlook_desktop("AANVAARD", extra=extra), trust=TRUST, id_domains=ID_DOMAINS)
    assert reading.automatic is not None
    assert not reading.actionable
    assert reading.command is None  # read no further: never answered


@pytest.mark.parametrize(
    "subject",
    [
        "Automatisch antwoord: [IMI 184523] Nieuw verzoek",
        "Afwezig: [IMI 184523] Nieuw verzoek",
        "Out of Office: [IMI 184523] Nieuw verzoek",
        "Automatic reply: [IMI 184523] Nieuw verzoek",
        "Onbestelbaar: [IMI 184523] Nieuw verzoek",
    ],
)
def test_out_of_office_subjects_are_recognised(subject: str) -> None:
    """Out-of-office and undeliverable subjects mark the mail automatic, even with no header."""
    assert automatic_reason(
        read_reply(plain("Ik ben afwezig tot 1 december.", subject=subject)).message
    )


def test_auto_submitted_no_is_a_person() -> None:
    """Auto-Submitted: no is what a person's mail may say; it is read as a reply."""
    message = read_reply(plain("AANVAARD", extra=("Auto-Submitted: no",))).message
    assert automatic_reason(message) is None


def test_a_delivery_report_is_recognised() -> None:
    """A multipart/report with a delivery-status part is a delivery report."""
    data = (
        b"From: Mail Delivery System <mailer-daemon@brabant.nl>\r\nTo: imi@brabant.nl\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/plain\r\n\r\nAANVAARD\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        b"Final-Recipient: rfc822; x@brabant.nl\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--r--\r\n"
    )
    reading = read(data, trust=TRUST, id_domains=ID_DOMAINS)
    assert reading.automatic == "delivery report"
    assert not reading.actionable


def test_a_persons_reply_is_not_automatic() -> None:
    """An ordinary Outlook reply is not taken for an automatic one."""
    assert automatic_reason(read_reply(outlook_desktop("AANVAARD")).message) is None
