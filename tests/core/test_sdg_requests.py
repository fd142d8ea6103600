"""SDG requests through the real daemon: their own rule, memo, term and no Services close-out.

Synthetic SDG alerts (tests/alerts/fixtures/sdg) go through the daemon (Maildir,
SQLite state, the shipped rules, an in-memory task sink) on a fixed clock.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from imi_mailwatch.adapters.memory import InMemoryNotifier, InMemoryTaskSink
from imi_mailwatch.app import App, build_app
from imi_mailwatch.clock import FakeClock
from imi_mailwatch.commands.demo import DEMO_NOW, make_maildir
from imi_mailwatch.config import config_from_data
from imi_mailwatch.model import Module, RequestStatus
from tests.privacy.helpers import config_data

SDG = Path(__file__).resolve().parents[1] / "alerts" / "fixtures" / "sdg"
SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def run(tmp: Path, names: list[tuple[Path, str]]) -> tuple[App, InMemoryTaskSink]:
    make_maildir(tmp / "mailbox", [(n, (d / n).read_bytes()) for d, n in names], 1763280000)
    cfg = config_from_data(config_data(tmp), {}, base_dir=str(tmp))
    sink = InMemoryTaskSink()
    app = build_app(cfg, clock=FakeClock(DEMO_NOW), sink=sink, notifier=InMemoryNotifier())
    app.daemon.run_once()
    return app, sink


def test_an_evidence_verification_gets_its_rule_memo_and_short_term(tmp_path: Path) -> None:
    """No reply date in the alert: five working days; the SDG memo; the SDG rule's team."""
    app, sink = run(tmp_path, [(SDG, "nl_sdg_evidence_new_request.eml")])
    try:
        request = app.store.get_request("187001")
        assert request is not None and request.module is Module.SDG_EVIDENCE
        assert request.rule == "SDG-bewijsverificatie" and not request.is_default
        assert request.deadline == date(2026, 11, 23)  # Monday 16-11 + 5 working days
        (task,) = sink.tasks.values()
        assert "verificatie van de echtheid van elektronisch bewijs" in task.memo
        assert "23-11-2026" in task.memo
        assert "Dienstenrichtlijn" not in task.memo
    finally:
        app.close()


def test_an_exceptions_notice_gets_its_own_memo(tmp_path: Path) -> None:
    """A notification of an exception: its own memo text and rule, its own reply date."""
    app, sink = run(tmp_path, [(SDG, "en_sdg_exceptions_new_request.eml")])
    try:
        request = app.store.get_request("187004")
        assert request is not None and request.module is Module.SDG_EXCEPTIONS
        assert request.rule == "SDG-uitzonderingen"
        assert request.deadline == date(2027, 1, 18)
        (task,) = sink.tasks.values()
        assert "uitzonderingen op onlineprocedures" in task.memo
    finally:
        app.close()


def test_a_closed_sdg_request_gets_no_services_close_out(tmp_path: Path) -> None:
    """Closing an SDG request cancels its reminders and plans no closing or archive mail."""
    app, _ = run(
        tmp_path,
        [(SDG, "nl_sdg_evidence_new_request.eml"), (SDG, "nl_sdg_evidence_closed.eml")],
    )
    try:
        request = app.store.get_request("187001")
        assert request is not None and request.status is RequestStatus.CLOSED
        kinds = {f["kind"] for f in app.store.followups_of("187001") if f["status"] != "cancelled"}
        assert kinds == set()
    finally:
        app.close()


def test_a_closed_services_request_still_gets_the_close_out(tmp_path: Path) -> None:
    """The Services close-out (closing mail, archive check) stays for Services requests."""
    app, _ = run(tmp_path, [(SAMPLES, "nl_new_request.eml"), (SAMPLES, "nl_closed.eml")])
    try:
        kinds = {f["kind"] for f in app.store.followups_of("184523") if f["status"] != "cancelled"}
        assert {"closing", "archive"} <= kinds
    finally:
        app.close()


def test_the_beheerders_own_memo_does_not_replace_an_sdg_memo(tmp_path: Path) -> None:
    """teksten/memo.j2 is the Services memo; an SDG task keeps its module's memo."""
    (tmp_path / "teksten").mkdir()
    (tmp_path / "teksten" / "memo.j2").write_text(
        "Eigen memo van de beheerders over {{ vakgebied }}.\n", encoding="utf-8"
    )
    names = [(SDG, "nl_sdg_evidence_new_request.eml"), (SAMPLES, "en_new_request.eml")]
    make_maildir(tmp_path / "mailbox", [(n, (d / n).read_bytes()) for d, n in names], 1763280000)
    data = {**config_data(tmp_path), "texts": {"path": str(tmp_path / "teksten")}}
    cfg = config_from_data(data, {}, base_dir=str(tmp_path))
    sink = InMemoryTaskSink()
    app = build_app(cfg, clock=FakeClock(DEMO_NOW), sink=sink, notifier=InMemoryNotifier())
    try:
        app.daemon.run_once()
        memos = {t.request_id: t.memo for t in sink.tasks.values()}
        assert memos["184777"].startswith("Eigen memo van de beheerders")
        assert "elektronisch bewijs" in memos["187001"]
    finally:
        app.close()
