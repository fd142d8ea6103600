"""Every body, charset, forward, date, list and member-state form: bytes in, fields out."""

from __future__ import annotations

import base64
from datetime import date

import pytest

from imi_mailwatch.alerts import load_layouts
from imi_mailwatch.alerts.fields import parse_date, parse_member_state, split_activities
from imi_mailwatch.model import AlertType, Classification, MessageKind
from tests.alerts.mail import (
    AR_FORWARDER,
    IMI_FROM,
    NL_BODY,
    NL_FIELDS,
    NL_SUBJECT,
    encode,
    message,
    multipart,
    reader,
)

LAYOUTS = load_layouts()
READER = reader()
FORWARDER = "J. de Vries (ICB) <j.devries@brabant.nl>"


def read(data: bytes) -> Classification:
    return READER.classify(data)


def assert_full_nl(c: Classification) -> None:
    assert c.kind is MessageKind.IMI_ALERT, c.reason
    a = c.alert
    assert a is not None
    assert (a.alert_type, a.request_id, a.member_state) == (AlertType.NEW_REQUEST, "184523", "DE")
    assert a.service_activities == ("Bouwactiviteiten", "Sloopwerkzaamheden")
    assert a.deadline == date(2026, 12, 14)
    assert a.requesting_authority == "Landratsamt Kleve"
    assert a.language == "nl"


@pytest.mark.parametrize("cte", ["8bit", "quoted-printable", "base64"])
def test_plain_text_in_every_transfer_encoding(cte: str) -> None:
    """text/plain reads the same as 8bit, quoted-printable and base64."""
    assert_full_nl(read(message(cte=cte)))


HTML_TABLE = (
    "<html><head><style>td{color:red}</style><script>alert('x')</script></head><body>"
    "<p>Geachte IMI-gebruiker,</p><img src='https://tracker.example/p.gif'>"
    "<table><tr><td><b>Verzoek-ID</b></td><td>184523</td></tr>"
    "<tr><td>Wetgevingsgebied</td><td>Diensten</td></tr>"
    "<tr><td>Verzoekende autoriteit</td><td>Landratsamt Kleve</td></tr>"
    "<tr><td>Lidstaat:</td><td>Duitsland</td></tr>"
    "<tr><td>Dienstverleningsactiviteiten</td><td><ul><li>Bouwactiviteiten</li>"
    "<li>Sloopwerkzaamheden</li></ul></td></tr>"
    "<tr><th>Gevraagde antwoorddatum</th><td>14&#8209;12&#8209;2026 14-12-2026</td></tr>"
    "</table></body></html>"
)
HTML_PARAGRAPHS = (
    "<html><body>"
    + "".join(f"<p>{line}</p>" for line in NL_FIELDS.splitlines())
    + "<div>Verzoek-ID<br>ignored</div></body></html>"
)


@pytest.mark.parametrize("markup", [HTML_TABLE, HTML_PARAGRAPHS], ids=["table", "paragraphs"])
def test_html_tables_and_paragraphs(markup: str) -> None:
    """text/html as a label/value table (list cell too) or as paragraphs; scripts dropped."""
    assert_full_nl(read(message(markup, content_type="text/html; charset=utf-8")))


def test_multipart_alternative_reads_the_plain_part() -> None:
    """multipart/alternative: the text/plain part is read; the HTML one is the fallback."""
    data = multipart([
        ("Content-Type: text/plain; charset=utf-8", encode(NL_BODY)),
        ("Content-Type: text/html; charset=utf-8", b"<p>Verzoek-ID: 999999</p>"),
    ])  # fmt: skip
    assert_full_nl(read(data))


def test_multipart_alternative_with_only_html_text() -> None:
    """An alternative whose plain part is missing falls back to the HTML table."""
    data = multipart([("Content-Type: text/html; charset=utf-8", HTML_TABLE.encode())])
    assert_full_nl(read(data))


@pytest.mark.parametrize(
    ("declared", "actual"),
    [
        ("utf-8", "utf-8"),
        ("windows-1252", "cp1252"),
        ("iso-8859-1", "latin-1"),
        ("utf-8", "cp1252"),  # wrong declaration: the bytes are windows-1252
        ("iso-8859-1", "utf-8"),  # wrong declaration: the bytes are UTF-8
        ("x-unknown-charset", "cp1252"),
    ],
)
def test_charsets_including_a_wrong_declaration(declared: str, actual: str) -> None:
    """België and Région read right whatever the charset label says."""
    body = NL_BODY.replace("Duitsland", "België").replace("Landratsamt Kleve", "Région wallonne")
    data = message(
        encode(body, actual, "quoted-printable"),
        content_type=f"text/plain; charset={declared}",
        cte="quoted-printable",
    )
    c = read(data)
    assert c.alert is not None
    assert c.alert.member_state == "BE"
    assert c.alert.requesting_authority == "Région wallonne"


