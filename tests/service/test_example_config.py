"""config/imi-mailwatch.example.yaml validates and documents every configuration key."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from imi_mailwatch.config import Config, load_config
from imi_mailwatch.config_types import Secret

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "imi-mailwatch.example.yaml"
ENVIRON = {
    "IMI_IMAP_PASSWORD": "synthetic-imap",
    "IMI_CORSA_PASSWORD": "synthetic-corsa",
    "IMI_CORSA_LICENCE": "synthetic-licence",
}


def _models(annotation: object) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation) or (annotation,):
        for inner in typing.get_args(arg) or (arg,):
            if isinstance(inner, type) and issubclass(inner, BaseModel) and inner is not Secret:
                found.append(inner)
    return found


def keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every configuration key as a dotted path (list items without an index)."""
    out: list[str] = []
    for name, info in model.model_fields.items():
        if info.exclude:
            continue
        out.append(prefix + name)
        for sub in _models(info.annotation):
            out += keys(sub, f"{prefix}{name}.")
    return out


def test_the_example_validates_for_the_province() -> None:
    """The example loads with load_config and holds the province's settings."""
    cfg = load_config(EXAMPLE, ENVIRON)
    assert cfg.authentication.authserv_id == "mx.brabant.nl"
    assert cfg.authentication.allowed_domains == ("ec.europa.eu",)
    assert cfg.authentication.forwarders == ("j.devries@brabant.nl",)
    assert cfg.functional_mailbox == "imi@brabant.nl"
    assert cfg.mailboxes[0].imap is not None
    assert cfg.mailboxes[0].imap.username == "imi@brabant.nl"
    assert cfg.service.health_listen == "127.0.0.1:9310"
    assert cfg.service.drain_seconds == 10
    assert cfg.memo.template == Config().memo.template
    assert cfg.deadlines.schedule == Config().deadlines.schedule


def test_every_key_is_in_the_example() -> None:
    """Each key of the configuration model appears in the example, set or commented."""
    text = EXAMPLE.read_text(encoding="utf-8")
    present = set(re.findall(r"^\s*#?\s*(?:- )?\{?([a-z_]+):", text, flags=re.MULTILINE))
    present |= set(re.findall(r"[{,]\s*([a-z_]+):", text))  # flow mappings
    missing = [k for k in keys(Config) if k.rsplit(".", 1)[-1] not in present]
    assert not missing, "add to config/imi-mailwatch.example.yaml: " + ", ".join(missing)


def test_the_example_holds_no_secret() -> None:
    """Secrets are references only: {env: ...} or {file: ...}."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for line in text.splitlines():
        m = re.match(r"^\s*#?\s*(password|client_secret|license_key):\s*(.*)$", line)
        if m and m.group(2):
            assert m.group(2).startswith(("{env:", "{file:")), line
