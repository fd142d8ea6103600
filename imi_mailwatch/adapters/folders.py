"""Where a mail source files a message of each disposition, shared by every source."""

from __future__ import annotations

from imi_mailwatch.model import Disposition


def move_targets(
    processed_folder: str, quarantine_folder: str, rejected_folder: str
) -> dict[Disposition, str]:
    """The folder per disposition; IGNORED has none (the message stays where it is)."""
    return {
        Disposition.HANDLED: processed_folder,
        Disposition.QUARANTINED: quarantine_folder,
        Disposition.REJECTED: rejected_folder,
    }
