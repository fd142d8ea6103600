"""A corpus of malformed and hostile messages, generated (deterministic, synthetic).

Each entry is ``(name, data, forged)``: ``forged`` marks a message that must never
yield an actionable alert (it does not come, authenticated, from IMI's domain or
a configured forwarder).
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from pathlib import Path

from tests.alerts.mail import AR_PASS, NL_BODY, NL_FIELDS, NL_SUBJECT, message

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
FORGED_AR = ("mx.brabant.nl; dmarc=fail header.from=ec.europa.eu",)
Entry = tuple[str, bytes, bool]


def _samples() -> list[tuple[str, bytes, bool]]:
    out = []
    for path in sorted(SAMPLES.glob("*.eml")):
        forged = "spoofed" in path.name or "not_imi" in path.name
        out.append((path.stem, path.read_bytes(), forged))
    return out


def truncated() -> Iterator[Entry]:
    """Every sample cut at ten places: mid-header, mid-boundary, mid-base64."""
    for name, data, forged in _samples():
        for i in range(1, 11):
            cut = len(data) * i // 11
            yield f"truncated/{name}/{i}", data[:cut], forged


def nesting() -> Iterator[Entry]:
    """Bombs of nested parts and attached messages, many siblings, unterminated boundaries."""
    for depth in (10, 60, 300, 2000):
        head = "".join(
            f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'
            for i in range(depth)
        )
        for forged in (False, True):
            body = (head + "Content-Type: text/plain\r\n\r\n" + NL_FIELDS).encode()
            ar = FORGED_AR if forged else (AR_PASS,)
            yield (
                f"nesting/multipart-{depth}-{forged}",
                message(
                    body,
                    content_type='multipart/mixed; boundary="top"',
                    cte="7bit",
                    auth_results=ar,
                ),
                forged,
            )
    inner = message()
    for depth in (3, 8, 40):
        data = inner
        for _ in range(depth):
            data = message(
                b"--x\r\nContent-Type: message/rfc822\r\n\r\n" + data + b"\r\n--x--\r\n",
                content_type='multipart/mixed; boundary="x"',
                cte="7bit",
                auth_results=FORGED_AR,
            )
        yield f"nesting/rfc822-{depth}", data, True
    for count in (500, 5000):
        parts = b"".join(
            b"--s\r\nContent-Type: text/plain\r\n\r\nVerzoek-ID: 1234%d\r\n" % i
            for i in range(count)
        )
        yield (
            f"nesting/siblings-{count}",
            message(
                parts + b"--s--\r\n",
                content_type='multipart/mixed; boundary="s"',
                cte="7bit",
                auth_results=FORGED_AR,
            ),
            True,
        )
    for variant in (b"--u\r\nContent-Type: text/plain\r\n\r\n" + NL_BODY.encode(), b"--u", b""):
        for forged in (False, True):
            yield (
                f"nesting/unterminated-{len(variant)}-{forged}",
                message(
                    variant,
                    content_type='multipart/alternative; boundary="u"',
                    cte="7bit",
                    auth_results=FORGED_AR if forged else (AR_PASS,),
                ),
                forged,
            )
    yield (
        "nesting/no-boundary",
        message(NL_BODY, content_type="multipart/mixed", auth_results=FORGED_AR),
        True,
    )


def headers() -> Iterator[Entry]:
    """Huge, duplicated, missing and broken headers."""
    long_subject = NL_SUBJECT + " " + "x" * 1_000_000
    yield "headers/subject-1MB", message(subject=long_subject, auth_results=FORGED_AR), True
    many = tuple(f"X-Filler-{i}: {'y' * 50}" for i in range(10_000))
    yield "headers/10000", message(extra=many, auth_results=FORGED_AR), True
    words = " ".join(["=?utf-8?b?w6k=?="] * 50_000)
    yield "headers/encoded-words", message(subject=words, auth_results=FORGED_AR), True
    yield "headers/bad-encoded-word", message(subject="=?x-bad?q?=ZZ=?= 184523"), False
    senders = ", ".join(f"a{i}@ec.europa.eu" for i in range(5000))
    yield "headers/many-from", message(sender=senders), True
    yield "headers/from-group", message(sender="undisclosed-recipients:;"), True
    yield "headers/from-empty", message(sender=""), True
    yield "headers/from-garbage", message(sender="<<<@@@>>>"), True
    yield (
        "headers/two-subjects",
        message(extra=("Subject: IMI - Diensten - Verzoek 999999 ingetrokken",)),
        False,
    )
    yield (
        "headers/two-ar-forged-below",
        message(auth_results=("mx.brabant.nl; dmarc=fail header.from=ec.europa.eu", AR_PASS)),
        True,
    )
    yield (
        "headers/ar-huge",
        message(auth_results=("mx.brabant.nl; " + "dkim=pass " * 100_000,)),
        True,
    )
    yield (
        "headers/ar-comments",
        message(auth_results=("mx.brabant.nl; dmarc=fail (((((" + "(" * 10_000 + " dmarc=pass",)),
        True,
    )
    yield "headers/no-separator", b"From: x@ec.europa.eu\r\nSubject: " + NL_SUBJECT.encode(), True
    yield "headers/only-colons", b":\r\n:\r\n::::\r\n\r\n", True
    yield "headers/space-names", b"From : a@ec.europa.eu\r\n Subject\t: x\r\n\r\nbody", True
    yield "headers/folded-forever", b"Subject: a\r\n" + b" b\r\n" * 100_000 + b"\r\nbody", True
    yield (
        "headers/8bit",
        "From: IMI <imi@ec.europa.eu>\r\nSubject: Verzoek ê\xff\r\n\r\nx".encode("latin-1"),
        True,
    )
    yield "headers/bad-date", message(extra=("Date: 99 Foo 99999 99:99:99 +9999",)), False
    yield "headers/no-message-id", message(message_id=""), False


def charsets() -> Iterator[Entry]:
    """Bad, unknown and lying charsets; invalid byte sequences; NUL bytes."""
    body = NL_BODY.replace("Duitsland", "België")
    for declared in (
        "utf-8",
        "x-unknown",
        "utf-16",
        "utf-32",
        '"',
        "../../etc/passwd",
        "utf-7",
        "iso-2022-jp",
        "",
        "cp1252; charset=utf-8",
    ):
        for actual in ("utf-8", "cp1252", "utf-16-le"):
            yield (
                f"charset/{declared}/{actual}",
                message(
                    body.encode(actual, "replace"), content_type=f"text/plain; charset={declared}"
                ),
                False,
            )
    yield (
        "charset/invalid-utf8",
        message(b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc" * 1000),
        False,
    )
    yield "charset/nul-bytes", message(NL_BODY.encode().replace(b"\n", b"\x00\n")), False
    yield (
        "charset/nul-headers",
        message(subject="IMI\x00 - Diensten\x00", sender="IMI\x00 <a@ec.europa.eu>"),
        False,
    )
    yield (
        "charset/bad-base64",
        message(b"!!!!****====\r\nnot base64 at all\r\n", cte="base64"),
        False,
    )
    yield "charset/bad-qp", message(b"=ZZ=\r\n=\r\n=0", cte="quoted-printable"), False
    yield "charset/unknown-cte", message(NL_BODY, cte="x-uuencode-ish"), False


def html() -> Iterator[Entry]:
    """HTML with scripts, remote images, frames, broken and deeply nested markup."""
    rows = "".join(
        f"<tr><td>{k}</td><td>{v}</td></tr>"
        for k, v in (line.split(": ", 1) for line in NL_FIELDS.splitlines())
    )
    pieces = {
        "script": f"<script>fetch('https://evil.example/x')</script><table>{rows}</table>",
        "remote": f"<img src='https://evil.example/p.gif'><iframe src='https://evil.example'></iframe><table>{rows}</table>",
        "object": f"<object data='x.swf'></object><svg onload='x()'></svg><table>{rows}</table>",
        "unclosed": "<table><tr><td>Verzoek-ID<td>184523<tr><td>Lidstaat<td>Duitsland",
        "deep": "<div>" * 20_000 + "Verzoek-ID: 184523" + "</div>" * 20_000,
        "deep-tables": "<table><tr><td>" * 3000 + "x" + "</td></tr></table>" * 3000,
        "huge-table": "<table>" + "<tr><td>a</td><td>b</td></tr>" * 50_000 + "</table>",
        "comments": "<!--" + "-" * 100_000 + f"--><table>{rows}</table>",
        "cdata": "<![CDATA[" + "x" * 100_000 + f"]]><table>{rows}</table>",
        "entities": "&#x" + "9" * 5000 + ";" + "&amp;" * 50_000,
        "meta-refresh": "<meta http-equiv='refresh' content='0;url=https://evil.example'>",
        "form": "<form action='https://evil.example'><input name=a></form>",
        "not-html": "\x00\x01\x02" * 10_000,
    }
    for name, markup in pieces.items():
        for forged in (False, True):
            yield (
                f"html/{name}/{forged}",
                message(
                    markup,
                    content_type="text/html; charset=utf-8",
                    auth_results=FORGED_AR if forged else (AR_PASS,),
                ),
                forged,
            )


def missing() -> Iterator[Entry]:
    """Alerts that lack one field or another; empty and binary messages."""
    lines = NL_FIELDS.splitlines()
    for i in range(len(lines)):
        body = "\n".join(line for j, line in enumerate(lines) if j != i)
        yield f"missing/field-{i}", message(body), False
        yield f"missing/field-{i}-forged", message(body, auth_results=FORGED_AR), True
    yield "missing/subject", message(subject=""), False
    yield "missing/body", message(""), False
    yield "missing/everything", b"", True
    yield "missing/newline", b"\n", True
    yield "missing/crlf-only", b"\r\n" * 1000, True
    rng = random.Random(3)
    for i in range(20):
        yield f"missing/binary-{i}", bytes(rng.getrandbits(8) for _ in range(2000)), True


LOOKALIKES = (
    "IMI <imi-notifications@ec-europa.eu>",
    "imi-notifications@ec.europa.eu <x@evil.example>",
    "IMI <imi@EC.EUROPA.EU.evil.example>",
    "IMI <imi@ec.europa.eu@evil.example>",
    '"imi@ec.europa.eu" <x@evil.example>',
    "IMI <imi@xn--ec-europa-9za.eu>",
)
BAD_RESULTS = (
    "other.example; dmarc=pass header.from=ec.europa.eu",
    "mx.brabant.nl; dmarc=pass header.from=evil.example",
    "mx.brabant.nl; dkim=pass header.d=evil.example",
    "mx.brabant.nl; dkim=pass header.d=eu",
    "mx.brabant.nl",
    "mx.brabant.nl; none",
    "mx.brabant.nl; dkim=pass header.d=europa.eu.evil.example",
)
_PASS = "mx.brabant.nl; dmarc=pass header.from="
BAD_FORWARDS = (
    ("P. Jansen <p.jansen@brabant.nl>", _PASS + "brabant.nl"),  # not a forwarder
    ("J. de Vries <j.devries@brabant.nl>", "mx.brabant.nl; dmarc=fail header.from=brabant.nl"),
    ("J. de Vries <j.devries@brabant.nl>", "evil.example; dmarc=pass header.from=brabant.nl"),
    ("j.devries@brabant.nl <x@evil.example>", _PASS + "evil.example"),
)


def forged_shapes() -> Iterator[Entry]:
    """Forgery tricks: look-alike domains, forged results, display names, forwards."""
    ok = NL_BODY
    for sender in LOOKALIKES:
        domain = sender.rsplit("@", 1)[1].rstrip(">")
        yield (
            f"forged/sender/{sender}",
            message(
                ok, sender=sender, auth_results=(f"mx.brabant.nl; dmarc=pass header.from={domain}",)
            ),
            True,
        )
    for ar in BAD_RESULTS:
        yield f"forged/ar/{ar}", message(ok, auth_results=(ar,)), True
    attached = message()
    for sender, ar in BAD_FORWARDS:
        yield (
            f"forged/forward/{sender}/{ar[:20]}",
            message(
                b"--f\r\nContent-Type: message/rfc822\r\n\r\n" + attached + b"\r\n--f--\r\n",
                content_type='multipart/mixed; boundary="f"',
                cte="7bit",
                sender=sender,
                subject="FW: " + NL_SUBJECT,
                auth_results=(ar,),
            ),
            True,
        )
        inline = (
            "-----Original Message-----\nFrom: IMI <imi-notifications@ec.europa.eu>\n"
            f"Subject: {NL_SUBJECT}\n\n{NL_BODY}"
        )
        yield (
            f"forged/inline/{sender}/{ar[:20]}",
            message(inline, sender=sender, subject="FW: " + NL_SUBJECT, auth_results=(ar,)),
            True,
        )


def big_attachment() -> Entry:
    """A 25 MB attachment on an authentic alert."""
    blob = base64.encodebytes(random.Random(25).randbytes(25 * 1024 * 1024 * 3 // 4))
    body = (
        b"--a\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + NL_BODY.encode() + b"\r\n"
        b"--a\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="groot.pdf"\r\n\r\n' + blob + b"--a--\r\n"
    )
    return (
        "big/25MB",
        message(body, content_type='multipart/mixed; boundary="a"', cte="7bit"),
        False,
    )


def parts_bomb(size: int, *, pad: int = 0, forged: bool = False) -> bytes:
    """About ``size`` bytes of empty MIME parts (each with a ``pad``-character header)."""
    part = b"--b\r\n" + (b"X-Pad: " + b"p" * pad + b"\r\n" if pad else b"") + b"\r\n"
    return message(
        part * (size // len(part)) + b"--b--\r\n",
        content_type='multipart/mixed; boundary="b"',
        cte="7bit",
        auth_results=FORGED_AR if forged else (AR_PASS,),
    )


def bombs() -> Iterator[Entry]:
    """Work bombs under the size limit: millions of empty parts or lines, a thousand parts."""
    for forged in (False, True):
        yield f"bombs/empty-parts-7MB-{forged}", parts_bomb(7 * 1024 * 1024, forged=forged), forged
        yield f"bombs/padded-parts-{forged}", parts_bomb(2_000_000, pad=990, forged=forged), forged
    yield "bombs/short-lines", message(b"a\r\n" * 2_000_000, cte="7bit"), False


def corpus() -> list[Entry]:
    """Every generated entry (without the 25 MB one, which tests add on their own)."""
    return [
        *truncated(),
        *nesting(),
        *headers(),
        *charsets(),
        *html(),
        *missing(),
        *forged_shapes(),
        *bombs(),
    ]
