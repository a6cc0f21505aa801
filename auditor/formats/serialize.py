"""The JSON contract (schema_version 1): how a Report becomes plain data.

Every machine-readable format (json, jsonl, csv, sarif...) starts from these dictionaries, so
field names are defined once. Changing a field's meaning means bumping SCHEMA_VERSION.
"""

from __future__ import annotations

from typing import Any

from auditor import __version__
from auditor.model import AppResult, ChannelState, Evidence, Origin, Report

SCHEMA_VERSION = "1"


def evidence_dict(e: Evidence) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": e.kind, "value": e.value, "location": e.location, "split": e.split}
    if e.dex:
        out["dex"] = e.dex
    origin = e.origin or Origin()  # manifest facts are the app's own declarations
    out["origin"] = {"kind": origin.kind, "sdk": origin.sdk}
    if e.path:
        out["path"] = list(e.path)
    if e.steps:
        out["steps"] = [{"method": s.method, "offset": s.offset, "action": s.action} for s in e.steps]
    if e.entry_point:
        out["entry_point"] = e.entry_point
    if e.endpoints:
        out["endpoints"] = list(e.endpoints)
    if e.detail:
        out["detail"] = e.detail
    return out


FLOW_KINDS = {"flows": "flow", "endpoints": "endpoint", "data_taken": "data_taken", "flow_lost": "flow_lost",
              "sink_nearby": "sink_nearby"}
"""Report key -> evidence kind of the data-flow evidence listed under each channel."""


def channel_dict(state: ChannelState) -> dict[str, Any]:
    """A channel's level, and the data-flow evidence behind it (every channel, user-declared ones too)."""
    return {
        "level": state.level, "undeclared_access": state.undeclared_access,
        "readers": sorted({o.sdk or o.kind for o in state.readers}),
        **{key: [evidence_dict(e) for e in state.evidence if e.kind == kind] for key, kind in FLOW_KINDS.items()},
    }


def _headline(r: AppResult) -> dict[str, Any] | None:
    """The headline verdict with its texts resolved in English and Chinese."""
    from auditor.formats import story

    if r.headline is None:
        return None
    return {"id": r.headline.id, "title": story.verdict_title(r, "en"), "reason": story.verdict_reason(r, "en"),
            "title_zh": story.verdict_title(r, "zh-CN"), "reason_zh": story.verdict_reason(r, "zh-CN"),
            "channels": list(r.headline.channels), "evidence": [evidence_dict(e) for e in r.headline.evidence]}


def app_dict(r: AppResult) -> dict[str, Any]:
    """One app's entry of the report; error results keep the same keys with empty values."""
    facts = r.facts
    m = facts.manifest if facts else None
    out: dict[str, Any] = {
        "input": r.input, "sha256": r.sha256, "container": r.container, "status": r.status,
        "error": r.error, "error_kind": r.error_kind,
        "package": m.package if m else None, "label": m.label if m else None,
        "version_name": m.version_name if m else None, "version_code": m.version_code if m else None,
        "min_sdk": m.min_sdk if m else None, "target_sdk": m.target_sdk if m else None,
        "splits": list(m.splits) if m else [],
        "permissions": sorted({p.name for p in m.permissions if not p.implied}) if m else [],
        "implied_permissions": sorted({p.name for p in m.permissions if p.implied}) if m else [],
        "cert_sha256": list(m.cert_sha256) if m else [],
        "assessable": facts.assessable if facts else None,
        "assessability": list(facts.assessability) if facts else [],
        "app_kind": {"kind": r.app_kind.kind, "confidence": r.app_kind.confidence, "score": r.app_kind.score,
                     "reason": r.app_kind.reason, "evidence": [evidence_dict(e) for e in r.app_kind.evidence]}
        if r.app_kind else None,
        "headline": _headline(r),
        "score": r.score.value if r.score else None,
        "score_capped_by": list(r.score.capped_by) if r.score else [],
        "band": r.score.band if r.score else None,
        "channels": {name: channel_dict(state) for name, state in facts.channels.items()} if facts else {},
        "sdks": [{"name": s.name, "category": s.category, "prefix": s.prefix} for s in facts.code.sdks] if facts else [],
        "runtimes": [{"name": rt.name, "evidence": list(rt.evidence), "analysis": rt.analysis}
                     for rt in facts.runtime.runtimes] if facts else [],
        "findings": [
            {"rule_id": f.rule_id, "title": f.title, "channel": f.channel, "severity": f.severity,
             "confidence": f.confidence, "points": f.points, "evidence": [evidence_dict(e) for e in f.evidence],
             **({"baseline_state": f.baseline_state} if f.baseline_state else {})}
            for f in r.findings
        ],
        "score_items": [{"rule_id": i.rule_id, "points": i.points} for i in r.score.items] if r.score else [],
        "policies": [
            {"policy": v.policy, "verdict": v.verdict, "reasons": list(v.reasons),
             "violations": [{"requirement": x.requirement, "text": x.text,
                             "evidence": [evidence_dict(e) for e in x.evidence]} for x in v.violations]}
            for v in r.policies
        ],
        "stats": {"dex_files": facts.code.dex_count, "classes": facts.code.class_count,
                  **{f"flow_{name}": value for name, value in facts.code.flow_stats},
                  "seconds": round(r.elapsed, 3)} if facts else {"seconds": round(r.elapsed, 3)},
    }
    return out


def report_header(report: Report) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "tool": {"name": "auditor", "version": __version__},
            "rules_digest": report.rules_digest}


def report_dict(report: Report) -> dict[str, Any]:
    out = {**report_header(report), "apps": [app_dict(r) for r in report.results]}
    if report.incomplete is not None:
        out["incomplete"] = {"done": report.incomplete[0], "total": report.incomplete[1]}
    return out
