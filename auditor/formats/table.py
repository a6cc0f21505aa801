"""`--format table` (default): one row per app; with -v, findings and their evidence below.

The table fits the terminal (shutil.get_terminal_size; 120 columns when the output is not a
terminal): long paths keep their end (the file name), long labels and packages their start, each
cut marked with '…'. An error's reason goes below the table, so it never widens a column. A legend
explains the marks that appear ('!', '(?)', the policy counts).

Every string that comes from an app passes through terminal_safe, so a label cannot inject
escape sequences into the user's terminal.
"""

from __future__ import annotations

import shutil
import textwrap

from tabulate import tabulate
from wcwidth import wcswidth

from auditor.formats import RenderOptions, story
from auditor.formats.safe import terminal_safe
from auditor.formats.trace import trace_lines
from auditor.i18n import localize, name, text
from auditor.model import CHANNELS, AppResult, Report

MAX_EVIDENCE_SHOWN = 4
FALLBACK_WIDTH = 120
"""Columns when the output is not a terminal (a pipe or a file) and COLUMNS is not set."""
GAP = HEADER_PAD = 2
"""tabulate's 'simple' format puts two spaces between columns, and pads headers by two (MIN_PADDING)."""
ELLIPSIS = "…"

POLICY_MARKS = {"violates": "✗", "cannot-tell": "?", "complies": "✓", "not-applicable": "○"}


def policy_summary(r: AppResult) -> str:
    """'✗3 ?1 ✓6': how many selected policy packs the app violates, cannot be told, complies with."""
    counts: dict[str, int] = {}
    for verdict in r.policies:
        counts[verdict.verdict] = counts.get(verdict.verdict, 0) + 1
    return " ".join(f"{mark}{counts[k]}" for k, mark in POLICY_MARKS.items() if k in counts)


def _width(value: str) -> int:
    return max(wcswidth(value), len(value))


def clip(value: str, width: int, keep_end: bool = False) -> str:
    """`value` cut to `width` display columns with '…'; paths keep their end, names their start."""
    if _width(value) <= width:
        return value
    out = ""
    for char in reversed(value) if keep_end else value:
        if _width(out + char) >= width:
            break
        out = char + out if keep_end else out + char
    return ELLIPSIS + out if keep_end else out + ELLIPSIS


def _row(r: AppResult, lang: str, with_policies: bool) -> list[str]:
    if r.facts is None:
        # the kind only: the one-line reason is listed under the table, where it widens nothing
        return [terminal_safe(r.input), text("error.prefix", lang), r.error_kind or ""]  # tabulate pads the rest
    m = r.facts.manifest
    levels = [story.level_word(r.facts.channels[c], lang) for c in CHANNELS]
    band = text(f"band.{r.score.band}", lang) if r.score else ""
    if not r.facts.assessable:
        band += " (?)"
    verdict = [story.verdict_short(r, lang), str(r.score.value if r.score else ""), band]
    policies = [policy_summary(r)] if with_policies else []
    return [terminal_safe(r.input), terminal_safe(m.package), terminal_safe(m.label), *verdict, *policies, *levels]


FLEXIBLE = {0: True, 1: False, 2: False}
"""Columns that may be cut to fit (index -> keep the end): input (a path), package, label."""
FLOORS = ({0: 24, 1: 28, 2: 16}, {0: 12, 1: 22, 2: 8}, {0: 10, 1: 12, 2: 6})
"""Widths the flexible columns give way to, in three rounds: first to comfortable widths, then to what
still tells apps apart, then to the least. The package, the app's identity, keeps the most."""


def fit(rows: list[list[str]], headers: list[str], width: int) -> list[list[str]]:
    """Rows whose flexible cells are cut so that the table is at most `width` columns wide.

    In each round the column furthest above its floor gives way first, one column at a time.
    """
    count = len(headers)
    widths = [max([_width(headers[i]) + HEADER_PAD, *(_width(row[i]) for row in rows if i < len(row))]) for i in range(count)]
    for floors in FLOORS:
        while sum(widths) + GAP * (count - 1) > width:
            i = max(FLEXIBLE, key=lambda k: widths[k] - floors[k])
            if widths[i] <= max(floors[i], _width(headers[i]) + HEADER_PAD):
                break
            widths[i] -= 1
    return [[clip(cell, widths[i], FLEXIBLE[i]) if i in FLEXIBLE else cell for i, cell in enumerate(row)] for row in rows]


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
                                category=name("sdk_category", sdks.get(origin.sdk, "sdk"), lang)))
    return out


def runtime_sentences(r: AppResult, lang: str) -> list[str]:
    """'Built with React Native (assets/index.android.bundle): Hermes bytecode v96: ...' for each runtime."""
    if r.facts is None:
        return []
    return [text("runtime.line", lang, name=rt.name, evidence=", ".join(rt.evidence),
                 analysis="; ".join(localize(part, lang) for part in rt.analysis.split("; ")))
            for rt in r.facts.runtime.runtimes]


