"""Does a MailSource's wait() end when the stop flag is set? A hang detector for the tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

# Not a time budget: the wait under test is asked to last an hour, and a wait() that
# ignores the flag is still asleep after this long, whatever the load on the host.
HANG = 60.0


def wait_ends_on_stop(wait: Callable[[float, threading.Event], None]) -> bool:
    """Call ``wait(3600, stop)`` in a thread, set ``stop``; True when it returned.

    An error raised by ``wait`` is re-raised here, so a wait() that crashes does not
    pass for one that returned.
    """
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            wait(3600.0, stop)
        except BaseException as exc:  # handed to the test
            errors.append(exc)

    waiter = threading.Thread(target=run, daemon=True)
    waiter.start()
    stop.set()
    waiter.join(HANG)
    if errors:
        raise errors[0]
    return not waiter.is_alive()
