"""Load rules files with positions, validate everything at once, build a RuleSet.

Files are read here (the only I/O of the rules package apart from the watcher);
what they mean is decided by the pure models in :mod:`.schema`. Every problem is
reported with file, line, column and path, in Dutch; an invalid set of rules
raises :class:`~imi_mailwatch.errors.ConfigError` and never runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from imi_mailwatch.errors import ConfigError
from imi_mailwatch.model import Forward, ReminderStep, Route, Team
from imi_mailwatch.rules.files import (
    ExampleFileError,
    fingerprint_of,
    read_example,
    read_sources,
)
from imi_mailwatch.rules.matching import (
    ActivitiesAll,
    ActivityContains,
    ActivityOneOf,
    ActivityRegex,
    AlertTypeIn,
    AreaIn,
    CompiledRule,
    Condition,
    DefaultRoute,
    MemberStateIn,
    ModuleIn,
    make_route,
    normalize,
)
from imi_mailwatch.rules.ruleset import (
    DEFAULT_RULE_NAME,
    Example,
    ParseSample,
    RuleSet,
    example_alert,
)
from imi_mailwatch.rules.schema import (
    FORWARD,
    RECIPIENTS,
    HerinneringStap,
    Regel,
    RegelsBestand,
    did_you_mean,
)
from imi_mailwatch.yamlsource import (
    Mark,
    Problem,
    YamlDocument,
    format_path,
    load_yaml,
    problems_from_validation,
)

YPath = tuple[str | int, ...]
INVALID_SUMMARY = "de routeringsregels zijn ongeldig"
EXAMPLES_SUMMARY = "de voorbeelden in de routeringsregels kloppen niet"


def load_rules(
    paths: Sequence[Path],
    *,
    parse_sample: ParseSample | None = None,
    check_examples: bool = True,
) -> RuleSet:
    """Load rules from files and directories (their *.yaml in name order), merged in order.

    Raises ConfigError whose ``problems`` are Dutch, each
    ``file:line:col: path: message (bedoelde u '…'?)``. Examples are routed too
    (``check_examples``); a failing example makes the set invalid. Examples that
    name an .eml file are parsed with ``parse_sample`` and skipped without it.
    """
    sources, problems = read_sources([Path(p) for p in paths])
    return build_rules(sources, problems, parse_sample=parse_sample, check_examples=check_examples)


@dataclass
class _Loaded:
    path: Path
    doc: YamlDocument
    model: RegelsBestand | None = None


@dataclass
class _Scan:
    """Names seen over all files before validation, so references resolve across files."""

    teams: dict[str, tuple[YamlDocument, Mark | None]] = field(default_factory=dict)
    rules: dict[str, tuple[str, YamlDocument, Mark | None]] = field(default_factory=dict)
    defaults: list[tuple[YamlDocument, Mark | None]] = field(default_factory=list)


def build_rules(
    sources: Sequence[tuple[Path, bytes]],
    problems: list[Problem] | None = None,
    *,
    parse_sample: ParseSample | None = None,
    check_examples: bool = True,
    read_examples: bool = True,
) -> RuleSet:
    """Validate and compile already-read rules files (see :func:`load_rules`).

    ``read_examples=False`` leaves the examples out altogether (their messages are
    not read, their expectations not checked): for rules kept from an earlier load.
    """
    problems = list(problems or [])
    incomplete = bool(problems)  # a file could not be read or parsed: it may hold 'standaard'
    loaded: list[_Loaded] = []
    for path, data in sources:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(
                _problem(
                    str(path), None, (), f"het bestand is geen UTF-8-tekst (byte {exc.start + 1})"
                )
            )
            incomplete = True
            continue
        doc = load_yaml(text, str(path), lang="nl")
        problems.extend(doc.problems)
        incomplete = incomplete or (doc.data is None and bool(doc.problems))
        if doc.data is not None and not isinstance(doc.data, dict):
            problems.append(
                Problem(
                    doc.filename,
                    doc.mark_for(()),
                    (),
                    "het bestand moet een blok met sleutels zijn: teams, "
                    "regels, standaard en/of voorbeelden",
                )
            )
            incomplete = True
            continue
        loaded.append(_Loaded(path, doc))

    scan = _scan(loaded, problems)
    for item in loaded:
        data = item.doc.data if item.doc.data is not None else {}
        try:
            item.model = RegelsBestand.model_validate(data, context={"teams": list(scan.teams)})
        except ValidationError as exc:
            problems.extend(_problems(exc, item.doc))

    if not scan.defaults and not incomplete:
        where = str(loaded[0].path) if loaded else (str(sources[0][0]) if sources else "regels")
        problems.append(
            _problem(
                where,
                None,
                ("standaard",),
                "er is geen 'standaard' route: zet in één bestand een blok "
                "'standaard:' met het team van de IMI-beheerders",
            )
        )
    for doc, mark in scan.defaults[1:]:
        first_doc, first_mark = scan.defaults[0]
        problems.append(
            Problem(
                doc.filename,
                mark,
                ("standaard",),
                "er mag maar één 'standaard' route zijn; de eerste staat in "
                f"{_at(first_doc, first_mark)}",
            )
        )

    examples = _examples(loaded, scan, problems) if read_examples else []
    if problems:
        raise ConfigError(INVALID_SUMMARY, _render(problems, [str(p) for p, _ in sources]))

    ruleset = _compile(loaded, examples, fingerprint_of(sources), [str(p) for p, _ in sources])
    if check_examples:
        failures = [r for r in ruleset.check_examples(parse_sample) if not r.ok]
        if failures:
            raise ConfigError(EXAMPLES_SUMMARY, [r.message for r in failures])
    return ruleset


def _scan(loaded: Sequence[_Loaded], problems: list[Problem]) -> _Scan:
    scan = _Scan()
    for item in loaded:
        doc, data = item.doc, item.doc.data or {}
        teams = data.get("teams")
        if isinstance(teams, dict):
            for key in teams:
                mark = doc.mark_for(("teams", key), key=True)
                if key in scan.teams:
                    other, other_mark = scan.teams[key]
                    problems.append(
                        Problem(
                            doc.filename,
                            mark,
                            ("teams", key),
                            f"het team '{key}' bestaat al in {_at(other, other_mark)}",
                        )
                    )
                else:
                    scan.teams[str(key)] = (doc, mark)
        rules = data.get("regels")
        if isinstance(rules, list):
            for index, rule in enumerate(rules):
                name = rule.get("naam") if isinstance(rule, dict) else None
                if not isinstance(name, str) or not name.strip():
                    continue
                path = ("regels", index, "naam")
                mark = doc.mark_for(path)
                norm = normalize(name)
                if norm in scan.rules:
                    _, other, other_mark = scan.rules[norm]
                    problems.append(
                        Problem(
                            doc.filename,
                            mark,
                            path,
                            f"de regelnaam '{name}' komt al voor in "
                            f"{_at(other, other_mark)}; geef elke regel een "
                            "eigen naam",
                        )
                    )
                else:
                    scan.rules[norm] = (name, doc, mark)
        if "standaard" in data:
            scan.defaults.append((doc, doc.mark_for(("standaard",), key=True)))
    return scan


def _rule_ref(
    doc: YamlDocument, path: YPath, value: str, names: dict[str, str], problems: list[Problem]
) -> str | None:
    """The rule an example expects, as written in its rule; None (and a problem) if unknown."""
    if value == DEFAULT_RULE_NAME:
        return value
    if normalize(value) in names:
        return names[normalize(value)]
    problems.append(
        Problem(
            doc.filename,
            doc.mark_for(path),
            path,
            f"onbekende regel '{value}'"
            + did_you_mean(value, [*names.values(), DEFAULT_RULE_NAME]),
        )
    )
    return None


def _examples(loaded: Sequence[_Loaded], scan: _Scan, problems: list[Problem]) -> list[Example]:
    """Examples of the valid files, with their .eml bytes read and rule names checked."""
    names = {norm: name for norm, (name, _, _) in scan.rules.items()}
    out: list[Example] = []
    for item in loaded:
        doc = item.doc
        if item.model is None:  # still check the rule names its examples expect
            raw = (doc.data or {}).get("voorbeelden")
            for index, ex_raw in enumerate(raw if isinstance(raw, list) else []):
                value = ex_raw.get("verwacht_regel") if isinstance(ex_raw, dict) else None
                if isinstance(value, str):
                    _rule_ref(doc, ("voorbeelden", index, "verwacht_regel"), value, names, problems)
            continue
        for index, ex in enumerate(item.model.voorbeelden or []):
            path: YPath = ("voorbeelden", index)
            where = f"{_at(doc, doc.mark_for(path))}: {format_path(path)}"
            expected_rule = ex.verwacht_regel
            if expected_rule is not None:
                expected_rule = _rule_ref(
                    doc, (*path, "verwacht_regel"), expected_rule, names, problems
                )
                if expected_rule is None:
                    continue
            if ex.bericht is not None:
                try:
                    eml = read_example(item.path.parent, ex.bericht)
                except ExampleFileError as exc:
                    problems.append(
                        Problem(
                            doc.filename,
                            doc.mark_for((*path, "bericht")),
                            (*path, "bericht"),
                            str(exc),
                        )
                    )
                    continue
                out.append(
                    Example(
                        where,
                        ex.naam or ex.bericht,
                        ex.verwacht_team,
                        expected_rule,
                        eml=eml,
                        eml_name=ex.bericht,
                    )
                )
            else:
                activities = ex.activiteiten or []
                alert = example_alert(
                    activities, ex.meldingstype, ex.wetgevingsgebied, ex.lidstaat, ex.module
                )
                label = ex.naam or "; ".join(activities)
                out.append(Example(where, label, ex.verwacht_team, expected_rule, alert=alert))
    return out


def _compile(
    loaded: Sequence[_Loaded], examples: list[Example], fingerprint: str, files: list[str]
) -> RuleSet:
    teams: dict[str, Team] = {}
    for item in loaded:
        assert item.model is not None  # every file validated, or we raised
        for key, spec in (item.model.teams or {}).items():
            teams[key] = Team(
                key=key,
                name=spec.naam,
                org_unit=spec.organisatie_eenheid,
                mailbox=spec.mailbox,
                handlers=tuple(spec.behandelaars or ()),
            )
    compiled: list[CompiledRule] = []
    default: DefaultRoute | None = None
    default_team = next(
        teams[item.model.standaard.team]
        for item in loaded
        if item.model is not None and item.model.standaard is not None
    )  # checked before compiling: exactly one 'standaard'
    for item in loaded:
        assert item.model is not None
        doc = item.doc
        for index, rule in enumerate(item.model.regels or []):
            where = _line(doc, ("regels", index))
            compiled.append(_compile_rule(rule, len(compiled) + 1, where, teams, default_team))
        if item.model.standaard is not None:
            fallback = item.model.standaard
            route = make_route(
                teams[fallback.team],
                fallback.vakgebied,
                None,
                _schedule(fallback.herinneringen),
                is_default=True,
            )
            default = DefaultRoute(route, _line(doc, ("standaard",)))
    assert default is not None  # checked before compiling
    return RuleSet(
        compiled, default, teams=teams, examples=examples, fingerprint=fingerprint, files=files
    )


def _compile_rule(
    rule: Regel, position: int, source: str, teams: dict[str, Team], default_team: Team
) -> CompiledRule:
    when = rule.als
    conditions: list[Condition] = []
    if when.meldingstype:
        conditions.append(AlertTypeIn(when.meldingstype))
    if when.lidstaat:
        conditions.append(MemberStateIn(when.lidstaat))
    if when.wetgevingsgebied:
        conditions.append(AreaIn(when.wetgevingsgebied))
    if when.module:
        conditions.append(ModuleIn(when.module))
    if when.activiteit_exact:
        conditions.append(ActivityOneOf([when.activiteit_exact], exact=True))
    if when.activiteit_een_van:
        conditions.append(ActivityOneOf(when.activiteit_een_van))
    if when.activiteiten_alle:
        conditions.append(ActivitiesAll(when.activiteiten_alle))
    if when.activiteit_bevat:
        conditions.append(
            ActivityContains(when.activiteit_bevat, within_words=bool(when.ook_binnen_woord))
        )
    if when.activiteit_regex:
        conditions.append(ActivityRegex(when.activiteit_regex))
    conditions.sort(key=lambda c: c.cost)
    then = rule.dan
    if then.doorsturen is not None:  # validated: with a reason, without team or schedule
        forward = Forward(to=then.doorsturen, reason=then.reden or "")
        route = Route(team=default_team, field=forward.reason, rule=rule.naam, forward=forward)
        return CompiledRule(position, rule.naam, source, FORWARD, tuple(conditions), route)
    assert then.team is not None and then.vakgebied is not None  # validated
    team = teams[then.team]
    if then.behandelaars:
        team = dataclasses.replace(team, handlers=tuple(then.behandelaars))
    route = make_route(team, then.vakgebied, rule.naam, _schedule(then.herinneringen))
    return CompiledRule(position, rule.naam, source, then.team, tuple(conditions), route)


def _schedule(steps: list[HerinneringStap] | None) -> tuple[ReminderStep, ...] | None:
    if not steps:
        return None
    ordered = sorted(steps, key=lambda s: s.werkdagen)
    return tuple(
        ReminderStep(
            offset=s.werkdagen, recipients=tuple(RECIPIENTS[a] for a in s.aan), repeat=s.herhalen
        )
        for s in ordered
    )


def _problems(exc: ValidationError, doc: YamlDocument) -> list[Problem]:
    return problems_from_validation(exc, doc, RegelsBestand, lang="nl")


def _problem(
    filename: str, mark: Mark | None, path: tuple[str | int, ...], message: str
) -> Problem:
    return Problem(filename, mark, path, message)


def _at(doc: YamlDocument, mark: Mark | None) -> str:
    return f"{doc.filename}:{mark.line}:{mark.column}" if mark else doc.filename


def _line(doc: YamlDocument, path: tuple[str | int, ...]) -> str:
    mark = doc.mark_for(path)
    return f"{doc.filename}:{mark.line}" if mark else doc.filename


def _render(problems: Sequence[Problem], files: Sequence[str]) -> list[str]:
    """Rendered in Dutch, by file (in load order), line and column."""
    order: dict[str, int] = {name: index for index, name in enumerate(files)}
    for p in problems:
        order.setdefault(p.filename, len(order))

    def key(p: Problem) -> tuple[int, int, int]:
        mark = p.mark or Mark(0, 0)
        return (order[p.filename], mark.line, mark.column)

    return [p.render(lang="nl") for p in sorted(problems, key=key)]
