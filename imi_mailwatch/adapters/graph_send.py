"""Reminders and reports sent through Microsoft Graph ``sendMail`` (no SMTP relay needed).

``POST /users/{mailbox}/sendMail`` in one of two forms (``graph.send_format``):

- ``mime`` (default): the complete RFC 5322 message built by ``mailbuild``,
  base64-encoded, ``Content-Type: text/plain``. The text part, the HTML
  alternative, the attachments, ``Message-ID``, ``Auto-Submitted`` and the loop
  header travel exactly as they would over SMTP.
- ``json``: a Graph ``message`` resource: one body (HTML when there is one, else
  text), attachments as ``#microsoft.graph.fileAttachment``, ``internetMessageId``
  from ``OutgoingMail.message_id``, and the ``X-`` headers as
  ``internetMessageHeaders`` (Graph accepts only names starting with ``X-``;
  others, such as ``Auto-Submitted``, cannot be set this way and are left out);
  a ``Reply-To`` header becomes the message's ``replyTo``.

The message is sent as the configured mailbox (application permission Mail.Send,
restricted to that mailbox) and kept in its Sent Items.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from imi_mailwatch.adapters.graph_http import GraphHttp
from imi_mailwatch.adapters.oauth import OAuthTokenProvider
from imi_mailwatch.config import GraphConfig
from imi_mailwatch.errors import NotifierRejectedError, NotifierUnavailableError
from imi_mailwatch.mailbuild import build_message
from imi_mailwatch.model import LOOP_HEADER, OutgoingMail
from imi_mailwatch.ports import Clock

log = structlog.get_logger(__name__)


@dataclass(eq=False, repr=False)
class GraphNotifier:
    """``ports.Notifier`` over Graph sendMail."""

    cfg: GraphConfig
    _: KW_ONLY
    from_address: str
    clock: Clock
    from_name: str = ""
    tokens: OAuthTokenProvider | None = None
    sleep: Callable[[float], None] | None = None
    transport: httpx.BaseTransport | None = None

    def __post_init__(self) -> None:
        self._http = GraphHttp.for_mailbox(
            self,
            unavailable_error=NotifierUnavailableError,
            rejected_error=NotifierRejectedError,
        )
        self._url = f"/users/{quote(self.cfg.mailbox, safe='@')}/sendMail"

    def send(self, mail: OutgoingMail) -> None:
        """Send one message; raises NotifierUnavailableError or NotifierRejectedError."""
        if self.cfg.send_format == "mime":
            msg = build_message(
                mail,
                from_address=self.from_address,
                from_name=self.from_name,
                date=self.clock.now().timestamp(),
            )
            self._http.request(
                "POST",
                self._url,
                op="send_mail",
                content=base64.b64encode(msg.as_bytes()),
                headers={"Content-Type": "text/plain"},
            )
        else:
            self._http.request("POST", self._url, op="send_mail", json=self.payload(mail))
        log.info(
            "graph.mail_sent",
            format=self.cfg.send_format,
            recipients=len(mail.to) + len(mail.cc),
            attachments=len(mail.attachments),
        )

    def payload(self, mail: OutgoingMail) -> dict[str, Any]:
        """The JSON sendMail body for ``mail`` (``send_format: json``)."""
        headers = [{"name": LOOP_HEADER, "value": "1"}]
        for name, value in mail.headers:
            if name.lower().startswith("x-") and name.lower() != LOOP_HEADER.lower():
                headers.append({"name": name, "value": value})
        message: dict[str, Any] = {
            "subject": mail.subject,
            "body": (
                {"contentType": "HTML", "content": mail.html}
                if mail.html is not None
                else {"contentType": "Text", "content": mail.text}
            ),
            "toRecipients": [_recipient(a) for a in mail.to],
            "internetMessageId": mail.message_id,
            "internetMessageHeaders": headers,
        }
        if mail.cc:
            message["ccRecipients"] = [_recipient(a) for a in mail.cc]
        reply_to = [v for name, v in mail.headers if name.lower() == "reply-to"]
        if reply_to:
            message["replyTo"] = [_recipient(a.strip()) for a in reply_to[0].split(",")]
        if self.from_address.lower() != self.cfg.mailbox.lower():
            sender: dict[str, str] = {"address": self.from_address}
            if self.from_name:
                sender["name"] = self.from_name
            message["from"] = {"emailAddress": sender}
        if mail.attachments:
            message["attachments"] = [
                {
                    "@odata.type": "#microsoft.graph.fileAttachment",
                    "name": att.filename,
                    "contentType": att.content_type,
                    "contentBytes": base64.b64encode(att.data).decode("ascii"),
                }
                for att in mail.attachments
            ]
        return {"message": message, "saveToSentItems": True}

    def close(self) -> None:
        self._http.close()


def _recipient(address: str) -> dict[str, dict[str, str]]:
    return {"emailAddress": {"address": address}}
