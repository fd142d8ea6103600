"""Synthetic replies to the daemon's mails, as Outlook, Outlook on the web and an iPhone
write them (made-up people and addresses; no real data)."""

from __future__ import annotations

import base64
import html

from imi_mailwatch.msgid import make_message_id
from imi_mailwatch.replies.trust import ReplyTrust, TrustMode

OWN = "brabant.nl"
ID_DOMAINS = (OWN,)
NOTICE_ID = make_message_id("184523", "notice", "1", OWN)
REMINDER_ID = make_message_id("184523", "dm5", "20261120", OWN)
AR_OWN_PASS = (
    "mx.brabant.nl; dkim=pass header.d=brabant.nl header.s=s1; "
    "spf=pass smtp.mailfrom=brabant.nl; dmarc=pass header.from=brabant.nl"
)
EXCHANGE_INTERNAL = (
    "X-MS-Exchange-Organization-AuthAs: Internal",
    "X-MS-Exchange-Organization-AuthMechanism: 04",
    "X-MS-Exchange-Organization-AuthSource: EXCH01.brabant.nl",
)
TRUST = ReplyTrust(own_domains=(OWN,), authserv_id="mx.brabant.nl")
TRUST_BOTH = ReplyTrust(
    own_domains=(OWN,),
    modes=(TrustMode.DMARC, TrustMode.EXCHANGE_INTERNAL),
    authserv_id="mx.brabant.nl",
    exchange_auth_sources=("exch01.brabant.nl",),
)
SENDER = "Jan Jansen <j.jansen@brabant.nl>"
TEAM_BOX = "vergunningen@brabant.nl"
BEHEERDER = "a.beheer@brabant.nl"

# What the daemon's own mail says; it comes back quoted under every reply.
ORIGINAL = (
    "Beste collega's van team Vergunningen,\n\n"
    "Er is een nieuw IMI-verzoek voor u: 184523. Antwoorddatum: 14-12-2026.\n\n"
    "Antwoord met één woord op de eerste regel:\n\n"
    "  AANVAARD: u heeft het verzoek in IMI aanvaard.\n"
    "  BEANTWOORD: u heeft het antwoord in IMI verstuurd.\n"
    "  HERROUTEER teamnaam: het verzoek gaat naar een ander team.\n"
)
SIGNATURE = "Met vriendelijke groet,\n\nJan Jansen\nTeam Vergunningen\nProvincie Noord-Brabant"
QUOTE_HEAD_NL = (
    "Van: IMI-mailwatch <imi@brabant.nl>\n"
    "Verzonden: zaterdag 28 november 2026 10:00\n"
    "Aan: Team Vergunningen <vergunningen@brabant.nl>\n"
    "Onderwerp: [IMI 184523] Nieuw verzoek\n"
)


def _headers(
    *,
    subject: str,
    sender: str,
    in_reply_to: str | None,
    auth_results: tuple[str, ...],
    extra: tuple[str, ...],
    content_type: str,
) -> str:
    lines = [f"Authentication-Results: {ar}" for ar in auth_results]
    lines += list(extra)
    lines += [
        f"From: {sender}",
        "To: IMI-mailwatch <imi@brabant.nl>",
        f"Subject: {subject}",
        "Date: Sat, 28 Nov 2026 10:15:00 +0100",
        "Message-ID: <reply-1@mail.brabant.nl>",
    ]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    lines += ["MIME-Version: 1.0", f"Content-Type: {content_type}"]
    return "\r\n".join(lines) + "\r\n"


def _b64(text: str) -> str:
    return base64.encodebytes(text.replace("\n", "\r\n").encode("utf-8")).decode("ascii")


def _part(ctype: str, text: str) -> str:
    return (
        f"Content-Type: {ctype}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _b64(text)
    )


def _assemble(head: str, parts: list[tuple[str, str]]) -> bytes:
    if len(parts) == 1:
        ctype, text = parts[0]
        return (
            head.replace("Content-Type: X", f"Content-Type: {ctype}; charset=utf-8")
            + "Content-Transfer-Encoding: base64\r\n\r\n"
            + _b64(text)
        ).encode("utf-8")
    body = "".join(f"--b1\r\n{_part(c, t)}" for c, t in parts) + "--b1--\r\n"
    return (head + "\r\n" + body).encode("utf-8")


