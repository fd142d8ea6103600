"""The one retry policy: transient errors are retried with exponential backoff and jitter.

Only ``TransientError`` (network, timeouts, lost sessions, 5xx) is retried; a
``PermanentError`` goes straight through to the caller, which reports it. Every
failed attempt is logged as ``retry.attempt_failed`` (what, attempt, error class,
the wait before the next try). Setting the ``stop`` event ends the waiting at once
and stops further attempts, so a shutdown never sits out a backoff.

    retrying = transient_retrying("imap.connect", stop=stop_event, max_delay=120)
    result = retrying(connect)            # or: for attempt in retrying: with attempt: ...

Work that waits in the state store between attempts (the task outbox, outgoing
mail: reminders and reports) stores its next attempt as a time. Two rules hold
for all of it: :func:`mail_retry_delay` is the one back-off for outgoing mail,
and :func:`clamped` brings a stored next attempt back within its back-off when
the clock jumped back (a stored time further ahead than the back-off allows
would otherwise delay the retry by the size of the jump).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import structlog
import tenacity

from imi_mailwatch.errors import NotifierUncertainError, TransientError

log = structlog.get_logger(__name__)


def transient_retrying(
    what: str,
    *,
    stop: threading.Event | None = None,
    retry_on: tuple[type[BaseException], ...] = (TransientError,),
    first_wait: float = 1.0,
    max_wait: float = 300.0,
    jitter: float = 1.0,
    max_attempts: int | None = None,
    max_delay: float | None = None,
) -> tenacity.Retrying:
    """A ``tenacity.Retrying`` for transient errors.

    ``what`` names the operation in the log (``imap.connect``). Waits grow
    exponentially from ``first_wait`` up to ``max_wait`` seconds, plus up to
    ``jitter`` seconds of random jitter. Attempts end when ``stop`` is set, after
    ``max_attempts`` tries or ``max_delay`` seconds, whichever comes first; the
    last error is then re-raised as it is (never a ``tenacity.RetryError``).
    """
    stop_cond: tenacity.stop.stop_base = tenacity.stop_never
    if stop is not None:
        stop_cond = tenacity.stop_when_event_set(stop)
    if max_attempts is not None:
        stop_cond = stop_cond | tenacity.stop_after_attempt(max_attempts)
    if max_delay is not None:
        stop_cond = stop_cond | tenacity.stop_after_delay(max_delay)
    event = stop

    def _sleep(seconds: float) -> None:
        if event is None:
            threading.Event().wait(seconds)
        else:
            event.wait(seconds)

    def _log(state: tenacity.RetryCallState) -> None:
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        log.warning(
            "retry.attempt_failed",
            what=what,
            attempt=state.attempt_number,
            error=type(exc).__name__ if exc else None,
            detail=str(exc) if exc else None,
            wait_seconds=round(state.upcoming_sleep, 2),
        )

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(retry_on),
        wait=tenacity.wait_exponential_jitter(multiplier=first_wait, max=max_wait, jitter=jitter),
        stop=stop_cond,
        sleep=_sleep,
        before_sleep=_log,
        reraise=True,
    )


MAIL_FIRST_WAIT = timedelta(minutes=1)
MAIL_MAX_WAIT = timedelta(minutes=30)


def mail_retry_delay(attempts: int, exc: BaseException, *, resend_after: timedelta) -> timedelta:
    """The wait before the next attempt of an outgoing mail after a transient failure.

    ``attempts``: the failed attempts so far, this one included. The wait doubles from
    one minute up to 30 minutes (never beyond ``resend_after``); after a
    ``NotifierUncertainError`` (the message may have arrived) it is ``resend_after``,
    so that the same mail is delivered at most once per that period.
    """
    if isinstance(exc, NotifierUncertainError):
        return resend_after
    wait: timedelta = MAIL_FIRST_WAIT * 2 ** min(max(attempts - 1, 0), 10)
    return min(wait, MAIL_MAX_WAIT, resend_after)


def clamped(next_at: datetime, now: datetime, allowed: timedelta) -> datetime:
    """``next_at``, or ``now + allowed`` when it lies further ahead than its back-off
    allows: the clock jumped back since it was stored."""
    return now + allowed if next_at - now > allowed else next_at
