"""The retry policy and the IMAP cursor: pure code, no server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from imi_mailwatch.adapters.imap import ImapCursor, first_start_cursor
from imi_mailwatch.config import ImapConfig
from imi_mailwatch.errors import MailSourceRejectedError, MailSourceUnavailableError
from imi_mailwatch.retry import transient_retrying


def _flaky(failures: int, exc: Exception) -> tuple[list[int], object]:
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise exc
        return "ok"

    return calls, fn


def test_transient_errors_are_retried_and_each_attempt_logged() -> None:
    """Two transient failures, then success: three calls, two logged attempts."""
    calls, fn = _flaky(2, MailSourceUnavailableError("IMAP connect: timed out"))
    retrying = transient_retrying("imap.connect", first_wait=0.01, max_wait=0.02, jitter=0.01)
    with capture_logs() as logs:
        assert retrying(fn) == "ok"  # type: ignore[arg-type]
    assert len(calls) == 3
    attempts = [e for e in logs if e["event"] == "retry.attempt_failed"]
    assert [e["attempt"] for e in attempts] == [1, 2]
    assert all(e["error"] == "MailSourceUnavailableError" for e in attempts)


def test_permanent_errors_are_not_retried() -> None:
    """A PermanentError goes straight through, unwrapped, after one call."""
    calls, fn = _flaky(5, MailSourceRejectedError("IMAP login: authentication refused"))
    with pytest.raises(MailSourceRejectedError):
        transient_retrying("imap.connect", first_wait=0.01)(fn)  # type: ignore[arg-type]
    assert len(calls) == 1


def test_stop_event_ends_retrying_and_reraises_the_last_error() -> None:
    """With stop set, the last transient error is re-raised instead of waiting on."""
    stop = threading.Event()
    calls: list[int] = []

    def fn() -> None:
        calls.append(1)
        stop.set()
        raise MailSourceUnavailableError("gone")

    with pytest.raises(MailSourceUnavailableError):
        transient_retrying("imap.connect", stop=stop, first_wait=60)(fn)
    assert len(calls) == 1


def test_max_attempts_bounds_retrying() -> None:
    """max_attempts stops after that many calls."""
    calls, fn = _flaky(10, MailSourceUnavailableError("x"))
    with pytest.raises(MailSourceUnavailableError):
        transient_retrying("x", first_wait=0.001, max_wait=0.001, jitter=0, max_attempts=3)(fn)  # type: ignore[arg-type]
    assert len(calls) == 3


def test_cursor_round_trips_and_rejects_foreign_text() -> None:
    """A cursor survives dumps/loads; text that is not ours reads as no cursor."""
    c = ImapCursor(7, 42, datetime(2026, 11, 1, tzinfo=UTC), 100)
    assert ImapCursor.loads(c.dumps()) == c
    assert ImapCursor.loads("not json") is None
    assert ImapCursor.loads('{"uid": 1}') is None


@pytest.mark.parametrize(
    ("policy", "floor_offset", "floor_uid"),
    [("all", None, 0), ("since_days", timedelta(days=3), 51), ("none", timedelta(0), 51)],
)
def test_first_start_cursor_follows_policy(
    policy: str, floor_offset: timedelta | None, floor_uid: int
) -> None:
    """all: no floor; since_days: N days back; none: now; the boundary is UIDNEXT."""
    now = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    cfg = ImapConfig.model_validate(
        {
            "host": "h",
            "username": "u",
            "password": {"env": "PW"},
            "first_start": policy,
            "first_start_days": 3,
        },
        context={"environ": {"PW": "x"}},
    )
    c = first_start_cursor(cfg, uidvalidity=5, uidnext=51, now=now)
    assert c.uid == 0
    assert c.floor == (None if floor_offset is None else now - floor_offset)
    assert c.floor_uid == floor_uid


def test_config_requires_matching_credentials() -> None:
    """auth login needs a password; auth xoauth2 needs an oauth block."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="password"):
        ImapConfig.model_validate({"host": "h", "username": "u"})
    with pytest.raises(ValidationError, match="oauth block"):
        ImapConfig.model_validate({"host": "h", "username": "u", "auth": "xoauth2"})


def test_retry_policy_uses_tenacitys_current_api() -> None:
    """No deprecated argument (``initial=``): first_wait is tenacity's ``multiplier``."""
    import warnings

    import tenacity

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        retrying = transient_retrying("x", first_wait=2.0, max_wait=60.0, jitter=0.5)
    wait = retrying.wait
    assert isinstance(wait, tenacity.wait_exponential_jitter)
    assert (wait.multiplier, wait.max, wait.jitter) == (2.0, 60.0, 0.5)
