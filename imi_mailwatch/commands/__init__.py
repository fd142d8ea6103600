"""The subcommands of ``imi-mailwatch``: one module each.

Each module has ``register(subparsers)``, which adds its parser and sets
``func=run``; ``run(args) -> int`` returns the exit code.
"""

from __future__ import annotations

COMMANDS: list[str] = [
    "run",
    "demo",
    "route",
    "calibrate",
    "status",
    "check_config",
    "health",
    "rules_cmd",
    "corsa_cmd",
    "purge",
    "history",
    "quarantine",
    "texts_cmd",
]
