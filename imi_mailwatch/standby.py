"""The hot standby: wait for the lease, keep it while working, stop when it is lost.

Two daemons configured alike run against one PostgreSQL state. Each start waits
in ``wait_for_lease`` (role ``standby``) until it wins the lease; the winner
(role ``active``) runs the daemon, and its keeper thread renews the lease every
third of ``state.lease_seconds``. When a renewal finds the lease taken over, or
the lease ran out before a renewal got through (the database or the network is
gone), the keeper calls ``on_lost``: the daemon gives up and exits non-zero, and
systemd or Docker starts it again, as a standby. The state store's fence refuses
every write of the old holder from the takeover on, so nothing it still had in
hand is recorded, and nothing it had not claimed before is carried out twice.

Log events: ``lease.waiting`` (once per wait), ``lease.won``, ``lease.lost``,
``lease.renew_failed``, ``lease.released`` (docs/logging.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import StrEnum

import structlog

from imi_mailwatch import metrics
from imi_mailwatch.errors import StateError
from imi_mailwatch.ports import Lease

log = structlog.get_logger(__name__)


class Role(StrEnum):
    ACTIVE = "active"
    STANDBY = "standby"


class LeaseKeeper:
    """Waits for the lease, then renews it in a thread of its own until stopped or lost."""

    def __init__(self, lease: Lease, *, on_lost: Callable[[str], None]) -> None:
        self.lease = lease
        self.on_lost = on_lost
        self.role = Role.STANDBY
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        metrics.role(self.role.value)

    @property
    def renew_every(self) -> float:
        return self.lease.lease_seconds / 3

    def _say(self, role: Role) -> None:
        self.role = role
        metrics.role(role.value)
        try:
            self.lease.record_role(role.value)
        except StateError as exc:
            log.warning("lease.renew_failed", node=self.lease.node, error=str(exc)[:200])

    def wait_for_lease(self, stop: threading.Event) -> bool:
        """Try every ``lease_seconds / 5`` until the lease is won (True) or ``stop`` is set."""
        waiting = False
        while not stop.is_set():
            try:
                token = self.lease.acquire()
            except StateError as exc:
                log.warning("lease.renew_failed", node=self.lease.node, error=str(exc)[:200])
                token = None
            if token is not None:
                log.info("lease.won", node=self.lease.node, token=token)
                self._say(Role.ACTIVE)
                return True
            if not waiting:
                waiting = True
                log.info(
                    "lease.waiting",
                    node=self.lease.node,
                    lease_seconds=self.lease.lease_seconds,
                )
            self._say(Role.STANDBY)
            stop.wait(self.lease.lease_seconds / 5)
        return False

    def start(self) -> None:
        """Renew the lease in the background (after ``wait_for_lease`` won it)."""
        self._thread = threading.Thread(target=self._keep, name="lease", daemon=True)
        self._thread.start()

    def _keep(self) -> None:
        while not self._stop.wait(self.renew_every):
            try:
                if not self.lease.renew():
                    self._lost("taken_over")
                    return
                self._say(Role.ACTIVE)
            except StateError as exc:
                log.warning("lease.renew_failed", node=self.lease.node, error=str(exc)[:200])
                if self.lease.seconds_left() <= 0:
                    self._lost("expired")
                    return

    def _lost(self, reason: str) -> None:
        self.role = Role.STANDBY
        metrics.role(Role.STANDBY.value)
        log.error("lease.lost", node=self.lease.node, token=self.lease.token, reason=reason)
        self.on_lost(f"lease lost ({reason})")

    def stop(self) -> None:
        """Stop renewing and give the lease up (the standby takes over at once)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.renew_every + 5)
        held = self.lease.token
        self.lease.release()
        if held is not None:
            log.info("lease.released", node=self.lease.node, token=held)
