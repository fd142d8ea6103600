"""``imi-mailwatch verzoek ACTIE ID [...]``: the reply commands, from a terminal.

The same service as a reply mail (:func:`imi_mailwatch.desk.apply_command`); the actor
is ``cli:<os user>`` and counts as a beheerder. The confirmation mails it owes (to the
beheerders for claims and re-routes) are sent by the running daemon.

=====================================  =======================================
action                                 reply command
=====================================  =======================================
``aanvaard ID``                        AANVAARD
``beantwoord ID``                      BEANTWOORD
``doorgestuurd ID``                    DOORGESTUURD
``afgewezen ID``                       AFGEWEZEN
``pauze ID dd-mm-jjjj``                PAUZE TOT dd-mm-jjjj
``hervat ID``                          HERVAT
``claim ID ADRES``                     IK PAK DIT OP (for the colleague at ADRES)
``herrouteer ID TEAM``                 HERROUTEER TEAM
``akkoord ID [TEAM]``                  AKKOORD, or TEAM TEAM with a team
=====================================  =======================================

Exit codes: 0 done, 1 refused or unknown request, 2 a malformed date, 78 configuration.
"""

from __future__ import annotations

import argparse
import getpass

from imi_mailwatch.commands.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    open_state,
    print_config_error,
)
from imi_mailwatch.errors import ConfigError

HELP = "de opdrachten uit een antwoordmail, voor een verzoek (aanvaard, beantwoord, ...)"
_PLAIN = {
    "aanvaard": "AANVAARD",
    "beantwoord": "BEANTWOORD",
    "doorgestuurd": "DOORGESTUURD",
    "afgewezen": "AFGEWEZEN",
    "hervat": "HERVAT",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("verzoek", help=HELP)
    sub = p.add_subparsers(
        dest="action", metavar="ACTIE", required=True, parser_class=argparse.ArgumentParser
    )

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_text)
        parser.add_argument("request_id", metavar="ID", help="het nummer van het IMI-verzoek")
        parser.add_argument("-c", "--config", metavar="FILE", default=argparse.SUPPRESS)
        return parser

    for name, word in _PLAIN.items():
        action(name, f"zoals {word} in een antwoordmail")
    action("pauze", "geen herinneringen tot en met de datum").add_argument(
        "until", metavar="DATUM", help="dd-mm-jjjj, niet na de antwoorddatum"
    )
    action("claim", "een collega pakt het verzoek op (IK PAK DIT OP)").add_argument(
        "claimer", metavar="ADRES", help="het e-mailadres van de collega"
    )
    action("herrouteer", "het verzoek naar een ander team").add_argument(
        "team", metavar="TEAM", nargs="+", help="naam of sleutel van het team"
    )
    action("akkoord", "de route bevestigen, of met TEAM een ander team kiezen").add_argument(
        "team", metavar="TEAM", nargs="*", help="naam of sleutel van het team"
    )
    p.set_defaults(func=run)


def command_line(args: argparse.Namespace) -> str:
    """The action as the first line of a reply would say it."""
    action = args.action
    if action in _PLAIN:
        return _PLAIN[action]
    if action == "pauze":
        return f"PAUZE TOT {args.until}"
    if action == "claim":
        return "IK PAK DIT OP"
    if action == "herrouteer":
        return "HERROUTEER " + " ".join(args.team)
    return "TEAM " + " ".join(args.team) if args.team else "AKKOORD"


def run(args: argparse.Namespace) -> int:
    from imi_mailwatch.clock import SystemClock
    from imi_mailwatch.desk import Actor, Via, apply_command
    from imi_mailwatch.desk.wiring import context_from_config
    from imi_mailwatch.replies import Command, Role, parse_command

    command = parse_command(command_line(args))
    if not isinstance(command, Command):
        print(f"Ongeldige datum '{args.until}': gebruik dd-mm-jjjj, zoals 15-01-2027.")
        return EXIT_USAGE
    opened = open_state(args, write=True)
    if isinstance(opened, int):
        return opened
    cfg, store = opened
    try:
        try:
            desk = context_from_config(cfg, store=store, clock=SystemClock())
        except ConfigError as exc:
            print_config_error(exc)
            return EXIT_CONFIG
        actor = Actor(f"cli:{getpass.getuser()}", Via.CLI, frozenset({Role.BEHEERDER}))
        claimer = args.claimer if args.action == "claim" else None
        result = apply_command(store, desk, args.request_id, command, actor, claimer=claimer)
        owed = [m for m in store.desk_mails_of(args.request_id) if m.status.value == "pending"]
    finally:
        store.close()
    print(result.text)
    if result.ok and owed:
        print("\nDe bevestiging per e-mail wordt verstuurd door de draaiende daemon.")
    return EXIT_OK if result.ok else EXIT_FAILED
