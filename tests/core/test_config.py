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
    assert any(
        p.startswith("c.yaml:4:") and "mailboxes[0].imap.password" in p and "PW" in p
        for p in problems
    )
    assert any(
        "mailboxes[0].imap.secrity" in p and "did you mean 'security'" in p for p in problems
    )
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


# -- YAML 1.2 values, times, time zones, addresses (check-config and run agree) ----------

from datetime import time  # noqa: E402
from pathlib import Path  # noqa: E402

from imi_mailwatch.config_checks import insecure_accepted, prepare  # noqa: E402
from imi_mailwatch.model import Alert, AlertType  # noqa: E402
from imi_mailwatch.rules import load_rules  # noqa: E402


def _problems(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.yaml", environ or {})
    return info.value.problems


def test_unquoted_working_hours_are_a_clock_time_not_yaml11_sexagesimal() -> None:
    """`working_hours_start: 8:30` unquoted is 08:30 (YAML 1.1 made it the number 510)."""
    cfg = parse_config(
        "deadlines:\n  working_hours_start: 8:30\n  working_hours_end: 17:00\n", "c.yaml", {}
    )
    assert cfg.deadlines.working_hours_start == time(8, 30)
    assert cfg.deadlines.working_hours_end == time(17, 0)


def test_a_working_hour_that_is_not_hh_mm_is_refused_with_its_line() -> None:
    """A number or a malformed time is refused, placed, asking for "HH:MM"."""
    problems = _problems("deadlines:\n  working_hours_start: 830\n  working_hours_end: '25:00'\n")
    assert any(
        p.startswith("c.yaml:2:") and "deadlines.working_hours_start" in p and '"HH:MM"' in p
        for p in problems
    )
    assert any(p.startswith("c.yaml:3:") and "working_hours_end" in p for p in problems)


def test_misspelt_timezone_is_refused_by_the_schema_with_a_suggestion() -> None:
    """An unknown time zone is a placed configuration problem, with the closest known name."""
    problems = _problems("deadlines:\n  timezone: Europe/Amsterdm\n")
    assert len(problems) == 1
    assert problems[0].startswith("c.yaml:2:") and "deadlines.timezone" in problems[0]
    assert "Europe/Amsterdam" in problems[0]


def test_email_addresses_are_validated_everywhere_in_the_configuration() -> None:
    """A malformed address of a beheerder, the sender, escalation or a forwarder is refused."""
    text = (
        "beheerders:\n  - {name: A, email: a.voorbeeld(at)example.org}\n"
        "notify:\n  from_address: imi@brabant\n  drop_folder: {path: out}\n"
        "deadlines:\n  escalation: ['Team <t@example.org>']\n"
        "authentication:\n  forwarders: [j.devries@@brabant.nl]\n"
        "functional_mailbox: imi\n"
    )
    problems = _problems(text)
    for path in (
        "beheerders[0].email",
        "notify.from_address",
        "deadlines.escalation[0]",
        "authentication.forwarders[0]",
        "functional_mailbox",
    ):
        assert any(f": {path}: " in p and "not an e-mail address" in p for p in problems), path
    assert parse_config("beheerders: [{name: A, email: a.b+imi@sub.example.org}]", "c.yaml", {})


def test_norway_member_state_no_stays_a_string_in_rules(tmp_path: Path) -> None:
    """`lidstaat: NO` in a rules file is Norway, not the YAML 1.1 boolean false."""
    (tmp_path / "r.yaml").write_text(
        "teams:\n  noord: {naam: Noord, organisatie_eenheid: N1}\n"
        "  icb: {naam: ICB, organisatie_eenheid: I1}\n"
        "regels:\n  - naam: Noorwegen\n    als: {lidstaat: NO}\n"
        "    dan: {team: noord, vakgebied: x}\n"
        "standaard: {team: icb, vakgebied: y}\n",
        encoding="utf-8",
    )
    ruleset = load_rules([tmp_path / "r.yaml"])
    alert = Alert(alert_type=AlertType.NEW_REQUEST, request_id="1", member_state="NO")
    assert ruleset.route(alert).team.key == "noord"


# -- plaintext to a host other than this machine --------------------------------------------

IMAP_NONE = (
    "mailboxes: [{name: a, kind: imap, imap: {host: %s, security: none, username: u, "
    "password: {env: PW}%s}}]"
)


def test_imap_security_none_to_a_remote_host_is_refused_unless_allow_insecure() -> None:
    """IMAP without TLS to a remote host (password in clear) needs allow_insecure: true."""
    problems = _problems(IMAP_NONE % ("imap.example.org", ""), {"PW": "x"})
    assert len(problems) == 1 and "mailboxes[0].imap" in problems[0]
    assert "in clear to imap.example.org" in problems[0] and "allow_insecure" in problems[0]
    for host in ("127.0.0.1", "localhost", "'::1'", "127.0.0.53"):
        parse_config(IMAP_NONE % (host, ""), "c.yaml", {"PW": "x"})
    cfg = parse_config(
        IMAP_NONE % ("imap.example.org", ", allow_insecure: true"), "c.yaml", {"PW": "x"}
    )
    warnings = insecure_accepted(cfg)
    assert len(warnings) == 1 and "imap.example.org" in warnings[0]


def test_http_urls_to_remote_hosts_are_refused_for_corsa_graph_ews_and_oauth() -> None:
    """Corsa, Graph, EWS and the OAuth authority over http:// to a remote host are refused."""
    oauth = "{tenant_id: t, client_id: c, client_secret: {env: S}"
    cases = {
        "task_sink.corsa": (
            "task_sink: {kind: corsa, corsa: {url: 'http://corsa.example.org/ws.asmx', "
            "username: u, password: {env: S}",
            "}}",
        ),
        "mailboxes[0].graph": (
            "mailboxes: [{name: g, kind: graph, graph: {mailbox: imi@example.org, oauth: "
            + oauth
            + "}, base_url: 'http://graph.example.org/v1.0'",
            "}}]",
        ),
        "mailboxes[0].ews": (
            "mailboxes: [{name: e, kind: ews, ews: {mailbox: imi@example.org, username: u, "
            "password: {env: S}, service_endpoint: 'http://mail.example.org/EWS/Exchange.asmx'",
            "}}]",
        ),
        "mailboxes[0].graph.oauth": (
            "mailboxes: [{name: g, kind: graph, graph: {mailbox: imi@example.org, oauth: "
            + oauth
            + ", authority: 'http://login.example.org'",
            "}}}]",
        ),
    }
    for path, (head, tail) in cases.items():
        problems = _problems(head + tail, {"S": "x"})
        assert len(problems) == 1, problems
        assert f": {path}: " in problems[0] and "in clear" in problems[0], problems
        parse_config(head + ", allow_insecure: true" + tail, "c.yaml", {"S": "x"})
        parse_config((head + tail).replace("http://", "https://"), "c.yaml", {"S": "x"})
    head, tail = cases["task_sink.corsa"]
    parse_config(head.replace("corsa.example.org", "127.0.0.1:8080") + tail, "c.yaml", {"S": "x"})


def test_smtp_without_tls_to_a_remote_relay_is_refused_unless_allow_insecure() -> None:
    """Notification mail without TLS to a remote relay needs allow_insecure; credentials never."""
    text = "notify: {kind: smtp, smtp: {host: relay.example.org, security: none%s}}"
    problems = _problems(text % "")
    assert "notify.smtp" in problems[0] and "in clear to relay.example.org" in problems[0]
    parse_config(text % ", allow_insecure: true", "c.yaml", {})
    creds = _problems(text % ", allow_insecure: true, username: u, password: {env: P}", {"P": "x"})
    assert "only sent over tls or starttls" in creds[0]


# -- secrets: read only for the parts in use, only by run/check-config ------------------

CORSA_KEPT = (
    "mailboxes: [{name: m, kind: maildir, path: m}]\n"
    "task_sink:\n  kind: drop_folder\n  drop_folder: {path: d}\n"
    "  corsa: {url: 'https://c.example.org', username: u, password: {env: IMI_CORSA_PW},"
    " license_key: {env: IMI_CORSA_LICENCE}}\n"
)


def test_secrets_of_parts_not_in_use_are_never_read(tmp_path: Path) -> None:
    """A corsa block kept beside task_sink.kind drop_folder needs no Corsa secrets to run."""
    cfg = parse_config(CORSA_KEPT, str(tmp_path / "c.yaml"), {})
    prepare(cfg, {})
    corsa = CORSA_KEPT.replace("kind: drop_folder", "kind: corsa")
    cfg = parse_config(corsa, str(tmp_path / "c.yaml"), {}, resolve_secrets=False)
    with pytest.raises(ConfigError) as info:
        prepare(cfg, {})
    assert sorted(p.split(": ", 1)[1] for p in info.value.problems) == [
        "task_sink.corsa.license_key: environment variable IMI_CORSA_LICENCE is not set",
        "task_sink.corsa.password: environment variable IMI_CORSA_PW is not set",
    ]
    assert all(p.startswith(f"{tmp_path / 'c.yaml'}:5:") for p in info.value.problems)


def test_a_configuration_without_mailboxes_cannot_run() -> None:
    """Zero mailboxes (a forgotten -c reads the defaults) is an error for run and check-config."""
    with pytest.raises(ConfigError) as info:
        prepare(parse_config("", "c.yaml", {}), {})
    assert "no mailbox is configured" in str(info.value)