def _details(r: AppResult, lang: str) -> list[str]:
    lines = [f"  {line}" for line in (story.verdict_title(r, lang), story.verdict_reason(r, lang), story.kind_line(r, lang),
                                      terminal_safe(story.policy_banner(r, lang)), *story.unscored_lines(r, lang)) if line]
    lines += [f"    {terminal_safe(x)}" for x in story.why_lines(r, lang)]
    lines += [f"  {terminal_safe(s)}" for s in runtime_sentences(r, lang)]
    lines += [f"  {s}" for s in readers_sentences(r, lang)]
    if r.facts is not None and not r.facts.assessable:
        reasons = text("list.sep", lang).join(map(terminal_safe, story.assessability_reasons(r.facts, lang)))
        lines.append("  " + text("not_assessable", lang, reasons=reasons))
    for f in r.findings:
        lines.append("  " + story.finding_line(f, lang, terminal_safe(f.title_in(lang))))
        for e in f.evidence[:MAX_EVIDENCE_SHOWN]:
            where = f" @ {terminal_safe(e.location)}" if e.location else ""
            split = f" [split {terminal_safe(e.split)}]" if e.split else ""
            origin = f" ({terminal_safe(e.origin.sdk)})" if e.origin and e.origin.sdk else ""
            line = text("evidence.line", lang, kind=name("kind", e.kind, lang), value=terminal_safe(story.evidence_value(e, lang)))
            lines.append(f"      {line}{where}{split}{origin}")
            lines += [f"          -> {terminal_safe(line)}" for line in trace_lines(e, lang)]
        if len(f.evidence) > MAX_EVIDENCE_SHOWN:
            lines.append(f"      ... +{len(f.evidence) - MAX_EVIDENCE_SHOWN}")
    for verdict in r.policies:
        broken = ", ".join(v.requirement for v in verdict.violations)
        word = story.policy_word(verdict.verdict, lang)
        lines.append(f"  {text('col.policies', lang)} {verdict.policy}: {word}" + (f" ({broken})" if broken else ""))
    return lines


def legend(results: tuple[AppResult, ...], lang: str) -> list[str]:
    """One line per mark that appears in the table, saying what it means."""
    facts = [r.facts for r in results if r.facts is not None]
    lines = []
    if any(f.channels[c].undeclared_access for f in facts for c in CHANNELS):
        lines.append(text("legend.undeclared", lang))
    if any(not f.assessable for f in facts):
        lines.append(text("legend.not_assessable", lang))
    if any(r.policies for r in results):
        lines.append(text("legend.policies", lang))
    if any(r.headline is not None for r in results):
        lines.append(text("legend.verdict", lang))
    return lines


def app_notes(results: tuple[AppResult, ...], lang: str, width: int) -> list[str]:
    """Per app, under the table: the policies it violates by name, and what was seen but not scored."""
    lines = []
    for r in results:
        who = terminal_safe(story.app_name(r))
        if any(v.verdict == "violates" for v in r.policies):
            lines.append(clip(f"{who}: {terminal_safe(story.policy_banner(r, lang))}", width))
        lines += [clip(f"{who}: {line}", width) for line in story.unscored_lines(r, lang)]
    return lines


def wrap(line: str, width: int) -> list[str]:
    """A sentence in lines of at most `width` display columns (CJK characters take two)."""
    wide = _width(line) > len(line)
    return textwrap.wrap(line, width // 2 if wide else width) or [""]


def error_lines(results: tuple[AppResult, ...], lang: str, width: int) -> list[str]:
    """'input: reason' for each input that could not be analysed, cut to the width."""
    return [clip(f"{text('error.prefix', lang)}: {terminal_safe(r.input)}: {terminal_safe(story.error_text(r, lang))}", width)
            for r in results if r.facts is None]


def render(report: Report, options: RenderOptions) -> str:
    lang = options.lang
    width = options.width or shutil.get_terminal_size((FALLBACK_WIDTH, 24)).columns
    with_policies = any(r.policies for r in report.results)
    columns = ("input", "package", "label", "verdict", "score", "band", *(("policies",) if with_policies else ()), *CHANNELS)
    headers = [text(f"col.{c}", lang) for c in columns]
    incomplete = [] if report.incomplete is None else [text("report.incomplete", lang, done=report.incomplete[0], total=report.incomplete[1])]
    notes = [*incomplete, *error_lines(report.results, lang, width), *app_notes(report.results, lang, width),
             *legend(report.results, lang), *wrap(story.scope_line(lang), width)]
    if not options.verbose:
        rows = fit([_row(r, lang, with_policies) for r in report.results], headers, width)
        table = tabulate(rows, headers=headers, tablefmt="simple")
        return table + "\n" + "".join(f"\n{x}" for x in notes) + ("\n" if notes else "")
    blocks = []
    for r in report.results:
        blocks.append(tabulate(fit([_row(r, lang, with_policies)], headers, width), headers=headers, tablefmt="simple"))
        blocks.extend(_details(r, lang))
        blocks.append("")
    return "\n".join([*blocks, *notes]) + "\n"
