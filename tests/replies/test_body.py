"""The first line of a reply, as Outlook, Outlook on the web and an iPhone write them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imi_mailwatch.alerts.text import squash
from imi_mailwatch.replies.body import cut_quoted_html, first_line, is_quote_marker, read_reply
from imi_mailwatch.replies.commands import NotUnderstood, parse_command
from tests.replies.mail import iphone, outlook_desktop, outlook_web, plain

BUILDERS = [outlook_desktop, outlook_web, iphone]


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_the_typed_line_above_the_history_is_read(build) -> None:  # type: ignore[no-untyped-def]
    """Each mail program's reply gives the line typed above its quoted history."""
    assert read_reply(build("Aanvaard")).line == "Aanvaard"


def test_html_only_iphone_reply_is_read() -> None:
    """An iPhone reply with only an HTML body gives its typed line."""
    assert read_reply(iphone("Hervat", html_only=True)).line == "Hervat"


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_an_empty_reply_reads_no_quoted_command(build) -> None:  # type: ignore[no-untyped-def]
    """A reply with nothing typed (a signature at most) never reads a quoted command."""
    assert isinstance(parse_command(read_reply(build("")).line), NotUnderstood)


def test_outlook_html_is_cut_at_its_reply_divs() -> None:
    """Outlook's appendonsend, divRplyFwdMsg and border-top div end what is read."""
    for mark in (
        '<div id="appendonsend"></div>',
        '<div id="divRplyFwdMsg" dir="ltr">',
        '<div id="x_divRplyFwdMsg">',
        "<div style='border:none;border-top:solid #B5C4DF 1.0pt;padding:3.0pt 0cm 0cm 0cm'>",
        '<blockquote type="cite">',
        '<div class="gmail_quote">',
    ):
        assert cut_quoted_html(f"<div>Akkoord</div>{mark}AANVAARD") == "<div>Akkoord</div>"


def test_html_only_body_with_history_in_an_unknown_language_is_cut_by_markup() -> None:
    """An Outlook HTML reply whose quote head is in another language is still cut at the div."""
    data = outlook_web("Beantwoord", original="Antwoord met één woord:\nAANVAARD")
    assert read_reply(data.replace(b"Van:", b"Od:")).line == "Beantwoord"


@pytest.mark.parametrize(
    "marker",
    [
        "> AANVAARD",
        "-- ",
        "--",
        "________________________________",
        "-----Oorspronkelijk bericht-----",
        "-----Original Message-----",
        "Van: IMI-mailwatch <imi@brabant.nl>",
        "Verzonden: zaterdag 28 november 2026 10:00",
        "Aan: Team Vergunningen",
        "Onderwerp: [IMI 184523]",
        "From: IMI-mailwatch <imi@brabant.nl>",
        "Sent: Saturday, November 28, 2026 10:00 AM",
        "Op za 28 nov. 2026 om 10:00 schreef IMI-mailwatch <imi@brabant.nl>:",
        "Op 28 nov 2026 om 10:00 heeft IMI <imi@brabant.nl> het volgende geschreven:",
        "On Sat, Nov 28, 2026 at 10:00 AM IMI <imi@brabant.nl> wrote:",
        "Verzonden vanaf mijn iPhone",
        "Sent from my iPhone",
        "Outlook voor iOS downloaden",
    ],
)
def test_quote_markers_are_recognised(marker: str) -> None:
    """Every quote marker of the mail programs in use starts the history."""
    assert is_quote_marker(marker)
    assert first_line(f"\n\n{marker}\nAANVAARD\n") is None


def test_a_wrapped_wrote_line_is_a_marker() -> None:
    """ "On ... wrote:" wrapped over two lines by the mail program is still a marker."""
    text = "On Sat, Nov 28, 2026 at 10:00 AM IMI-mailwatch <\nimi@brabant.nl> wrote:\n\nAANVAARD"
    assert first_line(text) is None


def test_commands_are_not_markers() -> None:
    """No command word is taken for a quote marker."""
    for line in ("AANVAARD", "Team Milieu", "Pauze tot 01-12-2026", "Ik pak dit op", "Akkoord"):
        assert not is_quote_marker(line)


def test_leading_blank_lines_and_spaces_are_skipped() -> None:
    """Empty lines, non-breaking and zero-width spaces above the command are skipped."""
    assert first_line("\n \u00a0\n\u200b\n  beantwoord  \nrest") == "beantwoord"


