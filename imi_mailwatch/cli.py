"""The command line: argument parsing, wiring and exit codes. Signal handlers live here."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from imi_mailwatch import __version__
from imi_mailwatch.commands import COMMANDS, EXIT_CONFIG
from imi_mailwatch.logging_setup import configure_logging, current_stderr, escaped_output

# `run` logs JSON lines on stdout (the contract with the journal and container logs); every
# other command prints its answer there, so its log lines go to stderr.
LOGS_ON_STDOUT = frozenset({"run"})


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported (None: every command's).

    The other commands get a placeholder that carries their help, for the list in
    ``--help``, and accepts anything: the first pass finds which command runs, the
    second parses its arguments for real.
    """
    parser = argparse.ArgumentParser(
        prog="imi-mailwatch",
        description="Watches the IMI mailbox, routes requests to teams, creates Corsa tasks "
        "and follows their deadlines.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-c",
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,  # nested subcommands must not reset an earlier -c
        help="configuration file (default: /etc/imi-mailwatch/imi-mailwatch.yaml "
        "if present, else built-in defaults)",
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_parser_with(common)
    )
    for name, (module, help_text) in COMMANDS.items():
        if command is None or name == command:
            importlib.import_module(module).register(subparsers)
        else:
            subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def _parser_with(common: argparse.ArgumentParser) -> type[argparse.ArgumentParser]:
    class Parser(argparse.ArgumentParser):
        def __init__(self, *args: object, **kwargs: object) -> None:
            parents = list(kwargs.pop("parents", []) or [])  # type: ignore[call-overload]
            kwargs["parents"] = [*parents, common]
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    return Parser


def main(argv: Sequence[str] | None = None) -> int:
    with escaped_output():  # what a command prints may quote an alert or a file name
        argv = list(sys.argv[1:] if argv is None else argv)
        chosen, _rest = build_parser(command="").parse_known_args(argv)
        args = build_parser(command=chosen.command).parse_args(argv)
        if not hasattr(args, "config"):
            args.config = None
        if args.command not in LOGS_ON_STDOUT:
            configure_logging("info", "auto", stream=current_stderr())
        from imi_mailwatch.errors import ConfigError  # here: `--version` needs none of it

        try:
            code: int = args.func(args)
        except ConfigError as exc:  # every command's invalid configuration, said once
            print(str(exc), file=sys.stderr)
            code = EXIT_CONFIG
        sys.stdout.flush()
    return code
