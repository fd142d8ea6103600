"""Forged alerts: what a sender can write never turns into a pass.

The attack classes, each with its tests below:

- injection into the trusted Authentication-Results header: a ``ptype.property=value``
  or a whole result hidden in a comment (also behind an escaped ``\\)``), in a quoted
  string (also behind a ``;``), in an RFC 2047 encoded word, or after a long padding
  that pushes a later ``dmarc=fail`` out of sight;
- From smuggling: an address inside an encoded word, and a DMARC pass for another
  (or no) ``header.from``;
- a sender-written ``Authentication-Results`` under local DKIM verification;
- the Exchange Online stamp (no authserv-id) and headers forged in its shape.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imi_mailwatch.alerts.auth import check_sender, trusted_results
from imi_mailwatch.alerts.budget import Budget
from imi_mailwatch.alerts.mime import read_message
from imi_mailwatch.model import MessageKind
from tests.alerts.mail import message, reader

READER = reader()
OURS = "mx.brabant.nl"
IMI = "ec.europa.eu"
HOSTILE_FROM = "IMI Notifications <imi-notifications@evil.example>"

# Results a sender would love to see read as the trusted server's own.
PASSES = (
    "dmarc=pass header.from=ec.europa.eu",
    "; dmarc=pass header.from=ec.europa.eu",
    ";dmarc=pass header.from=ec.europa.eu;",
    "dkim=pass header.d=ec.europa.eu",
    "; dkim=pass header.d=ec.europa.eu",
    "header.from=ec.europa.eu",
    "header.d=ec.europa.eu",
    "mx.brabant.nl; dmarc=pass header.from=ec.europa.eu",
)
SPECIALS = (";", ")", "(", "\\", '"', " ", "=", ".", "/", "\r\n ", "=?", "?=")
payloads = st.lists(
    st.one_of(
        st.sampled_from(PASSES),
        st.sampled_from(SPECIALS),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=8),
    ),
    min_size=1,
    max_size=8,
).map("".join)

# The trusted server's verdicts for a forged alert: each fails for ec.europa.eu.
FAILING = (
    "{ours}; spf=pass smtp.mailfrom=evil.example {c}; dkim=pass {c} header.d=evil.example;"
    " dmarc=pass {c} header.from=evil.example",
    "{ours}; spf=fail {c} smtp.mailfrom=ec.europa.eu; dkim=none {c};"
    " dmarc=fail {c} header.from=ec.europa.eu",
    "{ours}; spf=softfail {c} smtp.helo=evil.example; dmarc=none {c} header.from=ec.europa.eu",
)


def _comment(text: str) -> str:
    """Text written into a comment, escaped as a mail server escapes it (RFC 5322 ccontent)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"({escaped})"


def _quoted(text: str) -> str:
    """Text written as a quoted string (RFC 5322 qcontent)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _encoded_word(text: str) -> str:
    """Text as one RFC 2047 encoded word (Q encoding, everything but letters and digits encoded,
    as RFC 2047 section 5 asks for a word in a phrase)."""
    q = "".join(chr(b) if chr(b).isalnum() and b < 128 else f"={b:02X}" for b in text.encode())
    return f"=?utf-8?q?{q}?="


def _passes(ar: str, stamp: str | None = OURS) -> bool:
    """Whether ``ar`` as the only field passes for IMI's domain (stamp None: Exchange Online)."""
    results = trusted_results([("Authentication-Results", ar)], stamp)
    return check_sender(results, IMI, authserv_id=stamp).passed


def _fill(template: str, c: str, stamp: str | None = OURS) -> str:
    if stamp is None:  # Exchange Online's shape: no authserv-id, the first result bare
        return template.replace("{ours}; ", "").format(c=c)
    return template.format(ours=stamp, c=c)


def _nested(text: str, depth: int) -> str:
    """Text in ``depth`` nested comments, as a server nests a comment in a comment."""
    return "(" * depth + _comment(text)[1:-1] + ")" * depth


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(
    st.sampled_from(FAILING),
    payloads,
    st.integers(min_value=1, max_value=6),
    st.sampled_from((OURS, None)),
)
def test_injection_into_a_comment_never_passes(
    template: str, payload: str, depth: int, stamp: str | None
) -> None:
    """Comment injection: nothing a sender gets into a (nested) comment, even after \\), passes."""
    assert not _passes(_fill(template, _nested(payload, depth), stamp), stamp)


