"""Avoidable work is not done: HTML converted only when read, ordinary mail not scanned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from imi_mailwatch.alerts import forwards, mime
from imi_mailwatch.model import MessageKind
from tests.alerts.mail import AR_FORWARDER, IMI_FROM, NL_BODY, NL_SUBJECT, message, multipart
from tests.alerts.test_forms import HTML_TABLE, assert_full_nl, read

FORWARDER = "J. de Vries (ICB) <j.devries@brabant.nl>"
LETTER = (
    "Beste collega,\n\nNaar aanleiding van ons gesprek stuur ik je de stukken over de "
    "aanvraag van vorige week. Graag hoor ik of er nog vragen zijn.\n\nMet vriendelijke groet,\n"
    "Jan Jansen\n"
) * 10


def counting(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[int]:
    """Replace ``module.name`` by itself, counting its calls in the returned list."""
    calls: list[int] = []
    real: Callable[..., Any] = getattr(module, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_an_alert_with_a_plain_part_never_converts_its_html(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """multipart/alternative with a plain part: the alert is read, its HTML part not converted."""
    converted = counting(monkeypatch, mime, "html_to_text")
    data = multipart([
        ("Content-Type: text/plain; charset=utf-8", NL_BODY.encode()),
        ("Content-Type: text/html; charset=utf-8", HTML_TABLE.encode()),
    ])  # fmt: skip
    assert_full_nl(read(data))
    assert converted == []


def test_an_html_only_alert_is_converted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a plain part the HTML is converted, once, however often the text is read."""
    converted = counting(monkeypatch, mime, "html_to_text")
    assert_full_nl(read(message(HTML_TABLE, content_type="text/html; charset=utf-8")))
    assert converted == [1]


def test_ordinary_mail_without_a_subject_label_is_not_scanned_for_forwards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mail that names no subject header holds no inline forward: no scan line by line."""
    scanned = counting(monkeypatch, forwards, "_block_start")
    data = message(
        LETTER, subject="Overleg", sender="J. Jansen <j.jansen@example.nl>", extra=()
    )  # fmt: skip
    c = read(data)
    assert c.kind is MessageKind.NOT_IMI, c.reason
    assert scanned == []


def test_a_forward_with_accents_and_capitals_passes_the_pre_filter() -> None:
    """The pre-filter folds as the scan does: ONDERWERP: in non-ASCII text still counts."""
    body = (
        "Ter info, één vraag.\n\n-----Oorspronkelijk bericht-----\n"
        f"VAN: {IMI_FROM}\nVERZONDEN: maandag 16 november 2026 09:12\n"
        f"ONDERWERP: {NL_SUBJECT}\n\n{NL_BODY}"
    )
    data = message(
        body, subject="FW: " + NL_SUBJECT, sender=FORWARDER, auth_results=(AR_FORWARDER,),
        extra=(),
    )  # fmt: skip
    c = read(data)
    assert c.auth is not None and c.auth.via_forwarder
    assert_full_nl(c)
