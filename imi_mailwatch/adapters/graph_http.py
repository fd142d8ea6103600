"""The Microsoft Graph HTTP edge shared by the Graph mail source and notifier.

One place that knows Graph's failure modes and maps them to the project's errors:

- 401 ``InvalidAuthenticationToken`` (expired or revoked token): the token is
  invalidated and the call is tried once more with a fresh one; a second 401 is
  a rejection.
- 429 and 503/504 (throttling, service busy): ``Retry-After`` is honoured, at most
  ``max_attempts`` times and never longer than ``max_retry_after`` seconds per
  wait; after that the call fails as *unavailable* and the caller's retry policy
  takes over (the next poll).
- other 5xx and network failures: *unavailable*.
- 403 and other 4xx: *rejected* (permission, a missing mailbox, a bad request).
- statuses the caller lists in ``allow`` (404, 409, 410) are handed back.

Only Graph's error ``code`` is logged, never its ``message`` (it can name a
mailbox) and never a URL (it holds the mailbox address).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
import structlog

from imi_mailwatch.adapters.oauth import GRAPH_SCOPE, OAuthTokenProvider
from imi_mailwatch.config import GraphConfig
from imi_mailwatch.errors import (
    MailSourceRejectedError,
    MailSourceUnavailableError,
    PermanentError,
    TransientError,
)
from imi_mailwatch.ports import Clock

log = structlog.get_logger(__name__)

THROTTLE_STATUSES = frozenset({429, 503, 504})
DEFAULT_BACKOFF = 2.0


class GraphAdapter(Protocol):
    """What an adapter on one Graph mailbox holds (the mail source, the notifier)."""

    @property
    def cfg(self) -> GraphConfig: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def tokens(self) -> OAuthTokenProvider | None: ...
    @property
    def sleep(self) -> Callable[[float], None] | None: ...
    @property
    def transport(self) -> httpx.BaseTransport | None: ...


@dataclass(eq=False, repr=False)
class GraphHttp:
    """A small synchronous Graph client: bearer token, throttling, error mapping."""

    base_url: str
    tokens: OAuthTokenProvider
    _: KW_ONLY
    verify: str | bool = True
    timeout: float = 60.0
    max_attempts: int = 4
    max_retry_after: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    transport: httpx.BaseTransport | None = None
    unavailable_error: type[TransientError] = MailSourceUnavailableError
    rejected_error: type[PermanentError] = MailSourceRejectedError

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        ctx: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=self.verify)
            if isinstance(self.verify, str)
            else self.verify
        )
        self._client = httpx.Client(
            verify=ctx, timeout=self.timeout, transport=self.transport, follow_redirects=False
        )

    @classmethod
    def for_mailbox(
        cls,
        adapter: GraphAdapter,
        *,
        unavailable_error: type[TransientError] = MailSourceUnavailableError,
        rejected_error: type[PermanentError] = MailSourceRejectedError,
    ) -> GraphHttp:
        """The client of an adapter on one configured Graph mailbox (its URL, CA, timeout,
        Retry-After cap), with an app token from its ``oauth`` block unless it has tokens."""
        cfg = adapter.cfg
        tokens = adapter.tokens or OAuthTokenProvider(
            cfg.oauth,
            GRAPH_SCOPE,
            clock=adapter.clock,
            unavailable_error=unavailable_error,
            rejected_error=rejected_error,
        )
        return cls(
            cfg.base_url,
            tokens,
            verify=cfg.ca_file or True,
            timeout=cfg.timeout_seconds,
            max_retry_after=cfg.max_retry_after_seconds,
            sleep=adapter.sleep or time.sleep,
            transport=adapter.transport,
            unavailable_error=unavailable_error,
            rejected_error=rejected_error,
        )

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        op: str,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        allow: Collection[int] = (),
    ) -> httpx.Response:
        """Send one Graph request; ``url`` is absolute or relative to ``base_url``.

        ``op`` names the operation in logs (``delta``, ``move``, ``send_mail`` ...).
        """
        full = url if url.startswith(("https://", "http://")) else self.base_url + url
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            hdrs = {"Authorization": f"Bearer {self.tokens.token()}", **(headers or {})}
            started = time.monotonic()
            try:
                resp = self._client.request(
                    method, full, json=json, content=content, params=params, headers=hdrs
                )
            except httpx.TimeoutException:
                log.warning("graph.call_failed", op=op, error="timeout")
                raise self.unavailable_error(f"Graph {op}: timeout") from None
            except httpx.TransportError as exc:
                log.warning("graph.call_failed", op=op, error=type(exc).__name__)
                raise self.unavailable_error(f"Graph {op}: {type(exc).__name__}") from None
            status = resp.status_code
            if status < 400 or status in allow:
                log.debug(
                    "graph.call",
                    op=op,
                    status=status,
                    ms=round((time.monotonic() - started) * 1000),
                )
                return resp
            code = error_code(resp)
            if status == 401 and not refreshed:
                log.info("graph.token_rejected", op=op, code=code)
                self.tokens.invalidate()
                refreshed = True
                continue
            if status in THROTTLE_STATUSES:
                wait = retry_after_seconds(resp, attempt)
                if attempt >= self.max_attempts or wait > self.max_retry_after:
                    log.warning(
                        "graph.call_failed", op=op, status=status, code=code, attempts=attempt
                    )
                    raise self.unavailable_error(f"Graph {op}: HTTP {status} {code} (throttled)")
                log.warning(
                    "graph.throttled", op=op, status=status, retry_after=wait, attempt=attempt
                )
                self.sleep(wait)
                continue
            log.warning("graph.call_failed", op=op, status=status, code=code)
            if status >= 500:
                raise self.unavailable_error(f"Graph {op}: HTTP {status} {code}")
            raise self.rejected_error(f"Graph {op}: HTTP {status} {code}")


def error_code(resp: httpx.Response) -> str:
    """Graph's ``error.code`` from an error response, or ``-``."""
    try:
        data = resp.json()
    except ValueError:
        return "-"
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return str(data["error"].get("code") or "-")
    return "-"


def retry_after_seconds(resp: httpx.Response, attempt: int) -> float:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date); backoff if absent."""
    value = resp.headers.get("Retry-After", "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return max(0.0, float((when - datetime.now(UTC)).total_seconds()))
    return float(DEFAULT_BACKOFF * 2.0 ** (attempt - 1))
