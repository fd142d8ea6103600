"""The trust model of docs/alerts.md, setting by setting: who may send an alert.

Covers what is trusted as designed (a forwarder's inline forward, any address at an
allowed domain), the narrower settings (``allowed_senders``, ``forward_trust:
original``), the Exchange Online stamp (``stamped_by: exchange_online``) and the
configuration checks that keep a setting from being wrong by accident.
"""

from __future__ import annotations

import pytest

from imi_mailwatch.alerts import AlertReader
from imi_mailwatch.config import parse_config
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.model import MessageKind
from tests.alerts.mail import AR_FORWARDER, AR_PASS, NL_BODY, NL_SUBJECT, message, multipart, reader

FORWARDER = "J. de Vries (ICB) <j.devries@brabant.nl>"
GENUINE_SENDER = "imi-notifications@ec.europa.eu"
# What Exchange Online writes (no authserv-id, 'action=' and 'compauth' of its own).
EXO_PASS = (
    "spf=pass (sender IP is 192.0.2.10) smtp.mailfrom=ec.europa.eu; dkim=pass\r\n"
    " (signature was verified) header.d=ec.europa.eu;dmarc=pass action=none\r\n"
    " header.from=ec.europa.eu;compauth=pass reason=100"
)
EXO_FAIL = (
    "spf=fail (sender IP is 198.51.100.7) smtp.mailfrom=ec.europa.eu; dkim=none\r\n"
    " (message not signed) header.d=none;dmarc=fail action=oreject\r\n"
    " header.from=ec.europa.eu;compauth=fail reason=000"
)


def exo() -> AlertReader:
    """A reader configured for Exchange Online."""
    return reader(stamped_by="exchange_online")


def _inline_forward(sender: str = FORWARDER) -> bytes:
    body = (
        "Graag oppakken.\n\n-----Original Message-----\n"
        "From: IMI Notifications <imi-notifications@ec.europa.eu>\n"
        "Sent: maandag 16 november 2026 09:12\n"
        "To: J. de Vries <j.devries@brabant.nl>\n"
        f"Subject: {NL_SUBJECT}\n\n{NL_BODY}"
    )
    return message(body, subject="FW: " + NL_SUBJECT, sender=sender,
                   auth_results=(AR_FORWARDER,), extra=())  # fmt: skip


def _attached_forward(inner: bytes) -> bytes:
    return multipart([("Content-Type: message/rfc822", inner)], subtype="mixed",
                     sender=FORWARDER, subject="FW: " + NL_SUBJECT,
                     auth_results=(AR_FORWARDER,), extra=())  # fmt: skip


# -- trusted as designed --------------------------------------------------------------


def test_a_forwarders_inline_forward_is_trusted_as_designed() -> None:
    """forward_trust: forwarder (default): a forwarder's inline forward is acted on unchecked."""
    c = reader().classify(_inline_forward())
    assert c.kind is MessageKind.IMI_ALERT, c.reason
    assert c.auth is not None and c.auth.via_forwarder


@pytest.mark.parametrize(
    "sender", ["noreply@ec.europa.eu", "someone@dg-grow.ec.europa.eu", "x@a.b.ec.europa.eu"]
)
def test_any_address_at_an_allowed_domain_is_trusted_as_designed(sender: str) -> None:
    """allowed_domains: every address at the domain or a subdomain passes on its own DMARC."""
    domain = sender.partition("@")[2]
    ar = f"mx.brabant.nl; dmarc=pass header.from={domain}"
    assert reader().classify(message(sender=sender, auth_results=(ar,))).kind is (
        MessageKind.IMI_ALERT
    )


# -- allowed_senders -----------------------------------------------------------------


def test_allowed_senders_trust_exact_addresses_only() -> None:
    """allowed_senders: the listed address passes; another address at the domain does not."""
    r = reader(allowed_domains=(), allowed_senders=(GENUINE_SENDER.upper(),))
    assert r.classify(message()).kind is MessageKind.IMI_ALERT
    for other in ("noreply@ec.europa.eu", "imi-notifications@sub.ec.europa.eu"):
        domain = other.partition("@")[2]
        ar = f"mx.brabant.nl; dmarc=pass header.from={domain}"
        c = r.classify(message(sender=f"IMI <{other}>", auth_results=(ar,)))
        assert c.kind is MessageKind.REJECTED, other


def test_an_allowed_sender_still_needs_its_own_pass() -> None:
    """allowed_senders: an exact address is no shortcut past authentication."""
    r = reader(allowed_domains=(), allowed_senders=(GENUINE_SENDER,))
    ar = "mx.brabant.nl; dmarc=fail header.from=ec.europa.eu"
    assert r.classify(message(auth_results=(ar,))).kind is MessageKind.REJECTED


# -- forward_trust: original ---------------------------------------------------------


def original() -> AlertReader:
    """A reader that trusts only attached originals with their own passing results."""
    return reader(forward_trust="original")


