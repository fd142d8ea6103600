"""The alert reader and the rules files of a configuration, without the daemon's parts.

The commands that read mail without running the daemon (``route``, ``calibrate``,
``check-config``, ``rules``) import this, not :mod:`imi_mailwatch.app`, so that
they start without the state store, the adapters and the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from imi_mailwatch.config import Config
from imi_mailwatch.model import Alert

if TYPE_CHECKING:
    from imi_mailwatch.alerts import AlertReader


def rules_paths(cfg: Config) -> list[Path]:
    """The configured rules files and directories, resolved against the config file."""
    return [cfg.resolve(p) for p in cfg.rules.paths]


def make_reader(cfg: Config) -> AlertReader:
    """The AlertReader for this configuration (layouts from the package + overrides)."""
    from imi_mailwatch.alerts import AlertReader

    alerts = cfg.alerts
    if alerts.layouts_dir:  # relative to the configuration file, like every other path
        alerts = alerts.model_copy(update={"layouts_dir": str(cfg.resolve(alerts.layouts_dir))})
    return AlertReader(cfg.authentication, alerts)


def sample_parser(reader: AlertReader) -> Callable[[bytes], Alert | None]:
    """The rules' reader of ``.eml`` examples: the alert in a message, if any."""

    def parse(data: bytes) -> Alert | None:
        return reader.classify(data).alert

    return parse
