"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run. Rules come from the rule set (report.rules) plus one descriptor per policy requirement
that some app breaks; every finding and every policy violation is a result located at the input
file, with the method holding the first evidence as a logical location. Inputs that could not be
analysed are tool execution notifications, not results: they are failures of the run, not facts
about an app. The output validates against the OASIS schema (tests/schemas/).
"""

from __future__ import annotations

import hashlib
import os
from importlib import metadata
from pathlib import PurePath, PurePosixPath
from typing import Any
from urllib.parse import quote

from auditor.formats import RenderOptions, story
from auditor.formats.safe import dumps
from auditor.formats.serialize import evidence_dict
from auditor.i18n import text
from auditor.model import AppResult, Evidence, Finding, PolicyVerdict, PolicyViolation, Report, RuleInfo

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
DISTRIBUTION = "contact-exposure-auditor"

SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
"""GitHub reads `security-severity` (a string, 0-10) to rank alerts as critical/high/medium/low."""

LEVELS = {"critical": "error", "high": "error", "medium": "warning"}
"""SARIF result level by severity; anything else is a note."""

POLICY_PREFIX = "POLICY"


def information_uri() -> str | None:
    """The project's home page from the package metadata ([project.urls]); None until it has one.

    SARIF makes informationUri optional, and an invented address would send users nowhere.
    """
    try:
        meta = metadata.metadata(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    urls = [str(u).split(",", 1)[-1].strip() for u in meta.json.get("project_url", [])]
    return next(iter(urls), None) or (str(meta.json["home_page"]) if meta.json.get("home_page") else None)


def artifact_uri(path: str) -> str:
    """The input path as given, as a URI reference: relative paths stay relative (GitHub resolves them
    against the repository), absolute ones become file: URIs, and unsafe characters are %-encoded.
    The bytes of the name are encoded, so a name that is not UTF-8 keeps every byte (%FF)."""
    pure = PurePath(path)
    if pure.is_absolute():
        return "file://" + quote(os.fsencode(pure.as_posix()))
    return quote(os.fsencode(PurePosixPath(*pure.parts).as_posix()))


def _level(severity: str) -> str:
    return LEVELS.get(severity, "note")


def _web_sources(sources: tuple[str, ...]) -> list[str]:
    return [s for s in sources if s.startswith(("https://", "http://"))]


def rule_descriptor(info: RuleInfo) -> dict[str, Any]:
    """A reportingDescriptor for one exposure rule."""
    sources = "\n".join(f"- {s}" for s in info.sources)
    out: dict[str, Any] = {
        "id": info.id,
        "name": info.id,
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": info.rationale},
        "help": {"text": f"{info.rationale}\n\nSources:\n{sources}",
                 "markdown": f"{info.rationale}\n\n**Sources**\n\n{sources}"},
        "defaultConfiguration": {"level": _level(info.severity)},
        "properties": {
            "channel": info.channel, "points": info.points, "severity": info.severity,
            "security-severity": SECURITY_SEVERITY.get(info.severity, "1.0"),
            "tags": ["security", "privacy", *([info.channel] if info.channel else [])],
        },
    }
    web = _web_sources(info.sources)
    if web:
        out["helpUri"] = web[0]
    return out


def policy_rule_id(policy: str, requirement: str) -> str:
    return f"{POLICY_PREFIX}/{policy}/{requirement}"


def policy_descriptor(policy: str, violation: PolicyViolation) -> dict[str, Any]:
    """A reportingDescriptor for one policy requirement, built from the violation's text."""
    return {
        "id": policy_rule_id(policy, violation.requirement),
        "name": violation.requirement,
        "shortDescription": {"text": f"{policy}: {violation.requirement}"},
        "fullDescription": {"text": violation.text},
        "help": {"text": violation.text, "markdown": violation.text},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"policy": policy, "requirement": violation.requirement, "tags": ["policy", policy]},
    }


def fingerprint(package: str, rule_id: str, evidence: tuple[Evidence, ...]) -> str:
    """A hash that stays the same across runs for the same app, rule and place in the code."""
    first = evidence[0] if evidence else None
    where = (first.location or first.value) if first else ""
    return hashlib.sha256("\0".join((package, rule_id, where)).encode()).hexdigest()


def _locations(r: AppResult, evidence: tuple[Evidence, ...]) -> list[dict[str, Any]]:
    # GitHub places an alert only when region.startLine is present; an APK has no lines, so line 1
    # stands for "this file".
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": artifact_uri(r.input)},
                                                     "region": {"startLine": 1}}}
    method = next((e.location for e in evidence if e.location), None)
    if method:
        location["logicalLocations"] = [{"kind": "function", "fullyQualifiedName": method, "name": method.split("->")[-1]}]
    return [location]


