"""The two SDG modules: their alerts in nl, en, de and fr are read with their module.

The samples in fixtures/sdg are synthetic (see docs/alerts.md, "SDG modules", for
the layout assumed); expected.json holds what must be read from each.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from imi_mailwatch.model import MessageKind, Module
from tests.alerts.mail import reader

FIXTURES = Path(__file__).parent / "fixtures" / "sdg"
EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (FIXTURES / "expected.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_an_sdg_alert_is_read_with_its_module(name: str) -> None:
    """Type, request id, module, language, member state and reply date of each sample."""
    want = EXPECTED[name]
    c = reader().classify((FIXTURES / name).read_bytes())
    assert c.kind.value == want["kind"], c.reason
    assert c.alert is not None
    got = {
        "kind": c.kind.value,
        "alert_type": c.alert.alert_type.value,
        "request_id": c.alert.request_id,
        "module": c.alert.module.value,
        "language": c.alert.language,
        "member_state": c.alert.member_state,
        "deadline": c.alert.deadline.isoformat() if c.alert.deadline else None,
    }
    assert got == want


def test_every_sdg_module_has_a_sample_in_every_language() -> None:
    """Both SDG modules have a new-request sample in nl, en, de and fr."""
    have = {(w["language"], w["module"]) for w in EXPECTED.values()}
    for language in ("nl", "en", "de", "fr"):
        for module in (Module.SDG_EVIDENCE, Module.SDG_EXCEPTIONS):
            assert (language, module.value) in have


def test_a_services_alert_stays_in_the_services_module() -> None:
    """A Services alert (the shared samples) is not taken for an SDG one."""
    samples = Path(__file__).resolve().parents[1] / "samples"
    for path in sorted(samples.glob("*.eml")):
        c = reader().classify(path.read_bytes())
        if c.kind is MessageKind.IMI_ALERT and c.alert is not None:
            assert c.alert.module is Module.SERVICES, path.name