def test_an_encoded_word_subject_is_decoded() -> None:
    """An RFC 2047 subject (French, with ç) gives its event phrase and id."""
    data = message(
        NL_FIELDS, subject="=?utf-8?q?IMI_-_Services_-_Nouvelle_demande_184523_re=C3=A7ue?="
    )
    c = read(data)
    assert c.alert is not None and c.alert.alert_type is AlertType.NEW_REQUEST
    assert c.alert.language == "fr"


OUTLOOK_NL = (
    "Ter info.\n\n-----Oorspronkelijk bericht-----\n"
    f"Van: {IMI_FROM}\nVerzonden: maandag 16 november 2026 09:12\n"
    "Aan: IMI Provincie Noord-Brabant <imi@brabant.nl>\n"
    f"Onderwerp: {NL_SUBJECT}\n\n{NL_BODY}"
)
OUTLOOK_EN = (
    "FYI\n\n-----Original Message-----\n"
    f"From: {IMI_FROM}\nSent: Monday, November 16, 2026 9:12 AM\n"
    "To: IMI Provincie Noord-Brabant <imi@brabant.nl>\n"
    f"Subject: {NL_SUBJECT}\n\n{NL_BODY}"
)
QUOTED = "> " + OUTLOOK_EN.replace("\n", "\n> ")


@pytest.mark.parametrize("body", [OUTLOOK_NL, OUTLOOK_EN, QUOTED], ids=["nl", "en", "quoted"])
def test_inline_outlook_forwards_from_a_configured_forwarder(body: str) -> None:
    """Van:/Verzonden:/Aan:/Onderwerp: and From:/Sent:/To:/Subject: blocks are read."""
    data = message(
        body, subject="FW: " + NL_SUBJECT, sender=FORWARDER, auth_results=(AR_FORWARDER,),
        extra=(),
    )  # fmt: skip
    c = read(data)
    assert c.auth is not None and c.auth.trusted and c.auth.via_forwarder
    assert_full_nl(c)


def test_a_forward_as_attached_message() -> None:
    """The alert attached as message/rfc822 by a configured forwarder is read."""
    inner = message()
    data = multipart(
        [
            ("Content-Type: text/plain; charset=utf-8", b"Zie bijlage."),
            ("Content-Type: message/rfc822\r\nContent-Disposition: attachment", inner),
        ],
        subtype="mixed",
        sender=FORWARDER,
        subject="Doorst: " + NL_SUBJECT,
        auth_results=(AR_FORWARDER,),
        extra=(),
    )
    c = read(data)
    assert c.auth is not None and c.auth.via_forwarder
    assert_full_nl(c)