def _result(r: AppResult, rule_id: str, level: str, message: str, evidence: tuple[Evidence, ...],
            index: dict[str, int], properties: dict[str, Any]) -> dict[str, Any]:
    assert r.facts is not None
    m = r.facts.manifest
    return {
        "ruleId": rule_id,
        "ruleIndex": index[rule_id],
        "level": level,
        "message": {"text": message},
        "locations": _locations(r, evidence),
        "partialFingerprints": {"primaryLocationLineHash": fingerprint(m.package, rule_id, evidence)},
        "properties": {"package": m.package, "versionCode": m.version_code, "sha256": r.sha256, **properties,
                       "runtimes": [rt.name for rt in r.facts.runtime.runtimes],
                       "evidence": [evidence_dict(e) for e in evidence]},
    }


def _finding_result(r: AppResult, f: Finding, index: dict[str, int], lang: str) -> dict[str, Any]:
    assert r.facts is not None
    message = text("sarif.result", lang, title=f.title_in(lang), package=r.facts.manifest.package)
    props = {"confidence": f.confidence, "points": f.points, "channel": f.channel, "severity": f.severity}
    result = _result(r, f.rule_id, _level(f.severity), message, f.evidence, index, props)
    if f.baseline_state:
        result["baselineState"] = f.baseline_state
    return result


def _policy_results(r: AppResult, v: PolicyVerdict, index: dict[str, int], lang: str) -> list[dict[str, Any]]:
    """One result per broken requirement; an error when the verdict is `violates`, a warning when a
    conditional requirement leaves it at `cannot-tell`."""
    assert r.facts is not None
    level = "error" if v.verdict == "violates" else "warning"
    return [_result(r, policy_rule_id(v.policy, x.requirement), level,
                    text("sarif.policy", lang, package=r.facts.manifest.package, policy=v.policy,
                         requirement=x.requirement, text=x.text_in(lang)),
                    x.evidence, index, {"policy": v.policy, "verdict": v.verdict})
            for x in v.violations]


def _rules(report: Report) -> list[dict[str, Any]]:
    """Exposure rules, then one descriptor per policy requirement that some app breaks (first text wins)."""
    rules = {info.id: rule_descriptor(info) for info in report.rules}
    for r in report.results:
        for v in r.policies:
            for x in v.violations:
                rules.setdefault(policy_rule_id(v.policy, x.requirement), policy_descriptor(v.policy, x))
    return list(rules.values())


def _notifications(report: Report, lang: str) -> list[dict[str, Any]]:
    """Errors (inputs not analysed) and warnings (apps whose code is partly hidden)."""
    out = []
    for r in report.results:
        where = [{"physicalLocation": {"artifactLocation": {"uri": artifact_uri(r.input)}}}]
        if not r.ok:
            out.append({"level": "error", "message": {"text": f"{r.input}: {story.error_text(r, lang)}"}, "locations": where,
                        "descriptor": {"id": r.error_kind or "error"}})
        elif r.facts is not None and not r.facts.assessable:
            reasons = text("list.sep", lang).join(story.assessability_reasons(r.facts, lang))
            out.append({"level": "warning", "message": {"text": f"{r.input}: {text('not_assessable', lang, reasons=reasons)}"},
                        "locations": where, "descriptor": {"id": "not-assessable"}})
    return out


def sarif_log(report: Report, lang: str = "en") -> dict[str, Any]:
    """The SARIF log as plain data (what `render` serialises)."""
    rules = _rules(report)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for r in report.results:
        if r.ok and r.facts is not None:
            results += [_finding_result(r, f, index, lang) for f in r.findings]
            results += [x for v in r.policies for x in _policy_results(r, v, index, lang)]
    driver: dict[str, Any] = {"name": "auditor", "version": report.tool_version, "semanticVersion": report.tool_version,
                              "rules": rules}
    uri = information_uri()
    if uri:
        driver["informationUri"] = uri
    invocation: dict[str, Any] = {"executionSuccessful": all(r.ok for r in report.results) and report.incomplete is None,
                                  "toolExecutionNotifications": _notifications(report, lang)}
    if report.incomplete is not None:
        invocation["exitCodeDescription"] = text("report.incomplete", lang, done=report.incomplete[0], total=report.incomplete[1])
    run = {"tool": {"driver": driver}, "invocations": [invocation], "results": results,
           "properties": {"rulesDigest": report.rules_digest}}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(report: Report, options: RenderOptions) -> str:
    return dumps(sarif_log(report, options.lang), indent=2) + "\n"
