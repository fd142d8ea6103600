"""An on-premises Exchange Server mailbox through Exchange Web Services (exchangelib).

For Exchange Online use Graph (``kind: graph``): Microsoft blocks EWS there from
1 October 2026 and removes it on 1 April 2027. On-premises Exchange keeps EWS.

Authentication: NTLM (the usual on-premises setting) or Basic over TLS with a
service account that has FullAccess on the functional mailbox (delegate access);
or OAuth (hybrid modern authentication): an app token from Entra ID with
impersonation. ``ca_file`` trusts an internal CA for the server.

The cursor is an EWS ``SyncFolderItems`` sync state, used exactly like Graph's
delta link (see ``graph.py``): one round syncs the folder to the end
(``IncludesLastItemInRange``), its messages are yielded oldest first
(``datetime_received``), and the new sync state is stored only when every
message of the round is acknowledged. The cursor is JSON::

    {"v": 1, "state": "<sync state the round started from, or null>",
     "done": ["<item ids acknowledged as IGNORED during this round>"]}

A crash in the middle of a round restarts it from the old state: moved items are
gone from the folder, unacknowledged items come again, IGNORED ones are skipped.
``ErrorInvalidSyncStateData`` starts a full resynchronisation (the pipeline
de-duplicates). Exchange gives an item a new id when it moves; the items the
source tracks stay in the watched folder, so their ids hold.

Folders: "INBOX" is the distinguished inbox; other folders are paths under the
top of the mailbox ("IMI/Verwerkt"), found with FindFolder and created with
CreateFolder when missing (the watched folder is never created).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, ClassVar, TypeVar

import requests
import structlog
from exchangelib import (
    BASIC,
    DELEGATE,
    IMPERSONATION,
    NTLM,
    OAUTH2,
    Account,
    Configuration,
    Credentials,
    FailFast,
    Folder,
    Identity,
    OAuth2Credentials,
)
from exchangelib import errors as ews_errors
from exchangelib.folders import FolderCollection, Inbox, MsgFolderRoot
from exchangelib.protocol import BaseProtocol

from imi_mailwatch.adapters.oauth import OUTLOOK_SCOPE, OAuthTokenProvider
from imi_mailwatch.adapters.round_source import RoundMailSource
from imi_mailwatch.config import EwsConfig
from imi_mailwatch.errors import MailSourceRejectedError, MailSourceUnavailableError
from imi_mailwatch.model import RawMessage

log = structlog.get_logger(__name__)

R = TypeVar("R")

BUSY_ATTEMPTS = 3
MAX_BACKOFF_SECONDS = 300.0

# Authentication, permission and configuration problems: retrying will not help.
_REJECTED: tuple[type[BaseException], ...] = (
    ews_errors.UnauthorizedError,
    ews_errors.ErrorAccessDenied,
    ews_errors.ErrorNonExistentMailbox,
    ews_errors.ErrorImpersonateUserDenied,
    ews_errors.ErrorImpersonationDenied,
    ews_errors.ErrorFolderNotFound,
    ews_errors.ErrorInvalidIdMalformed,
    ews_errors.ErrorSchemaValidation,
    ews_errors.InvalidTypeError,
)


@dataclass(eq=False, repr=False, kw_only=True)
class EwsMailSource(RoundMailSource[EwsConfig]):
    """``ports.MailSource`` for an on-premises Exchange mailbox over EWS."""

    cursor_key: ClassVar[str] = "state"
    event: ClassVar[str] = "ews"

    def __post_init__(self) -> None:
        super().__post_init__()
        cfg = self.cfg
        if cfg.auth == "oauth" and self.tokens is None:
            if cfg.oauth is None:
                raise MailSourceRejectedError("ews.auth is oauth but there is no ews.oauth block")
            self.tokens = OAuthTokenProvider(cfg.oauth, OUTLOOK_SCOPE, clock=self.clock)
        self._account: Account | None = None
        self._folders: dict[str, Any] = {}
        if cfg.ca_file:
            BaseProtocol.HTTP_ADAPTER_CLS = _ca_adapter(cfg.ca_file)

    # -- the port --------------------------------------------------------------------
    def fetch(self) -> Iterator[RawMessage]:
        """Yield the messages of one sync round, oldest first."""
        todo, _ = self._begin()
        log.info("ews.fetched", source=self.name, count=len(todo))
        yield from self._messages(todo)

    def _mime(self, ref: str) -> bytes | None:
        got = self._call("get_item", partial(_fetch_mime, self._acct(), ref))
        item = got[0] if got else None
        if isinstance(item, ews_errors.ErrorItemNotFound) or item is None:
            log.info("ews.message_missing", source=self.name, op="get_item")
            return None
        if isinstance(item, Exception):
            raise _translate("get_item", item)
        data = item.mime_content or b""
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)

    def _move(self, ref: str, target: str) -> None:
        dest = self._folder_obj(target, create=True)
        account = self._acct()
        results = self._call("move", lambda: account.bulk_move(ids=[(ref, None)], to_folder=dest))
        res = results[0] if results else None
        if isinstance(res, ews_errors.ErrorItemNotFound):
            log.info("ews.message_missing", source=self.name, op="move")
        elif isinstance(res, Exception):
            raise _translate("move", res)

    def close(self) -> None:
        account, self._account = self._account, None
        if account is not None:
            try:
                account.protocol.close()
            except Exception as exc:  # closing must never fail the caller
                log.debug("ews.close_failed", source=self.name, error=type(exc).__name__)

    def _round(self, state: str | None) -> tuple[dict[str, datetime | None], str, str | None]:
        folder = self._folder_obj(self.folder, create=False)
        resync = False
        while True:
            mode = "continue" if state else ("all" if resync else self.cfg.first_start)
            if not state:
                log.info("ews.first_sync", source=self.name, folder=self.folder, mode=mode)

            def run(s: str | None = state) -> tuple[dict[str, datetime | None], str]:
                found: dict[str, datetime | None] = {}
                folder.item_sync_state = s  # exchangelib falls back to it when s is None
                changes = folder.sync_items(
                    sync_state=s,
                    only_fields=["datetime_received"],
                    max_changes_returned=self.cfg.page_size,
                )
                try:
                    pairs = list(changes)
                except AttributeError:
                    # exchangelib reads SyncState before the response class; an error
                    # message without it surfaces as AttributeError. With a stored
                    # state that is a refused state; on a fresh sync it is a bad answer.
                    if s is None:
                        raise ews_errors.TransportError(
                            "SyncFolderItems answer unreadable"
                        ) from None
                    raise ews_errors.ErrorInvalidSyncStateData("sync state refused") from None
                for change, item in pairs:
                    if change in ("create", "update"):
                        received = item.datetime_received
                        found[item.id] = (
                            datetime.fromtimestamp(received.timestamp(), UTC) if received else None
                        )
                    elif change == "delete":
                        found.pop(item.id, None)
                return found, str(folder.item_sync_state)

            try:
                found, new_state = self._call("sync", run)
            except MailSourceRejectedError as exc:
                if isinstance(exc.__cause__, ews_errors.ErrorInvalidSyncStateData) and not resync:
                    log.warning("ews.sync_reset", source=self.name, folder=self.folder)
                    state, resync = None, True
                    continue
                raise
            if mode == "none":
                found = {}
            elif mode == "since_days":
                floor = self.clock.now() - timedelta(days=self.cfg.first_start_days)
                found = {i: r for i, r in found.items() if r is None or r >= floor}
            return found, new_state, state

    # -- folders ----------------------------------------------------------------------
    def _folder_obj(self, path: str, *, create: bool) -> Any:
        cached = self._folders.get(path)
        if cached is not None:
            return cached
        account = self._acct()
        parts = [p for p in path.strip("/").split("/") if p]
        if not parts:
            raise MailSourceRejectedError("an empty folder name was configured")
        if len(parts) == 1 and parts[0].lower() == "inbox":
            folder = self._call("get_folder", lambda: Inbox.get_distinguished(root=account.root))
            self._folders[path] = folder
            return folder
        parent = self._call(
            "get_folder", lambda: MsgFolderRoot.get_distinguished(root=account.root)
        )
        for depth, part in enumerate(parts):
            if depth == 0 and part.lower() == "inbox":
                parent = self._call(
                    "get_folder", lambda: Inbox.get_distinguished(root=account.root)
                )
                continue
            children = self._call("find_folder", partial(_children, account, parent))
            found = next(
                (c for c in children if str(getattr(c, "name", "")).lower() == part.lower()),
                None,
            )
            if found is None:
                if not create:
                    raise MailSourceRejectedError(f"EWS folder not found: {path}")
                found = self._call("create_folder", partial(_create_folder, parent, part))
                log.info(
                    "ews.folder_created", source=self.name, folder="/".join(parts[: depth + 1])
                )
            parent = found
        self._folders[path] = parent
        return parent

    # -- connection and error mapping ---------------------------------------------------
    def _acct(self) -> Account:
        if self._account is None:
            self._account = self._call("connect", self._connect)
            log.info("ews.connected", source=self.name, auth=self.cfg.auth)
        return self._account

    def _connect(self) -> Account:
        cfg = self.cfg
        endpoint = cfg.service_endpoint or f"https://{cfg.server}/EWS/Exchange.asmx"
        access = DELEGATE
        credentials: Any
        if cfg.auth == "oauth":
            assert self.tokens is not None and cfg.oauth is not None
            credentials = _MsalCredentials(
                self.tokens,
                client_id=cfg.oauth.client_id,
                tenant_id=cfg.oauth.tenant_id,
                identity=Identity(primary_smtp_address=cfg.mailbox),
            )
            auth_type, access = OAUTH2, IMPERSONATION
        else:
            if cfg.password is None:
                raise MailSourceRejectedError("ews needs a password for ntlm or basic")
            credentials = Credentials(cfg.username, cfg.password.reveal())
            auth_type = NTLM if cfg.auth == "ntlm" else BASIC
        config = Configuration(
            service_endpoint=endpoint,
            credentials=credentials,
            auth_type=auth_type,
            retry_policy=FailFast(),
            max_connections=2,
        )
        return Account(
            primary_smtp_address=cfg.mailbox,
            config=config,
            autodiscover=False,
            access_type=access,
        )

    def _renew_token(self, account: Account) -> None:
        """After a 401: a fresh msal token into the same credentials, new HTTP sessions.

        The Account and the folder objects bound to it stay valid, so the failed
        operation can simply run again.
        """
        assert self.tokens is not None
        log.info("ews.token_rejected", source=self.name)
        self.tokens.invalidate()
        account.protocol.close()

    def _call(self, op: str, fn: Callable[[], R]) -> R:
        """Run one EWS operation; wait out ErrorServerBusy; translate errors."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except ews_errors.ErrorServerBusy as exc:
                wait = float(exc.back_off or 2.0)
                if attempt >= BUSY_ATTEMPTS or wait > MAX_BACKOFF_SECONDS:
                    log.warning("ews.call_failed", op=op, error="ErrorServerBusy", attempts=attempt)
                    raise MailSourceUnavailableError(f"EWS {op}: server busy") from None
                log.warning("ews.throttled", op=op, back_off=wait, attempt=attempt)
                (self.sleep or time.sleep)(wait)
            except (MailSourceRejectedError, MailSourceUnavailableError):
                raise
            except ews_errors.UnauthorizedError as exc:
                if self.tokens is not None and self._account is not None and attempt == 1:
                    self._renew_token(self._account)
                    continue
                raise _translate(op, exc) from exc
            except (ews_errors.EWSError, requests.RequestException, OSError) as exc:
                if isinstance(exc, ews_errors.TransportError | requests.RequestException):
                    self._account = None  # reconnect next time
                raise _translate(op, exc) from exc