def test_a_forward_as_an_eml_file_attachment() -> None:
    """The alert attached as an .eml file (application/octet-stream, base64) is read."""
    inner = base64.encodebytes(message())
    data = multipart(
        [
            ("Content-Type: text/plain; charset=utf-8", b"Zie bijlage."),
            (
                'Content-Type: application/octet-stream; name="melding.eml"\r\n'
                'Content-Disposition: attachment; filename="melding.eml"\r\n'
                "Content-Transfer-Encoding: base64",
                inner,
            ),
        ],
        subtype="mixed",
        sender=FORWARDER,
        subject="FW: melding",
        auth_results=(AR_FORWARDER,),
        extra=(),
    )
    assert_full_nl(read(data))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14-12-2026", date(2026, 12, 14)),
        ("14/12/2026", date(2026, 12, 14)),
        ("14.12.2026", date(2026, 12, 14)),
        ("4-1-2027", date(2027, 1, 4)),
        ("2026-12-14", date(2026, 12, 14)),
        ("14 maart 2027", date(2027, 3, 14)),
        ("maandag 14 december 2026", date(2026, 12, 14)),
        ("14 March 2027", date(2027, 3, 14)),
        ("March 14, 2027", date(2027, 3, 14)),
        ("14th of March 2027", date(2027, 3, 14)),
        ("14. März 2027", date(2027, 3, 14)),
        ("Montag, 14. Dezember 2026", date(2026, 12, 14)),
        ("1er mars 2027", date(2027, 3, 1)),
        ("14 février 2027", date(2027, 2, 14)),
        ("lundi 14 décembre 2026", date(2026, 12, 14)),
        ("31-02-2027", None),
        ("binnenkort", None),
    ],
)
def test_date_forms(text: str, expected: date | None) -> None:
    """Numeric dates day first, ISO dates, and long forms in nl, en, de and fr."""
    assert parse_date(text, LAYOUTS.months) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Duitsland", "DE"), ("Germany", "DE"), ("Deutschland", "DE"), ("Allemagne", "DE"),
        ("België", "BE"), ("Belgium", "BE"), ("Belgien", "BE"), ("Belgique", "BE"),
        ("Polen", "PL"), ("Poland", "PL"), ("Pologne", "PL"), ("Frankrijk", "FR"),
        ("Nederland", "NL"), ("Niederlande", "NL"), ("Pays-Bas", "NL"), ("Netherlands", "NL"),
        ("Griekenland", "GR"), ("EL", "GR"), ("de", "DE"), ("Duitsland (DE)", "DE"),
        ("DEUTSCHLAND", "DE"), ("Norway", "NO"), ("Atlantis", None),
    ],
)  # fmt: skip
def test_member_states_from_names_in_four_languages(text: str, code: str | None) -> None:
    """Member-state names in nl, en, de and fr, and codes, give the ISO 3166-1 alpha-2 code."""
    assert parse_member_state(text, LAYOUTS.member_states) == code


def test_activities_separated_by_semicolons_or_one_per_line_with_bullets() -> None:
    """`a; b` and bulleted lines give the activities as written, in order."""
    assert split_activities("Bouw; Sloop ;Wegen") == ("Bouw", "Sloop", "Wegen")
    assert split_activities("• Bouw\n- Sloop\n* Wegen\n\u2013 Water") == (
        "Bouw",
        "Sloop",
        "Wegen",
        "Water",
    )


def test_bulleted_activities_in_a_body() -> None:
    """A label followed by one activity per bulleted line, up to the next label."""
    body = NL_FIELDS.replace(
        "Dienstverleningsactiviteiten: Bouwactiviteiten; Sloopwerkzaamheden\n",
        "Dienstverleningsactiviteiten:\n• Bouwactiviteiten\n• Sloopwerkzaamheden\n",
    )
    assert_full_nl(read(message(body)))


def test_request_id_from_the_subject_when_the_body_has_none() -> None:
    """Without a Verzoek-ID line the id comes from the subject's event phrase."""
    body = NL_BODY.replace("Verzoek-ID: 184523\n", "")
    assert_full_nl(read(message(body)))


def test_request_id_from_the_body_when_the_subject_has_none() -> None:
    """A subject without id or phrase: type from the body's sentence, id from the label."""
    c = read(message(subject="IMI - melding"))
    assert_full_nl(c)


def test_an_alert_type_not_recognised_is_unknown_with_a_problem() -> None:
    """Authentic but unrecognised wording: imi_alert of type unknown, problems listed."""
    c = read(message("Verzoek-ID: 184523\nIets nieuws gebeurd.\n", subject="IMI - Iets anders"))
    assert c.kind is MessageKind.IMI_ALERT
    assert c.alert is not None and c.alert.alert_type is AlertType.UNKNOWN
    assert any(p.startswith("alert type") for p in c.problems)


def test_an_alert_without_request_id_has_a_reason_for_quarantine() -> None:
    """No id anywhere: the pipeline gets an alert with an empty id and a reason."""
    c = read(message("Uw autoriteit heeft een nieuw informatieverzoek ontvangen.\n",
                     subject="IMI - Diensten - melding"))  # fmt: skip
    assert c.kind is MessageKind.IMI_ALERT
    assert c.alert is not None and c.alert.request_id == ""
    assert c.reason == "IMI alert without a request id"


@pytest.mark.parametrize("name", ["de_new_request", "en_new_request", "fr_new_request"])
def test_the_language_comes_from_the_layout_that_matched(name: str) -> None:
    """Each shipped language is recognised as itself."""
    from pathlib import Path

    data = (Path(__file__).parents[1] / "samples" / f"{name}.eml").read_bytes()
    c = read(data)
    assert c.alert is not None and c.alert.language == name[:2]
