"""Adapters: one module per technology, each implementing a port.

The factories here turn a configuration block into an adapter. Library modules
are imported only when their kind is configured, so an installation that uses
IMAP never imports exchangelib.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

from imi_mailwatch.config import Config, MailboxConfig, OAuthConfig
from imi_mailwatch.errors import ConfigError
from imi_mailwatch.ports import Clock, CursorStore, MailSource, Notifier, TaskSink

if TYPE_CHECKING:
    from imi_mailwatch.adapters.round_source import RoundMailSource

TokenProviderFactory = Callable[[OAuthConfig, str], Callable[[], str]]


class Sender(TypedDict):
    """Whom the notifier's mail comes from, as keyword arguments of every notifier."""

    from_address: str
    from_name: str


def oauth_token_provider(clock: Clock) -> TokenProviderFactory:
    """A factory of msal-backed token callables (app-only client credentials)."""

    def make(cfg: OAuthConfig, scope: str) -> Callable[[], str]:
        from imi_mailwatch.adapters.oauth import OAuthTokenProvider

        return OAuthTokenProvider(cfg, scope, clock=clock)  # callable; can invalidate

    return make


def stoppable_sleep(stop: threading.Event | None) -> Callable[[float], None] | None:
    """A sleep for Retry-After waits that a stop request cuts short (None: time.sleep)."""
    if stop is None:
        return None

    def sleep(seconds: float) -> None:
        stop.wait(seconds)

    return sleep


def make_mail_source(
    cfg: Config,
    mbx: MailboxConfig,
    *,
    cursors: CursorStore,
    clock: Clock,
    token_providers: TokenProviderFactory | None = None,
    stop: threading.Event | None = None,
) -> MailSource:
    """The mail source for one configured mailbox."""
    tokens = token_providers or oauth_token_provider(clock)
    if mbx.kind in ("maildir", "eml_dir"):
        from imi_mailwatch.adapters.maildir import EmlDirMailSource, MaildirMailSource

        cls = MaildirMailSource if mbx.kind == "maildir" else EmlDirMailSource
        return cls(
            mbx.name,
            cfg.resolve(str(mbx.path)),
            cursors=cursors,
            max_bytes=cfg.alerts.max_message_bytes,
            processed_folder=mbx.processed_folder,
            quarantine_folder=mbx.quarantine_folder,
            rejected_folder=mbx.rejected_folder,
        )
    if mbx.kind == "imap" and mbx.imap is not None:
        from imi_mailwatch.adapters.imap import ImapMailSource

        imap = mbx.imap
        token = (
            tokens(imap.oauth, imap.oauth.scope or "https://outlook.office365.com/.default")
            if imap.auth == "xoauth2" and imap.oauth is not None
            else None
        )
        return ImapMailSource(
            mbx.name,
            imap,
            cursors=cursors,
            clock=clock,
            token_provider=token,
            **mbx.folders(),
        )
    block = {"graph": mbx.graph, "ews": mbx.ews}.get(mbx.kind)
    if block is not None:
        return _round_source(mbx.kind)(
            mbx.name,
            block,
            cursors=cursors,
            clock=clock,
            sleep=stoppable_sleep(stop),
            **mbx.folders(),
        )
    raise ConfigError(f"mailbox {mbx.name}: kind {mbx.kind} is not configured completely")


def _round_source(kind: str) -> type[RoundMailSource[Any]]:
    """The Graph or the EWS mail source (its libraries imported only now)."""
    if kind == "graph":
        from imi_mailwatch.adapters.graph import GraphMailSource

        return GraphMailSource
    from imi_mailwatch.adapters.ews import EwsMailSource

    return EwsMailSource


def make_notifier(cfg: Config, *, clock: Clock, stop: threading.Event | None = None) -> Notifier:
    """The notifier for reminders and reports."""
    n = cfg.notify
    sender = Sender(from_address=n.from_address, from_name=n.from_name)
    if n.kind == "drop_folder" and n.drop_folder is not None:
        from imi_mailwatch.adapters.mail_drop import DropFolderNotifier

        return DropFolderNotifier(cfg.resolve(n.drop_folder.path), **sender)
    if n.kind == "smtp" and n.smtp is not None:
        from imi_mailwatch.adapters.smtp import SmtpNotifier

        return SmtpNotifier(n.smtp, clock=clock, **sender)
    if n.kind == "graph" and n.graph is not None:
        from imi_mailwatch.adapters.graph_send import GraphNotifier

        return GraphNotifier(n.graph, clock=clock, sleep=stoppable_sleep(stop), **sender)
    raise ConfigError(f"notify.kind {n.kind} is not configured completely")


def make_task_sink(
    cfg: Config, *, notifier: Notifier, clock: Clock, stop: threading.Event | None = None
) -> TaskSink:
    """The task sink: Corsa's Web Service, a drop folder, or an intake mailbox."""
    t = cfg.task_sink
    if t.kind == "corsa" and t.corsa is not None:
        from imi_mailwatch.adapters.corsa_soap import CorsaSoapTaskSink

        return CorsaSoapTaskSink(t.corsa, clock=clock, stop=stop, pdf_font=t.pdf_font)
    if t.kind == "drop_folder" and t.drop_folder is not None:
        from imi_mailwatch.adapters.drop_folder import DropFolderTaskSink

        return DropFolderTaskSink(cfg.resolve(t.drop_folder.path), clock=clock, pdf_font=t.pdf_font)
    if t.kind == "email" and t.email is not None:
        from imi_mailwatch.adapters.intake_mail import IntakeMailTaskSink

        return IntakeMailTaskSink(
            t.email,
            notifier=notifier,
            clock=clock,
            record_dir=cfg.resolve(t.email.record_dir),
            pdf_font=t.pdf_font,
        )
    raise ConfigError(f"task_sink.kind {t.kind} is not configured completely")