def _translate(op: str, exc: BaseException) -> MailSourceRejectedError | MailSourceUnavailableError:
    """The project's error for an exchangelib or network failure (logged by class only)."""
    name = type(exc).__name__
    if isinstance(exc, (*_REJECTED, ews_errors.ErrorInvalidSyncStateData)):
        log.warning("ews.call_failed", op=op, error=name)
        return MailSourceRejectedError(f"EWS {op}: {name}")
    log.warning("ews.call_failed", op=op, error=name)
    return MailSourceUnavailableError(f"EWS {op}: {name}")


class _MsalCredentials(OAuth2Credentials):  # type: ignore[misc]
    """exchangelib OAuth credentials whose token always comes from msal.

    exchangelib would otherwise fetch and refresh app tokens itself, from
    login.microsoftonline.com and with a client secret only. Here the token comes
    from ``OAuthTokenProvider`` (the configured authority, secret or certificate,
    msal's cache); exchangelib's attempts to set or reset it are ignored.
    """

    def __init__(self, tokens: OAuthTokenProvider, **kwargs: Any) -> None:
        self._msal = tokens
        # bandit B106: an empty placeholder; the tokens come from msal
        super().__init__(client_secret="", **kwargs)  # nosec B106

    @property
    def access_token(self) -> dict[str, str]:
        # bandit B105: "Bearer" is the token type, not a secret
        return {"access_token": self._msal.token(), "token_type": "Bearer"}  # nosec B105

    @access_token.setter
    def access_token(self, value: Any) -> None:
        """msal keeps the token; nothing to store."""


def _fetch_mime(account: Account, item_id: str) -> list[Any]:
    return list(account.fetch(ids=[(item_id, None)], only_fields=["mime_content"]))


def _children(account: Account, parent: Any) -> list[Any]:
    return list(FolderCollection(account=account, folders=[parent]).find_folders(depth="Shallow"))


def _create_folder(parent: Any, name: str) -> Any:
    return Folder(parent=parent, name=name).save()


def _ca_adapter(ca_file: str) -> type[requests.adapters.HTTPAdapter]:
    """An HTTP adapter verifying the server against ``ca_file`` (exchangelib: process-wide)."""

    class CaFileAdapter(requests.adapters.HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            kwargs["verify"] = ca_file
            return super().send(request, *args, **kwargs)

    return CaFileAdapter
