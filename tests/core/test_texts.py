"""The beheerders' texts: Jinja2 in a sandbox, checked in Dutch, a broken one never stops a task."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import build_app
from imi_mailwatch.cli import main
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir, sample_mailbox
from imi_mailwatch.config import DEFAULT_MEMO_TEMPLATE, Beheerder, config_from_data
from imi_mailwatch.memo import memo_context, render_memo
from imi_mailwatch.texts import SPECS, TextBook
from tests.dutch import problems_in
from tests.privacy.helpers import config_data, desk

BEHEERDERS = (Beheerder(name="A. Voorbeeld", email="a@example.org"),)


def _memo(book: TextBook, deadline: date | None, today: date = date(2026, 11, 16)) -> str:
    context = memo_context(
        field="milieu en afval",
        beheerders=BEHEERDERS,
        today=today,
        deadline=deadline,
        request_id="184523",
        team="Team Milieu",
    )
    return book.render("memo", **context)


def test_shipped_memo_says_what_the_old_default_said() -> None:
    """With a reply date ahead, the shipped memo.j2 reads exactly as the mission's memo."""
    book = TextBook(None)
    assert book.problems() == []
    legacy = render_memo(
        DEFAULT_MEMO_TEMPLATE,
        field="milieu en afval",
        beheerders=BEHEERDERS,
        today=date(2026, 11, 16),
        deadline=date(2026, 12, 14),
    )
    assert _memo(book, date(2026, 12, 14)) == legacy


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        (None, "binnen een nog onbekende termijn binnen IMI"),
        (date(2026, 11, 17), "uiterlijk morgen binnen IMI"),
        (date(2026, 11, 16), "uiterlijk vandaag binnen IMI"),
        (date(2026, 11, 2), "uiterlijk maandag 2 november 2026 binnen IMI"),
    ],
)
def test_shipped_memo_has_the_right_words_for_every_date(
    deadline: date | None, expected: str
) -> None:
    """Grammar: no '1 dagen', no 'binnen -14 dagen', no empty hole for an unknown date."""
    memo = _memo(TextBook(None), deadline)
    assert expected in memo
    assert problems_in(memo, today=date(2026, 11, 16)) == []


BROKEN = {
    "syntax": ("Memo {% if dagen %}\nzonder einde\n", ":2: sjabloonfout", "endif"),
    "unknown": (
        "Memo voor {{ team }}\nover {{ vakgebeid }}.\n",
        ":2: onbekend invulveld 'vakgebeid'",
        "vakgebied",
    ),
    "sandbox": ("Memo {{ team.__class__.__mro__ }}\n", "niet mag", "__class__"),
    "not_utf8": (b"Memo \xff\xfe\n", "geen UTF-8", ""),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_teksten_check_rejects_a_broken_template_in_dutch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """`teksten check`: exit 1, file and line, a Dutch reason; the default stays in use."""
    source, expected, hint = BROKEN[case]
    folder = tmp_path / "teksten"
    folder.mkdir()
    data = source.encode() if isinstance(source, str) else source
    (folder / "memo.j2").write_bytes(data)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"state:\n  path: {tmp_path / 's.sqlite3'}\n", encoding="utf-8")
    assert main(["teksten", "check", "-c", str(cfg)]) == 1
    out = capsys.readouterr().out
    assert "memo.j2" in out and expected in out, out
    assert hint in out
    assert "standaardtekst" in out
    book = TextBook(folder)
    assert "Dit is een IMI-verzoek op het gebied van milieu en afval." in _memo(book, None)


