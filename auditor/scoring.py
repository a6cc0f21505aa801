"""Scoring: findings' points summed and capped, and the band the total falls in.

The formula lives in rules/scoring.yaml and is documented in the README: score = min(cap, sum of
points), then each cap in `caps` whose `unless` condition does not hold lowers the ceiling (an app
with no way to send stays under `high`; one that reads nothing stays `low`). Points are
non-negative, rule conditions monotone, and a cap can only be lifted by more evidence, so more
evidence never lowers a score; each point is listed in `Score.items` with the rule that added it,
and each cap that held the score down in `Score.capped_by`.
"""

from __future__ import annotations

from typing import Any

from auditor.evaluate import matches
from auditor.model import AppFacts, Finding, Score, ScoreItem


def band_of(value: int, scoring: dict[str, Any]) -> str:
    band = "none"
    for entry in sorted(scoring["bands"], key=lambda b: b["min"]):
        if value >= entry["min"]:
            band = entry["band"]
    return str(band)


def caps_for(facts: AppFacts, scoring: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """The caps whose `unless` evidence the app lacks."""
    return tuple(cap for cap in scoring.get("caps", ()) if matches(facts, cap["unless"]) is None)


def score(findings: tuple[Finding, ...], scoring: dict[str, Any], caps: tuple[dict[str, Any], ...] = ()) -> Score:
    items = tuple(ScoreItem(f.rule_id, f.points) for f in findings if f.points)
    total = min(int(scoring["cap"]), sum(i.points for i in items))
    value = min([total, *(int(c["max"]) for c in caps)])
    capped_by = tuple(c["id"] for c in caps if int(c["max"]) < total)
    return Score(value, band_of(value, scoring), items, capped_by)
