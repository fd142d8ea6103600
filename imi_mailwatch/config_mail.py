"""The configuration of the mail servers: IMAP, Microsoft Graph, EWS, a mailbox, SMTP.

Part of :mod:`imi_mailwatch.config` (which re-exports every name here); see its
docstring for secrets, plaintext and how problems are reported.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, TypedDict

from pydantic import (
    Field,
    model_validator,
)

from imi_mailwatch.config_types import (
    EmailAddress,
    Secret,
    Transport,
    plaintext_risk,
    security_none_risk,
)
from imi_mailwatch.config_types import Section as _Section


class OAuthConfig(Transport):
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

    def plaintext(self) -> list[str]:
        return plaintext_risk("authority", self.authority, "the client secret")


class ImapConfig(Transport):
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

    def plaintext(self) -> list[str]:
        return security_none_risk(self.security, self.host, "the password and the mail")


class GraphConfig(Transport):
    mailbox: EmailAddress  # the mailbox address, e.g. imi@brabant.nl
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

    def plaintext(self) -> list[str]:
        return plaintext_risk("base_url", self.base_url, "the token and the mail")


class EwsConfig(Transport):
    server: str | None = None
    service_endpoint: str | None = None
    mailbox: EmailAddress
    username: str
    auth: Literal["ntlm", "basic", "oauth"] = "ntlm"
    password: Secret | None = None
    oauth: OAuthConfig | None = None
    ca_file: str | None = None
    poll_seconds: int = Field(default=60, ge=5)
    page_size: int = Field(default=100, ge=1, le=512)  # SyncFolderItems MaxChangesReturned
    first_start: Literal["all", "since_days", "none"] = "since_days"
    first_start_days: int = Field(default=14, ge=0)

    def plaintext(self) -> list[str]:
        return plaintext_risk("service_endpoint", self.service_endpoint, "the credentials and mail")


class MailboxFolders(TypedDict):
    folder: str
    processed_folder: str
    quarantine_folder: str
    rejected_folder: str


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

    def folders(self) -> MailboxFolders:
        """The folder watched and the three folders mail is moved to, as keyword arguments."""
        return {
            "folder": self.folder,
            "processed_folder": self.processed_folder,
            "quarantine_folder": self.quarantine_folder,
            "rejected_folder": self.rejected_folder,
        }

    @model_validator(mode="after")
    def _kind_block(self) -> MailboxConfig:
        if self.kind in ("maildir", "eml_dir") and not self.path:
            raise ValueError(f"a {self.kind} mailbox needs path")
        if self.kind in ("imap", "graph", "ews") and getattr(self, self.kind) is None:
            raise ValueError(f"a {self.kind} mailbox needs an '{self.kind}' block")
        return self


class SmtpConfig(Transport):
    host: str
    port: int | None = None  # default 465 for tls, 587 for starttls, 25 for none
    security: Literal["tls", "starttls", "none"] = "starttls"
    ca_file: str | None = None
    username: str | None = None
    password: Secret | None = None
    oauth: OAuthConfig | None = None
    timeout_seconds: float = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _credentials(self) -> SmtpConfig:
        if self.security == "none" and (self.password is not None or self.oauth is not None):
            raise ValueError("credentials are only sent over tls or starttls, not security none")
        if self.password is not None and not self.username:
            raise ValueError("a password needs a username")
        return self

    def plaintext(self) -> list[str]:
        return security_none_risk(self.security, self.host, "every mail (alert data)")
