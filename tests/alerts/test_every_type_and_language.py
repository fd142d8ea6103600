"""Every alert type in every language the layouts support is recognised.

The cases are built from the shipped layout tables (imi_mailwatch/alerts/layouts):
for each language and each alert type, every subject phrase, and every body
sentence under a subject that names no event. Each synthetic alert must be read
with the right type, request id and reply date.
"""

from __future__ import annotations

from datetime import date

import pytest

from imi_mailwatch.alerts.layouts import shipped_tables
from imi_mailwatch.model import AlertType, MessageKind
from tests.alerts.mail import message, reader

REQUEST_ID = "186420"
DEADLINE = date(2027, 2, 17)
DATE_FORMAT = {"nl": "%d-%m-%Y", "en": "%d/%m/%Y", "fr": "%d/%m/%Y", "de": "%d.%m.%Y"}
GENERIC_SUBJECT = {"nl": "Melding", "en": "Notification", "de": "Benachrichtigung",
                   "fr": "Notification"}  # fmt: skip


def _cases() -> list[tuple[str, str, str, str]]:
    """(language, alert type, subject, body sentence) for every phrase of every table."""
    cases = []
    for language, table in sorted(shipped_tables().items()):
        for alert_type, phrases in sorted(table.events.items()):
            for phrase in phrases.subject:
                cases.append((language, alert_type, phrase.format(id=REQUEST_ID), ""))
            for sentence in phrases.body:
                cases.append((language, alert_type, GENERIC_SUBJECT[language], sentence))
    return cases


CASES = _cases()


def test_the_cases_cover_every_type_in_every_language() -> None:
    """Each alert type except 'unknown' appears in nl, en, de and fr among the cases."""
    wanted = {t.value for t in AlertType if t is not AlertType.UNKNOWN}
    for language in ("nl", "en", "de", "fr"):
        assert {c[1] for c in CASES if c[0] == language} >= wanted


@pytest.mark.parametrize(
    ("language", "alert_type", "subject", "sentence"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{'body' if c[3] else 'subject'}{i}" for i, c in enumerate(CASES)],
)
def test_each_alert_type_is_read_in_each_language(
    language: str, alert_type: str, subject: str, sentence: str
) -> None:
    """Type, request id and reply date are read from a synthetic alert of this layout."""
    table = shipped_tables()[language]
    id_label = table.labels["request_id"][0]
    deadline_label = table.labels["deadline"][0]
    body = (
        (f"{sentence}.\n\n" if sentence else "")
        + f"{id_label}: {REQUEST_ID}\n"
        + f"{deadline_label}: {DEADLINE.strftime(DATE_FORMAT[language])}\n"
    )
    c = reader().classify(message(body, subject=f"IMI - IMI - {subject}"))
    assert c.kind is MessageKind.IMI_ALERT, c.reason
    assert c.alert is not None
    assert c.alert.alert_type.value == alert_type
    assert c.alert.request_id == REQUEST_ID
    assert c.alert.deadline == DEADLINE
    assert c.alert.language == language
