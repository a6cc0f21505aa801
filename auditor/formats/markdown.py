"""`--format markdown`: a readable report for issues, pull requests and wikis.

A summary table first, then one section per app: verdict, what it can read, who reads it,
findings with their evidence, policy verdicts. Labels, package names and evidence come from the
APK; rendered Markdown allows inline HTML, so every such string goes through `md_text` (table
cells, prose) or `md_code` (code spans), never in raw: a label `<script>` stays text and a `|`
cannot split a table row.
"""

from __future__ import annotations

import re
from html import escape

from auditor.formats import RenderOptions, story
from auditor.formats.safe import terminal_safe
from auditor.formats.table import policy_summary, readers_sentences, runtime_sentences
from auditor.formats.trace import trace_lines
from auditor.i18n import name, text
from auditor.model import CHANNELS, AppResult, Evidence, Finding, PolicyVerdict, Report

MAX_EVIDENCE_SHOWN = 6
_SPECIAL = re.compile(r"([\\`*_{}\[\]()!|~])")
"""Markup characters that act anywhere in a line; md_text is never placed at a line start, so
line-start markers (#, -, +, 1.) need no escape."""
_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<![a-z0-9])(www)(\.)")
"""What GitHub turns into a link by itself: a scheme's '://' and 'www.'. Only these are escaped,
so that ordinary text keeps its colons ('score: 10', not 'score\\: 10')."""
_BACKTICKS = re.compile(r"`+")


def md_text(value: object) -> str:
    """An app-controlled string as inert Markdown text: controls made visible, HTML escaped, markup escaped."""
    visible = terminal_safe(value)
    marked = _SPECIAL.sub(r"\\\1", visible)
    return escape(_AUTOLINK.sub(lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\.", marked), quote=False)


def md_code(value: object) -> str:
    """An app-controlled string as a code span, with a fence longer than any backtick run inside it.

    Inside a code span neither HTML nor Markdown is interpreted; only `|` needs escaping, for
    GitHub tables, and code spans are only used outside tables here.
    """
    visible = terminal_safe(value)
    fence = "`" * (max((len(m) for m in _BACKTICKS.findall(visible)), default=0) + 1)
    pad = " " if visible.startswith("`") or visible.endswith("`") else ""
    return f"{fence}{pad}{visible}{pad}{fence}"


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """A GitHub table from already escaped cells."""
    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers),
            *("| " + " | ".join(cells) + " |" for cells in rows)]


def _summary_row(r: AppResult, lang: str) -> list[str]:
    if r.facts is None:
        return [md_text(r.input), md_text(text("error.prefix", lang)), "", "", "", *[""] * len(CHANNELS)]
    levels = [md_text(story.level_word(r.facts.channels[c], lang)) for c in CHANNELS]
    score, band = (str(r.score.value), text(f"band.{r.score.band}", lang)) if r.score else ("", "")
    return [f"{md_text(story.app_name(r))} ({md_text(r.facts.manifest.package)})", md_text(story.verdict_short(r, lang)),
            score, md_text(band), policy_summary(r), *levels]


def _summary(report: Report, lang: str) -> list[str]:
    headers = [text(f"col.{c}", lang) for c in ("app", "verdict", "score", "band", "policies", *CHANNELS)]
    return [f"## {text('report.summary', lang)}", "", *table(headers, [_summary_row(r, lang) for r in report.results]), ""]


def _evidence(e: Evidence, lang: str) -> list[str]:
    where = f" @ {md_code(e.location)}" if e.location else ""
    origin = f" ({md_text(e.origin.sdk)})" if e.origin and e.origin.sdk else ""
    lines = [f"  - {md_text(name('kind', e.kind, lang))}: {md_code(story.evidence_value(e, lang))}{where}{origin}"]
    lines += [f"    {i}. {md_code(line)}" for i, line in enumerate(trace_lines(e, lang), 1)]
    return lines


