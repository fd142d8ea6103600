"""Suite-wide fixtures."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import HealthCheck, settings

# a private PostgreSQL server and a fresh database per test, for the PostgreSQL state store
from tests.servers.postgres import postgres_server, postgres_url  # noqa: F401

# No wall-clock budget in a property test either: Hypothesis's default 200 ms deadline per
# example and its too-slow health check fail a correct test on a loaded host (or beside the
# other workers of a parallel run). Test modules import after this file, so their
# @settings(...) inherit it.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")


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
