"""The hot standby's lease: which of two daemons on one state does the work."""

from __future__ import annotations

from typing import Protocol


class Lease(Protocol):
    """A lease with an expiry and a fencing token (PostgreSQL: ``PostgresLease``).

    The store refuses a write of a holder whose token is no longer current (the fence);
    the lease itself only says who may work and for how long.
    """

    lease_seconds: float
    node: str
    token: int | None

    def acquire(self) -> int | None:
        """Take the lease when it is free or expired: its new, higher token; None when
        another node holds it. StateError when the database cannot be reached."""

    def renew(self) -> bool:
        """Extend it; False when another node took it over. StateError: unreachable."""

    def release(self) -> None:
        """Give it up at once (a clean stop); never raises."""

    def seconds_left(self) -> float:
        """How long the lease is surely still this node's (0: it may not be)."""

    def record_role(self, role: str) -> None:
        """Tell the other nodes and ``health`` this node's role. StateError: unreachable."""
