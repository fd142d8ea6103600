"""The configuration: one YAML file validated into frozen objects.

Every key is documented in ``config/imi-mailwatch.example.yaml``. Secrets never
stand in the file: a secret is ``{env: NAME}`` or ``{file: /path}`` and is
resolved once, at load, from the environment handed in; its repr is redacted.
All problems are reported at once, each with file, line and path; only the CLI
turns them into an exit code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from imi_mailwatch.errors import ConfigError
from imi_mailwatch.yamlsource import Problem, YamlDocument, load_yaml, problems_from_validation

DEFAULT_MEMO_TEMPLATE = (
    "Dit is een IMI-verzoek op het gebied van {vakgebied}. Verdere raadpleging kan "
    "alleen door een behandelaar nadat die toegang heeft gekregen tot het IMI-systeem. "
    "Meer informatie hierover bij IMI-beheerder(s) {beheerders}. De verzoekende "
    "overheidsinstantie in het buitenland vraagt het verzoek binnen {dagen} dagen "
    "binnen IMI te beantwoorden, dus houd a.j.b. contact met de IMI-beheerder als het "
    "onderbrengen van deze taak niet lukt of vertraging oploopt."
)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Secret(_Section):
    """A secret taken from an environment variable or a file, never from the YAML.

    After validation ``value`` holds the secret; its repr shows ``**********``.
    """

    env: str | None = None
    file: str | None = None
    value: SecretStr = Field(default=SecretStr(""), exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _no_inline_value(cls, data: Any) -> Any:
        if isinstance(data, str):
            raise ValueError(
                "secrets may not stand in the configuration file; "
                "use {env: VARIABLE} or {file: /path/to/secret}"
            )
        if isinstance(data, dict) and "value" in data:
            raise ValueError("use {env: VARIABLE} or {file: /path/to/secret}, not value")
        return data

    @model_validator(mode="after")
    def _resolve(self, info: ValidationInfo) -> Secret:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env or file")
        context = info.context or {}
        if not context.get("secrets", True):
            return self  # read-only commands (health, status) need no secrets
        environ: Mapping[str, str] = context.get("environ", {})
        if self.env is not None:
            if self.env not in environ:
                raise ValueError(f"environment variable {self.env} is not set")
            resolved = environ[self.env]
        else:
            try:
                resolved = Path(str(self.file)).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(f"cannot read secret file: {exc.strerror}") from None
        object.__setattr__(self, "value", SecretStr(resolved))
        return self

    def reveal(self) -> str:
        return self.value.get_secret_value()


class StateConfig(_Section):
    path: str = "/var/lib/imi-mailwatch/state.sqlite3"


class LoggingConfig(_Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class OAuthConfig(_Section):
    """Microsoft Entra ID app-only credentials (client credentials flow)."""

    tenant_id: str
    client_id: str
    client_secret: Secret | None = None
    certificate_file: str | None = None  # PEM with the private key
    certificate_thumbprint: str | None = None
    secret_expires_on: date | None = None  # warn well before this date
    authority: str = "https://login.microsoftonline.com"
    scope: str | None = None  # default per use: IMAP, Graph or SMTP
    ca_file: str | None = None  # trust this CA for the authority (an inspecting proxy)


class ImapConfig(_Section):
    host: str
    port: int | None = None  # default 993 for tls, 143 otherwise
    security: Literal["tls", "starttls", "none"] = "tls"
    ca_file: str | None = None  # trust this CA (for a self-signed server)
    username: str
    auth: Literal["login", "xoauth2"] = "login"
    password: Secret | None = None
    oauth: OAuthConfig | None = None
    idle: bool = True
    idle_renew_seconds: int = Field(default=600, ge=30, le=1740)
    poll_seconds: int = Field(default=60, ge=1)
    timeout_seconds: float = Field(default=60, gt=0)
    first_start: Literal["all", "since_days", "none"] = "since_days"
    first_start_days: int = Field(default=14, ge=0)

    @model_validator(mode="after")
    def _credentials(self) -> ImapConfig:
        if self.auth == "login" and self.password is None:
            raise ValueError("imap auth login needs a password: {env: NAME} or {file: PATH}")
        if self.auth == "xoauth2" and self.oauth is None:
            raise ValueError("imap auth xoauth2 needs an oauth block")
        return self


class GraphConfig(_Section):
    mailbox: str  # the mailbox address, e.g. imi@brabant.nl
    oauth: OAuthConfig
    base_url: str = "https://graph.microsoft.com/v1.0"
    poll_seconds: int = Field(default=45, ge=5)
    ca_file: str | None = None  # trust this CA for base_url (an inspecting proxy)
    timeout_seconds: float = Field(default=60, gt=0)
    page_size: int = Field(default=50, ge=1, le=1000)  # Prefer: odata.maxpagesize
    first_start: Literal["all", "since_days", "none"] = "since_days"
    first_start_days: int = Field(default=14, ge=0)
    max_retry_after_seconds: float = Field(default=300, gt=0)  # longer waits fail the round
    send_format: Literal["mime", "json"] = "mime"  # notify: sendMail with MIME or JSON


class EwsConfig(_Section):
    server: str | None = None
    service_endpoint: str | None = None
    mailbox: str
    username: str
    auth: Literal["ntlm", "basic", "oauth"] = "ntlm"
    password: Secret | None = None
    oauth: OAuthConfig | None = None
    ca_file: str | None = None
    poll_seconds: int = Field(default=60, ge=5)
    page_size: int = Field(default=100, ge=1, le=512)  # SyncFolderItems MaxChangesReturned
    first_start: Literal["all", "since_days", "none"] = "since_days"
    first_start_days: int = Field(default=14, ge=0)


class MailboxConfig(_Section):
    """One watched mailbox. ``kind`` decides which of the sub-blocks applies."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Literal["maildir", "eml_dir", "imap", "graph", "ews"]
    path: str | None = None  # maildir and eml_dir
    folder: str = "INBOX"
    processed_folder: str = "IMI/Verwerkt"
    quarantine_folder: str = "IMI/Quarantaine"
    rejected_folder: str = "IMI/Afgewezen"
    imap: ImapConfig | None = None
    graph: GraphConfig | None = None
    ews: EwsConfig | None = None

    @model_validator(mode="after")
    def _kind_block(self) -> MailboxConfig:
        if self.kind in ("maildir", "eml_dir") and not self.path:
            raise ValueError(f"a {self.kind} mailbox needs path")
        if self.kind in ("imap", "graph", "ews") and getattr(self, self.kind) is None:
            raise ValueError(f"a {self.kind} mailbox needs an '{self.kind}' block")
        return self