def outlook_desktop(
    first: str,
    *,
    subject: str = "RE: [IMI 184523] Nieuw verzoek",
    sender: str = SENDER,
    in_reply_to: str | None = NOTICE_ID,
    auth_results: tuple[str, ...] = (AR_OWN_PASS,),
    extra: tuple[str, ...] = (),
    original: str = ORIGINAL,
) -> bytes:
    """Outlook for Windows: plain and HTML alternatives, the history under a border-top div."""
    plain = f"{first}\n\n{SIGNATURE}\n\n{QUOTE_HEAD_NL}\n{original}"
    esc = html.escape
    markup = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        "<style>p.MsoNormal{margin:0cm;}</style></head>"
        '<body lang="NL" link="#0563C1"><div class="WordSection1">'
        f'<p class="MsoNormal">{esc(first)}<o:p></o:p></p>'
        '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
        + "".join(f'<p class="MsoNormal">{esc(x)}<o:p></o:p></p>' for x in SIGNATURE.splitlines())
        + '<div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
        '<p class="MsoNormal"><b>Van:</b> IMI-mailwatch &lt;imi@brabant.nl&gt; <br>'
        "<b>Verzonden:</b> zaterdag 28 november 2026 10:00<br><b>Aan:</b> Team Vergunningen<br>"
        "<b>Onderwerp:</b> [IMI 184523] Nieuw verzoek<o:p></o:p></p></div></div>"
        + "".join(f'<p class="MsoNormal">{esc(x)}</p>' for x in original.splitlines())
        + "</div></body></html>"
    )
    head = _headers(
        subject=subject,
        sender=sender,
        in_reply_to=in_reply_to,
        auth_results=auth_results,
        extra=("Thread-Topic: [IMI 184523] Nieuw verzoek", *extra),
        content_type='multipart/alternative; boundary="b1"',
    )
    return _assemble(head, [("text/plain", plain), ("text/html", markup)])


def outlook_web(
    first: str,
    *,
    subject: str = "Re: [IMI 184523] Nieuw verzoek",
    sender: str = SENDER,
    in_reply_to: str | None = NOTICE_ID,
    auth_results: tuple[str, ...] = (AR_OWN_PASS,),
    extra: tuple[str, ...] = (),
    original: str = ORIGINAL,
) -> bytes:
    """Outlook on the web: HTML only, the reply above ``appendonsend`` and ``divRplyFwdMsg``."""
    esc = html.escape
    markup = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>'
        '</head><body dir="ltr"><div class="elementToProof" style="font-family: Aptos, '
        f'Calibri, Helvetica, sans-serif; font-size: 12pt;">{esc(first)}</div>'
        '<div class="elementToProof"><br></div><div id="Signature">'
        + "<br>".join(esc(x) for x in SIGNATURE.splitlines())
        + '</div><div id="appendonsend"></div>'
        '<hr style="display:inline-block;width:98%" tabindex="-1">'
        '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" '
        'style="font-size:11pt" color="#000000"><b>Van:</b> IMI-mailwatch '
        "&lt;imi@brabant.nl&gt;<br><b>Verzonden:</b> zaterdag 28 november 2026 10:00<br>"
        "<b>Aan:</b> Team Vergunningen<br><b>Onderwerp:</b> [IMI 184523] Nieuw verzoek</font>"
        "<div>&nbsp;</div></div><div>"
        + "<br>".join(esc(x) for x in original.splitlines())
        + "</div></body></html>"
    )
    head = _headers(
        subject=subject,
        sender=sender,
        in_reply_to=in_reply_to,
        auth_results=auth_results,
        extra=extra,
        content_type="X",
    )
    return _assemble(head, [("text/html", markup)])


def iphone(
    first: str,
    *,
    subject: str = "Re: [IMI 184523] Nieuw verzoek",
    sender: str = SENDER,
    in_reply_to: str | None = NOTICE_ID,
    auth_results: tuple[str, ...] = (AR_OWN_PASS,),
    extra: tuple[str, ...] = (),
    original: str = ORIGINAL,
    html_only: bool = False,
) -> bytes:
    """Apple Mail on an iPhone: "Verzonden vanaf mijn iPhone", then the history quoted."""
    said = "Op 28 nov 2026 om 10:00 heeft IMI-mailwatch <imi@brabant.nl> het volgende geschreven:"
    quoted = "\n".join(f"> {x}" if x else ">" for x in original.splitlines())
    plain = f"{first}\n\nVerzonden vanaf mijn iPhone\n\n{said}\n\n{quoted}\n"
    esc = html.escape
    markup = (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
        f'<body dir="auto"><div dir="ltr">{esc(first)}</div><div dir="ltr"><br>'
        '<div dir="ltr">Verzonden vanaf mijn iPhone</div><div dir="ltr"><br>'
        f'<blockquote type="cite">{esc(said)}<br><br></blockquote></div></div>'
        '<blockquote type="cite"><div dir="ltr">'
        + "<br>".join(esc(x) for x in original.splitlines())
        + "</div></blockquote></body></html>"
    )
    head = _headers(
        subject=subject,
        sender=sender,
        in_reply_to=in_reply_to,
        auth_results=auth_results,
        extra=extra,
        content_type="X" if html_only else 'multipart/alternative; boundary="b1"',
    )
    parts = [("text/html", markup)] if html_only else [("text/plain", plain), ("text/html", markup)]
    return _assemble(head, parts)


def plain(
    body: str,
    *,
    subject: str = "RE: [IMI 184523] Nieuw verzoek",
    sender: str = SENDER,
    in_reply_to: str | None = NOTICE_ID,
    auth_results: tuple[str, ...] = (AR_OWN_PASS,),
    extra: tuple[str, ...] = (),
) -> bytes:
    """A plain-text message with exactly this body."""
    head = _headers(
        subject=subject,
        sender=sender,
        in_reply_to=in_reply_to,
        auth_results=auth_results,
        extra=extra,
        content_type="X",
    )
    return _assemble(head, [("text/plain", body)])
