"""Scoring: findings' points summed and capped, and the band the total falls in.

The formula lives in rules/scoring.yaml and is documented in the README: score = min(cap, sum of
points). Points are non-negative and conditions monotone, so more evidence never lowers a score,
and each point is listed in `Score.items` with the rule that added it.
"""

from __future__ import annotations

from typing import Any

from auditor.model import Finding, Score, ScoreItem


def band_of(value: int, scoring: dict[str, Any]) -> str:
    band = "none"
    for entry in sorted(scoring["bands"], key=lambda b: b["min"]):
        if value >= entry["min"]:
            band = entry["band"]
    return str(band)


def score(findings: tuple[Finding, ...], scoring: dict[str, Any]) -> Score:
    items = tuple(ScoreItem(f.rule_id, f.points) for f in findings if f.points)
    value = min(int(scoring["cap"]), sum(i.points for i in items))
    return Score(value, band_of(value, scoring), items)