class AuthenticationConfig(_Section):
    """Which alerts are trusted (see docs on authentication)."""

    authserv_id: str = "mx.brabant.nl"
    allowed_domains: tuple[str, ...] = ("ec.europa.eu",)
    forwarders: tuple[str, ...] = ("j.devries@brabant.nl",)
    verify_dkim: bool = False  # verify DKIM signatures ourselves (no trusted MTA)


class AlertsConfig(_Section):
    layouts_dir: str | None = None  # extra or overriding layout tables (*.yaml)
    max_message_bytes: int = Field(default=30 * 1024 * 1024, ge=1024)
    max_parse_seconds: float = Field(default=5.0, gt=0)


class RulesConfig(_Section):
    paths: tuple[str, ...] = ("rules",)  # files or directories of *.yaml
    reload_seconds: float = Field(default=5.0, gt=0)


class Beheerder(_Section):
    name: str
    email: str
    phone: str | None = None
    role: Literal["first", "backup"] = "first"


class CorsaFieldsConfig(_Section):
    """Corsa field names: installation facts, so configuration."""

    subject: str = "poststuk.onderwerp"
    content: str = "poststuk.inhoud1"
    org_unit: str = "poststuk.v_plaats_id"
    reference: str = "poststuk.kenmerk"
    registered_on: str = "poststuk.reg_datum"
    document_date: str = "poststuk.dat_poststuk"
    deadline: str = "poststuk.dat_afh_str"
    confidentiality: str = "obj_vert.vertrouw_id"


class CorsaConfig(_Section):
    url: str  # the .asmx endpoint
    wsdl: str | None = None  # a URL or a local file; default: url + "?WSDL"
    license_key: Secret | None = None
    application_id: str = "IMI-MAILWATCH"
    connection_id: str = ""
    username: str
    password: Secret
    object_kind: str = "INK"
    confidentiality: str | None = None
    fields: CorsaFieldsConfig = CorsaFieldsConfig()
    timeout_seconds: float = Field(default=30, gt=0)
    ca_file: str | None = None
    encoded_password: bool = False  # Connect's EncodedPass: the password is already encoded
    object_type: str = "DOC"  # ObjectType for files, memo and the kenmerk query
    retry_attempts: int = Field(default=3, ge=1, le=10)  # tries per call before giving up
    todo_max_result: int = Field(default=50, ge=1)  # rows asked from GetDocTodoList2


class DropFolderConfig(_Section):
    path: str


class IntakeMailConfig(_Section):
    to: str  # the Corsa intake mailbox
    record_dir: str = "intake-sent"  # what was sent, per request id: lets find() see it


class TaskSinkConfig(_Section):
    kind: Literal["corsa", "drop_folder", "email"] = "drop_folder"
    corsa: CorsaConfig | None = None
    drop_folder: DropFolderConfig | None = None
    email: IntakeMailConfig | None = None
    pdf_font: str | None = None  # a Unicode TTF for the PDF; default: a known system font

    @model_validator(mode="after")
    def _kind_block(self) -> TaskSinkConfig:
        if getattr(self, self.kind) is None:
            raise ValueError(f"task_sink.kind is {self.kind}, so a '{self.kind}' block is needed")
        return self


