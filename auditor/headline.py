"""The headline verdict: one line above the score saying what matters to a person deciding.

A small decision table (rules/headlines.yaml) is read top to bottom; the first row whose
condition holds gives the headline, its one-sentence reason (English and Chinese) and the
evidence that satisfied it. Rows use the exposure rules' conditions plus `app_kind`, so the
table keeps working whatever produces a channel's `upload` level (paths today, flows tomorrow).
Order is the table's only negation: "reads but cannot send" comes after "reads, and can send".
"""

from __future__ import annotations

from typing import Any

from auditor.evaluate import Match, matches
from auditor.model import CHANNELS, AppFacts, AppKind, Evidence, Headline, level_rank


def _holds(facts: AppFacts, kind: AppKind | None, condition: dict[str, Any]) -> Match:
    """A table condition: `app_kind`, `all`/`any` of table conditions, or an exposure-rule condition."""
    ((name, arg),) = condition.items()
    if name == "app_kind":
        if kind is None or kind.kind != arg:
            return None
        return kind.evidence or (Evidence("app_kind", kind.kind),)
    if name == "all":
        found: list[Evidence] = []
        for part in arg:
            match = _holds(facts, kind, part)
            if match is None:
                return None
            found += match
        return tuple(dict.fromkeys(found))
    if name == "any":
        results = [match for part in arg if (match := _holds(facts, kind, part)) is not None]
        return tuple(dict.fromkeys(e for match in results for e in match)) if results else None
    return matches(facts, condition)


def headline(facts: AppFacts, kind: AppKind | None, table: tuple[dict[str, Any], ...],
             flag_channels: dict[str, str] | None = None) -> Headline:
    """The first row of the table that holds (the last row has no condition and always does)."""
    flagged = {channel for flag, channel in (flag_channels or {}).items() if facts.flags.get(flag)}
    for row in table:
        when = row.get("when")
        found = _holds(facts, kind, when) if when else ()
        if found is None:
            continue
        at = row.get("channels_at")
        channels = tuple(c for c in CHANNELS if at and (level_rank(facts.channels[c].level) >= level_rank(at)
                                                        or (c in flagged and at != "upload")))
        return Headline(row["id"], row["title"], row["title_zh"], row["reason"], row["reason_zh"], channels, found)
    raise ValueError("the headline table has no row without a condition")
