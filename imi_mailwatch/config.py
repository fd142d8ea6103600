"""The configuration: one YAML file validated into frozen objects.

Every key is documented in ``config/imi-mailwatch.example.yaml``. Secrets never
stand in the file: a secret is ``{env: NAME}`` or ``{file: /path}``; loading
checks only the reference. The secrets of the parts in use are read by
:func:`imi_mailwatch.config_checks.prepare` (for ``run``, ``check-config`` and the
Corsa commands), so commands that need none (``rules check``, ``route``,
``status``) run without them. A secret's repr is redacted. Plaintext to a host
other than this machine is refused unless the section says ``allow_insecure:
true``. All problems are reported at once, each with file, line and path; only
the CLI turns them into an exit code.
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from imi_mailwatch.config_corsa import CorsaConfig
from imi_mailwatch.config_mail import (
    EwsConfig,
    GraphConfig,
    ImapConfig,
    MailboxConfig,
    OAuthConfig,
    SmtpConfig,
)
from imi_mailwatch.config_modules import ModulesConfig
from imi_mailwatch.config_replies import RepliesConfig
from imi_mailwatch.config_routing import RoutingConfig
from imi_mailwatch.config_state import StateConfig
from imi_mailwatch.config_types import (
    ClockTime,
    EmailAddress,
    TimeZoneName,
    check_email,
    check_memo_template,
    require_kind_block,
)
from imi_mailwatch.config_types import Section as _Section
from imi_mailwatch.config_web import WebConfig
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.yamlsource import (
    MAX_YAML_BYTES,
    Problem,
    YamlDocument,
    load_yaml,
    problems_from_validation,
    read_limited,
)

__all__ = [  # the mail-server and state sections live in their own modules; part of this API
    "Config",
    "EwsConfig",
    "GraphConfig",
    "ImapConfig",
    "MailboxConfig",
    "OAuthConfig",
    "SmtpConfig",
    "StateConfig",
]

DEFAULT_MEMO_TEMPLATE = (
    "Dit is een IMI-verzoek op het gebied van {vakgebied}. Verdere raadpleging kan "
    "alleen door een behandelaar nadat die toegang heeft gekregen tot het IMI-systeem. "
    "Meer informatie hierover bij IMI-beheerder(s) {beheerders}. De verzoekende "
    "overheidsinstantie in het buitenland vraagt het verzoek {dagen} binnen IMI te "
    "beantwoorden, dus houd a.j.b. contact met de IMI-beheerder als het "
    "onderbrengen van deze taak niet lukt of vertraging oploopt."
)


class LoggingConfig(_Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


def _check_forwarder(entry: str) -> str:
    """An address, or @domain for every address of that domain."""
    check_email(f"x{entry}" if entry.startswith("@") else entry)
    return entry


ForwarderEntry = Annotated[str, AfterValidator(_check_forwarder)]


class AuthenticationConfig(_Section):
    """Which alerts are trusted (the trust model: docs/alerts.md)."""

    # Who stamps the trusted Authentication-Results: our mail server, named by
    # authserv_id, or Exchange Online, which writes no authserv-id.
    stamped_by: Literal["authserv_id", "exchange_online"] = "authserv_id"
    authserv_id: str = "mx.brabant.nl"
    allowed_domains: tuple[str, ...] = ("ec.europa.eu",)  # and their subdomains
    allowed_senders: tuple[EmailAddress, ...] = ()  # exact addresses, beside allowed_domains
    forwarders: tuple[ForwarderEntry, ...] = ("j.devries@brabant.nl",)
    # forwarder: a forwarder's forward is trusted, inline or attached; original: only an
    # attached original (message/rfc822) with its own passing results.
    forward_trust: Literal["forwarder", "original"] = "forwarder"
    verify_dkim: bool = False  # verify DKIM signatures ourselves; then that alone decides

    @field_validator("authserv_id")
    @classmethod
    def _authserv_id(cls, value: str) -> str:
        if value != value.strip() or any(c in value for c in ' \t;()"'):
            raise ValueError("authserv_id is one host name, such as mx.brabant.nl")
        return value.lower()

    @field_validator("allowed_senders")
    @classmethod
    def _exact_addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            local, at, domain = entry.rpartition("@")
            if not at or not local or not domain or any(c.isspace() for c in entry):
                raise ValueError(f"{entry!r} is not an e-mail address (name@domain)")
        return tuple(entry.lower() for entry in value)

    @model_validator(mode="after")
    def _someone_trusted(self) -> AuthenticationConfig:
        if self.stamped_by == "authserv_id" and not self.authserv_id and not self.verify_dkim:
            raise ValueError(
                "authserv_id is empty: name the mail server that stamps "
                "Authentication-Results, or set stamped_by: exchange_online for Exchange Online"
            )
        if not self.allowed_domains and not self.allowed_senders:
            raise ValueError("allowed_domains and allowed_senders are both empty: nothing passes")
        return self


class AlertsConfig(_Section):
    layouts_dir: str | None = None  # extra or overriding layout tables (*.yaml)
    max_message_bytes: int = Field(default=30 * 1024 * 1024, ge=1024)
    max_parse_seconds: float = Field(default=5.0, gt=0)  # deprecated: reading is bounded by work


class RulesConfig(_Section):
    paths: tuple[str, ...] = ("rules",)  # files or directories of *.yaml
    reload_seconds: float = Field(default=5.0, gt=0)


class TextsConfig(_Section):
    path: str = "teksten"  # the beheerders' templates (docs/teksten.md); may be absent


class Beheerder(_Section):
    name: str
    email: EmailAddress
    phone: str | None = None
    role: Literal["first", "backup"] = "first"


class DropFolderConfig(_Section):
    path: str


class IntakeMailConfig(_Section):
    to: EmailAddress  # the Corsa intake mailbox
    record_dir: str = "intake-sent"  # what was sent, per request id: lets find() see it


class TaskSinkConfig(_Section):
    kind: Literal["corsa", "drop_folder", "email"] = "drop_folder"
    corsa: CorsaConfig | None = None
    drop_folder: DropFolderConfig | None = None
    email: IntakeMailConfig | None = None
    pdf_font: str | None = None  # a Unicode TTF for the PDF; default: a known system font

    @model_validator(mode="after")
    def _kind_block(self) -> TaskSinkConfig:
        require_kind_block("task_sink", self)
        return self


class MemoConfig(_Section):
    template: str = DEFAULT_MEMO_TEMPLATE

    @field_validator("template")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        return check_memo_template(value)


class NotifyConfig(_Section):
    kind: Literal["smtp", "graph", "drop_folder"] = "drop_folder"
    from_address: EmailAddress = "imi@brabant.nl"
    from_name: str = "IMI-mailwatch Provincie Noord-Brabant"
    # Reply-To of every mail about a request: where answers (reply commands) go.
    # Default: functional_mailbox, the watched mailbox
    reply_to: EmailAddress | None = None
    smtp: SmtpConfig | None = None
    graph: GraphConfig | None = None
    drop_folder: DropFolderConfig | None = None

    @model_validator(mode="after")
    def _kind_block(self) -> NotifyConfig:
        require_kind_block("notify", self)
        return self


class ScheduleStepConfig(_Section):
    offset: int  # working days relative to the reply date: -5, -2, 0, 1 ...
    to: tuple[Literal["team", "handlers", "beheerders", "escalation"], ...] = ("team",)
    repeat: bool = False  # recur every working day after the offset


DEFAULT_SCHEDULE: tuple[ScheduleStepConfig, ...] = (
    ScheduleStepConfig(offset=-5, to=("team", "handlers")),
    ScheduleStepConfig(offset=-2, to=("team", "handlers", "beheerders")),
    ScheduleStepConfig(offset=0, to=("team", "handlers", "beheerders")),
    ScheduleStepConfig(offset=1, to=("team", "handlers", "beheerders", "escalation"), repeat=True),
)


class DeadlinesConfig(_Section):
    timezone: TimeZoneName = "Europe/Amsterdam"
    working_hours_start: ClockTime = time(8, 30)  # "HH:MM", quoted or not
    working_hours_end: ClockTime = time(17, 0)
    extra_closed_days: tuple[date, ...] = ()  # bridge days set by decree, etc.
    schedule: tuple[ScheduleStepConfig, ...] = DEFAULT_SCHEDULE
    escalation: tuple[EmailAddress, ...] = ()
    archive_followup_months: int = Field(default=4, ge=1, le=6)
    task_notice: bool = True  # tell the team when the Corsa task of a new request exists
    # the acceptance watch: no AANVAARD this many working days after the task was
    # created: the team is reminded; later, the beheerders too (0: not at all)
    acceptance_team_days: int = Field(default=3, ge=0, le=60)
    acceptance_beheerders_days: int = Field(default=5, ge=0, le=60)

    @model_validator(mode="after")
    def _acceptance_order(self) -> DeadlinesConfig:
        team, beheerders = self.acceptance_team_days, self.acceptance_beheerders_days
        if team and beheerders and beheerders <= team:
            raise ValueError(
                f"acceptance_beheerders_days ({beheerders}) must be more than "
                f"acceptance_team_days ({team}): the team hears of it first (0 switches a step off)"
            )
        return self


class ReportsConfig(_Section):
    digest_minutes: int = Field(default=60, ge=1)
    # a mail that may have arrived (the server took it, the confirmation was lost) is
    # sent again no sooner than this: the same report or reminder at most once per period
    resend_minutes: int = Field(default=60, ge=1)
    sink_failing_minutes: int = Field(default=30, ge=1)
    mailbox_unreachable_minutes: int = Field(default=30, ge=1)
    # the Monday overview of open requests (imi_mailwatch.overview), at this local time;
    # on a closed Monday the next working day
    overview: bool = True
    overview_time: ClockTime = time(8, 0)
    # the quarterly report (imi_mailwatch.quarterly) on the first working day of a quarter;
    # to these addresses (the coordinator Dienstenwet) and the beheerders
    quarterly: bool = True
    quarterly_to: tuple[EmailAddress, ...] = ()


class ServiceConfig(_Section):
    drain_seconds: float = Field(default=10, gt=0, le=300)
    health_listen: str | None = "127.0.0.1:9310"  # null disables the HTTP endpoint
    mailbox_stale_minutes: int = Field(default=30, ge=1)
    sink_failing_minutes: int = Field(default=30, ge=1)
    # the daemon's heartbeat; two intervals without one make it unhealthy
    heartbeat_seconds: float = Field(default=30, ge=0.5, le=600)
    # unexpected errors in a row (a full disk, a broken state store) before a mailbox
    # worker gives up and the daemon exits non-zero, for systemd or Docker to restart it
    worker_max_failures: int = Field(default=10, ge=1)

    @field_validator("health_listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        host, _, port = (value or "").rpartition(":")
        if value is not None and not (host.strip("[]") and port.isdigit() and int(port) < 65536):
            raise ValueError("give HOST:PORT, for example 127.0.0.1:9310, or null")
        return value


class PrivacyConfig(_Section):
    """Retention of the daemon's own copies (see docs/privacy.md)."""

    raw_retention_days: int = Field(default=30, ge=0)  # raw mail copies, after resolution/closing
    skeleton_after_days: int = Field(default=183, ge=1)  # closed requests reduced to a skeleton
    delete_after_days: int = Field(default=1095, ge=1)  # closed requests removed
    unrelated_message_days: int = Field(default=30, ge=1)  # records of ordinary mail left alone
    purge_hour: int = Field(default=3, ge=0, le=23)  # local hour of the daily purge
    attach_history_on_close: bool = False  # add the history PDF to the Corsa task on closing

    @model_validator(mode="after")
    def _order(self) -> PrivacyConfig:
        if self.skeleton_after_days >= self.delete_after_days:
            raise ValueError("privacy.skeleton_after_days must be less than delete_after_days")
        return self


