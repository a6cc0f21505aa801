"""`auditor explain`: plain-language answers about a permission, a rule or a policy pack.

All wording comes from the rule set (permission catalog `explain` texts, rule rationales, policy
summaries and requirement texts) and from the i18n files; this module only assembles it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from auditor.i18n import name, text
from auditor.ruleset.ruleset import PermissionEntry, Policy, Rule, RuleSet

Section = tuple[str, list[str]]


def _permission_name(subject: str) -> str:
    return subject if "." in subject else f"android.permission.{subject}"


def _in(lang: str, english: Any, chinese: Any) -> Any:
    """The Chinese text of a rule or pack field under --lang zh-CN where the data has one."""
    return chinese if lang == "zh-CN" and chinese else english


def forbidding_policies(rules: RuleSet, permission: str, channel: str | None, lang: str) -> list[str]:
    """'policy id: requirement text' for every requirement that names the permission or its channel."""
    out = []
    for policy in rules.policies.values():
        for req in policy.data.get("requirements", []):
            forbids = req.get("forbids") or {}
            if permission in (forbids.get("permissions") or []) or (channel and channel in (forbids.get("channels") or {})):
                req_text = _in(lang, req["text"], req.get("text_zh"))
                marker = f" [{text('explain.secondary_source', lang)}]" if req.get("confidence") == "secondary-source" else ""
                out.append(f"{policy.id}: {req_text}{marker}")
    return out


def _explain_permission(rules: RuleSet, entry: PermissionEntry, lang: str) -> list[Section]:
    texts = (entry.explain or {}).get(lang) or (entry.explain or {}).get("en") or {}
    sections: list[Section] = [(text("explain.grants", lang), [texts.get("grants", entry.name)])]
    if texts.get("reveals"):
        sections.append((text("explain.reveals", lang), [texts["reveals"]]))
    if texts.get("alternative"):
        sections.append((text("explain.alternative", lang), [texts["alternative"]]))
    sections.append((text("explain.policies", lang), forbidding_policies(rules, entry.name, entry.channel, lang)
                     or [text("explain.none", lang)]))
    rules_here = [f"{r.id}: {_in(lang, r.title, r.title_zh)}" for r in rules.rules if entry.channel and r.channel == entry.channel]
    if rules_here:
        sections.append((text("explain.rules", lang), rules_here))
    sections.append((text("explain.sources", lang), [entry.source]))
    return sections


def _explain_rule(rules: RuleSet, rule: Rule, lang: str) -> list[Section]:
    scoring = text("explain.scoring_line", lang, severity=name("severity", rule.severity, lang), points=rule.points)
    sections: list[Section] = [(_in(lang, rule.title, rule.title_zh), [_in(lang, rule.rationale, rule.rationale_zh)]),
                               (text("explain.scoring", lang), [scoring])]
    read_perms = [p for p in rules.permissions.values() if rule.channel and p.channel == rule.channel and p.access == "read"]
    for perm in read_perms[:1]:
        sections += _explain_permission(rules, perm, lang)[1:3]
        sections.append((text("explain.policies", lang), forbidding_policies(rules, perm.name, perm.channel, lang)
                         or [text("explain.none", lang)]))
    sections.append((text("explain.sources", lang), list(rule.sources)))
    return sections


def _explain_policy(data: dict[str, Any], lang: str) -> list[Section]:
    summary = _in(lang, data.get("summary", ""), data.get("summary_zh"))
    reqs = []
    for r in data.get("requirements", []):
        condition = _in(lang, r.get("condition_text"), r.get("condition_text_zh"))
        reqs.append(f"{r['id']}: {_in(lang, r['text'], r.get('text_zh'))}" + (f" ({condition})" if condition else ""))
    confidence = text("explain.confidence", lang, confidence=name("source_confidence", data["confidence"], lang))
    return [(str(data["name"]), [str(summary), f"{data['jurisdiction']}, {data['instrument']}, {data['date']}", confidence]),
            (text("explain.requirements", lang), reqs),
            (text("explain.sources", lang), [data["source"], *data.get("see_also", [])])]


def _ignoring_case(wanted: str, names: Iterable[str]) -> str | None:
    """The name `wanted` means: itself if present, else the one name equal to it ignoring case."""
    names = list(names)
    if wanted in names:
        return wanted
    folded = [n for n in names if n.casefold() == wanted.casefold()]
    return folded[0] if len(folded) == 1 else None


def find_rule(rules: RuleSet, rule_id: str) -> Rule | None:
    """A rule by id, ignoring case (users type cea-contacts-upload)."""
    found = _ignoring_case(rule_id, (r.id for r in rules.rules))
    return rules.rule(found) if found else None


def find_policy(rules: RuleSet, policy_id: str) -> Policy | None:
    """A policy pack by id, ignoring case."""
    found = _ignoring_case(policy_id, rules.policies)
    return rules.policies[found] if found else None


def _explain_headline(row: dict[str, Any], lang: str) -> list[Section]:
    """A headline of rules/headlines.yaml: its reason and the condition that raises it."""
    import yaml

    channels = text("explain.headline_channels", lang)
    title, reason = (_in(lang, row[k], row.get(f"{k}_zh")).replace("{channels}", channels) for k in ("title", "reason"))
    when = yaml.safe_dump(row["when"], default_flow_style=True).strip() if row.get("when") else text("explain.headline_last", lang)
    return [(title, [reason]), (text("explain.headline_when", lang), [when]), (text("explain.sources", lang), list(row["sources"]))]


def _explain_cap(cap: dict[str, Any], lang: str) -> list[Section]:
    """A score cap of rules/scoring.yaml: its ceiling and the evidence that lifts it."""
    import yaml

    lifts = yaml.safe_dump(cap["unless"], default_flow_style=True).strip()
    return [(f"{cap['id']} (max {cap['max']})", [_in(lang, cap["reason"], cap.get("reason_zh"))]),
            (text("explain.cap_unless", lang), [lifts]), (text("explain.sources", lang), [cap["source"]])]


def explain(rules: RuleSet, subject: str, lang: str = "en") -> list[Section] | None:
    """Sections of (heading, lines) about a rule id, permission, policy id, headline or score cap, ignoring
    case; None if unknown."""
    row = next((h for h in rules.headlines if h["id"] == subject.lower()), None)
    if row is not None:
        return _explain_headline(row, lang)
    cap = next((c for c in rules.scoring.get("caps", ()) if c["id"] == subject.upper()), None)
    if cap is not None:
        return _explain_cap(cap, lang)
    rule = find_rule(rules, subject)
    if rule is not None:
        return _explain_rule(rules, rule, lang)
    policy = find_policy(rules, subject)
    if policy is not None:
        return _explain_policy(policy.data, lang)
    name = _ignoring_case(_permission_name(subject), rules.permissions) or _ignoring_case(subject, rules.permissions)
    entry = rules.permissions.get(name) if name else None
    if entry is not None:
        return [(entry.name, []), *_explain_permission(rules, entry, lang)]
    return None


def rule_card(rule: Rule) -> str:
    """Everything about one rule for `auditor rules show`: where it is defined, its condition, points, sources."""
    import yaml

    return (f"{rule.id}: {rule.title}\n  defined in {rule.file}:{rule.line}\n  channel: {rule.channel or '-'}"
            f"  severity: {rule.severity}  points: {rule.points}\n  when: {yaml.safe_dump(rule.when, default_flow_style=True).strip()}"
            f"\n\n{rule.rationale}\n\nsources:\n" + "\n".join(f"  - {s}" for s in rule.sources))


def rules_table(rules: RuleSet) -> str:
    """One line per rule: id, channel, severity, points, title."""
    from tabulate import tabulate

    rows = [(r.id, r.channel or "-", r.severity, r.points, r.title) for r in rules.rules]
    return tabulate(rows, headers=["id", "channel", "severity", "points", "title"])


def policies_table(rules: RuleSet) -> str:
    """One line per policy pack: id, jurisdiction, date, confidence, name."""
    from tabulate import tabulate

    rows = [(p.id, p.data.get("jurisdiction"), p.data.get("date"), p.data.get("confidence"), p.data.get("name"))
            for p in rules.policies.values()]
    return tabulate(rows, headers=["id", "jurisdiction", "date", "confidence", "name"])


def policy_card(data: dict[str, Any]) -> str:
    """A policy pack as its YAML data, for `auditor policies show`."""
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def render(sections: list[Section]) -> str:
    out = []
    for heading, lines in sections:
        out.append(heading)
        out.extend(f"  - {line}" if len(lines) > 1 else f"  {line}" for line in lines)
        out.append("")
    return "\n".join(out)