def test_a_very_long_first_line_is_cut() -> None:
    """A first line of thousands of characters is read only up to the line limit."""
    line = first_line("x" * 10_000)
    assert line is not None
    assert len(line) == 200


def test_a_broken_message_never_raises() -> None:
    """Garbage bytes give a reply without a command, never an exception."""
    line = read_reply(b"\x00\xff garbage \r\n\r\n\xfe").line
    assert isinstance(parse_command(line), NotUnderstood)


def test_a_message_over_the_size_limit_is_read_for_its_headers_only() -> None:
    """A reply over the size limit is never read for a command."""
    reply = read_reply(plain("AANVAARD"), max_bytes=100)
    assert reply.line is None
    assert reply.message.subject.startswith("RE: [IMI 184523]")


_MARKERS = st.sampled_from(
    [
        ">",
        "> AANVAARD",
        "-- ",
        "-----Oorspronkelijk bericht-----",
        "-----Original Message-----",
        "Van: x <x@brabant.nl>",
        "From: x <x@brabant.nl>",
        "Verzonden: maandag",
        "Sent: Monday",
        "Op 1 dec. 2026 schreef x <x@brabant.nl>:",
        "On Tue, Dec 1, 2026 at 9:00 x <x@brabant.nl> wrote:",
        "Verzonden vanaf mijn iPhone",
        "Sent from my iPhone",
        "________________________________",
    ]
)
_COMMANDS = st.sampled_from(
    ["AANVAARD", "beantwoord", "HERROUTEER Milieu", "akkoord", "ik pak dit op", "hervat"]
)
_BLANKS = st.lists(st.sampled_from(["", " ", "\u00a0", "\t"]), max_size=3)
_BELOW = st.lists(
    st.one_of(_COMMANDS, st.text(alphabet=st.characters(codec="utf-8"), max_size=40)),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(blanks=_BLANKS, marker=_MARKERS, below=_BELOW)
def test_nothing_below_a_quote_marker_is_read(
    blanks: list[str], marker: str, below: list[str]
) -> None:
    """Whatever follows a quote marker (commands included) is never the line read."""
    assert first_line("\n".join([*blanks, marker, *below])) is None


@settings(max_examples=200, deadline=None)
@given(typed=_COMMANDS, marker=_MARKERS, below=_BELOW)
def test_only_the_typed_line_above_a_marker_is_read(
    typed: str, marker: str, below: list[str]
) -> None:
    """With a line above the marker, that line and nothing else is read."""
    assert first_line("\n".join([typed, "", marker, *below])) == typed


@settings(max_examples=100, deadline=None)
@given(below=st.lists(_COMMANDS, min_size=1, max_size=5))
def test_no_command_in_the_quoted_html_history_is_read(below: list[str]) -> None:
    """Outlook on the web replies with nothing typed never read a command from the history."""
    data = outlook_web("", original="\n".join(below)).replace(b'<div id="Signature">', b"<div>")
    assert isinstance(parse_command(read_reply(data).line), NotUnderstood)


def test_an_empty_plain_alternative_falls_back_to_the_html() -> None:
    """A reply whose plain alternative is blank is read from its HTML alternative."""
    head = (
        "From: J <j.jansen@brabant.nl>\r\nSubject: RE: [IMI 184523]\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
    )
    body = (
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n \r\n\r\n"
        "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        '<div>Hervat</div><div id="divRplyFwdMsg">Van: x</div>\r\n--b--\r\n'
    )
    assert read_reply((head + body).encode()).line == "Hervat"


def test_a_marker_is_judged_on_the_start_of_a_line_only() -> None:
    """Quote markers are looked for in a line's first 1,000 characters (bounded work: a
    line of a million characters costs no more than that), never further."""
    long_wrote = "Op 1 dec. " + "schreef " * 200 + "x:"
    assert first_line(long_wrote) == long_wrote[:200]
    assert first_line("On 1 Dec x\n" + "wrote " * 200 + ":") == "On 1 Dec x"


@settings(max_examples=300, deadline=None)
@given(
    above=st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=60), max_size=5),
    marker=_MARKERS,
    below=_BELOW,
)
def test_the_line_read_always_comes_from_above_the_marker(
    above: list[str], marker: str, below: list[str]
) -> None:
    """Whatever is typed above a marker, the line read (if any) is one of those lines."""
    text = "\n".join([*above, marker, *below])
    cut = len("\n".join(above).splitlines())
    line = first_line(text)
    typed = [squash(t.replace("\u200b", "").replace("\ufeff", "")) for t in text.splitlines()]
    assert line is None or any(line in t for t in typed[:cut])