def _finding(f: Finding, lang: str) -> list[str]:
    head = story.finding_line(f, lang, md_text(f.title_in(lang)))
    lines = [f"- {head}"]
    for e in f.evidence[:MAX_EVIDENCE_SHOWN]:
        lines += _evidence(e, lang)
    if len(f.evidence) > MAX_EVIDENCE_SHOWN:
        lines.append("  - " + text("report.evidence_more", lang, count=len(f.evidence) - MAX_EVIDENCE_SHOWN))
    return lines


def _policy(v: PolicyVerdict, lang: str) -> list[str]:
    lines = [f"- **{md_text(v.policy)}**: {story.policy_word(v.verdict, lang)}"]
    lines += [f"  - {md_text(x.requirement)}{text('label.sep', lang)}{md_text(x.text_in(lang))}" for x in v.violations]
    lines += [f"  - {md_text(reason)}" for reason in v.reasons_in(lang)]
    return lines


def _reads(r: AppResult, lang: str) -> list[str]:
    assert r.facts is not None
    return [f"- **{text(f'col.{c}', lang)}**: {story.plain_level(r.facts.channels[c], lang)}" for c in CHANNELS]


def _verdict(r: AppResult, lang: str) -> list[str]:
    assert r.facts is not None and r.score is not None
    score = story.score_line(r, lang)
    lines = [f"{md_code(r.facts.manifest.package)} {md_text(story.version_of(r))} · {md_code(r.input)}", "",
             f"**{text('report.verdict', lang)}: {md_text(story.verdict_title(r, lang))}** · **{score}**", "",
             md_text(story.verdict_reason(r, lang)), ""]
    banner = story.policy_banner(r, lang)
    lines += [f"- {md_text(line)}" for line in (story.kind_line(r, lang), banner, *story.unscored_lines(r, lang)) if line]
    lines.append("")
    if not r.facts.assessable:
        reasons = text("list.sep", lang).join(md_text(x) for x in story.assessability_reasons(r.facts, lang))
        lines += [f"> ⚠ **{text('not_assessable', lang, reasons=reasons)}**", ""]
    return lines


def _app(r: AppResult, lang: str) -> list[str]:
    title = f"## {md_text(story.app_name(r))}"
    if r.facts is None or r.score is None:
        return [title, "", f"**{text('report.error', lang)}** ({md_code(r.input)}): {md_text(story.error_text(r, lang))}", ""]
    readers = [md_text(s) for s in readers_sentences(r, lang)] or [text("report.readers_none", lang)]
    findings = [line for f in r.findings for line in _finding(f, lang)] or [text("report.no_findings", lang)]
    runtimes = [f"- {md_text(s)}" for s in runtime_sentences(r, lang)]
    lines = [title, "", *_verdict(r, lang),
             f"### {text('report.why', lang)}", "", *(f"- {md_text(x)}" for x in story.why_lines(r, lang)), "",
             *([f"### {text('report.runtimes', lang)}", "", *runtimes, ""] if runtimes else []),
             f"### {text('report.reads', lang)}", "", *_reads(r, lang), "",
             f"### {text('report.readers', lang)}", "", *(f"- {s}" for s in readers), "",
             f"### {text('report.findings', lang)}", "", *findings]
    if r.policies:
        lines += ["", f"### {text('report.policies', lang)}", "", *(line for v in r.policies for line in _policy(v, lang))]
    return [*lines, ""]


def header(title_key: str, report: Report, lang: str) -> list[str]:
    """Title and provenance line, shared with the compare and diff reports."""
    return [f"# {text(title_key, lang)}", "",
            text("report.generated", lang, version=md_text(report.tool_version), digest=md_code(report.rules_digest)), "",
            f"> {md_text(story.scope_line(lang))}", ""]


def _incomplete(report: Report, lang: str) -> list[str]:
    if report.incomplete is None:
        return []
    return [f"**{md_text(text('report.incomplete', lang, done=report.incomplete[0], total=report.incomplete[1]))}**", ""]


def render(report: Report, options: RenderOptions) -> str:
    lang = options.lang
    lines = [*header("report.title", report, lang), *_incomplete(report, lang), *_summary(report, lang)]
    for r in report.results:
        lines += _app(r, lang)
    return "\n".join(lines).rstrip("\n") + "\n"