def test_teksten_check_and_voorbeeld_on_good_templates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A valid own memo passes the check; voorbeeld shows it filled in, or for a real request."""
    d = desk(tmp_path)
    d.feed("imi", "400001", "new_request", "2026-12-20")
    d.store.close()
    folder = tmp_path / "teksten"
    folder.mkdir()
    (folder / "memo.j2").write_text(
        "Memo voor {{ team }} over {{ vakgebied }}:\n{{ antwoorddatum }}.\n", encoding="utf-8"
    )
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"state:\n  path: {tmp_path / 'state.sqlite3'}\n", encoding="utf-8")
    assert main(["teksten", "check", "-c", str(cfg)]) == 0
    assert "in orde" in capsys.readouterr().out
    assert main(["teksten", "voorbeeld", "memo", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "Memo voor Milieu, afval en bodem (VTH) over milieu en afval: vrijdag 27 november" in out
    assert main(["teksten", "voorbeeld", "memo", "--verzoek", "400001", "-c", str(cfg)]) == 0
    assert "zondag 20 december 2026" in capsys.readouterr().out
    assert main(["teksten", "voorbeeld", "herinnering", "--verzoek", "400001", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "Onderwerp: [IMI 400001] " in out
    assert "zondag 20 december 2026" in out and problems_in(out.split("\n", 2)[2]) == []
    for letter, words in (
        ("taakbericht", "Nieuwe taak in Corsa"),
        ("aanvaarden", "Nog niet aanvaard"),
        ("taak_sluiten", "de taak in Corsa kan dicht"),
    ):
        args = ["teksten", "voorbeeld", letter, "--verzoek", "400001", "-c", str(cfg)]
        assert main(args) == 0
        out = capsys.readouterr().out
        assert "Onderwerp: [IMI 400001] " in out and words in out, out
    assert main(["teksten", "voorbeeld", "afsluiting", "-c", str(cfg)]) == 0
    assert "[stappen]" in capsys.readouterr().out
    assert main(["teksten", "voorbeeld", "brief", "-c", str(cfg)]) == 1
    assert "Er zijn: memo" in capsys.readouterr().out
    assert main(["teksten", "voorbeeld", "memo", "--verzoek", "999", "-c", str(cfg)]) == 1


def test_live_reload_picks_up_an_edit(tmp_path: Path) -> None:
    """A changed file is used at the next render, without a restart."""
    folder = tmp_path / "teksten"
    folder.mkdir()
    path = folder / "memo.j2"
    path.write_text("Eerste memo voor {{ team }}.\n", encoding="utf-8")
    book = TextBook(folder)
    assert _memo(book, None) == "Eerste memo voor Team Milieu."
    path.write_text("Tweede memo, langer, voor {{ team }}.\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert _memo(book, None) == "Tweede memo, langer, voor Team Milieu."
    path.unlink()
    assert _memo(book, None).startswith("Dit is een IMI-verzoek")


def test_a_broken_template_never_stops_a_task_and_is_told_once(tmp_path: Path) -> None:
    """The daemon with a broken memo.j2: every task gets the default memo; one notice."""
    folder = tmp_path / "teksten"
    folder.mkdir()
    (folder / "memo.j2").write_text("Memo {{ vakgebeid }}\n", encoding="utf-8")
    make_maildir(tmp_path / "mailbox", sample_mailbox(), start=1763280000)
    data = config_data(tmp_path) | {"texts": {"path": str(folder)}}
    cfg = config_from_data(data, {}, base_dir=str(tmp_path))
    sink, notifier = InMemoryTaskSink(), InMemoryNotifier()
    app = build_app(cfg, clock=FakeClock(DEMO_NOW), sink=sink, notifier=notifier)
    try:
        app.daemon.run_once()
        app.daemon.run_once()
        memos = [m[0] for m in sink.memos.values()]
        assert len(memos) >= 5
        assert all(m.startswith("Dit is een IMI-verzoek op het gebied van") for m in memos)
        notices = app.store.query("SELECT text FROM notices WHERE kind = 'texts'")
        assert len(notices) == 1
        assert "memo.j2:1: onbekend invulveld 'vakgebeid'" in notices[0]["text"]
        told = [m for m in notifier.sent if "Teksten afgekeurd" in m.text]
        assert len(told) == 1
    finally:
        app.close()


def test_every_spec_documents_its_placeholders() -> None:
    """Each text names its placeholders and its sample fills exactly those."""
    for spec in SPECS.values():
        assert set(spec.sample) == set(spec.placeholders)
        assert all(spec.placeholders.values())
    docs = (Path(__file__).resolve().parents[2] / "docs" / "teksten.md").read_text("utf-8")
    for spec in SPECS.values():
        assert spec.filename in docs
        for name in spec.placeholders:
            assert f"`{name}`" in docs, name


OWN_REMINDER = """\
{% block onderwerp %}Nog even: IMI-verzoek {{ verzoek }} ({{ termijn }}){% endblock %}
{% block aanhef %}Hallo {{ team }},{% endblock %}
{% block inleiding %}Het verzoek {{ verzoek }} moet uiterlijk {{ antwoorddatum }} af.{% endblock %}
{% block kop %}Graag{% endblock %}
{% block stappen %}
- Antwoord in IMI.
- Vragen: {{ beheerders }}.
{% endblock %}
{% block notities %}{% endblock %}
"""


def test_an_own_reminder_letter_is_sent_and_a_broken_one_falls_back(tmp_path: Path) -> None:
    """The follow-up mails use the beheerders' herinnering.j2; a broken one: the default, told."""
    from datetime import UTC, datetime

    from tests.deadlines.conftest import Desk as DeadlineDesk
    from tests.deadlines.conftest import make_request

    folder = tmp_path / "teksten"
    folder.mkdir()
    path = folder / "herinnering.j2"
    path.write_text(OWN_REMINDER, encoding="utf-8")
    told: list[list[str]] = []
    d = DeadlineDesk(tmp_path / "state.sqlite3", datetime(2026, 11, 16, 8, 0, tzinfo=UTC))
    try:
        d.followups.texts = TextBook(folder, on_broken=told.append)
        d.record(make_request())
        d.at(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
        mail = d.notifier.sent[-1]
        assert mail.subject == "[IMI 184523] Nog even: IMI-verzoek 184523 (nog 5 werkdagen)"
        assert "Hallo Milieu, afval en bodem (VTH)," in mail.text
        assert "1. Antwoord in IMI." in mail.text
        assert "Antwoorddatum:" in mail.text  # the facts table stays
        path.write_text(OWN_REMINDER.replace("{{ verzoek }} (", "{{ verzoekk }} ("), "utf-8")
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        d.at(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
        mail = d.notifier.sent[-1]
        assert mail.subject.startswith("[IMI 184523] Herinnering: uiterlijk 27-11-2026")
        assert told and "onbekend invulveld 'verzoekk'" in told[0][0]
    finally:
        d.close()


def test_a_letter_without_a_block_is_refused() -> None:
    """A letter template must define every block; a missing one is named in Dutch."""
    from imi_mailwatch.texts import compile_text

    loaded = compile_text(SPECS["afsluiting"], "{% block onderwerp %}x{% endblock %}", "a.j2")
    messages = [p.render() for p in loaded.problems]
    assert loaded.template is None
    assert "a.j2: het blok 'stappen' ontbreekt ({% block stappen %})" in messages
