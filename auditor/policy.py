"""Policy verdicts: which requirements of each selected policy pack an app's facts break.

Separate from the score on purpose: a permission can break a policy without adding exposure, and
the other way round. A behaviour requirement cannot be judged on code the tool cannot see, so an
app that is not assessable gets `cannot-tell` for it rather than a false `complies`.

A policy that does not bind the app says `not-applicable` with the reason, never `complies`: a
lending pack (scope.app_kind: lending) for an app the classifier judges not to be a lending app,
a targetSdk threshold the app is below. For an app whose kind is `unknown`, a lending pack's
violations become `cannot-tell`: they would be violations only if the app lends.

By default (`--policy auto`) every pack is judged for apps judged lending or unknown and none for
the others; `--policy none` judges none, `--policy all` or a list judges those packs for every app.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from auditor.i18n import localize, text
from auditor.model import AppFacts, AppKind, Evidence, PolicyVerdict, PolicyViolation, level_rank
from auditor.ruleset.ruleset import RuleSet

AUTO = "auto"
"""The default selection: every pack, judged only for apps the classifier does not call `other`."""


def _requirement_evidence(facts: AppFacts, forbids: dict[str, Any]) -> tuple[Evidence, ...]:
    found: list[Evidence] = []
    wanted = set(forbids.get("permissions") or ())
    found += [Evidence("permission", p.name, None, p.split) for p in facts.manifest.permissions
              if p.name in wanted and not p.implied]
    for channel, level in (forbids.get("channels") or {}).items():
        state = facts.channels.get(channel)
        if state is not None and level_rank(state.level) >= level_rank(level):
            found += [e for e in state.evidence if e.kind != "permission"] or list(state.evidence)
    for flag in forbids.get("facts") or ():
        found += facts.flags.get(flag, ())
    return tuple(dict.fromkeys(found))


Reason = tuple[str, str]
"""A reason in English (the JSON contract) and in Simplified Chinese (--lang zh-CN)."""


def _reason(key: str, **values: object) -> Reason:
    """The reason in both languages; a `why` made by the classifier is said in Chinese too."""
    zh = {k: localize(v, "zh-CN") if k == "why" and isinstance(v, str) else v for k, v in values.items()}
    return text(key, "en", **values), text(key, "zh-CN", **zh)


def _out_of_scope(facts: AppFacts, kind: AppKind | None, policy: dict[str, Any]) -> Reason | None:
    """Why the policy does not reach this app (not a lending app; below a targetSdk threshold), if so."""
    scope = policy.get("scope") or {}
    if scope.get("app_kind") == "lending" and kind is not None and kind.kind == "other":
        return _reason("policy_reason.not_lending", why=kind.reason)
    min_target = scope.get("min_target_sdk")
    target = facts.manifest.target_sdk or facts.manifest.min_sdk or 1
    if min_target and target < min_target:
        return _reason("policy_reason.out_of_scope", min_target=min_target, target=target)
    return None


def judge(facts: AppFacts, policy: dict[str, Any], kind: AppKind | None = None) -> PolicyVerdict:
    out_of_scope = _out_of_scope(facts, kind, policy)
    if out_of_scope:
        return PolicyVerdict(policy["id"], "not-applicable", (), (out_of_scope[0],), (out_of_scope[1],))
    verdict = _judge_requirements(facts, policy)
    if verdict.verdict == "violates" and kind is not None and kind.kind == "unknown" and \
            (policy.get("scope") or {}).get("app_kind") == "lending":
        en, zh = _reason("policy_reason.lending_unknown", why=kind.reason)
        return replace(verdict, verdict="cannot-tell", reasons=(*verdict.reasons, en), reasons_zh=(*verdict.reasons_zh, zh))
    return verdict


def _conditional(req: dict[str, Any]) -> Reason:
    """'REQ: whether it is allowed depends on what the APK cannot show: <the pack's condition>'."""
    en, zh = req.get("condition_text"), req.get("condition_text_zh") or req.get("condition_text")
    if not en:
        return _reason("policy_reason.conditional_unstated", requirement=req["id"])
    return (text("policy_reason.conditional", "en", requirement=req["id"], condition=en),
            text("policy_reason.conditional", "zh-CN", requirement=req["id"], condition=zh))


def _judge_requirements(facts: AppFacts, policy: dict[str, Any]) -> PolicyVerdict:
    violations: list[PolicyViolation] = []
    reasons: list[Reason] = []
    undecided = False
    for req in policy.get("requirements", []):
        evidence = _requirement_evidence(facts, req.get("forbids") or {})
        if evidence:
            violations.append(PolicyViolation(req["id"], req["text"], evidence, req.get("text_zh")))
            if req.get("condition") == "conditional":
                reasons.append(_conditional(req))
        elif req.get("concerns") == "behaviour" and not facts.assessable:
            undecided = True
            reasons.append(_reason("policy_reason.hidden", requirement=req["id"]))
    unconditional = [v for v, r in zip(violations, _matched(policy, violations), strict=True) if r.get("condition") != "conditional"]
    verdict = "violates" if unconditional else "cannot-tell" if violations or undecided else "complies"
    return PolicyVerdict(policy["id"], verdict, tuple(violations), tuple(en for en, _ in reasons), tuple(zh for _, zh in reasons))


def _matched(policy: dict[str, Any], violations: list[PolicyViolation]) -> list[dict[str, Any]]:
    by_id = {r["id"]: r for r in policy.get("requirements", [])}
    return [by_id[v.requirement] for v in violations]


def select(rules: RuleSet, spec: str) -> tuple[str, ...]:
    """Policy ids from a --policy value: 'auto' (the default), 'none', 'all' or comma-separated ids
    (unknown ids raise KeyError)."""
    if not spec or spec.strip() == AUTO:
        return (AUTO,)
    if spec.strip() == "none":
        return ()
    if spec.strip() == "all":
        return tuple(rules.policies)
    ids = tuple(s.strip() for s in spec.split(",") if s.strip())
    unknown = [i for i in ids if i not in rules.policies]
    if unknown:
        raise KeyError(", ".join(unknown))
    return ids


def judge_policies(facts: AppFacts, rules: RuleSet, policy_ids: tuple[str, ...],
                   kind: AppKind | None = None) -> tuple[PolicyVerdict, ...]:
    """Verdicts of the selected packs; with AUTO, of every pack unless the app is judged not to lend."""
    if policy_ids == (AUTO,):
        policy_ids = tuple(rules.policies) if kind is not None and kind.kind != "other" else ()
    return tuple(judge(facts, rules.policies[pid].data, kind) for pid in policy_ids)
