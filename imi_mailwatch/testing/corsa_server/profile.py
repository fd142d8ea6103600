"""An installation profile: what one Corsa installation accepts, as a small YAML file.

Corsa differs per installation: which object types and kinds exist, which
registration fields and references are known and which are required, whether a
field set through ``CreateMetaDocument`` is kept, how a registration reaches a
unit's to-do list. The test server refuses what the profile does not allow, so a
client that works against it has met the same rules a real installation sets.

Shipped profiles (``profiles/*.yaml`` beside this module):

- ``documented``: what BCT's technical description says; kenmerk is stored;
- ``production``: what the one public production integration shows: ObjectType
  ``S``, ``poststuk.kenmerk``, ``reg_datum`` and ``dat_poststuk`` silently not
  stored, a sender (``poststuk.soort_ext``, ``poststuk.relatie_id``) required;
- ``case``: like ``production``, but work reaches a unit through the Corsa/Case
  workflow (``CaseConnectDocumentType`` / ``CaseStartPrcd``), not the
  registration's to-do list.

The YAML keys::

    name, description
    object_types: [S, P]            # ObjectType values the service knows
    document_type: S                # the ObjectType of documents
    object_kinds: {INK: Inkomend}   # ObjectKind ids and descriptions
    fields:                         # registration fields (GetFields)
      poststuk.onderwerp: {required: true}
      poststuk.kenmerk: {stored: false}
      poststuk.reg_datum: {date: true}
    references: {kanaal: {values: [EMAIL, POST]}}  # ReferenceValues (GetReferences)
    confidentialities: {VERTROUWELIJK: Vertrouwelijk}
    units: [ORG-VTH]                # known organisation units (null: any)
    todo: registration | case       # how a registration lands in a unit's to-do list
    unit_field: poststuk.v_plaats_id
    secure_memo: true
    delete_logically: true          # DeleteObject3 with DeleteLogically=true is allowed
    modify: true                    # CreateMetaDocument with an ObjectID updates (false: refused)
    case: {doc_types: {IMI: "..."}, procedures: {IMIPRC: "..."}, case_field: poststuk.zaak_id}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

PROFILE_NAMES = ("documented", "production", "case")


@dataclass
class FieldRule:
    """One registration field as the installation knows it."""

    required: bool = False
    stored: bool = True  # False: accepted in CreateMetaDocument but silently dropped
    date: bool = False  # the value must be dd/MM/yyyy
    values: tuple[str, ...] = ()  # allowed values (empty: any)


@dataclass
class InstallationProfile:
    """What one installation accepts; see the module docstring."""

    name: str
    description: str = ""
    object_types: tuple[str, ...] = ("S", "P")
    document_type: str = "S"
    object_kinds: dict[str, str] = field(default_factory=lambda: {"INK": "Inkomend"})
    fields: dict[str, FieldRule] = field(default_factory=dict)
    references: dict[str, FieldRule] = field(default_factory=dict)
    confidentialities: dict[str, str] = field(default_factory=dict)
    confidentiality_field: str = "obj_vert.vertrouw_id"
    units: tuple[str, ...] | None = None
    todo: str = "registration"  # or "case"
    unit_field: str = "poststuk.v_plaats_id"
    secure_memo: bool = True
    delete_logically: bool = True
    modify: bool = True  # False: updating a registration (CreateMetaDocument + ObjectID) refused
    doc_types: dict[str, str] = field(default_factory=dict)
    procedures: dict[str, str] = field(default_factory=dict)
    case_field: str = "poststuk.zaak_id"

    @property
    def kenmerk_stored(self) -> bool:
        """Whether ``poststuk.kenmerk`` set through CreateMetaDocument is kept."""
        rule = self.fields.get("poststuk.kenmerk")
        return rule is not None and rule.stored

    def allow_field(self, name: str, *, required: bool = False) -> None:
        """Make a field known (tests that use other field names)."""
        self.fields[name] = FieldRule(required=required)


def _rules(data: dict[str, Any] | None) -> dict[str, FieldRule]:
    out: dict[str, FieldRule] = {}
    for name, given in (data or {}).items():
        spec = given or {}
        out[str(name)] = FieldRule(
            required=bool(spec.get("required", False)),
            stored=bool(spec.get("stored", True)),
            date=bool(spec.get("date", False)),
            values=tuple(str(v) for v in spec.get("values") or ()),
        )
    return out


def profile_from_mapping(data: dict[str, Any]) -> InstallationProfile:
    """A profile from its parsed YAML."""
    case = data.get("case") or {}
    units = data.get("units")
    return InstallationProfile(
        name=str(data["name"]),
        description=str(data.get("description", "")).strip(),
        object_types=tuple(data.get("object_types") or ("S", "P")),
        document_type=str(data.get("document_type", "S")),
        object_kinds={str(k): str(v) for k, v in (data.get("object_kinds") or {}).items()},
        fields=_rules(data.get("fields")),
        references=_rules(data.get("references")),
        confidentialities={
            str(k): str(v) for k, v in (data.get("confidentialities") or {}).items()
        },
        confidentiality_field=str(data.get("confidentiality_field", "obj_vert.vertrouw_id")),
        units=tuple(str(u) for u in units) if units is not None else None,
        todo=str(data.get("todo", "registration")),
        unit_field=str(data.get("unit_field", "poststuk.v_plaats_id")),
        secure_memo=bool(data.get("secure_memo", True)),
        delete_logically=bool(data.get("delete_logically", True)),
        modify=bool(data.get("modify", True)),
        doc_types={str(k): str(v) for k, v in (case.get("doc_types") or {}).items()},
        procedures={str(k): str(v) for k, v in (case.get("procedures") or {}).items()},
        case_field=str(case.get("case_field", "poststuk.zaak_id")),
    )


def load_profile(name_or_path: str | Path) -> InstallationProfile:
    """A shipped profile by name (``documented``, ``production``, ``case``) or a YAML file."""
    if str(name_or_path) in PROFILE_NAMES:
        text = (
            resources.files("imi_mailwatch.testing.corsa_server")
            .joinpath("profiles", f"{name_or_path}.yaml")
            .read_text(encoding="utf-8")
        )
    else:
        text = Path(name_or_path).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{name_or_path}: a profile is a mapping")
    return profile_from_mapping(data)
