"""``corsa check`` against what the installation knows, and ``corsa check --proef UNIT``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from imi_mailwatch.cli import main
from imi_mailwatch.testing.corsa_server import CorsaTestServer, start

from .conftest import ENVIRON, UNITS
from .test_corsa_cmd import _config_file


@pytest.fixture(autouse=True)
def _environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The secrets in the environment; structlog's configuration restored afterwards."""
    for key, value in ENVIRON.items():
        monkeypatch.setenv(key, value)
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture
def case_installation() -> Iterator[CorsaTestServer]:
    """A test server whose installation works with Corsa/Case."""
    srv, _url = start(units=UNITS, profile="case")
    try:
        yield srv
    finally:
        srv.stop()


def _lines(out: str, mark: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(mark)]


def test_check_refuses_a_field_and_a_sender_the_installation_lacks(
    server: CorsaTestServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """check validates every configured field and reference against GetFields/GetReferences."""
    path = _config_file(
        server.url,
        profile=server.profile.name,
        extra_fields={"poststuk.bestaat_niet": "x"},
        extra_references={"herkomst": "IMI"},
    )
    assert main(["corsa", "check", "-c", str(path), "--eenheid", "ORG-VTH"]) == 1
    out = capsys.readouterr().out
    assert any("velden" in x and "poststuk.bestaat_niet" in x for x in _lines(out, "FOUT"))
    assert any("referenties" in x and "herkomst" in x for x in _lines(out, "FOUT"))
    assert server.documents == {}


def test_check_names_the_required_sender_in_production(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A production installation requiring a sender: check says which fields to add."""
    srv, _url = start(units=UNITS, profile="production")
    try:
        path = _config_file(srv.url, profile="documented")
        assert main(["corsa", "check", "-c", str(path), "--eenheid", "ORG-VTH"]) == 1
    finally:
        srv.stop()
    fout = _lines(capsys.readouterr().out, "FOUT")
    assert any("poststuk.soort_ext" in x and "extra_fields" in x for x in fout)


def test_check_refuses_an_unknown_object_kind_and_confidentiality(
    server: CorsaTestServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The object kind and the confidentiality are checked against the installation."""
    path = _config_file(
        server.url, profile=server.profile.name, object_kind="POST", confidentiality="STIEKEM"
    )
    assert main(["corsa", "check", "-c", str(path), "--eenheid", "ORG-VTH"]) == 1
    fout = _lines(capsys.readouterr().out, "FOUT")
    assert any("objectsoort" in x and "POST" in x for x in fout)
    assert any("vertrouwelijkheid" in x and "STIEKEM" in x for x in fout)


def test_proef_registers_follows_and_deletes_a_test_document(
    server: CorsaTestServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """--proef goes through all five steps and leaves no live document behind."""
    path = _config_file(server.url, profile=server.profile.name)
    code = main(["corsa", "check", "-c", str(path), "--proef", "ORG-VTH"])
    out = capsys.readouterr().out
    assert code == 0, out
    for step in ("1 registreren", "2 velden", "2 terugvinden", "3 takenlijst", "4 memo"):
        assert any(step in x for x in out.splitlines() if not x.startswith("FOUT")), step
    assert any("5 opruimen" in x and "DeleteObject3" in x for x in _lines(out, "ok"))
    (doc,) = server.documents.values()
    assert doc.deleted and "PROEF" in doc.memo
    assert doc.fields["poststuk.onderwerp"].startswith("IMI-verzoek PROEF-")
    kenmerk_line = next(x for x in out.splitlines() if "2 velden" in x)
    if server.profile.kenmerk_stored:
        assert kenmerk_line.startswith("ok") and "kenmerk" not in kenmerk_line
    else:  # said plainly
        assert kenmerk_line.startswith("let op")
        assert "kenmerk (poststuk.kenmerk) wordt NIET opgeslagen" in kenmerk_line


def test_proef_in_registration_mode_on_a_case_installation_stops_at_the_todo_list(
    case_installation: CorsaTestServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A registration that reaches no to-do list: FOUT at step 3 with what to ask, then the test
    document is deleted anyway."""
    path = _config_file(case_installation.url, profile="production")
    assert main(["corsa", "check", "-c", str(path), "--proef", "ORG-VTH"]) == 1
    out = capsys.readouterr().out
    assert _lines(out, "FOUT")[0].split()[1:3] == ["3", "takenlijst"]
    assert "Vraag de Corsa-beheerder" in out and "task_mode: case" in out
    assert "4 memo" not in out
    assert all(d.deleted for d in case_installation.documents.values())


def test_proef_in_case_mode(
    case_installation: CorsaTestServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """--proef in case mode: the case's step is in the unit and carries the memo."""
    path = _config_file(case_installation.url, profile="case")
    code = main(["corsa", "check", "-c", str(path), "--proef", "ORG-ECO"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "werkwijze: zaak (Corsa/Case)" in out
    assert any("3 takenlijst" in x and "ORG-ECO" in x for x in _lines(out, "ok"))
    assert any("4 memo" in x and "CaseAdhocAction" in x for x in _lines(out, "ok"))


def test_proef_that_cannot_register_says_what_to_ask(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A refused registration stops at step 1 with the LastError and what to ask."""
    srv, _url = start(units=UNITS, profile="production")
    try:
        path = _config_file(srv.url, profile="documented")
        assert main(["corsa", "check", "-c", str(path), "--proef", "ORG-VTH"]) == 1
    finally:
        srv.stop()
    out = capsys.readouterr().out
    (fout,) = _lines(out, "FOUT")
    assert "1 registreren" in fout and "mandatory" in fout
    assert "Vraag de Corsa-beheerder" in out


def test_check_in_case_mode_needs_the_case_field(
    case_installation: CorsaTestServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Case mode: check passes where the case field exists and names it where it does not."""
    path = _config_file(case_installation.url, profile="case")
    assert main(["corsa", "check", "-c", str(path), "--eenheid", "ORG-VTH"]) == 0
    capsys.readouterr()
    srv, _url = start(units=UNITS, profile="production")
    try:
        path = _config_file(srv.url, profile="case")
        assert main(["corsa", "check", "-c", str(path), "--eenheid", "ORG-VTH"]) == 1
    finally:
        srv.stop()
    assert any("poststuk.zaak_id" in x for x in _lines(capsys.readouterr().out, "FOUT"))


def test_check_validates_the_completion_field_when_the_read_back_is_on(
    server: CorsaTestServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """With readback_minutes, check names a completion field the installation lacks."""
    path = _config_file(server.url, profile=server.profile.name, readback_minutes=15)
    assert main(["corsa", "check", "-c", str(path), "--eenheid", "ORG-VTH"]) == 0
    capsys.readouterr()
    path = _config_file(
        server.url,
        profile=server.profile.name,
        readback_minutes=15,
        completed_field="poststuk.afgehandeld_op",
    )
    assert main(["corsa", "check", "-c", str(path), "--eenheid", "ORG-VTH"]) == 1
    out = capsys.readouterr().out
    assert any("velden" in x and "poststuk.afgehandeld_op" in x for x in _lines(out, "FOUT"))
