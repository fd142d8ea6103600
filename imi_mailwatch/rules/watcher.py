"""Live reload: notice a changed rules file, load it, keep the last good set if broken.

``poll`` is cheap: it compares each file's name, size and modification time with
the previous poll and only reads and validates when something changed. A broken
change leaves the running rules untouched, is logged (``rules.reload_failed``) and
is reported through ``on_broken`` once per distinct broken content: saving the
same broken file again (or polling again) does not report it twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import structlog

from imi_mailwatch.errors import ConfigError
from imi_mailwatch.ports import Clock
from imi_mailwatch.rules.loader import build_rules, fingerprint_of, read_sources, rule_files
from imi_mailwatch.rules.ruleset import ParseSample, RuleSet

log = structlog.get_logger(__name__)

Signature = tuple[tuple[str, int, int], ...]


def _signature(paths: Sequence[Path]) -> Signature:
    files, _ = rule_files(paths)
    entries: list[tuple[str, int, int]] = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            entries.append((str(path), -1, -1))
            continue
        entries.append((str(path), stat.st_size, stat.st_mtime_ns))
    # a missing path must count as a change too
    entries.extend((str(p), -2, -2) for p in paths if not p.exists())
    return tuple(entries)


class RuleWatcher:
    """Holds the current valid RuleSet and reloads it when the files change.

    The first load happens in the constructor and raises ConfigError when the
    rules are invalid: the daemon does not start on broken rules. Thread-safe:
    ``current`` may be called from any thread while another polls.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        parse_sample: ParseSample | None = None,
        on_broken: Callable[[ConfigError], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._paths = [Path(p) for p in paths]
        self._parse_sample = parse_sample
        self._on_broken = on_broken
        self._clock = clock
        self._lock = threading.Lock()
        self._signature = _signature(self._paths)
        self._current = build_rules(*read_sources(self._paths), parse_sample=parse_sample)
        self._reported: set[str] = set()
        self.loaded_at = clock.now() if clock is not None else None
        log.info(
            "rules.loaded",
            fingerprint=self._current.fingerprint[:12],
            rules=len(self._current.rules),
            files=len(self._current.files),
        )

    def current(self) -> RuleSet:
        with self._lock:
            return self._current

    def poll(self) -> bool:
        """Reload when the files changed; True when a new valid set became active."""
        signature = _signature(self._paths)
        if signature == self._signature:
            return False
        self._signature = signature
        sources, problems = read_sources(self._paths)
        fingerprint = fingerprint_of(sources)
        if not problems and fingerprint == self.current().fingerprint:
            return False  # touched, not changed
        try:
            ruleset = build_rules(sources, problems, parse_sample=self._parse_sample)
        except ConfigError as exc:
            log.warning(
                "rules.reload_failed",
                fingerprint=fingerprint[:12],
                problems=len(exc.problems),
                kept=self.current().fingerprint[:12],
            )
            if fingerprint not in self._reported:
                self._reported.add(fingerprint)
                if self._on_broken is not None:
                    self._on_broken(exc)
            return False
        with self._lock:
            previous = self._current
            self._current = ruleset
        self.loaded_at = self._clock.now() if self._clock is not None else None
        log.info(
            "rules.reloaded",
            fingerprint=ruleset.fingerprint[:12],
            previous=previous.fingerprint[:12],
            rules=len(ruleset.rules),
            files=len(ruleset.files),
        )
        return True
