"""Suite-wide fixtures."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

# a private PostgreSQL server and a fresh database per test, for the PostgreSQL state store
from tests.servers.postgres import postgres_server, postgres_url  # noqa: F401


@pytest.fixture(autouse=True)
def _restore_logging_configuration() -> Iterator[None]:
    """Each test starts with the logging configuration the one before it found.

    Commands run in-process (``cli.main``) configure structlog for the process, with a
    level filter; left in place, it would hide a later test's debug events from
    ``structlog.testing.capture_logs``.
    """
    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)
