"""`--format table` (default): one row per app; with -v, findings and their evidence below.

Every string that comes from an app passes through terminal_safe, so a label cannot inject
escape sequences into the user's terminal.
"""

from __future__ import annotations

from tabulate import tabulate

from auditor.formats import RenderOptions
from auditor.formats.safe import terminal_safe
from auditor.i18n import text
from auditor.model import CHANNELS, AppResult, Report

MAX_EVIDENCE_SHOWN = 4


def policy_summary(r: AppResult) -> str:
    """'violates 3, cannot-tell 1, complies 6' for the selected policy packs."""
    counts: dict[str, int] = {}
    for verdict in r.policies:
        counts[verdict.verdict] = counts.get(verdict.verdict, 0) + 1
    return ", ".join(f"{k} {counts[k]}" for k in ("violates", "cannot-tell", "complies") if k in counts)


def _row(r: AppResult, lang: str, with_policies: bool) -> list[str]:
    if r.facts is None:
        return [terminal_safe(r.input), f"{text('error.prefix', lang)}: {terminal_safe(r.error)}"]  # tabulate pads the rest
    m = r.facts.manifest
    levels = [text(f"level.{r.facts.channels[c].level}", lang) + ("!" if r.facts.channels[c].undeclared_access else "")
              for c in CHANNELS]
    band = text(f"band.{r.score.band}", lang) if r.score else ""
    if not r.facts.assessable:
        band += " (?)"
    row = [terminal_safe(r.input), terminal_safe(m.package), terminal_safe(m.label), *levels,
           str(r.score.value if r.score else ""), band]
    return [*row, policy_summary(r)] if with_policies else row


def readers_sentences(r: AppResult, lang: str) -> list[str]:
    """'contacts are read by the Credolab SDK (credit-scoring)' for each SDK that reads a channel."""
    if r.facts is None:
        return []
    sdks = {s.name: s.category for s in r.facts.code.sdks}
    out = []
    for channel in CHANNELS:
        for origin in r.facts.channels[channel].readers:
            if origin.kind == "sdk" and origin.sdk:
                out.append(text("reader.sdk", lang, channel=text(f"channel.{channel}", lang), sdk=origin.sdk,
                                category=sdks.get(origin.sdk, "sdk")))
    return out


def _details(r: AppResult, lang: str) -> list[str]:
    lines = [f"  {s}" for s in readers_sentences(r, lang)]
    if r.facts is not None and not r.facts.assessable:
        lines.append("  " + text("not_assessable", lang, reasons="; ".join(map(terminal_safe, r.facts.assessability))))
    for f in r.findings:
        lines.append("  " + text("finding.line", lang, severity=f.severity, confidence=f.confidence,
                                 rule_id=f.rule_id, points=f.points, title=f.title_in(lang)))
        for e in f.evidence[:MAX_EVIDENCE_SHOWN]:
            where = f" @ {terminal_safe(e.location)}" if e.location else ""
            split = f" [split {terminal_safe(e.split)}]" if e.split else ""
            origin = f" ({e.origin.sdk})" if e.origin and e.origin.sdk else ""
            lines.append("      " + text("evidence.line", lang, kind=e.kind, value=terminal_safe(e.value)) + where + split + origin)
            for step in e.path[1:]:
                lines.append(f"          -> {terminal_safe(step)}")
        if len(f.evidence) > MAX_EVIDENCE_SHOWN:
            lines.append(f"      ... +{len(f.evidence) - MAX_EVIDENCE_SHOWN}")
    for verdict in r.policies:
        broken = ", ".join(v.requirement for v in verdict.violations)
        lines.append(f"  {text('col.policies', lang)} {verdict.policy}: {verdict.verdict}" + (f" ({broken})" if broken else ""))
    return lines


def render(report: Report, options: RenderOptions) -> str:
    lang = options.lang
    with_policies = any(r.policies for r in report.results)
    columns = ("input", "package", "label", *CHANNELS, "score", "band", *(("policies",) if with_policies else ()))
    headers = [text(f"col.{c}", lang) for c in columns]
    if not options.verbose:
        rows = [_row(r, lang, with_policies) for r in report.results]
        return tabulate(rows, headers=headers, tablefmt="simple") + "\n"
    blocks = []
    for r in report.results:
        blocks.append(tabulate([_row(r, lang, with_policies)], headers=headers, tablefmt="simple"))
        blocks.extend(_details(r, lang))
        blocks.append("")
    return "\n".join(blocks) + "\n"
