"""Baselines for CI: accept the findings a previous report already recorded, fail only on new ones.

A baseline is an earlier JSON or JSONL report of this tool. A finding is "unchanged" when the
baseline holds the same rule for the same package (evidence locations move between builds, so
they are not part of the match), otherwise "new". This stage runs after scoring and only marks
findings; the score still counts every finding, because the exposure is real either way.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError
from auditor.model import AppResult


class BaselineError(AuditorError):
    kind = "baseline-error"


def load_baseline(path: Path) -> set[tuple[str, str]]:
    """(package, rule id) pairs recorded in a JSON report or a JSONL report (one app per line).

    Anything else (a SARIF file, `{}`, a list) is refused rather than read as "no findings", which
    would mark every finding new."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read baseline ({getattr(exc, 'strerror', None) or exc})") from exc
    apps = _report_apps(text)
    if apps is None:
        raise BaselineError(f"{path}: not a JSON or JSONL report of this tool (make one with -f json or -f jsonl)")
    return {(str(app.get("package")), str(finding.get("rule_id")))
            for app in apps for finding in app.get("findings") or [] if isinstance(finding, dict)}


def _is_app(value: object) -> bool:
    """Whether a JSON value is one app of a report (a JSONL line, or an entry of `apps`)."""
    return isinstance(value, dict) and "input" in value and "status" in value


def _report_apps(text: str) -> list[dict[str, Any]] | None:
    """The apps of a JSON report or the lines of a JSONL report; None when the text is neither."""
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict) and isinstance(whole.get("apps"), list) and "schema_version" in whole:
        return [app for app in whole["apps"] if _is_app(app)]
    lines = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            return None
        if not _is_app(line):
            return None
        lines.append(line)
    return lines or None


def mark(result: AppResult, known: set[tuple[str, str]]) -> AppResult:
    """The result with each finding marked new or unchanged against the baseline."""
    if result.facts is None:
        return result
    package = result.facts.manifest.package
    findings = tuple(replace(f, baseline_state="unchanged" if (package, f.rule_id) in known else "new")
                     for f in result.findings)
    return replace(result, findings=findings)


def has_new_exposure(result: AppResult) -> bool:
    """Whether a marked result has a new finding that adds points (what --fail-on gates on)."""
    return any(f.baseline_state == "new" and f.points > 0 for f in result.findings)


def line_has_new_exposure(line: dict[str, Any]) -> bool:
    """The same for a resumed JSONL line, which was marked against the baseline when written."""
    findings = line.get("findings") or []
    return any(f.get("baseline_state") == "new" and f.get("points", 0) > 0 for f in findings if isinstance(f, dict))
