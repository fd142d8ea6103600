"""The subcommands of ``imi-mailwatch``: one module each.

Each module has ``register(subparsers)``, which adds its parser and sets
``func=run`` (:func:`imi_mailwatch.commands.common.add_command`); ``run(args) -> int``
returns one of the exit codes below. A :class:`~imi_mailwatch.errors.ConfigError`
that leaves ``run`` is printed and exits ``EXIT_CONFIG`` (in :func:`imi_mailwatch.cli.main`).

``COMMANDS`` names each command's module and its one-line help, so that the
command line imports only the module of the command that runs (a module pulls
in the configuration, the state store and its adapters' libraries) while the
top-level help still lists them all; a command's module registers the help
given here. ``DESCRIPTIONS`` holds the longer text a command's own ``--help`` opens
with, where it has one.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 78  # EX_CONFIG (sysexits.h)

COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("imi_mailwatch.commands.run", "run the daemon"),
    "demo": (
        "imi_mailwatch.commands.demo",
        "run the whole pipeline once on a built-in sample mailbox",
    ),
    "route": (
        "imi_mailwatch.commands.route",
        "show what the daemon would do with one message (changes nothing)",
    ),
    "calibrate": (
        "imi_mailwatch.commands.calibrate",
        "toon wat in een IMI-melding herkend wordt en stel tabelregels voor",
    ),
    "status": (
        "imi_mailwatch.commands.status",
        "open requests, deadlines, follow-ups, quarantine",
    ),
    "check-config": (
        "imi_mailwatch.commands.check_config",
        "validate the configuration file and the routing rules",
    ),
    "health": (
        "imi_mailwatch.commands.health",
        "exit 0 when the running daemon is healthy, 1 when not",
    ),
    "rules": (
        "imi_mailwatch.commands.rules_cmd",
        "check and test the routing rules; print their JSON Schema",
    ),
    "corsa": (
        "imi_mailwatch.commands.corsa_cmd",
        "check the connection with the Corsa Web Service",
    ),
    "state": (
        "imi_mailwatch.commands.state_cmd",
        "move the state store (SQLite to PostgreSQL)",
    ),
    "purge": (
        "imi_mailwatch.commands.purge",
        "apply the retention policy (privacy) now; --dry-run lists what would go",
    ),
    "history": (
        "imi_mailwatch.commands.history",
        "the history of one request (alerts, routing, task, reminders) as text, PDF or CSV",
    ),
    "quarantine": (
        "imi_mailwatch.commands.quarantine",
        "list, show (headers only), release and resolve quarantined or rejected mail",
    ),
    "teksten": (
        "imi_mailwatch.commands.texts_cmd",
        "controleer de teksten van de beheerders en toon hoe ze uitkomen",
    ),
    "verzoek": (
        "imi_mailwatch.commands.verzoek",
        "de opdrachten uit een antwoordmail, voor een verzoek (aanvaard, beantwoord, ...)",
    ),
    "outbox": (
        "imi_mailwatch.commands.outbox_cmd",
        "list parked and pending task-sink work, retry a parked row",
    ),
    "rapport": (
        "imi_mailwatch.commands.rapport",
        "het kwartaalrapport voor de coördinator Dienstenwet, met de CSV voor Excel",
    ),
    "web": (
        "imi_mailwatch.commands.web",
        "serve the web desk: open requests, actions, quarantine, rules, export",
    ),
}

DESCRIPTIONS: dict[str, str] = {
    "route": "Dry run: what the message is, the fields read from it, the route and the rule "
    "that decided it, and the memo that would be written.",
    "calibrate": "Lees één melding (.eml) zoals de daemon dat doet en toon wat herkend is en "
    "waar, wat ontbreekt, en welke regels in een eigen lagentabel (alerts.layouts_dir) de "
    "melding herkenbaar maken. Verandert niets.",
    "check-config": "Exit 0 when the configuration and the rules are valid, 78 when not; every "
    "problem is listed with its file, line and path. The checks are the ones 'run' makes "
    "before it starts, secrets included.",
    "health": "Reads the health the daemon records in the state store. Unhealthy: no heartbeat "
    "within two service.heartbeat_seconds intervals or a recorded clean stop, a mailbox not "
    "reached within service.mailbox_stale_minutes, the task sink failing longer than "
    "service.sink_failing_minutes, or broken rules files.",
    "rules": "Controleer en test de routeringsregels (docs/regels.md).",
    "corsa": "Controleer de koppeling met de Corsa-webservice (docs/corsa.md).",
    "teksten": "De teksten van de beheerders in de map teksten (docs/teksten.md).",
    "rapport": "Het kwartaalrapport (docs/teksten.md): de cijfers van de IMI-statistiek.",
}
