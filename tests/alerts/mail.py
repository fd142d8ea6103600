"""Synthetic IMI alerts and ordinary mail for the alert tests (no real data)."""

from __future__ import annotations

import base64
import quopri
from typing import Any

from imi_mailwatch.alerts import AlertReader
from imi_mailwatch.alerts.auth import DnsFunc
from imi_mailwatch.config import AlertsConfig, AuthenticationConfig

IMI_FROM = "IMI Notifications <imi-notifications@ec.europa.eu>"
AR_PASS = (
    "mx.brabant.nl; dkim=pass header.d=ec.europa.eu header.s=imi2026;\r\n"
    " spf=pass smtp.mailfrom=ec.europa.eu; dmarc=pass header.from=ec.europa.eu"
)
AR_FORWARDER = (
    "mx.brabant.nl; dkim=pass header.d=brabant.nl; spf=pass; dmarc=pass header.from=brabant.nl"
)
NL_SUBJECT = "IMI - Diensten - Nieuw verzoek 184523 ontvangen"
NL_FIELDS = (
    "Verzoek-ID: 184523\n"
    "Wetgevingsgebied: Diensten\n"
    "Verzoekende autoriteit: Landratsamt Kleve\n"
    "Lidstaat: Duitsland\n"
    "Dienstverleningsactiviteiten: Bouwactiviteiten; Sloopwerkzaamheden\n"
    "Gevraagde antwoorddatum: 14-12-2026\n"
)
NL_BODY = (
    "Geachte IMI-gebruiker,\n\nUw autoriteit heeft een nieuw informatieverzoek ontvangen.\n\n"
    + NL_FIELDS
    + "\nLog in op IMI om het verzoek te bekijken.\n"
)


def reader(dnsfunc: DnsFunc | None = None, **auth: Any) -> AlertReader:
    """A reader with the province's defaults (mx.brabant.nl, ec.europa.eu, j.devries)."""
    return AlertReader(AuthenticationConfig(**auth), AlertsConfig(), dnsfunc=dnsfunc)


def encode(text: str, charset: str = "utf-8", cte: str = "8bit") -> bytes:
    raw = text.replace("\n", "\r\n").encode(charset)
    if cte == "base64":
        return base64.encodebytes(raw)
    if cte == "quoted-printable":
        return quopri.encodestring(raw)
    return raw


def message(
    body: bytes | str = NL_BODY,
    *,
    subject: str = NL_SUBJECT,
    sender: str = IMI_FROM,
    auth_results: tuple[str, ...] = (AR_PASS,),
    content_type: str = "text/plain; charset=utf-8",
    cte: str = "8bit",
    extra: tuple[str, ...] = ("Auto-Submitted: auto-generated",),
    message_id: str = "<t-1@imi.ec.europa.eu>",
) -> bytes:
    """One message: headers as given (Authentication-Results on top), then the body."""
    if isinstance(body, str):
        charset = "utf-8"
        if "charset=" in content_type:
            charset = content_type.split("charset=")[1].split(";", maxsplit=1)[0].strip('"')
        body = encode(body, charset, cte)
    head = [f"Authentication-Results: {ar}" for ar in auth_results]
    head += [
        f"From: {sender}",
        "To: IMI Provincie Noord-Brabant <imi@brabant.nl>",
        f"Subject: {subject}",
        "Date: Mon, 16 Nov 2026 09:12:00 +0100",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}",
        f"Content-Transfer-Encoding: {cte}",
        *extra,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("utf-8") + body


def multipart(parts: list[tuple[str, bytes]], subtype: str = "alternative", **kw: object) -> bytes:
    """A multipart body from (part headers, part body) pairs."""
    boundary = "==b0undary=="
    chunks = []
    for head, data in parts:
        chunks.append(f"--{boundary}\r\n{head}\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return message(
        body,
        content_type=f'multipart/{subtype}; boundary="{boundary}"',
        cte="7bit",
        **kw,  # type: ignore[arg-type]
    )
