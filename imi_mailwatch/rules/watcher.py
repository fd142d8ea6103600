"""Live reload: notice a changed rules file, load it, keep the last good set if broken.

``poll`` is cheap: it compares each file's name, size and modification time with
the previous poll and only reads and validates when something changed. What the
watcher knows is in :meth:`RuleWatcher.status`: the rules in force, and whether
the files on disk are broken (or the rules in force came from the state store).
The status follows the files at every poll: restoring the content in force
clears a broken state.

A broken change leaves the running rules untouched, is logged
(``rules.reload_failed``) and is reported through ``on_broken`` each time the
files become broken with a content other than the one last reported: a second
poll of the same broken files says nothing new, but the same broken content
saved again after another save is reported again.

The last good rules are kept in a :class:`RulesArchive` (the state store). When
the files are broken at start, the watcher runs on the archived rules (status
``from_store``) and reports it once; without archived rules it raises.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import structlog

from imi_mailwatch.errors import ConfigError
from imi_mailwatch.ports import Clock
from imi_mailwatch.rules.files import fingerprint_of, read_sources, rule_files
from imi_mailwatch.rules.loader import build_rules
from imi_mailwatch.rules.ruleset import ParseSample, RuleSet

log = structlog.get_logger(__name__)

Signature = tuple[tuple[str, int, int], ...]
Sources = list[tuple[Path, bytes]]


class RulesArchive(Protocol):
    """Where the last good rules files are kept across restarts (the state store)."""

    def last_good_rules(self) -> list[tuple[str, bytes]] | None:
        """The files (name, bytes) of the last good rules, or None if none were kept."""
        ...

    def save_last_good_rules(self, fingerprint: str, files: Sequence[tuple[str, bytes]]) -> None:
        """Keep these files as the last good rules (replacing the previous ones)."""
        ...


@dataclass(frozen=True, slots=True)
class RulesStatus:
    """The rules in force and the state of the files on disk."""

    in_force: str  # fingerprint of the rules in force
    broken: str | None = None  # fingerprint of the broken files on disk; None: they are in force
    from_store: bool = False  # the rules in force came from the archive: broken at start

    @property
    def ok(self) -> bool:
        return self.broken is None and not self.from_store


@dataclass(frozen=True, slots=True)
class BrokenRules:
    """One occasion to tell the beheerders: the files became broken (again)."""

    error: ConfigError
    status: RulesStatus
    at_start: bool  # the daemon started on the archived rules because of it


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

    The first load happens in the constructor. Invalid rules raise ConfigError,
    unless ``archive`` holds last good rules: then those are in force and the
    status says so. Thread-safe: ``current`` and ``status`` may be called from any
    thread while another polls.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        parse_sample: ParseSample | None = None,
        on_broken: Callable[[BrokenRules], None] | None = None,
        archive: RulesArchive | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._paths = [Path(p) for p in paths]
        self._parse_sample = parse_sample
        self._on_broken = on_broken
        self._archive = archive
        self._clock = clock
        self._lock = threading.Lock()
        self._signature = _signature(self._paths)
        sources, problems = read_sources(self._paths)
        try:
            self._current = build_rules(sources, problems, parse_sample=parse_sample)
        except ConfigError as exc:
            self._current = self._from_archive(exc)
            self._status = RulesStatus(
                self._current.fingerprint, broken=fingerprint_of(sources), from_store=True
            )
            log.error(
                "rules.started_on_stored",
                fingerprint=self._current.fingerprint[:12],
                broken=fingerprint_of(sources)[:12],
                problems=len(exc.problems),
                rules=len(self._current.rules),
            )
            self._report(BrokenRules(exc, self._status, at_start=True))
        else:
            self._status = RulesStatus(self._current.fingerprint)
            self._keep(sources, self._current)
            log.info(
                "rules.loaded",
                fingerprint=self._current.fingerprint[:12],
                rules=len(self._current.rules),
                files=len(self._current.files),
            )
        self.loaded_at = clock.now() if clock is not None else None

    def current(self) -> RuleSet:
        with self._lock:
            return self._current

    def status(self) -> RulesStatus:
        with self._lock:
            return self._status

    def poll(self) -> bool:
        """Reload when the files changed; True when a new valid set became active."""
        signature = _signature(self._paths)
        if signature == self._signature:
            return False
        self._signature = signature
        sources, problems = read_sources(self._paths)
        fingerprint = fingerprint_of(sources)
        in_force = self.current().fingerprint
        if not problems and fingerprint == in_force:  # touched, or put back as it was
            if not self.status().ok:
                self._set_status(RulesStatus(in_force))
                log.info("rules.restored", fingerprint=in_force[:12])
            return False
        try:
            ruleset = build_rules(sources, problems, parse_sample=self._parse_sample)
        except ConfigError as exc:
            log.warning(
                "rules.reload_failed",
                fingerprint=fingerprint[:12],
                problems=len(exc.problems),
                kept=in_force[:12],
            )
            previous = self.status()
            if previous.broken != fingerprint:
                status = RulesStatus(in_force, broken=fingerprint, from_store=previous.from_store)
                self._set_status(status)
                self._report(BrokenRules(exc, status, at_start=False))
            return False
        with self._lock:
            previous_set = self._current
            self._current = ruleset
            self._status = RulesStatus(ruleset.fingerprint)
        self._keep(sources, ruleset)
        self.loaded_at = self._clock.now() if self._clock is not None else None
        log.info(
            "rules.reloaded",
            fingerprint=ruleset.fingerprint[:12],
            previous=previous_set.fingerprint[:12],
            rules=len(ruleset.rules),
            files=len(ruleset.files),
        )
        return True

    def _set_status(self, status: RulesStatus) -> None:
        with self._lock:
            self._status = status

    def _report(self, event: BrokenRules) -> None:
        if self._on_broken is not None:
            self._on_broken(event)

    def _from_archive(self, error: ConfigError) -> RuleSet:
        """The archived last good rules, or ``error`` raised when there are none (usable)."""
        stored = self._archive.last_good_rules() if self._archive is not None else None
        if not stored:
            raise error
        try:
            # validated again by this version; examples were checked when they were kept
            return build_rules([(Path(name), data) for name, data in stored], read_examples=False)
        except ConfigError as stored_error:
            log.error("rules.stored_invalid", problems=len(stored_error.problems))
            raise error from None

    def _keep(self, sources: Sources, ruleset: RuleSet) -> None:
        if self._archive is None:
            return
        try:
            self._archive.save_last_good_rules(
                ruleset.fingerprint, [(str(path), data) for path, data in sources]
            )
        except Exception as exc:  # the rules are in force; keeping a copy is a bonus
            log.warning("rules.keep_failed", error=type(exc).__name__)