@FAST
@given(st.sampled_from(FAILING), payloads, st.sampled_from((OURS, None)))
def test_injection_into_a_quoted_string_never_passes(
    template: str, payload: str, stamp: str | None
) -> None:
    """Quoted-string injection: a ';' or a result inside a quoted value is no pass."""
    ar = _fill(template, "", stamp) + f" smtp.mailfrom={_quoted(payload)}@evil.example"
    assert not _passes(ar, stamp)
    ar = _fill(template, "", stamp) + f"; iprev=pass reason={_quoted(payload)}"
    assert not _passes(ar, stamp)


@FAST
@given(st.text(max_size=300), st.sampled_from((OURS, None)))
def test_any_text_is_read_whole_or_fails(text: str, stamp: str | None) -> None:
    """Arbitrary field text never raises and never passes unless it holds a real pass result."""
    results = trusted_results([("Authentication-Results", text)], stamp)
    check = check_sender(results, IMI, authserv_id=stamp)
    if check.passed:
        assert results is not None and results.problem is None
        assert any(r.result == "pass" for r in results.results)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FAILING), payloads, st.sampled_from(("({w})", " {w}", " smtp.helo={w}")))
def test_injection_through_an_encoded_word_never_passes(
    template: str, payload: str, where: str
) -> None:
    """Encoded-word injection: RFC 2047 words in the header are never decoded before parsing."""
    ar = _fill(template, "") + where.format(w=_encoded_word(payload))
    assert READER.classify(message(auth_results=(ar,))).kind is not MessageKind.IMI_ALERT


@FAST
@given(
    st.integers(min_value=0, max_value=40_000),
    st.sampled_from(("(", "x")),
)
def test_a_later_dmarc_fail_is_never_cut_off(padding: int, kind: str) -> None:
    """Length overflow: a dmarc=fail after any amount of padding is seen, or the header fails."""
    pad = _comment("x" * padding) if kind == "(" else f'"{"x" * padding}"'
    ar = (
        f"{OURS}; dkim=pass header.d=ec.europa.eu {pad}; spf=pass smtp.mailfrom={IMI};"
        f" dmarc=fail header.from={IMI}"
    )
    assert not _passes(ar)


@FAST
@given(payloads)
def test_comments_and_quoted_strings_do_not_change_a_genuine_pass(payload: str) -> None:
    """A genuine pass stays a pass whatever the comments and quoted values hold."""
    ar = (
        f"{OURS} {_comment(payload)}; dkim=pass {_comment(payload)} header.d={IMI}"
        f" header.s=imi2026; spf=pass smtp.mailfrom={_quoted(payload)}@{IMI};"
        f" dmarc=pass {_comment(payload)} header.from={IMI}"
    )
    assert _passes(ar), ar


@pytest.mark.parametrize(
    "ar",
    [
        # quoted string with ';': the old parser split it and read a second result
        f'{OURS}; spf=pass smtp.mailfrom="x; dmarc=pass header.from=ec.europa.eu "@evil.example',
        # '\)' ends nothing inside a comment
        f"{OURS}; spf=pass (helo=x\\); dmarc=pass header.from=ec.europa.eu ) smtp.helo=x.example",
        # an encoded word is text, not a '; dmarc=pass'
        f"{OURS}; spf=pass smtp.helo=evil.example"
        " =?utf-8?q?=3B_dmarc=3Dpass_header=2Efrom=3Dec=2Eeuropa=2Eeu?=",
        # a dmarc=fail after 4,000 characters
        f"{OURS}; dkim=pass header.d=ec.europa.eu ({'x' * 5000}); dmarc=fail header.from={IMI}",
        # a dmarc=fail after more than the header may hold
        f"{OURS}; dkim=pass header.d=ec.europa.eu ({'x' * 40_000}); dmarc=fail header.from={IMI}",
        # one result twice with different values: ambiguous, so no verdict
        f"{OURS}; dmarc=pass header.from=evil.example header.from=ec.europa.eu",
        # no header.from: a dmarc=pass that names no domain counts for nothing
        f"{OURS}; dmarc=pass",
        f"{OURS}; dmarc=pass policy.dmarc=none",
    ],
    ids=["quoted-semicolon", "escaped-paren", "encoded-word", "past-4000", "over-long",
         "duplicate-property", "dmarc-without-header-from", "dmarc-only-policy"],
)  # fmt: skip
def test_each_injection_class_end_to_end_is_rejected(ar: str) -> None:
    """A forged alert from IMI's domain with an injected trusted header is rejected."""
    c = READER.classify(message(auth_results=(ar,)))
    assert c.kind is MessageKind.REJECTED, c.reason
    assert c.alert is None


