"""``imi-mailwatch calibrate FILE.eml``: adapt the layout tables to a real alert.

For the beheerders, so the output is Dutch. It shows what was recognised and
where, what is missing, which ``Label: waarde`` lines no table knows, and the
entries for an override file in ``alerts.layouts_dir`` that would make the alert
recognised. Exit codes: 0 alles herkend, 1 iets ontbreekt (of het bestand is
onleesbaar), 78 de configuratie of een lagentabel is ongeldig.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from imi_mailwatch.commands import EXIT_FAILED, EXIT_OK
from imi_mailwatch.commands.common import MESSAGE_FILE, Subparsers, add_command, load_message
from imi_mailwatch.model import AlertType, MessageKind, Module
from imi_mailwatch.reading import make_reader

if TYPE_CHECKING:
    from imi_mailwatch.alerts.calibrate import Calibration

FIELD_NL = {
    "alert_type": "Meldingstype",
    "request_id": "Verzoek-ID",
    "legislative_area": "Wetgevingsgebied",
    "requesting_authority": "Verzoekende autoriteit",
    "member_state": "Lidstaat",
    "service_activities": "Dienstverleningsactiviteiten",
    "deadline": "Gevraagde antwoorddatum",
}
KIND_NL = {
    MessageKind.IMI_ALERT: "IMI-melding",
    MessageKind.NOT_IMI: "geen IMI-melding",
    MessageKind.REJECTED: "AFGEWEZEN (authenticatie of afzender klopt niet)",
}
MODULE_NL = {
    Module.SERVICES: "Dienstenrichtlijn; geen SDG-modulenaam gevonden",
    Module.SDG_EVIDENCE: "SDG: verificatie van de echtheid van elektronisch bewijs",
    Module.SDG_EXCEPTIONS: "SDG: melding van uitzonderingen op onlineprocedures",
}
TYPES = ", ".join(t.value for t in AlertType if t is not AlertType.UNKNOWN)


def register(subparsers: Subparsers) -> None:
    add_command(subparsers, "calibrate", MESSAGE_FILE, run=run)


def run(args: argparse.Namespace) -> int:
    loaded = load_message(args)
    if isinstance(loaded, int):
        return loaded
    cfg, data = loaded
    reader = make_reader(cfg)
    from imi_mailwatch.alerts.calibrate import calibrate

    classification, msg = reader.read(data)
    print(f"Bestand:           {args.file.name}")
    print(f"Soort bericht:     {KIND_NL[classification.kind]}")
    if classification.reason:
        print(f"Reden:             {classification.reason}")
    if classification.auth is not None:
        trusted = "vertrouwd" if classification.auth.trusted else "NIET vertrouwd"
        print(f"Authenticatie:     {trusted} ({classification.auth.reason})")
    if msg is None:
        print("\nDe inhoud kon niet gelezen worden (te groot of onleesbaar); niets te kalibreren.")
        return EXIT_FAILED
    subject, text, forwarded = reader.content(msg)
    if forwarded:
        print("Doorgestuurd:      ja; de doorgestuurde melding wordt gelezen")
    print(f"Onderwerp:         {subject or '(leeg)'}")
    cal = calibrate(subject, text, reader.layouts)
    print(f"Taal:              {cal.reading.language or 'niet herkend'}")
    print(f"IMI-module:        {cal.reading.module.value} ({MODULE_NL[cal.reading.module]})")

    print_found(cal)
    print_missing(cal)
    print_proposal(cal, cfg.alerts.layouts_dir)
    if classification.kind is MessageKind.REJECTED:
        print(
            "\nLet op: dit bericht wordt afgewezen. Is het een echte IMI-melding, controleer dan "
            "authentication in de configuratie: authserv_id (of stamped_by: exchange_online "
            "bij Microsoft 365), allowed_domains, allowed_senders en forwarders."
        )
    return EXIT_OK if cal.complete else EXIT_FAILED


def print_found(cal: Calibration) -> None:
    print("\nHerkend:")
    if not cal.found:
        print("  (niets)")
    for f in cal.found:
        if f.source == "label":
            where = f"regel {f.line} van de tekst, label '{f.text}'"
        elif f.source == "subject" and f.text:
            where = f"onderwerp, zin '{f.text}'"
        elif f.source == "body":
            where = f"tekst, zin '{f.text}'"
        else:
            where = "onderwerp"
        print(f"  {FIELD_NL[f.field] + ':':<31}{f.value}   ({where})")


def print_missing(cal: Calibration) -> None:
    print("\nOntbreekt:")
    if not cal.missing and not cal.unreadable:
        print("  (niets)")
    for name in cal.missing:
        if name == "alert_type":
            why = "geen zin uit de tabel (events) gevonden in het onderwerp of de tekst"
        else:
            why = "geen bekend label gevonden, of de waarde is niet te lezen"
        print(f"  {FIELD_NL[name] + ':':<31}{why}")
    for name, line in cal.unreadable.items():
        print(f"  {FIELD_NL[name] + ':':<31}label gevonden, maar de waarde op regel {line} "
              "is niet te lezen")  # fmt: skip

    if cal.candidates:
        print("\nRegels met een onbekend label (label: waarde):")
        for c in cal.candidates:
            guess = f"  -> lijkt op {FIELD_NL[c.guess]}" if c.guess else ""
            print(f"  regel {c.line}: '{c.label}': {c.value or '(leeg)'}{guess}")


def print_proposal(cal: Calibration, layouts_dir: str | None) -> None:
    proposal = cal.proposal_yaml()
    if proposal:
        target = layouts_dir or "<alerts.layouts_dir>"
        print(
            f"\nVoorstel voor {target}/{cal.language}.yaml (wordt aangevuld op de standaardtabel):"
        )
        print("  " + proposal.rstrip().replace("\n", "\n  "))
        if "events" in cal.proposal and cal.type_guess is not None:
            print(
                f"\n  Meldingstype '{cal.type_guess.value}' is geraden uit de woorden van de "
                f"melding; controleer het (mogelijk: {TYPES})."
            )
        elif "events" in cal.proposal:
            print(f"\n  Vervang TYPE door het juiste meldingstype: {TYPES}.")
        if "member_states" in cal.proposal:
            print("  Vervang XX door de tweeletterige ISO-code van de lidstaat (bijv. DE).")
        if "months" in cal.proposal:
            print("  Vervang 0 door het nummer van de maand (1 tot en met 12).")
        print(
            "\nZet deze regels in het bestand, controleer met 'imi-mailwatch calibrate' "
            "opnieuw en herstart daarna de daemon."
        )
    elif not cal.missing:
        print("\nAlles herkend; er hoeft niets aan de tabellen te veranderen.")
    else:
        print(
            "\nGeen voorstel mogelijk: zoek in de melding de regels met de ontbrekende "
            "gegevens en voeg hun labels toe onder 'labels:' (zie docs/alerts.md)."
        )
