"""The daemon's periodic privacy work, as wired by ``app.build_app``."""

from __future__ import annotations

from datetime import timedelta

from imi_mailwatch.config import Config
from imi_mailwatch.ports import PeriodicTask, StateStore, TaskSink
from imi_mailwatch.privacy.attach import HistoryAttacher
from imi_mailwatch.privacy.retention import DailyPurge, RetentionPolicy


def privacy_tasks(
    cfg: Config, *, store: StateStore, sink: TaskSink
) -> list[tuple[str, PeriodicTask]]:
    """The daily purge, and the history attacher when ``attach_history_on_close`` is on."""
    policy = RetentionPolicy.from_config(cfg.privacy)
    tasks: list[tuple[str, PeriodicTask]] = [
        ("privacy", DailyPurge(store, policy, hour=cfg.privacy.purge_hour))
    ]
    if cfg.privacy.attach_history_on_close:
        within = max(policy.raw, timedelta(days=1))
        attacher = HistoryAttacher(store, sink, within=within, font=cfg.task_sink.pdf_font)
        tasks.append(("history", attacher))
    return tasks
