"""GraphNotifier: reminders through Graph sendMail on a loopback server."""

from __future__ import annotations

import base64
import email
from dataclasses import replace
from email import policy

import pytest

from imi_mailwatch.adapters.graph_send import GraphNotifier
from imi_mailwatch.errors import NotifierRejectedError, NotifierUnavailableError
from imi_mailwatch.model import LOOP_HEADER, Attachment, OutgoingMail
from tests.m365.conftest import FakeClock, RecordingSleep, graph_config
from tests.servers.graph_server import GraphServer

MAIL = OutgoingMail(
    message_id="<reminder-000123-d-2@imi-mailwatch.example.test>",
    to=("team-a@example.test",),
    cc=("beheer@example.test",),
    subject="Herinnering: IMI-verzoek 000123",
    text="Het verzoek moet over twee werkdagen beantwoord zijn.",
    html="<p>Het verzoek moet over twee werkdagen beantwoord zijn.</p>",
    attachments=(Attachment("termijn.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR"),),
    headers=(("X-IMI-Request", "000123"), ("Auto-Submitted", "auto-generated")),
)


def notifier(
    graph: GraphServer, sleep: RecordingSleep | None = None, **cfg: object
) -> GraphNotifier:
    return GraphNotifier(
        graph_config(graph, **cfg),
        from_address=graph.mailbox.address,
        from_name="IMI-mailwatch",
        clock=FakeClock(),
        sleep=sleep,
    )


def test_mime_send_keeps_text_html_attachment_and_headers(graph: GraphServer) -> None:
    """The MIME form carries both bodies, the attachment, Message-ID and Auto-Submitted."""
    n = notifier(graph)
    n.send(MAIL)
    n.close()
    (sent,) = graph.sent
    msg = email.message_from_bytes(sent["mime"], policy=policy.default)
    assert msg["Message-ID"] == MAIL.message_id
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg[LOOP_HEADER] == "1"
    assert msg["X-IMI-Request"] == "000123"
    types = [p.get_content_type() for p in msg.walk()]
    assert "text/plain" in types and "text/html" in types and "text/calendar" in types
    post = next(r for r in graph.requests if r[1].endswith("/sendMail"))
    assert post[2]["content-type"] == "text/plain"


def test_json_send_uses_graph_message_shape(graph: GraphServer) -> None:
    """The JSON form: HTML body, fileAttachment, internetMessageId, X- headers only."""
    n = notifier(graph, send_format="json")
    n.send(MAIL)
    n.close()
    (sent,) = graph.sent
    assert sent["saveToSentItems"] is True
    m = sent["message"]
    assert m["internetMessageId"] == MAIL.message_id
    assert m["body"]["contentType"] == "HTML"
    assert m["toRecipients"] == [{"emailAddress": {"address": "team-a@example.test"}}]
    assert m["ccRecipients"] == [{"emailAddress": {"address": "beheer@example.test"}}]
    names = [h["name"] for h in m["internetMessageHeaders"]]
    assert names == [LOOP_HEADER, "X-IMI-Request"]
    (att,) = m["attachments"]
    assert att["@odata.type"] == "#microsoft.graph.fileAttachment"
    assert base64.b64decode(att["contentBytes"]).startswith(b"BEGIN:VCALENDAR")
    assert "from" not in m  # sent as the mailbox itself


def test_json_send_keeps_the_reply_to(graph: GraphServer) -> None:
    """A Reply-To (the functional mailbox, where reply commands go) is not dropped by the
    JSON form, which takes only X- headers: it becomes the message's replyTo."""
    n = notifier(graph, send_format="json")
    n.send(replace(MAIL, headers=(("Reply-To", "imi@example.test"), *MAIL.headers)))
    n.close()
    (sent,) = graph.sent
    assert sent["message"]["replyTo"] == [{"emailAddress": {"address": "imi@example.test"}}]


def test_send_waits_out_throttling(graph: GraphServer) -> None:
    """A 429 with Retry-After is waited out and the message goes once."""
    sleep = RecordingSleep()
    n = notifier(graph, sleep=sleep)
    n.send(MAIL)  # settles the token
    graph.throttle(1, 429, retry_after=4)
    n.send(MAIL)
    assert sleep.waits == [4]
    assert len(graph.sent) == 2


def test_send_errors_are_notifier_errors(graph: GraphServer) -> None:
    """Graph refusals raise NotifierRejectedError; persistent 503 NotifierUnavailableError."""
    n = notifier(graph, sleep=RecordingSleep())
    with pytest.raises(NotifierRejectedError, match="ErrorInvalidRecipients"):
        n.send(OutgoingMail(message_id="<x@example.test>", to=(), subject="s", text="t"))
    graph.throttle(10, 503, retry_after=1)
    with pytest.raises(NotifierUnavailableError, match="503"):
        n.send(MAIL)


def test_wrong_secret_is_a_notifier_rejection(graph: GraphServer) -> None:
    """A refused client secret surfaces as NotifierRejectedError, not a mail-source error."""
    n = notifier(graph, secret_value="not-the-secret")
    with pytest.raises(NotifierRejectedError, match="invalid_client"):
        n.send(MAIL)