# -- From smuggling ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "ar"),
    [
        # the address inside an encoded word, no header.from: the old reader decoded
        # the From and let a dmarc=pass for nothing count
        ("=?utf-8?q?imi-notifications=40ec.europa.eu?=", f"{OURS}; dmarc=pass"),
        (
            "=?utf-8?q?imi-notifications=40ec.europa.eu?= <x@evil.example>",
            f"{OURS}; dmarc=pass header.from=evil.example",
        ),
        (
            "=?utf-8?q?IMI_=3Cimi-notifications=40ec.europa.eu=3E?=",
            f"{OURS}; dkim=pass header.d=ec.europa.eu",
        ),
        ("=?utf-8?b?aW1pLW5vdGlmaWNhdGlvbnNAZWMuZXVyb3BhLmV1?=", f"{OURS}; dmarc=pass"),
        # the DMARC verdict names another domain than the From
        ("IMI <imi-notifications@ec.europa.eu>", f"{OURS}; dmarc=pass header.from=evil.example"),
        ("IMI <imi-notifications@ec.europa.eu>", f"{OURS}; dmarc=pass header.from=europa.eu"),
    ],
)
def test_an_encoded_word_never_smuggles_a_from_address(sender: str, ar: str) -> None:
    """From smuggling: the address is parsed from the raw header; DMARC must name its domain."""
    c = READER.classify(message(sender=sender, auth_results=(ar,)))
    assert c.kind is MessageKind.REJECTED, c.reason
    assert c.alert is None


names = st.lists(
    st.one_of(
        st.sampled_from(
            ("imi-notifications@ec.europa.eu", "<imi@ec.europa.eu>", "IMI ", ",", '"', "<", ">")
        ),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=6),
    ),
    min_size=1,
    max_size=6,
).map("".join)


@FAST
@given(names, st.sampled_from(("q", "b")), st.sampled_from(("", " <x@evil.example>")))
def test_no_encoded_word_becomes_a_from_address(name: str, encoding: str, tail: str) -> None:
    """From smuggling: whatever an encoded word holds, the From is read from the raw header."""
    if encoding == "b":
        word = "=?utf-8?b?" + base64.b64encode(name.encode()).decode() + "?="
    else:
        word = _encoded_word(name)
    data = message(sender=word + tail, auth_results=(f"{OURS}; dmarc=pass",))
    msg = read_message(data, Budget())
    assert not any(a.endswith("europa.eu") for a in msg.from_addresses), msg.from_addresses
    assert READER.classify(data).kind is not MessageKind.IMI_ALERT


def test_an_encoded_display_name_is_decoded_and_the_alert_accepted() -> None:
    """A genuine alert with an encoded display name is accepted: only the name is decoded."""
    sender = "=?utf-8?q?IMI_Notificaties_=E2=80=93_EC?= <imi-notifications@ec.europa.eu>"
    c = READER.classify(message(sender=sender))
    assert c.kind is MessageKind.IMI_ALERT, c.reason


# -- local verification is authoritative -------------------------------------------


def test_a_forged_trusted_header_does_not_skip_local_dkim() -> None:
    """verify_dkim: no signature and a sender-written 'mx.brabant.nl; dmarc=pass' is rejected."""
    forged = message(auth_results=(f"{OURS}; dmarc=pass header.from={IMI}",))
    c = reader(lambda *a, **k: None, verify_dkim=True).classify(forged)
    assert c.kind is MessageKind.REJECTED, c.reason
    assert c.reason is not None and "verified locally" in c.reason
