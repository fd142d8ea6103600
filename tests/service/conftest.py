"""Fixtures for the service tests: the Corsa test server, daemons killed at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from imi_mailwatch.testing.corsa_server import CorsaTestServer, start
from tests.service.helpers import CORSA_LICENCE, CORSA_PASSWORD, DaemonProcess


@pytest.fixture
def corsa() -> Iterator[CorsaTestServer]:
    """The Corsa test server on loopback, with the synthetic credentials."""
    server, _url = start(
        username="imi-mailwatch", password=CORSA_PASSWORD, license_key=CORSA_LICENCE
    )
    yield server
    server.stop()


@pytest.fixture
def daemons() -> Iterator[Callable[..., DaemonProcess]]:
    """Start daemons; every one still running at the end is killed."""
    started: list[DaemonProcess] = []

    def spawn(config: Path, env: dict[str, str] | None = None) -> DaemonProcess:
        d = DaemonProcess(config, env)
        started.append(d)
        return d

    yield spawn
    for d in started:
        d.kill()
