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
from typing import TYPE_CHECKING

from imi_mailwatch.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from imi_mailwatch.commands.common import Arg, Sub, Subparsers, add_group, arg, sub, using_state
from imi_mailwatch.config import Config
from imi_mailwatch.ports import StateStore

if TYPE_CHECKING:
    from imi_mailwatch.desk import ActionResult

_PLAIN = {
    "aanvaard": "AANVAARD",
    "beantwoord": "BEANTWOORD",
    "doorgestuurd": "DOORGESTUURD",
    "afgewezen": "AFGEWEZEN",
    "hervat": "HERVAT",
}


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

    def apply(cfg: Config, store: StateStore) -> tuple[ActionResult, bool]:
        desk = context_from_config(cfg, store=store, clock=SystemClock())
        actor = Actor(f"cli:{getpass.getuser()}", Via.CLI, frozenset({Role.BEHEERDER}))
        claimer = args.claimer if args.action == "claim" else None
        result = apply_command(store, desk, args.request_id, command, actor, claimer=claimer)
        owed = [m for m in store.desk_mails_of(args.request_id) if m.status.value == "pending"]
        return result, bool(owed)

    done = using_state(args, apply, write=True)
    if isinstance(done, int):
        return done
    result, owed = done
    print(result.text)
    if result.ok and owed:
        print("\nDe bevestiging per e-mail wordt verstuurd door de draaiende daemon.")
    return EXIT_OK if result.ok else EXIT_FAILED


_ID = arg("request_id", metavar="ID", help="het nummer van het IMI-verzoek")
_TEAM = "naam of sleutel van het team"


def _action(help_text: str, *args: Arg) -> Sub:
    """An action: the request's ID, then its own arguments."""
    return sub(help_text, _ID, *args, run=run)


_SUBCOMMANDS = {
    **{name: _action(f"zoals {word} in een antwoordmail") for name, word in _PLAIN.items()},
    "pauze": _action(
        "geen herinneringen tot en met de datum",
        arg("until", metavar="DATUM", help="dd-mm-jjjj, niet na de antwoorddatum"),
    ),
    "claim": _action(
        "een collega pakt het verzoek op (IK PAK DIT OP)",
        arg("claimer", metavar="ADRES", help="het e-mailadres van de collega"),
    ),
    "herrouteer": _action(
        "het verzoek naar een ander team", arg("team", metavar="TEAM", nargs="+", help=_TEAM)
    ),
    "akkoord": _action(
        "de route bevestigen, of met TEAM een ander team kiezen",
        arg("team", metavar="TEAM", nargs="*", help=_TEAM),
    ),
}


def register(subparsers: Subparsers) -> None:
    add_group(subparsers, "verzoek", "action", "ACTIE", _SUBCOMMANDS)
