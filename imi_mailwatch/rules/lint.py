"""Warnings about rules that may misroute without failing: for ``rules check``. Pure.

A set of rules can be valid, pass all its examples, and still send a request to
the wrong team. Two signs of that are found here, each as a Dutch warning with
the file and line of the rule:

- a pattern of one rule also matches an activity of an example that belongs to
  another rule (or to the default route): the two rules overlap, and only their
  order decides;
- a pattern can match inside a word: a text with ``ook_binnen_woord: ja`` or a
  regular expression without ``^``/``\\b`` at its start or ``$``/``\\b`` at its end
  ('nature' in 'signature'); shown with the example that proves it, if any.

Warnings do not make the rules invalid: ``rules check`` still exits 0 unless
``--streng`` is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from imi_mailwatch.model import Alert
from imi_mailwatch.rules.matching import (
    ActivitiesAll,
    ActivityContains,
    ActivityOneOf,
    ActivityRegex,
    CompiledRule,
    inside_word,
    normalize,
    word_at,
)
from imi_mailwatch.rules.regex import Pattern
from imi_mailwatch.rules.ruleset import DEFAULT_RULE_NAME, Example, ParseSample, RuleSet

Span = tuple[int, int]
Finder = Callable[[str], Span | None]  # a normalised activity -> where the pattern matches


@dataclass(frozen=True, slots=True)
class RuleWarning:
    """One warning: where (``file:line`` of the rule) and what, in Dutch."""

    source: str
    text: str

    def render_nl(self) -> str:
        return f"{self.source}: {self.text}"


@dataclass(frozen=True, slots=True)
class _Pattern:
    shown: str  # as the rule writes it: 'sloop', /^sloop/ or "Sloopwerkzaamheden"
    find: Finder
    may_split_words: bool  # an infix text or an unanchored regex


def warnings(ruleset: RuleSet, parse_sample: ParseSample | None = None) -> list[RuleWarning]:
    """Every warning about ``ruleset``, by rule in order; examples not readable are skipped."""
    examples = list(_alerts(ruleset, parse_sample))
    owners = [_owner(ruleset, ex, alert) for ex, alert in examples]
    out: list[RuleWarning] = []
    for rule in ruleset.rules:
        patterns = list(_patterns(rule))
        out.extend(_split_warnings(rule, [p for p in patterns if p.may_split_words], examples))
        for (example, alert), owner in zip(examples, owners, strict=True):
            if owner == rule.name:
                continue
            hit = _first_hit(patterns, alert)
            if hit is not None:
                pattern, activity = hit
                whose = "de standaardroute" if owner == DEFAULT_RULE_NAME else f"regel '{owner}'"
                out.append(
                    RuleWarning(
                        rule.source,
                        f"regel '{rule.name}': {pattern.shown} past ook op activiteit "
                        f"'{activity}' van voorbeeld '{example.label}' ({_place(example)}), "
                        f"dat bij {whose} hoort. Alleen de volgorde van de regels beslist "
                        "hier; maak de regel preciezer (bijv. activiteit_een_van).",
                    )
                )
    return out


def _alerts(ruleset: RuleSet, parse_sample: ParseSample | None) -> Iterator[tuple[Example, Alert]]:
    for example in ruleset.examples:
        alert = example.alert
        if alert is None and parse_sample is not None and example.eml is not None:
            alert = parse_sample(example.eml)
        if alert is not None:
            yield example, alert


def _owner(ruleset: RuleSet, example: Example, alert: Alert) -> str:
    """The rule an example belongs to: the one it expects, else the one that routes it."""
    if example.expected_rule is not None:
        return example.expected_rule
    return ruleset.route(alert).rule or DEFAULT_RULE_NAME


def _place(example: Example) -> str:
    return example.where.split(": ", 1)[0]


def _first_hit(patterns: list[_Pattern], alert: Alert) -> tuple[_Pattern, str] | None:
    for pattern in patterns:
        for activity in alert.service_activities:
            if pattern.find(normalize(activity)) is not None:
                return pattern, activity
    return None


def _split_warnings(
    rule: CompiledRule, patterns: list[_Pattern], examples: list[tuple[Example, Alert]]
) -> list[RuleWarning]:
    """Per pattern an example shows matching inside a word; one line for the others."""
    out: list[RuleWarning] = []
    unproven: list[_Pattern] = []
    for pattern in patterns:
        proof = _inside_a_word(pattern, examples)
        if proof is None:
            unproven.append(pattern)
            continue
        example, activity = proof
        out.append(
            RuleWarning(
                rule.source,
                f"regel '{rule.name}': {pattern.shown} past midden in een woord van activiteit "
                f"'{activity}' (voorbeeld '{example.label}', {_place(example)}). Controleer "
                "dat dit de bedoeling is; een precieze waarde (activiteit_een_van) is veiliger.",
            )
        )
    if unproven:
        shown = ", ".join(p.shown for p in unproven)
        advice = []
        if any(not p.shown.startswith("/") for p in unproven):
            advice.append("door 'ook_binnen_woord: ja' past een tekst ook midden in een woord "
                          "('nature' in 'signature')")  # fmt: skip
        if any(p.shown.startswith("/") for p in unproven):
            advice.append("een reguliere expressie zonder ^ of \\b aan het begin en $ of \\b "
                          "aan het eind past ook midden in een woord")  # fmt: skip
        out.append(
            RuleWarning(
                rule.source,
                f"regel '{rule.name}': {shown} {'kan' if len(unproven) == 1 else 'kunnen'} "
                "midden in een woord passen: "
                + "; ".join(advice)
                + ". Een precieze waarde (activiteit_een_van) is veiliger.",
            )
        )
    return out


def _inside_a_word(
    pattern: _Pattern, examples: list[tuple[Example, Alert]]
) -> tuple[Example, str] | None:
    for example, alert in examples:
        for activity in alert.service_activities:
            norm = normalize(activity)
            span = pattern.find(norm)
            if span is not None and inside_word(norm, *span):
                return example, activity
    return None


def _patterns(rule: CompiledRule) -> Iterator[_Pattern]:
    for condition in rule.conditions:
        if isinstance(condition, ActivityContains):
            for text, needle in zip(condition.texts, condition.needles, strict=False):
                yield _Pattern(
                    f"'{text}'", _contains(needle, condition.within_words), condition.within_words
                )
        elif isinstance(condition, ActivityRegex):
            for text, rx in zip(condition.patterns, condition.compiled, strict=True):
                yield _Pattern(f"/{text}/", _regex(rx), not _bounded(text))
        elif isinstance(condition, ActivityOneOf | ActivitiesAll):
            for text in condition.texts:
                yield _Pattern(f"'{text}'", _exact(normalize(text)), False)


def _contains(needle: str, within_words: bool) -> Finder:
    def find(text: str) -> Span | None:
        at = text.find(needle) if within_words else word_at(text, needle)
        return (at, at + len(needle)) if at >= 0 else None

    return find


def _regex(rx: Pattern) -> Finder:
    def find(text: str) -> Span | None:
        data = text.encode("utf-8", "surrogatepass")
        match = rx.search(data)
        if match is None:
            return None
        start, end = match.span()
        # RE2 gives byte offsets; the neighbours are judged on characters
        return len(data[:start].decode("utf-8", "replace")), len(
            data[:end].decode("utf-8", "replace")
        )

    return find


def _exact(value: str) -> Finder:
    return lambda text: (0, len(text)) if text == value else None


def _bounded(pattern: str) -> bool:
    """Whether a regex is anchored or word-bounded at both its start and its end."""
    starts = pattern.startswith(("^", "\\b", "\\A"))
    ends = pattern.endswith(("$", "\\b", "\\z")) and not pattern.endswith("\\$")
    return starts and ends