class Config(_Section):
    """The whole configuration."""

    functional_mailbox: EmailAddress = "imi@brabant.nl"
    state: StateConfig = StateConfig()
    logging: LoggingConfig = LoggingConfig()
    mailboxes: tuple[MailboxConfig, ...] = ()
    authentication: AuthenticationConfig = AuthenticationConfig()
    alerts: AlertsConfig = AlertsConfig()
    rules: RulesConfig = RulesConfig()
    routing: RoutingConfig = RoutingConfig()  # auto or propose (config_routing.py)
    texts: TextsConfig = TextsConfig()
    beheerders: tuple[Beheerder, ...] = ()
    task_sink: TaskSinkConfig = TaskSinkConfig(drop_folder=DropFolderConfig(path="corsa-drop"))
    memo: MemoConfig = MemoConfig()
    modules: ModulesConfig = ModulesConfig()
    notify: NotifyConfig = NotifyConfig(drop_folder=DropFolderConfig(path="outbox"))
    deadlines: DeadlinesConfig = DeadlinesConfig()
    reports: ReportsConfig = ReportsConfig()
    service: ServiceConfig = ServiceConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    web: WebConfig = WebConfig()  # imi-mailwatch web (config_web.py)
    replies: RepliesConfig = RepliesConfig()

    # where the file was loaded from: relative paths in it resolve against this
    base_dir: str = Field(default=".", exclude=True)
    # the file as read (its name, the marks of its values), for placed problems after loading
    _source: YamlDocument | None = PrivateAttr(default=None)

    @property
    def source(self) -> YamlDocument | None:
        """The document this configuration was read from; None for built-in data."""
        return self._source

    @field_validator("mailboxes")
    @classmethod
    def _unique_names(cls, value: tuple[MailboxConfig, ...]) -> tuple[MailboxConfig, ...]:
        names = [m.name for m in value]
        doubles = sorted({n for n in names if names.count(n) > 1})
        if doubles:
            raise ValueError(f"mailbox names must be unique: {', '.join(doubles)}")
        return value

    def resolve(self, path: str) -> Path:
        """A path from the configuration, relative to the configuration file."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p

    def summary(self) -> dict[str, Any]:
        """A safe summary for the start-up log line: no secrets, no addresses."""
        return {
            "mailboxes": [f"{m.name}:{m.kind}" for m in self.mailboxes],
            "task_sink": self.task_sink.kind,
            "notify": self.notify.kind,
            "rules_paths": list(self.rules.paths),
            "state": "postgresql" if self.state.url else self.state.path,
            "beheerders": len(self.beheerders),
        }


def parse_config(
    text: str,
    filename: str,
    environ: Mapping[str, str],
    base_dir: str | None = None,
    *,
    resolve_secrets: bool = True,
) -> Config:
    """Validate configuration text. Raises ConfigError listing every problem.

    ``resolve_secrets`` also reads the secrets of the parts in use (see
    :func:`imi_mailwatch.config_checks.resolve_secrets`); without it only their
    references are checked.
    """
    doc = load_yaml(text, filename)
    problems: list[Problem] = list(doc.problems)
    data = doc.data if doc.data is not None else {}
    if not problems and not isinstance(data, dict):
        problems.append(Problem(filename, doc.mark_for(()), (), "the file must hold a mapping"))
    if problems:
        raise ConfigError(f"{filename}: configuration is invalid", [p.render() for p in problems])
    data = {**data, "base_dir": base_dir or str(Path(filename).resolve().parent)}
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        found = problems_from_validation(exc, doc, Config)
        if resolve_secrets:  # every problem at once: the missing secrets too
            from imi_mailwatch.config_checks import raw_secret_problems

            found += raw_secret_problems(doc, environ)
        raise ConfigError(
            f"{filename}: configuration is invalid", [p.render() for p in found]
        ) from None
    cfg._source = doc
    if resolve_secrets:
        from imi_mailwatch.config_checks import resolve_secrets as resolve

        resolve(cfg, environ)
    return cfg


def load_config(
    path: str | Path, environ: Mapping[str, str], *, resolve_secrets: bool = True
) -> Config:
    """Read and validate the configuration file at ``path`` (at most 1 MB)."""
    p = Path(path)
    try:
        text = read_limited(p).decode("utf-8")
    except OSError as exc:
        big = exc.errno == errno.EFBIG
        reason = f"larger than {MAX_YAML_BYTES // (1024 * 1024)} MB" if big else exc.strerror
        raise ConfigError(f"{p}: cannot read configuration: {reason}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: configuration is not UTF-8 text (byte {exc.start + 1})") from None
    return parse_config(
        text, str(p), environ, base_dir=str(p.resolve().parent), resolve_secrets=resolve_secrets
    )


def config_from_data(
    data: Mapping[str, Any],
    environ: Mapping[str, str],
    base_dir: str,
    *,
    resolve_secrets: bool = True,
) -> Config:
    """Build a configuration from Python data (the demo and tests)."""
    try:
        cfg = Config.model_validate({**data, "base_dir": base_dir})
    except ValidationError as exc:
        doc = YamlDocument(filename="<built-in>", data=data)
        found = problems_from_validation(exc, doc, Config)
        raise ConfigError(
            "built-in configuration is invalid", [p.render() for p in found]
        ) from None
    if resolve_secrets:
        from imi_mailwatch.config_checks import resolve_secrets as resolve

        resolve(cfg, environ)
    return cfg
