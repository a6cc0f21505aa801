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
    """(package, rule id) pairs recorded in a JSON report or a JSONL report."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline ({exc.strerror or exc})") from exc
    try:
        apps = json.loads(text).get("apps", [])
    except json.JSONDecodeError:
        try:
            apps = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise BaselineError(f"{path}: not a JSON or JSONL report of this tool (line {exc.lineno})") from exc
    return {(str(app.get("package")), str(finding.get("rule_id")))
            for app in apps if isinstance(app, dict) for finding in app.get("findings") or []}


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
