"""The desk's mails and the answers to replies as templates in teksten/.

Every template renders its sample and every shape of request as Dutch
(:func:`tests.dutch.problems_in`); a beheerder's own confirmation is what
apply_command sends; a broken one falls back to the shipped text and is told once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

from imi_mailwatch.desk import texts as desk_texts
from imi_mailwatch.replies import Command, Role
from imi_mailwatch.replies import texts as reply_texts
from imi_mailwatch.replies.authz import decide
from imi_mailwatch.replies.commands import CommandKind, NotUnderstood, Problem
from imi_mailwatch.tasksync import texts as task_texts
from imi_mailwatch.texts import SPECS, TextBook
from imi_mailwatch.texts_desk import DESK_TEXTS
from tests.deadlines.conftest import BEHEERDERS
from tests.desk.conftest import DeskRig
from tests.dutch import problems_in

RID = "184523"
LINES = [
    "Team: Milieu, afval en bodem (VTH)",
    "Antwoorddatum: 27-11-2026",
    "Aanvaard in IMI: nog niet gemeld",
    "Afgehandeld in IMI: nog niet gemeld",
    "Volgende herinnering: 20-11-2026",
]
NAMES = [(), ("A. Voorbeeld (a.voorbeeld@example.org)", "B. Tweede (b.tweede@example.org)")]


def _shapes() -> Iterator[tuple[str, str]]:
    """(what, text) for every kind of mail and answer in every shape it takes."""
    for kind in CommandKind:
        for names in NAMES:
            for role in Role:
                for extra in (None, desk_texts.claim_note("x@example.org", "20260000001")):
                    yield from _pair(f"bevestiging {kind} {role}", desk_texts.confirmation_mail(
                        kind, "de herinneringen stoppen.", LINES, request_id=RID, role=role,
                        extra=extra, beheerders=names))  # fmt: skip
            for ref in (None, "20260000001"):
                yield from _pair(f"teruggelezen {kind}", desk_texts.corsa_mail(
                    kind, "de herinneringen gestopt.", LINES, request_id=RID, task_ref=ref,
                    beheerders=names))  # fmt: skip
            decision = decide(kind, "iemand@example.org", team_addresses=("t@example.org",),
                              claimer=None, beheerders=("b@example.org",),
                              own_domains=("example.org",))  # fmt: skip
            for reason in (None, "De datum ligt na de antwoorddatum."):
                body = reply_texts.refusal_answer(kind, decision, request_id=RID,
                                                  beheerders=names, reason=reason)  # fmt: skip
                yield from _pair(f"weigering {kind}", desk_texts.refusal_mail(RID, kind, body))
    for names in NAMES:
        for to_us in (True, False):
            for ref in (None, "20260000001"):
                for in_corsa in (True, False):
                    yield from _pair("herrouteer", desk_texts.reroute_mail(
                        RID, to_us=to_us, old_team="Team Economie", new_team="Milieu (VTH)",
                        by="een IMI-beheerder", task_ref=ref, beheerders=names,
                        in_corsa=in_corsa))  # fmt: skip
        for problem in Problem:
            for commands in ((), (CommandKind.PAUSE, CommandKind.ANSWERED)):
                for rid in (None, RID):
                    yield (
                        f"hulp {problem}",
                        reply_texts.help_answer(
                            NotUnderstood(problem), commands, request_id=rid, beheerders=names
                        ),
                    )
        for rid in (None, RID):
            yield "onbevestigd", reply_texts.untrusted_answer(request_id=rid, beheerders=names)
        yield "onbekend", reply_texts.unlinked_answer(beheerders=names)
        for old in ("", "ECO"):
            for why in (task_texts.WHY_OFF, task_texts.WHY_CASE, task_texts.WHY_REFUSED):
                yield from _pair("verplaatsen", task_texts.move_by_hand_mail(
                    RID, "20260000001", "Milieu (VTH)", "VTH-MILIEU", old, why, names))  # fmt: skip


def _pair(what: str, mail: tuple[str, str]) -> Iterator[tuple[str, str]]:
    yield f"{what} (onderwerp)", mail[0]
    yield what, mail[1]


def test_every_desk_template_renders_its_sample_as_dutch() -> None:
    """Each new template, filled with its documented sample, is Dutch without holes."""
    book = TextBook(None)
    for name in DESK_TEXTS:
        subject, body = book.mail(name, **SPECS[name].sample)
        assert body.startswith("Beste"), name
        for part in (subject, body):
            assert problems_in(part) == [], (name, part)


def test_every_request_shape_reads_as_dutch() -> None:
    """Every confirmation, refusal, answer, re-route and Corsa mail, in every shape, is
    Dutch with no holes and a [IMI nummer] subject that links the reply."""
    seen = 0
    for what, text in _shapes():
        seen += 1
        assert problems_in(text) == [], (what, problems_in(text), text)
        if what.endswith("(onderwerp)"):
            assert text.startswith(f"[IMI {RID}] ") and "\n" not in text, (what, text)
        else:
            assert text.rstrip().endswith("Dit is een automatisch bericht van IMI-mailwatch.")
    assert seen > 200


OWN_CONFIRMATION = """\
{% block onderwerp %}Gelukt: {{ opdracht }}{% endblock %}
{% block tekst %}
Hallo,