class MemoConfig(_Section):
    template: str = DEFAULT_MEMO_TEMPLATE

    @field_validator("template")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        try:
            value.format(vakgebied="", beheerders="", dagen=0)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                "the memo template may only use {vakgebied}, {beheerders} and {dagen}"
                f" ({exc.__class__.__name__}: {exc})"
            ) from None
        return value


class SmtpConfig(_Section):
    host: str
    port: int | None = None  # default 465 for tls, 587 for starttls, 25 for none
    security: Literal["tls", "starttls", "none"] = "starttls"
    ca_file: str | None = None
    username: str | None = None
    password: Secret | None = None
    oauth: OAuthConfig | None = None
    timeout_seconds: float = Field(default=30, gt=0)


class NotifyConfig(_Section):
    kind: Literal["smtp", "graph", "drop_folder"] = "drop_folder"
    from_address: str = "imi@brabant.nl"
    from_name: str = "IMI-mailwatch Provincie Noord-Brabant"
    smtp: SmtpConfig | None = None
    graph: GraphConfig | None = None
    drop_folder: DropFolderConfig | None = None

    @model_validator(mode="after")
    def _kind_block(self) -> NotifyConfig:
        if getattr(self, self.kind) is None:
            raise ValueError(f"notify.kind is {self.kind}, so a '{self.kind}' block is needed")
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
    timezone: str = "Europe/Amsterdam"
    working_hours_start: time = time(8, 30)
    working_hours_end: time = time(17, 0)
    extra_closed_days: tuple[date, ...] = ()  # bridge days set by decree, etc.
    schedule: tuple[ScheduleStepConfig, ...] = DEFAULT_SCHEDULE
    escalation: tuple[str, ...] = ()
    archive_followup_months: int = Field(default=4, ge=1, le=6)


class ReportsConfig(_Section):
    digest_minutes: int = Field(default=60, ge=1)
    # a mail that may have arrived (the server took it, the confirmation was lost) is
    # sent again no sooner than this: the same report or reminder at most once per period
    resend_minutes: int = Field(default=60, ge=1)
    sink_failing_minutes: int = Field(default=30, ge=1)
    mailbox_unreachable_minutes: int = Field(default=30, ge=1)


class ServiceConfig(_Section):
    drain_seconds: float = Field(default=10, gt=0, le=300)
    health_listen: str | None = "127.0.0.1:9310"  # null disables the HTTP endpoint
    mailbox_stale_minutes: int = Field(default=30, ge=1)
    sink_failing_minutes: int = Field(default=30, ge=1)
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

    functional_mailbox: str = "imi@brabant.nl"
    state: StateConfig = StateConfig()
    logging: LoggingConfig = LoggingConfig()
    mailboxes: tuple[MailboxConfig, ...] = ()
    authentication: AuthenticationConfig = AuthenticationConfig()
    alerts: AlertsConfig = AlertsConfig()
    rules: RulesConfig = RulesConfig()
    beheerders: tuple[Beheerder, ...] = ()
    task_sink: TaskSinkConfig = TaskSinkConfig(drop_folder=DropFolderConfig(path="corsa-drop"))
    memo: MemoConfig = MemoConfig()
    notify: NotifyConfig = NotifyConfig(drop_folder=DropFolderConfig(path="outbox"))
    deadlines: DeadlinesConfig = DeadlinesConfig()
    reports: ReportsConfig = ReportsConfig()
    service: ServiceConfig = ServiceConfig()
    privacy: PrivacyConfig = PrivacyConfig()

    # where the file was loaded from: relative paths in it resolve against this
    base_dir: str = Field(default=".", exclude=True)

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
            "state": self.state.path,
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

    ``resolve_secrets=False`` validates the secret references without reading them,
    for commands that only look at the state store.
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
        return Config.model_validate(data, context={"environ": environ, "secrets": resolve_secrets})
    except ValidationError as exc:
        found = problems_from_validation(exc, doc, Config)
        raise ConfigError(
            f"{filename}: configuration is invalid", [p.render() for p in found]
        ) from None


def load_config(
    path: str | Path, environ: Mapping[str, str], *, resolve_secrets: bool = True
) -> Config:
    """Read and validate the configuration file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read configuration: {exc.strerror}") from None
    return parse_config(
        text, str(p), environ, base_dir=str(p.resolve().parent), resolve_secrets=resolve_secrets
    )


def config_from_data(data: Mapping[str, Any], environ: Mapping[str, str], base_dir: str) -> Config:
    """Build a configuration from Python data (the demo and tests)."""
    try:
        return Config.model_validate({**data, "base_dir": base_dir}, context={"environ": environ})
    except ValidationError as exc:
        doc = YamlDocument(filename="<built-in>", data=data)
        found = problems_from_validation(exc, doc, Config)
        raise ConfigError(
            "built-in configuration is invalid", [p.render() for p in found]
        ) from None
