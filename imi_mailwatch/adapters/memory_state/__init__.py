"""``MemoryStateStore``: every state port of ``ports`` in memory, for fast unit tests.

Real code, held to the same contract suites as the SQLite store (tests/contract/).
"""

from __future__ import annotations

from imi_mailwatch.adapters.memory_state.desk import MemoryDesk
from imi_mailwatch.adapters.memory_state.journal import MemoryJournal
from imi_mailwatch.adapters.memory_state.records import MemoryRecords
from imi_mailwatch.adapters.memory_state.work import MemoryWork
from imi_mailwatch.adapters.recording import commit_recording
from imi_mailwatch.ports import Clock, StateStore
from imi_mailwatch.records import Recording


class MemoryStateStore(MemoryRecords, MemoryWork, MemoryJournal, MemoryDesk):
    """Every state port in memory; one lock, one transaction over all of them."""

    def commit(self, rec: Recording) -> int:
        return commit_recording(self, rec)


__all__ = ["MemoryStateStore"]


def _conforms(clock: Clock) -> StateStore:
    """mypy holds the memory store to every state port here."""
    return MemoryStateStore(clock)