{{ opdracht }} bij verzoek {{ verzoek }} is verwerkt. {{ gedaan }}
{% for regel in stand %}
* {{ regel }}
{% endfor %}

Groet, {{ beheerders }}
{% endblock %}
"""


def _own(tmp_path: Path, source: str, told: list[list[str]]) -> TextBook:
    folder = tmp_path / "teksten"
    folder.mkdir()
    (folder / "bevestiging.j2").write_text(source, encoding="utf-8")
    return TextBook(folder, on_broken=told.append, beheerders=BEHEERDERS)


def test_an_own_confirmation_template_is_used_by_apply_command(
    rig: DeskRig, tmp_path: Path
) -> None:
    """apply_command renders the confirmation with the beheerders' bevestiging.j2."""
    told: list[list[str]] = []
    rig.desk = dataclasses.replace(rig.desk, texts=_own(tmp_path, OWN_CONFIRMATION, told))
    rig.record()
    assert rig.apply(Command(CommandKind.ACCEPT)).ok
    (mail,) = rig.store.desk_mails_of(RID)
    assert mail.mail.subject == f"[IMI {RID}] Gelukt: AANVAARD"
    assert mail.mail.text.startswith(f"Hallo,\n\nAANVAARD bij verzoek {RID} is verwerkt.")
    assert "* Team: Milieu, afval en bodem (VTH)" in mail.mail.text
    assert problems_in(mail.mail.text) == [] and told == []


def test_a_broken_own_confirmation_falls_back_and_is_told_once(
    rig: DeskRig, tmp_path: Path
) -> None:
    """A bevestiging.j2 with an unknown placeholder: the shipped confirmation goes out for
    every command, and the beheerders hear of it once, with file and line, in Dutch."""
    told: list[list[str]] = []
    broken = OWN_CONFIRMATION.replace("{{ gedaan }}", "{{ gedaan }} {{ gedaaan }}")
    rig.desk = dataclasses.replace(rig.desk, texts=_own(tmp_path, broken, told))
    rig.record()
    assert rig.apply(Command(CommandKind.ACCEPT)).ok
    assert rig.apply(Command(CommandKind.ANSWERED)).ok
    mails = rig.store.desk_mails_of(RID)
    assert len(mails) == 2
    for mail in mails:
        assert mail.mail.text.startswith("Beste collega,\n\nUw opdracht ")
        assert problems_in(mail.mail.text) == []
    assert len(told) == 1
    (problem,) = told[0]
    assert "bevestiging.j2:5: onbekend invulveld 'gedaaan'" in problem


def test_an_own_answer_template_is_used_for_the_answers_to_replies(tmp_path: Path) -> None:
    """The answers to replies (antwoorden.j2) come from the beheerders' own file."""
    folder = tmp_path / "teksten"
    folder.mkdir()
    (folder / "antwoorden.j2").write_text(
        "{% block tekst %}Hallo, {{ soort }} over {{ verzoek or 'een onbekend verzoek' }}."
        "{% endblock %}\n",
        encoding="utf-8",
    )
    book = TextBook(folder)
    assert reply_texts.unlinked_answer(book=book) == "Hallo, onbekend over een onbekend verzoek."
    help_text = reply_texts.help_answer(NotUnderstood(Problem.EMPTY), (), request_id=RID, book=book)
    assert help_text == f"Hallo, hulp over {RID}."
