"""sd_notify(3): tell systemd the daemon is ready, alive (the watchdog) and stopping.

systemd starts a ``Type=notify`` service with ``NOTIFY_SOCKET`` set (a unix
datagram socket; ``@`` means the abstract namespace) and, with ``WatchdogSec=``,
``WATCHDOG_USEC`` (and ``WATCHDOG_PID``). Without them every call does nothing,
so the daemon runs the same under Docker or in a terminal.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

import structlog

log = structlog.get_logger(__name__)

READY = "READY=1"
WATCHDOG = "WATCHDOG=1"
STOPPING = "STOPPING=1"


class SystemdNotifier:
    """Sends state lines to systemd's notification socket, if there is one."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        address = environ.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec = environ.get("WATCHDOG_USEC", "")
        pid = environ.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog_seconds = int(usec) / 1e6 if usec.isdigit() and mine else None
        self._warned = False

    def __call__(self, *states: str) -> None:
        """Send ``states`` (e.g. ``READY=1``) as one datagram; a failure is logged once."""
        if not self.address:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto("\n".join(states).encode("utf-8"), self.address)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("systemd.notify_failed", error=type(exc).__name__)
