"""Rule evaluation: match each exposure rule's condition against an app's facts.

A condition returns the evidence that satisfied it, so each finding carries exactly the facts
that made it fire. Conditions have no negation, which keeps scores monotone in the evidence.
"""

from __future__ import annotations

from typing import Any

from auditor.model import AppFacts, Evidence, Finding, level_rank
from auditor.ruleset.ruleset import Rule, RuleSet

Match = tuple[Evidence, ...] | None
"""None when a condition does not hold; otherwise the evidence that satisfied it."""

CODE_KINDS = frozenset({"api", "field", "string", "method", "sink", "reflection", "dynamic_loading", "receiver",
                        "service", "packer", "hidden_dex", "obfuscation", "not_assessable", "anti_analysis",
                        "sink_nearby", "flow"})


def _channel(facts: AppFacts, arg: dict[str, Any]) -> Match:
    state = facts.channels[arg["name"]]
    if level_rank(state.level) < level_rank(arg["at_least"]):
        return None
    wanted = {"declared": {"permission", "plugin_unused"}, "code": CODE_KINDS | {"flow", "data_taken"},
              "upload": {"flow", "endpoint", "data_taken"}}[arg["at_least"]]
    return tuple(e for e in state.evidence if e.kind in wanted) or state.evidence


def _declared(facts: AppFacts, arg: str) -> Match:
    """A permission that reads the channel is requested (whatever the code does)."""
    hits = tuple(e for e in facts.channels[arg].evidence if e.kind in ("permission", "plugin_unused"))
    return hits or None


def _permission(facts: AppFacts, arg: list[str]) -> Match:
    hits = tuple(Evidence("permission", p.name, None, p.split) for p in facts.manifest.permissions if p.name in arg)
    return hits or None


def _undeclared(facts: AppFacts, arg: str) -> Match:
    state = facts.channels[arg]
    return tuple(e for e in state.evidence if e.kind != "permission") if state.undeclared_access else None


def _flag(facts: AppFacts, arg: str) -> Match:
    return facts.flags.get(arg) or None


def _nearby(facts: AppFacts, arg: str) -> Match:
    """A read and a sink only close in the call graph (no flow proven): weaker than an upload."""
    hits = tuple(e for e in facts.channels[arg].evidence if e.kind == "sink_nearby")
    return hits or None


def _sdk_reads(facts: AppFacts, arg: str) -> Match:
    state = facts.channels[arg]
    hits = tuple(e for e in state.evidence if e.origin is not None and e.origin.kind == "sdk")
    return hits or None


def _sdk_category(facts: AppFacts, arg: str) -> Match:
    hits = tuple(Evidence("sdk", f"{s.name} ({s.category})", None) for s in facts.code.sdks if s.category == arg)
    return hits or None


def _all(facts: AppFacts, arg: list[dict[str, Any]]) -> Match:
    found: list[Evidence] = []
    for cond in arg:
        match = matches(facts, cond)
        if match is None:
            return None
        found.extend(match)
    return tuple(dict.fromkeys(found))


def _any(facts: AppFacts, arg: list[dict[str, Any]]) -> Match:
    results = [match for cond in arg if (match := matches(facts, cond)) is not None]
    return tuple(dict.fromkeys(e for match in results for e in match)) if results else None


CONDITIONS: dict[str, Any] = {
    "channel": _channel, "declared": _declared, "permission": _permission, "undeclared": _undeclared, "flag": _flag,
    "sdk_reads": _sdk_reads, "nearby": _nearby, "sdk_category": _sdk_category, "all": _all, "any": _any,
}


def matches(facts: AppFacts, condition: dict[str, Any]) -> Match:
    ((kind, arg),) = condition.items()
    result: Match = CONDITIONS[kind](facts, arg)
    return result


def confidence_of(evidence: tuple[Evidence, ...]) -> str:
    """declared < referenced in code < proven to flow to a sink."""
    kinds = {e.kind for e in evidence}
    if "flow" in kinds:
        return "high"
    if kinds - {"permission", "sdk"}:
        return "medium"
    return "low"


def finding(rule: Rule, evidence: tuple[Evidence, ...]) -> Finding:
    return Finding(rule.id, rule.title, rule.channel, rule.severity, rule.confidence or confidence_of(evidence),
                   rule.points, evidence, rule.title_zh)


def evaluate(facts: AppFacts, rules: RuleSet) -> tuple[Finding, ...]:
    """Every rule whose condition holds, in rule-id order."""
    found = []
    for rule in rules.rules:
        match = matches(facts, rule.when)
        if match is not None:
            found.append(finding(rule, match))
    return tuple(found)
