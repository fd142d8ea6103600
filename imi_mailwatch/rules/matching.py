"""Matching an alert against compiled rules: pure, fast, and able to say why.

Texts are compared after :func:`normalize` (case folded, accents removed,
white space collapsed), so ``Sloopwerkzaamheden``, ``SLOOPWERKZAAMHEDEN`` and
``sloopwérkzaamheden`` are the same activity. Every condition can answer two
ways: :meth:`Condition.test` for routing (fast, no text) and
:meth:`Condition.explain` for ``route --explain`` (a Dutch reason).

A condition on a field the alert does not carry (a follow-up alert without
service activities, say) is not met: rules only match on fields present.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from imi_mailwatch.model import Alert, ReminderStep, Route, Team
from imi_mailwatch.rules.regex import compile_pattern

_SEP = "\n"  # never inside a normalised text: white space is collapsed to one space
_WORD = re.compile(r"[^\W_]+")  # a run of characters for which str.isalnum() holds


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize(text: str) -> str:
    """Case-fold, remove accents and collapse white space: the form rules compare."""
    once = _strip_accents(text.casefold()).casefold()
    return " ".join(_strip_accents(once).split())


def _quote_all(values: Iterable[str], joiner: str = " of ") -> str:
    quoted = [f"'{v}'" for v in values]
    if joiner == " of " and len(quoted) > 2:
        return "een van " + ", ".join(quoted)
    return joiner.join(quoted)


@dataclass(frozen=True, slots=True)
class Facts:
    """What rules look at in one alert, normalised once per routing."""

    activities: tuple[str, ...]  # as written, for explanations
    normalized: tuple[str, ...]
    encoded: tuple[bytes, ...]  # the normalised activities in UTF-8, for RE2
    activity_set: frozenset[str]
    joined: str
    words: frozenset[str]  # every run of letters and digits (str.isalnum) in the activities
    alert_type: str
    area: str | None
    member_state: str | None
    module: str = "services"

    @classmethod
    def of(cls, alert: Alert) -> Facts:
        norm = tuple(n for n in (normalize(a) for a in alert.service_activities) if n)
        area = normalize(alert.legislative_area) if alert.legislative_area else None
        state = alert.member_state.strip().upper() if alert.member_state else None
        return cls(
            activities=tuple(alert.service_activities),
            normalized=norm,
            encoded=tuple(n.encode("utf-8", "surrogatepass") for n in norm),
            activity_set=frozenset(norm),
            joined=_SEP.join(norm),
            words=frozenset(_WORD.findall(_SEP.join(norm))),
            alert_type=str(alert.alert_type.value),
            area=area or None,
            member_state=state or None,
            module=alert.module.value,
        )

    def shown(self, normalized: str) -> str:
        """The activity as the alert wrote it, for a normalised one."""
        for raw, norm in zip(self.activities, (normalize(a) for a in self.activities), strict=True):
            if norm == normalized:
                return raw
        return normalized


_NO_ACTIVITIES = "de melding noemt geen dienstverleningsactiviteiten"


class Condition:
    """One test of a rule; ``cost`` orders the cheap ones first when routing."""

    cost = 1

    def test(self, facts: Facts) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def explain(self, facts: Facts) -> tuple[bool, str]:  # pragma: no cover - abstract
        raise NotImplementedError


def word_at(text: str, needle: str, start: int = 0) -> int:
    """Where ``needle`` first stands in ``text`` as whole words (from ``start``), else -1.

    Whole words: the letter or digit at either end of the needle does not continue a
    letter or digit of the text (``taxi`` stands in "taxi en bus", not in
    "Taxidermie"). Checked with :meth:`str.isalnum`, so accented and non-Latin
    letters count as letters (RE2's ``\\b`` knows only a-z, 0-9 and ``_``).
    """
    if not needle:
        return -1
    lead, tail = needle[0].isalnum(), needle[-1].isalnum()
    size, end = len(needle), len(text)
    at = text.find(needle, start)
    while at >= 0:
        after = at + size
        if not (lead and at > 0 and text[at - 1].isalnum()) and not (
            tail and after < end and text[after].isalnum()
        ):
            return at
        at = text.find(needle, at + 1)
    return -1


def inside_word(text: str, start: int, end: int) -> bool:
    """Whether the span ``text[start:end]`` begins or ends strictly inside a word."""
    if start >= end:
        return False
    begins = start > 0 and text[start - 1].isalnum() and text[start].isalnum()
    ends = end < len(text) and text[end - 1].isalnum() and text[end].isalnum()
    return begins or ends


class ActivityContains(Condition):
    """Some activity contains one of the texts: as whole words, or anywhere (``within_words``)."""

    cost = 3

    def __init__(self, texts: Sequence[str], *, within_words: bool = False) -> None:
        self.texts = tuple(texts)
        self.needles = tuple(n for n in (normalize(t) for t in texts) if n)
        self.within_words = within_words
        # one word is found as a whole word exactly when it is one of the alert's words
        self.words = frozenset(n for n in self.needles if _WORD.fullmatch(n))
        # a phrase stands in the text as whole words only if each of its words does
        self.phrases = tuple(
            (n, frozenset(_WORD.findall(n))) for n in self.needles if n not in self.words
        )

    def test(self, facts: Facts) -> bool:
        joined = facts.joined
        if not joined:
            return False
        if self.within_words:
            for needle in self.needles:  # noqa: SIM110 - a plain loop is faster here
                if needle in joined:
                    return True
            return False
        if not self.words.isdisjoint(facts.words):
            return True
        words = facts.words
        for needle, needs in self.phrases:
            if needs <= words:  # only then search, and check a hit from where it was found
                at = joined.find(needle)
                if at >= 0 and word_at(joined, needle, at) >= 0:
                    return True
        return False

    def found_in(self, text: str, needle: str) -> bool:
        """Whether ``needle`` (normalised) counts as found in the normalised ``text``."""
        return needle in text if self.within_words else word_at(text, needle) >= 0

    def explain(self, facts: Facts) -> tuple[bool, str]:
        if not facts.normalized:
            return False, _NO_ACTIVITIES
        how = " (ook binnen een woord)" if self.within_words else ""
        for text, needle in zip(self.texts, self.needles, strict=False):
            for norm in facts.normalized:
                if self.found_in(norm, needle):
                    return True, f"activiteit '{facts.shown(norm)}' bevat '{text}'{how}"
        if self.within_words:
            return (
                False,
                f"geen activiteit bevat {_quote_all(self.texts)}, ook niet binnen een woord",
            )
        return False, f"geen activiteit bevat {_quote_all(self.texts)} als heel woord"


class _TextsIn(Condition):
    """A condition on texts that are compared after normalisation."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = tuple(texts)
        self.values = frozenset(normalize(t) for t in texts)


class ActivityOneOf(_TextsIn):
    """Some activity is exactly one of the texts (after normalisation)."""

    cost = 2

    def __init__(self, texts: Sequence[str], *, exact: bool = False) -> None:
        super().__init__(texts)
        self.exact = exact

    def test(self, facts: Facts) -> bool:
        return not self.values.isdisjoint(facts.activity_set)

    def explain(self, facts: Facts) -> tuple[bool, str]:
        if not facts.normalized:
            return False, _NO_ACTIVITIES
        for norm in facts.normalized:
            if norm in self.values:
                word = "precies" if self.exact else "een van"
                return True, f"activiteit '{facts.shown(norm)}' is {word} {_quote_all(self.texts)}"
        if self.exact:
            return False, f"geen activiteit is precies '{self.texts[0]}'"
        return False, f"geen activiteit is een van {_quote_all(self.texts, ', ')}"


class ActivitiesAll(_TextsIn):
    """Every one of the texts is an activity of the alert."""

    cost = 2

    def test(self, facts: Facts) -> bool:
        return self.values <= facts.activity_set

    def explain(self, facts: Facts) -> tuple[bool, str]:
        if not facts.normalized:
            return False, _NO_ACTIVITIES
        missing = [t for t in self.texts if normalize(t) not in facts.activity_set]
        if missing:
            return False, f"deze activiteiten ontbreken: {_quote_all(missing, ', ')}"
        return True, f"alle activiteiten komen voor: {_quote_all(self.texts, ', ')}"


class ActivityRegex(Condition):
    """Some activity matches one of the regular expressions (search, accents ignored).

    RE2 (see :mod:`.regex`): linear in the length of the activity, whatever the pattern.
    """

    cost = 5

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self.compiled = tuple(compile_pattern(_strip_accents(p)) for p in patterns)

    def test(self, facts: Facts) -> bool:
        for rx in self.compiled:
            for text in facts.encoded:
                if rx.search(text) is not None:
                    return True
        return False

    def explain(self, facts: Facts) -> tuple[bool, str]:
        if not facts.normalized:
            return False, _NO_ACTIVITIES
        for pattern, rx in zip(self.patterns, self.compiled, strict=True):
            for norm, text in zip(facts.normalized, facts.encoded, strict=True):
                if rx.search(text) is not None:
                    return True, f"activiteit '{facts.shown(norm)}' past op /{pattern}/"
        shown = " of ".join(f"/{p}/" for p in self.patterns)
        return False, f"geen activiteit past op {shown}"


class _CodeIn(Condition):
    """The alert's ``fact`` is one of ``codes``; ``label`` names the fact in Dutch."""

    cost = 0
    fact: ClassVar[str]  # the attribute of Facts
    label: ClassVar[str]
    absent: ClassVar[str | None] = None  # the reason when the alert does not name it

    def __init__(self, codes: Sequence[str]) -> None:
        self.codes = tuple(codes)
        self.values = frozenset(codes)

    def explain(self, facts: Facts) -> tuple[bool, str]:
        value = getattr(facts, self.fact)
        if value is None and self.absent is not None:
            return False, self.absent
        if value in self.values:
            return True, f"{self.label} is {value}"
        return False, f"{self.label} is {value}, niet {' of '.join(self.codes)}"


class AlertTypeIn(_CodeIn):
    fact = "alert_type"
    label = "meldingstype"

    def test(self, facts: Facts) -> bool:  # written out: the hot path of matching
        return facts.alert_type in self.values


class AreaIn(_TextsIn):
    cost = 1

    def test(self, facts: Facts) -> bool:
        return facts.area in self.values

    def explain(self, facts: Facts) -> tuple[bool, str]:
        if facts.area is None:
            return False, "de melding noemt geen wetgevingsgebied"
        if facts.area in self.values:
            return True, f"wetgevingsgebied is {_quote_all(self.texts)}"
        return False, f"wetgevingsgebied is niet {_quote_all(self.texts)}"


class ModuleIn(_CodeIn):
    """The alert belongs to one of the IMI modules (services, sdg_evidence, sdg_exceptions)."""

    fact = "module"
    label = "IMI-module"

    def test(self, facts: Facts) -> bool:
        return facts.module in self.values


class MemberStateIn(_CodeIn):
    fact = "member_state"
    label = "lidstaat"
    absent = "de melding noemt geen lidstaat"

    def test(self, facts: Facts) -> bool:
        return facts.member_state in self.values


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A validated rule, ready to match."""

    position: int  # 1-based, over all files in order
    name: str
    source: str  # "file:line"
    team_key: str
    conditions: tuple[Condition, ...]  # cheapest first
    route: Route

    def matches(self, facts: Facts) -> bool:
        for condition in self.conditions:  # noqa: SIM110 - a plain loop is faster here
            if not condition.test(facts):
                return False
        return True


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    """One rule's verdict on one alert, for ``route --explain``.

    ``checks`` holds each condition's outcome and its Dutch reason, in a fixed
    order: activities, then alert type, legislative area and member state. The
    last verdict of :meth:`RuleSet.explain` is the default route's (``is_default``).
    """

    position: int  # 1-based; 0 for the default route
    name: str
    source: str  # "file:line"
    team: str  # team key
    matched: bool
    chosen: bool
    checks: tuple[tuple[bool, str], ...]
    is_default: bool = False
    forward_to: str | None = None  # a rule that forwards the request out of the province

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(reason for _, reason in self.checks)

    def render_nl(self) -> str:
        """The verdict as Dutch lines, like sieve-test's trace."""
        if self.is_default:
            state = "GEKOZEN" if self.chosen else "niet nodig"
            head = f"  -. standaardroute: {state} -> team {self.team}  ({self.source})"
            return "\n".join([head, *(f"       {r}" for r in self.reasons)])
        if self.chosen:
            state = "GEKOZEN"
        elif self.matched:
            state = "past ook, maar een eerdere regel ging voor"
        else:
            state = "past niet"
        target = f"doorsturen naar {self.forward_to}" if self.forward_to else f"team {self.team}"
        head = f"{self.position:3d}. {self.name}: {state} -> {target}  ({self.source})"
        lines = [f"       {'+' if ok else '-'} {reason}" for ok, reason in self.checks]
        return "\n".join([head, *lines])


@dataclass(frozen=True, slots=True)
class DefaultRoute:
    route: Route
    source: str

    @property
    def team_key(self) -> str:
        return self.route.team.key


def first_match(rules: Sequence[CompiledRule], facts: Facts) -> CompiledRule | None:
    """The first rule that matches, in order."""
    for rule in rules:
        if rule.matches(facts):
            return rule
    return None


def explain_rules(
    rules: Sequence[CompiledRule], default: DefaultRoute, facts: Facts
) -> list[RuleVerdict]:
    """Every rule's verdict in order, then the default route's."""
    verdicts: list[RuleVerdict] = []
    chosen_seen = False
    for rule in rules:
        results = [c.explain(facts) for c in _in_written_order(rule)]
        matched = all(ok for ok, _ in results)
        chosen = matched and not chosen_seen
        chosen_seen = chosen_seen or matched
        verdicts.append(
            RuleVerdict(
                position=rule.position,
                name=rule.name,
                source=rule.source,
                team=rule.team_key,
                matched=matched,
                chosen=chosen,
                checks=tuple(results),
                forward_to=rule.route.forward.to if rule.route.forward else None,
            )
        )
    reason = (
        "een regel hierboven paste"
        if chosen_seen
        else f"geen regel paste; vakgebied in het memo: {default.route.field}"
    )
    verdicts.append(
        RuleVerdict(
            position=0,
            name="standaard",
            source=default.source,
            team=default.team_key,
            matched=True,
            chosen=not chosen_seen,
            checks=((True, reason),),
            is_default=True,
        )
    )
    return verdicts


def _in_written_order(rule: CompiledRule) -> tuple[Condition, ...]:
    return tuple(sorted(rule.conditions, key=lambda c: _WRITTEN_ORDER.index(type(c))))


_WRITTEN_ORDER: list[type[Condition]] = [
    ActivityContains,
    ActivityOneOf,
    ActivitiesAll,
    ActivityRegex,
    AlertTypeIn,
    AreaIn,
    MemberStateIn,
    ModuleIn,
]


def make_route(
    team: Team,
    field: str,
    rule: str | None,
    schedule: tuple[ReminderStep, ...] | None,
    *,
    is_default: bool = False,
) -> Route:
    return Route(team=team, field=field, rule=rule, is_default=is_default, schedule=schedule)
