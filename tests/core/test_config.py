"""Configuration: validated at once, every problem placed, secrets never in the file."""

from __future__ import annotations

import pytest

from imi_mailwatch.config import DEFAULT_MEMO_TEMPLATE, parse_config
from imi_mailwatch.errors import ConfigError


def test_every_problem_is_reported_at_once_with_line_and_path() -> None:
    """Several mistakes in one file are all listed, each with file:line:column and path."""
    text = (
        "mailboxes:\n"
        "  - name: a\n"
        "    kind: imap\n"
        "    imap: {host: x, username: u, password: {env: PW}, secrity: tls}\n"
        "  - name: b\n"
        "    kind: maildirr\n"
        "task_sink: {kind: corsa}\n"
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.yaml", {})
    problems = info.value.problems
    assert len(problems) == 4
    assert any(p.startswith("c.yaml:4:") and "mailboxes[0].imap.password" in p and "PW" in p
               for p in problems)
    assert any("mailboxes[0].imap.secrity" in p and "did you mean 'security'" in p
               for p in problems)
    assert any(p.startswith("c.yaml:6:11: mailboxes[1].kind") for p in problems)
    assert any("task_sink" in p and "corsa" in p for p in problems)


def test_a_secret_may_not_stand_in_the_file() -> None:
    """A password written inline is refused; one from the environment is redacted in repr."""
    inline = "mailboxes: [{name: a, kind: imap, imap: {host: x, username: u, password: hunter2}}]"
    with pytest.raises(ConfigError) as info:
        parse_config(inline, "c.yaml", {})
    assert "hunter2" not in str(info.value)
    good = "mailboxes: [{name: a, kind: imap, imap: {host: x, username: u, password: {env: PW}}}]"
    cfg = parse_config(good, "c.yaml", {"PW": "s3cr3t-value"})
    password = cfg.mailboxes[0].imap.password  # type: ignore[union-attr]
    assert password is not None and password.reveal() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(cfg)


def test_yaml_syntax_error_and_duplicate_keys_are_placed() -> None:
    """Broken YAML and a key given twice are reported with their line."""
    with pytest.raises(ConfigError) as info:
        parse_config("state:\n  path: a\n  path: b\n", "c.yaml", {})
    assert any("c.yaml:3:" in p and "duplicate key 'path'" in p for p in info.value.problems)
    with pytest.raises(ConfigError) as info:
        parse_config("state: [unclosed\n", "c.yaml", {})
    assert "YAML syntax error" in str(info.value)


def test_defaults_carry_the_province_settings() -> None:
    """An empty file gives the province's authentication settings and the standard memo."""
    cfg = parse_config("", "c.yaml", {})
    assert cfg.authentication.authserv_id == "mx.brabant.nl"
    assert cfg.authentication.allowed_domains == ("ec.europa.eu",)
    assert cfg.memo.template == DEFAULT_MEMO_TEMPLATE
    assert cfg.functional_mailbox == "imi@brabant.nl"
