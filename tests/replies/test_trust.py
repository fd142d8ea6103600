"""Trust for replies: the organisation's own mail, by DMARC or inside one Exchange organisation."""

from __future__ import annotations

from imi_mailwatch.replies.body import read_reply
from imi_mailwatch.replies.trust import ReplyTrust, TrustMode, check_reply_sender
from tests.replies.mail import AR_OWN_PASS, EXCHANGE_INTERNAL, OWN, TRUST, TRUST_BOTH, plain

EXCHANGE_ONLY = ReplyTrust(
    own_domains=(OWN,),
    modes=(TrustMode.EXCHANGE_INTERNAL,),
    exchange_auth_sources=("exch01.brabant.nl",),
)


def _check(data: bytes, trust: ReplyTrust = TRUST):  # type: ignore[no-untyped-def]
    return check_reply_sender(read_reply(data).message, trust)


def test_dmarc_pass_from_the_own_domain_is_trusted() -> None:
    """The trusted stamp's dmarc=pass for the own From domain trusts the reply."""
    verdict = _check(plain("AANVAARD"))
    assert verdict.trusted
    assert verdict.sender == "j.jansen@brabant.nl"
    assert verdict.mode is TrustMode.DMARC


def test_no_stamp_is_not_trusted() -> None:
    """A reply without the trusted stamp is not trusted."""
    verdict = _check(plain("AANVAARD", auth_results=()))
    assert not verdict.trusted
    assert "no trusted Authentication-Results" in verdict.reason


def test_a_forged_stamp_below_the_real_one_is_never_read() -> None:
    """A dmarc=pass the sender wrote below the receiving server's fail changes nothing."""
    real = "mx.brabant.nl; spf=fail smtp.mailfrom=brabant.nl; dmarc=fail header.from=brabant.nl"
    assert not _check(plain("AANVAARD", auth_results=(real, AR_OWN_PASS))).trusted


def test_a_stamp_of_another_server_is_not_read() -> None:
    """A dmarc=pass stamped by another authserv-id is not the trusted stamp."""
    other = AR_OWN_PASS.replace("mx.brabant.nl", "mx.evil.example")
    assert not _check(plain("AANVAARD", auth_results=(other,))).trusted


def test_dkim_alone_is_not_enough_for_the_own_domain() -> None:
    """An aligned dkim=pass without a dmarc=pass does not trust a reply."""
    ar = "mx.brabant.nl; dkim=pass header.d=brabant.nl; spf=pass smtp.mailfrom=brabant.nl"
    verdict = _check(plain("AANVAARD", auth_results=(ar,)))
    assert not verdict.trusted
    assert "dkim=pass is not enough" in verdict.reason


def test_dmarc_for_another_from_domain_fails() -> None:
    """A dmarc=pass for another header.from than the From read here fails."""
    ar = "mx.brabant.nl; dmarc=pass header.from=evil.example"
    assert not _check(plain("AANVAARD", auth_results=(ar,))).trusted


def test_outsiders_and_look_alike_domains_are_not_own_mail() -> None:
    """A passing outsider, a look-alike and a subdomain are not the own domain."""
    for sender, domain in (
        ("x@evil.example", "evil.example"),
        ("x@brabant-nl.example", "brabant-nl.example"),
        ("x@brabant.nl.evil.example", "brabant.nl.evil.example"),
        ("x@mail.brabant.nl", "mail.brabant.nl"),
        ("x@brab\u0430nt.nl", None),  # a Cyrillic a
    ):
        ar = f"mx.brabant.nl; dmarc=pass header.from={domain or 'brabant.nl'}"
        verdict = _check(plain("AANVAARD", sender=sender, auth_results=(ar,)))
        assert not verdict.trusted, sender
        assert "not one of the own domains" in verdict.reason or "From" in verdict.reason


def test_two_from_addresses_are_never_trusted() -> None:
    """A From with two addresses is not trusted."""
    verdict = _check(plain("AANVAARD", sender="a@brabant.nl, b@brabant.nl"))
    assert not verdict.trusted
    assert verdict.sender is None


def test_exchange_internal_mail_is_trusted_in_that_mode() -> None:
    """AuthAs Internal from a configured server trusts the reply without any DMARC result."""
    verdict = _check(plain("AANVAARD", auth_results=(), extra=EXCHANGE_INTERNAL), EXCHANGE_ONLY)
    assert verdict.trusted
    assert verdict.mode is TrustMode.EXCHANGE_INTERNAL


def test_exchange_marks_are_ignored_unless_the_mode_is_on() -> None:
    """With only the DMARC mode, Exchange's organisation headers trust nothing."""
    assert not _check(plain("AANVAARD", auth_results=(), extra=EXCHANGE_INTERNAL)).trusted


def test_either_mode_may_vouch() -> None:
    """With both modes on, each one alone trusts the reply."""
    assert _check(plain("AANVAARD"), TRUST_BOTH).trusted
    assert _check(plain("AANVAARD", auth_results=(), extra=EXCHANGE_INTERNAL), TRUST_BOTH).trusted


def test_exchange_internal_needs_every_mark() -> None:
    """Anonymous, a mixed AuthAs, an unknown or missing AuthSource, or an outsider fail."""
    as_, source = "X-MS-Exchange-Organization-AuthAs", "X-MS-Exchange-Organization-AuthSource"
    src = f"{source}: EXCH01.brabant.nl"
    cases = [
        (f"{as_}: Anonymous", src),
        (f"{as_}: Internal", f"{as_}: Anonymous", src),
        (f"{as_}: Internal",),
        (f"{as_}: Internal", f"{source}: exch01.evil.example"),
        (f"{as_}: Internal", f"{source}: x exch01.brabant.nl"),
        (f"{as_}: =?utf-8?q?Internal?=", src),
        (src,),
    ]
    for extra in cases:
        assert not _check(plain("AANVAARD", auth_results=(), extra=extra), EXCHANGE_ONLY).trusted
    outsider = plain("AANVAARD", sender="x@evil.example", auth_results=(), extra=EXCHANGE_INTERNAL)
    assert not _check(outsider, EXCHANGE_ONLY).trusted


def test_an_auth_source_below_a_configured_domain_is_accepted() -> None:
    """AuthSource may be any host below a configured domain (Exchange Online's servers)."""
    trust = ReplyTrust(
        own_domains=(OWN,),
        modes=(TrustMode.EXCHANGE_INTERNAL,),
        exchange_auth_sources=("eurprd04.prod.outlook.com",),
    )
    extra = (
        "X-MS-Exchange-Organization-AuthAs: Internal",
        "X-MS-Exchange-Organization-AuthSource: AM0PR04MB1234.eurprd04.prod.outlook.com",
    )
    assert _check(plain("AANVAARD", auth_results=(), extra=extra), trust).trusted
