"""Is this a lending app? The signals found in fact extraction, weighed into lending / other / unknown.

Each signal's evidence names its catalog entry and the place it was found ("vocab.en.loan@dex");
its points are the entry's weight times the place's multiplier (rules/catalog/lending.yaml), so
the total can be recomputed by hand from the report. An app whose code is hidden cannot be said
to be `other`: its strings may be hidden too.
"""

from __future__ import annotations

from auditor.model import AppFacts, AppKind, Evidence
from auditor.ruleset.ruleset import LendingCatalog


def points(e: Evidence, catalog: LendingCatalog) -> int:
    """What one signal adds: weight x place multiplier, or an SDK category's weight."""
    signal_id, _, place = (e.detail or "").partition("@")
    if signal_id.startswith("sdk."):
        return catalog.sdk_categories.get(signal_id[4:], 0)
    signal = next((s for s in catalog.signals if s.id == signal_id), None)
    return signal.weight * catalog.places.get(place, 1) if signal else 0


def classify(facts: AppFacts, catalog: LendingCatalog, assume_lending: bool = False) -> AppKind:
    """lending when the signals reach thresholds.lending; other below thresholds.unknown; else unknown."""
    evidence = facts.lending
    total = sum(points(e, catalog) for e in evidence)
    lending, unknown, high = (catalog.thresholds[k] for k in ("lending", "unknown", "high_confidence"))
    if assume_lending:
        return AppKind("lending", "high", total, evidence, "assumed (--assume-lending)")
    if total >= lending:
        confidence = "high" if total >= high else "medium"
        return AppKind("lending", confidence, total, evidence, f"lending signals weigh {total} (lending from {lending})")
    if not facts.assessable:
        return AppKind("unknown", "low", total, evidence,
                       f"lending signals weigh {total} and the code is hidden, so its strings may be too")
    if total >= unknown:
        return AppKind("unknown", "low", total, evidence,
                       f"lending signals weigh {total}: more than an ordinary app ({unknown}), less than a lender ({lending})")
    confidence = "medium" if total == 0 else "low"  # a lender that names nothing (blackloan sample1) looks the same
    return AppKind("other", confidence, total, evidence, f"lending signals weigh {total} (lending from {lending})")