def test_original_mode_refuses_inline_forwards() -> None:
    """forward_trust: original: a forwarder's inline forward is rejected (it proves nothing)."""
    c = original().classify(_inline_forward())
    assert c.kind is MessageKind.REJECTED
    assert c.reason is not None and "inline forward" in c.reason


@pytest.mark.parametrize(
    ("inner_results", "kind"),
    [
        ((AR_PASS,), MessageKind.IMI_ALERT),  # the original's own stamp passes
        ((), MessageKind.REJECTED),  # no results of its own
        (("mx.brabant.nl; dmarc=fail header.from=ec.europa.eu", AR_PASS),
         MessageKind.REJECTED),  # a forged pass under its failing stamp
        (("evil.example; dmarc=pass header.from=ec.europa.eu",), MessageKind.REJECTED),
        (("mx.brabant.nl; dmarc=pass",), MessageKind.REJECTED),  # names no domain
    ],
)  # fmt: skip
def test_original_mode_trusts_only_an_attached_original_that_passed(
    inner_results: tuple[str, ...], kind: MessageKind
) -> None:
    """forward_trust: original: the attached original must carry its own passing results."""
    c = original().classify(_attached_forward(message(auth_results=inner_results)))
    assert c.kind is kind, c.reason


def test_original_mode_still_needs_a_forwarder() -> None:
    """forward_trust: original: an attached genuine alert from a non-forwarder is rejected."""
    data = multipart([("Content-Type: message/rfc822", message())], subtype="mixed",
                     sender="P. Jansen <p.jansen@brabant.nl>", auth_results=(AR_FORWARDER,),
                     extra=())  # fmt: skip
    assert original().classify(data).kind is MessageKind.REJECTED


# -- Exchange Online -----------------------------------------------------------------


def test_a_genuine_exchange_online_alert_is_accepted() -> None:
    """stamped_by: exchange_online: the topmost stamp without authserv-id is read and passes."""
    c = exo().classify(message(auth_results=(EXO_PASS,)))
    assert c.kind is MessageKind.IMI_ALERT, c.reason
    assert c.auth is not None and c.auth.trusted


@pytest.mark.parametrize(
    "results",
    [
        (EXO_FAIL,),
        (EXO_FAIL, EXO_PASS),  # a sender-written pass under Exchange Online's own stamp
        (EXO_FAIL, "mx.brabant.nl; dmarc=pass header.from=ec.europa.eu"),
        ("mx.brabant.nl; dmarc=pass header.from=ec.europa.eu", EXO_PASS),  # top is not EXO's
        (),
        ("dmarc=pass action=none",),  # names no domain
        (EXO_PASS.replace("header.from=ec.europa.eu", "header.from=evil.example"),),
        (EXO_PASS.replace("verified)", "verified"),),  # unreadable: fails, never half-read
        ("spf=pass smtp.mailfrom=evil.example (=?utf-8?q?=3Bdmarc=3Dpass?=)"
         " =?utf-8?q?=3B_dmarc=3Dpass_header=2Efrom=3Dec=2Eeuropa=2Eeu?=",),
    ],
)  # fmt: skip
def test_a_forged_alert_under_exchange_online_is_rejected(results: tuple[str, ...]) -> None:
    """stamped_by: exchange_online: only Exchange Online's own topmost pass counts."""
    c = exo().classify(message(auth_results=results))
    assert c.kind is MessageKind.REJECTED, c.reason


def test_an_exchange_online_stamp_is_not_read_with_an_authserv_id_configured() -> None:
    """stamped_by: authserv_id: a field without authserv-id is nobody's stamp."""
    c = reader().classify(message(auth_results=(EXO_PASS,)))
    assert c.kind is MessageKind.REJECTED
    assert c.reason is not None and "no trusted Authentication-Results" in c.reason


# -- the configuration ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ("{authserv_id: ''}", "stamped_by: exchange_online"),
        ("{authserv_id: 'mx.brabant.nl; dmarc=pass'}", "one host name"),
        ("{stamped_by: exo}", "stamped_by"),
        ("{forward_trust: attached}", "forward_trust"),
        ("{allowed_senders: [ec.europa.eu]}", "not an e-mail address"),
        ("{allowed_domains: [], allowed_senders: []}", "nothing passes"),
    ],
)
def test_trust_settings_are_validated(block: str, problem: str) -> None:
    """A wrong trust setting stops the start with its path, never trusts by accident."""
    with pytest.raises(ConfigError) as info:
        parse_config(f"authentication: {block}\n", "c.yaml", {})
    assert any("authentication" in p and problem in p for p in info.value.problems), info.value


def test_the_exchange_online_configuration_loads() -> None:
    """The named Exchange Online setting loads as such (no empty authserv-id needed)."""
    cfg = parse_config(
        "authentication: {stamped_by: exchange_online, forward_trust: original,"
        " allowed_senders: [IMI-Notifications@ec.europa.eu]}\n",
        "c.yaml",
        {},
    )
    assert cfg.authentication.stamped_by == "exchange_online"
    assert cfg.authentication.forward_trust == "original"
    assert cfg.authentication.allowed_senders == (GENUINE_SENDER,)
