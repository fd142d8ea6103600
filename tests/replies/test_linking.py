"""Linking a reply to its request: the daemon's own ids first, then the subject."""

from __future__ import annotations

import pytest

from imi_mailwatch.replies.body import read_reply
from imi_mailwatch.replies.linking import (
    LinkedBy,
    link_request,
    request_in_subject,
    strip_reply_prefixes,
)
from tests.replies.mail import ID_DOMAINS, NOTICE_ID, REMINDER_ID, iphone, outlook_desktop, plain


def _link(data: bytes):  # type: ignore[no-untyped-def]
    return link_request(read_reply(data).message, ID_DOMAINS)


def test_in_reply_to_names_the_request() -> None:
    """An Outlook reply is linked through In-Reply-To to the mail it answers."""
    link = _link(outlook_desktop("AANVAARD", in_reply_to=REMINDER_ID))
    assert link is not None
    assert (link.request_id, link.by) == ("184523", LinkedBy.IN_REPLY_TO)
    assert link.answers is not None
    assert link.answers.kind == "dm5"


def test_the_header_wins_over_the_subject() -> None:
    """When In-Reply-To names a request, a different id in the subject does not count."""
    link = _link(iphone("AANVAARD", subject="Re: [IMI 999999] iets anders"))
    assert link is not None
    assert link.request_id == "184523"


def test_references_are_read_when_in_reply_to_is_foreign() -> None:
    """A reply to a colleague's forward is linked by the daemon's id in References."""
    data = plain("AANVAARD", in_reply_to=None, extra=(
        "In-Reply-To: <AM0PR01MB1@eurprd01.prod.outlook.com>",
        f"References: {NOTICE_ID} <AM0PR01MB1@eurprd01.prod.outlook.com>",
    ))  # fmt: skip
    link = _link(data)
    assert link is not None
    assert (link.request_id, link.by) == ("184523", LinkedBy.REFERENCES)


def test_the_subject_is_the_fallback() -> None:
    """Without the daemon's ids, the request id in the subject links the reply."""
    link = _link(plain("AANVAARD", in_reply_to=None, subject="AW: Antw: FW: [IMI 184523] x"))
    assert link is not None
    assert (link.request_id, link.by, link.answers) == ("184523", LinkedBy.SUBJECT, None)


def test_ids_of_another_domain_do_not_link() -> None:
    """An id of the daemon's form at a foreign domain is ignored; the subject decides."""
    data = plain("AANVAARD", in_reply_to="<imi.777777.notice.1@evil.example>", subject="Re: hoi")
    assert _link(data) is None


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("RE: [IMI 184523] Nieuw verzoek", "184523"),
        ("Antw: [IMI 184523]", "184523"),
        ("AW: [imi 184523]", "184523"),
        ("FW: RE: [IMI 184523] herinnering", "184523"),
        ("RE: [IMI 184523] en [IMI 184524]", None),
        ("RE: [IMI 184523] en [IMI 184523]", "184523"),
        ("RE: IMI 184523", None),
        ("Nieuw verzoek", None),
    ],
)
def test_request_ids_in_subjects(subject: str, expected: str | None) -> None:
    """The subject names a request only in brackets, and only one."""
    assert request_in_subject(subject) == expected


def test_reply_prefixes_are_stripped() -> None:
    """RE:, AW:, Antw:, FW:, Fwd: and WG: are stripped, however many."""
    assert strip_reply_prefixes("RE: Antw: AW:FW: Fwd: WG: [IMI 1] x") == "[IMI 1] x"
