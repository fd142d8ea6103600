"""Who may send an alert: the trusted server's verdict, forwarders, and ordinary mail left alone."""

from __future__ import annotations

import base64

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from imi_mailwatch.model import LOOP_HEADER, MessageKind
from tests.alerts.mail import (
    AR_FORWARDER,
    AR_PASS,
    NL_BODY,
    NL_SUBJECT,
    message,
    multipart,
    reader,
)

READER = reader()
FORWARDER = "J. de Vries (ICB) <j.devries@brabant.nl>"
COLLEAGUE = "P. Jansen <p.jansen@brabant.nl>"


def kind(data: bytes) -> MessageKind:
    return READER.classify(data).kind


@pytest.mark.parametrize(
    "results",
    [
        (AR_PASS,),
        ("mx.brabant.nl; dmarc=pass header.from=ec.europa.eu",),
        ("mx.brabant.nl; dkim=pass header.d=ec.europa.eu; spf=fail",),  # no DMARC verdict
        ("MX.Brabant.NL (comment); dkim=pass (good) header.d=imi.ec.europa.eu",),  # aligned
        ("mx.brabant.nl; dmarc=pass header.from=ec.europa.eu", "evil.example; dmarc=fail"),
    ],
)
def test_authenticated_alerts_are_imi_alerts(results: tuple[str, ...]) -> None:
    """DMARC pass, or aligned DKIM pass without a DMARC verdict, from the trusted server."""
    c = READER.classify(message(auth_results=results))
    assert c.kind is MessageKind.IMI_ALERT, c.reason
    assert c.auth is not None and c.auth.trusted


@pytest.mark.parametrize(
    ("results", "why"),
    [
        ((), "no trusted Authentication-Results"),
        (("evil.example; dmarc=pass header.from=ec.europa.eu",), "no trusted"),
        (("mx.brabant.nl.evil.example; dmarc=pass header.from=ec.europa.eu",), "no trusted"),
        (("mx.brabant.nl; dmarc=fail header.from=ec.europa.eu",), "dmarc=fail"),
        (("mx.brabant.nl; dkim=pass header.d=evil.example; spf=pass",), "no dmarc"),
        (("mx.brabant.nl; dkim=pass header.d=europa.eu.evil.example",), "no dmarc"),
        (("mx.brabant.nl; dmarc=none header.from=ec.europa.eu; spf=pass",), "dmarc=none"),
        (("mx.brabant.nl; spf=pass smtp.mailfrom=ec.europa.eu",), "no dmarc"),
        # the receiving server's header is on top; a forged pass below it is not read
        (("mx.brabant.nl; dmarc=fail header.from=ec.europa.eu", AR_PASS), "dmarc=fail"),
    ],
)
def test_forged_or_unauthenticated_alerts_are_rejected(results: tuple[str, ...], why: str) -> None:
    """Claims to be IMI, fails: rejected with the reason; no alert is read from it."""
    c = READER.classify(message(auth_results=results))
    assert c.kind is MessageKind.REJECTED
    assert c.reason is not None and why in c.reason
    assert c.alert is None


@pytest.mark.parametrize(
    "sender",
    [
        "IMI <imi-notifications@ec-europa.eu>",  # look-alike
        "IMI <imi-notifications@ec.europa.eu.evil.example>",
        "IMI <imi@evil.example>",
    ],
)
def test_an_alert_from_another_domain_is_rejected(sender: str) -> None:
    """An IMI-looking message from a domain that is not allowed is rejected, whatever it passed."""
    ar = f"mx.brabant.nl; dmarc=pass header.from={sender.split('@')[1].rstrip('>')}"
    c = READER.classify(message(sender=sender, auth_results=(ar,)))
    assert c.kind is MessageKind.REJECTED and c.alert is None


def test_two_from_headers_are_rejected() -> None:
    """A second From header (DMARC reads one, a client shows the other) is rejected."""
    data = message(extra=("From: Someone <someone@evil.example>",))
    assert kind(data) is MessageKind.REJECTED


def _forward(sender: str, results: tuple[str, ...], inner_from: str | None = None) -> bytes:
    inner = message() if inner_from is None else message(sender=inner_from)
    return multipart(
        [("Content-Type: message/rfc822", inner)],
        subtype="mixed", sender=sender, subject="FW: " + NL_SUBJECT, auth_results=results,
        extra=(),
    )  # fmt: skip


