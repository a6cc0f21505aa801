"""A data-flow trace in words, shared by the human-facing formats (each escapes the lines itself).

A `flow` evidence item reads as: where the flow starts, each step (method, instruction offset,
what happened to the data), and where the data goes; other items with a method chain list it.
"""

from __future__ import annotations

from auditor.i18n import localize, text
from auditor.model import Evidence


def trace_lines(e: Evidence, lang: str) -> list[str]:
    """The lines under an evidence item: entry point, steps (or method chain), endpoints, detail."""
    lines: list[str] = []
    if e.entry_point:
        lines.append(text("trace.entry_point", lang, method=e.entry_point))
    if e.steps:
        lines += [f"{step.method} @{step.offset:#x}: {localize(step.action, lang)}" for step in e.steps]
    else:
        lines += list(e.path[1:])
    if e.endpoints:
        lines.append(text("trace.endpoints", lang, endpoints=", ".join(e.endpoints)))
    if e.detail:
        lines.append("; ".join(localize(part, lang) for part in e.detail.split("; ")))
    return lines
