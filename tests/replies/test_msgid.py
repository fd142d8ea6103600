"""The daemon's own Message-IDs: made once, read back from replies."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from imi_mailwatch.adapters.intake_mail import ID_DOMAIN, task_message_id
from imi_mailwatch.deadlines.plan import message_id
from imi_mailwatch.msgid import DaemonMessageId, make_message_id, message_ids_in, parse_message_id


def test_reminder_ids_are_unchanged() -> None:
    """Reminder ids keep the form already stored for sent follow-ups (resends stay repeats)."""
    assert message_id("184523", "d-5", date(2026, 11, 20), "brabant.example") == (
        "<imi.184523.dm5.20261120@brabant.example>"
    )
    assert message_id("184523", "d+1r", date(2026, 12, 2), "brabant.example") == (
        "<imi.184523.dp1r.20261202@brabant.example>"
    )


def test_reminder_ids_read_back_to_their_request() -> None:
    """A reminder's id, read back, names its request, step and day."""
    mid = message_id("184523", "d-5", date(2026, 11, 20), "brabant.nl")
    assert parse_message_id(mid, ["brabant.nl"]) == DaemonMessageId(
        "184523", "dm5", "20261120", "brabant.nl"
    )


def test_intake_mail_ids_are_made_by_the_one_function() -> None:
    """The intake mail's id is one of the daemon's ids and reads back to its request."""
    parsed = parse_message_id(task_message_id("123456"), [ID_DOMAIN])
    assert parsed is not None
    assert parsed.request_id == "123456"


def test_ids_at_another_domain_are_not_ours() -> None:
    """An id of our form at a domain that is not ours names no request."""
    assert parse_message_id("<imi.184523.notice.1@brabant.nl.evil.example>", ["brabant.nl"]) is None
    assert parse_message_id("<imi.184523.notice.1@brabant.nl>", ["brabant.nl"]) is not None


def test_other_ids_are_not_ours() -> None:
    """Ordinary Message-IDs and broken ones are not read as the daemon's."""
    for value in ("<AM0PR01MB1234@eurprd01.prod.outlook.com>", "<imi.184523@brabant.nl>",
                  "imi.184523.a.b@brabant.nl", "<imi..a.b@brabant.nl>", ""):  # fmt: skip
        assert parse_message_id(value) is None


def test_ids_in_a_references_field_are_found_in_order() -> None:
    """Every <...> of a References value is found, in order, folding and all."""
    value = "<a@x.example>\r\n <imi.1.notice.1@brabant.nl> <b@y.example>"
    assert message_ids_in(value) == [
        "<a@x.example>",
        "<imi.1.notice.1@brabant.nl>",
        "<b@y.example>",
    ]


_PARTS = st.text(st.characters(codec="ascii"), min_size=1, max_size=30)


@given(request=_PARTS, kind=_PARTS, key=_PARTS)
def test_every_made_id_reads_back(request: str, kind: str, key: str) -> None:
    """Whatever a request id, kind or key holds, the id made of it reads back."""
    parsed = parse_message_id(make_message_id(request, kind, key, "brabant.nl"), ["brabant.nl"])
    assert parsed is not None
    assert parsed.domain == "brabant.nl"