def test_forward_rules() -> None:
    """Forwards: only from a configured forwarder that passed, of a message from IMI's domain."""
    trusted = READER.classify(_forward(FORWARDER, (AR_FORWARDER,)))
    assert trusted.kind is MessageKind.IMI_ALERT and trusted.auth is not None
    assert trusted.auth.via_forwarder
    colleague = READER.classify(_forward(COLLEAGUE, (AR_FORWARDER,)))
    assert colleague.kind is MessageKind.REJECTED
    assert "not a configured forwarder" in (colleague.reason or "")
    failed = READER.classify(
        _forward(FORWARDER, ("mx.brabant.nl; dmarc=fail header.from=brabant.nl",))
    )
    assert failed.kind is MessageKind.REJECTED
    foreign = READER.classify(_forward(FORWARDER, (AR_FORWARDER,), "IMI <imi@evil.example>"))
    assert foreign.kind is MessageKind.REJECTED


def test_a_forwarded_message_whose_own_verdict_failed_is_rejected() -> None:
    """An attached alert carrying the trusted server's dmarc=fail is not made good by forwarding."""
    inner = message(auth_results=("mx.brabant.nl; dmarc=fail header.from=ec.europa.eu",))
    data = multipart([("Content-Type: message/rfc822", inner)], subtype="mixed",
                     sender=FORWARDER, auth_results=(AR_FORWARDER,), extra=())  # fmt: skip
    assert kind(data) is MessageKind.REJECTED


def test_forwarders_by_domain() -> None:
    """An ``@domain`` forwarder entry trusts everyone at that domain (and no look-alike)."""
    r = reader(forwarders=("@brabant.nl",))
    assert r.classify(_forward(COLLEAGUE, (AR_FORWARDER,))).kind is MessageKind.IMI_ALERT
    evil = "X <x@brabant.nl.evil.example>"
    assert r.classify(_forward(evil, (AR_FORWARDER,))).kind is MessageKind.REJECTED


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (message(extra=(f"{LOOP_HEADER}: reminder",)), "loop protection"),
        (message(subject="Automatisch antwoord: " + NL_SUBJECT, sender=COLLEAGUE), "automatic"),
        (message(subject="Out of Office: " + NL_SUBJECT, sender=COLLEAGUE), "automatic"),
        (message(sender=COLLEAGUE, extra=("Auto-Submitted: auto-replied",)), "automatic"),
        (message(subject="Undeliverable: herinnering", sender="MAILER-DAEMON@brabant.nl"),
         "delivery report"),
        (multipart([("Content-Type: message/delivery-status", b"Status: 5.1.1")],
                   subtype="report; report-type=delivery-status", sender="postmaster@brabant.nl"),
         "delivery report"),
        (message("Hoi, heb je de melding gezien?", subject="Re: " + NL_SUBJECT,
                 sender=COLLEAGUE, auth_results=(AR_FORWARDER,)), "a reply"),
        (message("Nieuwsbrief over IMI en de Dienstenrichtlijn.", subject="Nieuwsbrief",
                 sender="Nieuws <nieuws@example.org>"), "not from an allowed"),
        (message("Welkom bij de Commissie.", subject="Nieuws van de Commissie",
                 sender="News <news@ec.europa.eu>"), "not an IMI alert"),
    ],
)  # fmt: skip
def test_ordinary_mail_is_left_alone(data: bytes, why: str) -> None:
    """Own mail, out-of-office replies, bounces, replies and newsletters are not_imi."""
    c = READER.classify(data)
    assert c.kind is MessageKind.NOT_IMI
    assert c.reason is not None and why in c.reason


def test_a_reply_quoting_an_alert_from_a_colleague_is_not_an_alert() -> None:
    """A colleague's 'Re:' that quotes the whole alert is ordinary mail, not a forward."""
    body = (
        "Ik pak deze op.\n\n-----Original Message-----\n"
        "From: IMI <imi-notifications@ec.europa.eu>\n"
        f"Subject: {NL_SUBJECT}\n\n{NL_BODY}"
    )
    data = message(
        body, subject="RE: " + NL_SUBJECT, sender=COLLEAGUE, auth_results=(AR_FORWARDER,)
    )
    # A quoted alert from someone who is not a forwarder: kept for review, never acted on.
    assert kind(data) in (MessageKind.NOT_IMI, MessageKind.REJECTED)


def _dkim_signed() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    data = message(auth_results=())
    headers = [b"from", b"subject", b"date", b"message-id"]
    signature = dkim.sign(data, b"imi2026", b"ec.europa.eu", private, include_headers=headers)
    return signature + data, record


def test_local_dkim_verification_when_no_trusted_server_adds_results() -> None:
    """verify_dkim: a valid aligned signature passes; a changed body fails; DNS is a fake."""
    signed, record = _dkim_signed()

    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"imi2026._domainkey.ec.europa.eu." else None

    r = reader(dns, verify_dkim=True)
    good = r.classify(signed)
    assert good.kind is MessageKind.IMI_ALERT, good.reason
    tampered = signed.replace(b"Duitsland", b"Frankrijk")
    assert r.classify(tampered).kind is MessageKind.REJECTED
    assert reader().classify(signed).kind is MessageKind.REJECTED  # not configured: no verdict
