"""Build RFC 5322 messages from ``OutgoingMail``. Pure: values in, message out."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from imi_mailwatch.model import LOOP_HEADER, OutgoingMail


def build_message(
    mail: OutgoingMail, *, from_address: str, from_name: str, date: float | None = None
) -> EmailMessage:
    """A complete message: text (+ HTML alternative), attachments, loop-protection headers."""
    msg = EmailMessage()
    local, _, domain = from_address.partition("@")
    msg["From"] = Address(display_name=from_name, username=local, domain=domain)
    msg["To"] = ", ".join(mail.to)
    if mail.cc:
        msg["Cc"] = ", ".join(mail.cc)
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(date, localtime=False)
    msg["Message-ID"] = mail.message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg[LOOP_HEADER] = "1"
    for name, value in mail.headers:
        if name.lower() not in {"auto-submitted", LOOP_HEADER.lower(), "message-id"}:
            msg[name] = value
    msg.set_content(mail.text)
    if mail.html is not None:
        msg.add_alternative(mail.html, subtype="html")
    for att in mail.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        msg.add_attachment(
            att.data, maintype=maintype, subtype=subtype or "octet-stream", filename=att.filename
        )
    return msg
