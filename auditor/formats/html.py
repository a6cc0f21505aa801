"""`--format html`: one self-contained page for people who are not security specialists.

Each app opens with a verdict banner in its band's colour and plain sentences: what it can read,
what that means for the people in the contact list, what to do, who reads it. The evidence sits
below in <details>. The page loads nothing: inline CSS, no script, and a CSP that
forbids every fetch, so a report about malware can be opened offline and leaks nothing.
Every app-controlled string (label, package, path, evidence) goes through `h`.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from auditor.formats import RenderOptions, story
from auditor.formats.chart import BAND_COLOURS, CHART_CSS, ERROR_COLOUR, LEVEL_COLOURS, bar_chart
from auditor.formats.safe import terminal_safe
from auditor.formats.table import policy_summary, readers_sentences, runtime_sentences
from auditor.formats.trace import trace_lines
from auditor.i18n import name, text
from auditor.model import CHANNELS, AppResult, Evidence, Finding, PolicyVerdict, Report, RuleInfo

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
MAX_EVIDENCE_SHOWN = 20

_CSS = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",sans-serif;
margin:0 auto;max-width:980px;padding:1rem;color:#1a1a1a;background:#fafafa;overflow-wrap:anywhere}
h1{margin:.2rem 0}.meta{color:#555;font-size:.85rem;word-break:break-all}
article{background:#fff;border:1px solid #ddd;border-radius:8px;margin:1.5rem 0;overflow:hidden}
article>section,article>details,article>.warn,article>.note,article>.error-text{margin:0 1rem 1rem}
.banner{color:#fff;padding:1rem}.banner .score{font-size:.95rem;margin:0;text-transform:uppercase;letter-spacing:.04em}
.banner .headline{font-size:1.45rem;font-weight:700;margin:.3rem 0}.banner .who{margin:0;opacity:.92;word-break:break-all}
.warn{background:#fff3cd;border-left:5px solid #b45309;padding:.6rem .8rem}
.note{background:#eef2f7;border-left:5px solid #475569;padding:.6rem .8rem}
.banner .reason,.banner .policies,.banner .kind{margin:.2rem 0}.banner .policies{font-weight:600}.scope{color:#444;font-size:.9rem}
h3{margin:1rem 0 .3rem;font-size:1.05rem}
table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left}
code{font-size:.85em;word-break:break-all;background:#f2f2f2;padding:0 .2em}
details summary{cursor:pointer;font-weight:600;margin:.5rem 0}
ol.path{margin:.2rem 0 .4rem}.scroll{overflow-x:auto}
td .pkg{display:block;color:#555;font-size:.75rem;overflow-wrap:anywhere}
@media (max-width:600px){
body{padding:.5rem}h1{font-size:1.5rem}.banner .headline{font-size:1.2rem}
table.grid,.grid tbody{display:block}.grid thead{display:none}
.grid tr{display:grid;grid-template-columns:repeat(auto-fill,minmax(5rem,1fr));border:1px solid #ddd;border-radius:6px;
margin:0 0 .5rem;overflow:hidden;background:#fff}
.grid td{border:0;border-top:1px solid #eee;overflow-wrap:anywhere}
.grid td:first-child{grid-column:1/-1;border-top:0;font-weight:600}
.grid td[data-label]::before{content:attr(data-label);display:block;font-size:.7rem;font-weight:400;opacity:.8}
.grid td:first-child::before{content:none}
}
"""
"""On a phone (600 px and less) each table row becomes a card: the app on the first line, then
every other cell with its column name above it, as many to a line as fit. Nothing is wider than
the screen, so the page never scrolls sideways."""


def h(value: object) -> str:
    """An app-controlled value as inert HTML text: control and bidi characters made visible, markup escaped."""
    return escape(terminal_safe(value))


def _colour_rules() -> str:
    bands = "".join(f".band-{b}{{background:{c};color:#fff}}" for b, c in {**BAND_COLOURS, "error": ERROR_COLOUR}.items())
    levels = "".join(f".lvl-{lvl}{{background:{c}}}" for lvl, c in LEVEL_COLOURS.items())
    return bands + levels


def page(title: str, body: str, lang: str) -> str:
    """The document shell: charset and CSP first, then inline CSS; nothing is fetched."""
    return (f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{_CSS}{CHART_CSS}{_colour_rules()}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def table(headers: Iterable[str], rows: Iterable[Iterable[str | tuple[str, str]]]) -> str:
    """A table from already escaped cells; a cell may be (class, html) to colour it.

    Each cell carries its column's name (data-label), which the phone layout shows above it.
    """
    names = list(headers)
    head = "".join(f"<th>{x}</th>" for x in names)
    body = "".join("<tr>" + "".join(_cell(c, names[i] if i < len(names) else "") for i, c in enumerate(cells)) + "</tr>"
                   for cells in rows)
    return f'<div class="scroll"><table class="grid"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _cell(cell: str | tuple[str, str], label: str) -> str:
    """A td; `label` is escaped HTML text, which is also safe in a double-quoted attribute."""
    if isinstance(cell, tuple):
        return f'<td class="{cell[0]}" data-label="{label}">{cell[1]}</td>'
    return f'<td data-label="{label}">{cell}</td>'


def _ul(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{x}</li>" for x in items) + "</ul>"


def header(title: str, report: Report, lang: str) -> str:
    generated = text("report.generated", lang, version=h(report.tool_version), digest=h(report.rules_digest))
    return (f'<header><h1>{escape(title)}</h1><p class="meta">{generated}</p>'
            f'<p class="scope">{escape(story.scope_line(lang))}</p></header>')


def chart_section(results: tuple[AppResult, ...], lang: str) -> str:
    """The score chart, one bar per app coloured by band."""
    bars = [(story.app_name(r), r.facts.manifest.package if r.facts else "", r.score.value if r.score else None,
             r.score.band if r.score else None) for r in results]
    title = text("report.chart", lang)
    return f"<section><h2>{escape(title)}</h2>{bar_chart(bars, title)}</section>"


def app_link(index: int, r: AppResult) -> str:
    """The app's name linking to its section, with its package below (two apps may share a label)."""
    package = r.facts.manifest.package if r.facts else ""
    below = f'<span class="pkg">{h(package)}</span>' if package and package != story.app_name(r) else ""
    return f'<a href="#app-{index}"><bdi>{h(story.app_name(r))}</bdi></a>{below}'


def level_cells(r: AppResult, lang: str) -> list[str | tuple[str, str]]:
    """One coloured cell per channel (empty for an error)."""
    if r.facts is None:
        return ["" for _ in CHANNELS]
    return [(f"lvl-{r.facts.channels[c].level}", escape(story.level_word(r.facts.channels[c], lang))) for c in CHANNELS]


def band_cell(r: AppResult, lang: str) -> str | tuple[str, str]:
    if r.score is None:
        return ("band-error", escape(text("error.prefix", lang)))
    return (f"band-{r.score.band}", escape(text(f"band.{r.score.band}", lang)))


def _matrix(report: Report, lang: str) -> str:
    headers = [escape(text(f"col.{c}", lang)) for c in ("app", "verdict", "score", "band", "policies", *CHANNELS)]
    rows = [[app_link(i, r), escape(story.verdict_short(r, lang)), str(r.score.value) if r.score else "", band_cell(r, lang),
             escape(policy_summary(r)), *level_cells(r, lang)] for i, r in enumerate(report.results)]
    return f"<section><h2>{escape(text('report.matrix', lang))}</h2>{table(headers, rows)}</section>"


def _banner(r: AppResult, lang: str) -> str:
    assert r.facts is not None and r.score is not None
    m = r.facts.manifest
    score = story.score_line(r, lang)
    who = f"<bdi>{h(story.app_name(r))}</bdi> · {h(m.package)} · {h(story.version_of(r))}"
    extra = [story.verdict_reason(r, lang), story.policy_banner(r, lang), story.kind_line(r, lang)]
    lines = "".join(f'<p class="{cls}">{h(line)}</p>' for cls, line in zip(("reason", "policies", "kind"), extra, strict=True) if line)
    return (f'<div class="banner band-{r.score.band}"><p class="headline">{h(story.verdict_title(r, lang))}</p>'
            f'<p class="score">{escape(score)}</p>{lines}<p class="who">{who}</p></div>')


def _section(title_key: str, content: str, lang: str) -> str:
    return f"<section><h3>{escape(text(title_key, lang))}</h3>{content}</section>"


def _reads(r: AppResult, lang: str) -> str:
    assert r.facts is not None
    sep = escape(text("label.sep", lang))
    return _ul(f'<span class="lvl-{r.facts.channels[c].level}">&nbsp;</span> <strong>{escape(text(f"col.{c}", lang))}</strong>{sep}'
               f"{escape(story.plain_level(r.facts.channels[c], lang))}" for c in CHANNELS)


def _readers(r: AppResult, lang: str) -> str:
    assert r.facts is not None
    sentences = [h(s) for s in readers_sentences(r, lang)] or [escape(text("report.readers_none", lang))]
    sdks = ", ".join(f"{h(s.name)} ({h(name('sdk_category', s.category, lang))})" for s in r.facts.code.sdks)
    found = f"<p>{text('report.sdks_found', lang, sdks=sdks)}</p>" if sdks else ""
    return _ul(sentences) + found


def _evidence(e: Evidence, lang: str) -> str:
    where = f" @ <code>{h(e.location)}</code>" if e.location else ""
    origin = f" ({h(e.origin.sdk)})" if e.origin and e.origin.sdk else ""
    trace = trace_lines(e, lang)
    path = '<ol class="path">' + "".join(f"<li><code>{h(s)}</code></li>" for s in trace) + "</ol>" if trace else ""
    return f"{h(name('kind', e.kind, lang))}: <code>{h(story.evidence_value(e, lang))}</code>{where}{origin}{path}"


def _sources(info: RuleInfo | None) -> str:
    links = [f'<a href="{escape(s)}" rel="noopener noreferrer">{escape(s)}</a>' for s in (info.sources if info else ())
             if s.startswith(("https://", "http://"))]
    return f"<br><small>{' · '.join(links)}</small>" if links else ""


def _finding(f: Finding, info: RuleInfo | None, lang: str) -> str:
    head = escape(story.finding_line(f, lang, f.title_in(lang)))
    shown = [_evidence(e, lang) for e in f.evidence[:MAX_EVIDENCE_SHOWN]]
    if len(f.evidence) > MAX_EVIDENCE_SHOWN:
        shown.append(escape(text("report.evidence_more", lang, count=len(f.evidence) - MAX_EVIDENCE_SHOWN)))
    return f"<li><strong>{head}</strong>{_sources(info)}{_ul(shown)}</li>"


def _policy(v: PolicyVerdict, lang: str) -> str:
    items = [f"{h(x.requirement)}{escape(text('label.sep', lang))}{h(x.text_in(lang))}" for x in v.violations]
    items += [h(reason) for reason in v.reasons_in(lang)]
    return f"<li><strong>{h(v.policy)}</strong>: {escape(story.policy_word(v.verdict, lang))}{_ul(items) if items else ''}</li>"


def _details(r: AppResult, rules: dict[str, RuleInfo], lang: str) -> str:
    assert r.facts is not None
    findings = "".join(_finding(f, rules.get(f.rule_id), lang) for f in r.findings)
    parts = [f"<p><code>{h(r.input)}</code><br>sha256 <code>{h(r.sha256)}</code></p>",
             f"<h4>{escape(text('report.why', lang))}</h4>", _ul(h(x) for x in story.why_lines(r, lang)),
             f"<h4>{escape(text('report.findings', lang))}</h4>",
             f"<ul>{findings}</ul>" if findings else f"<p>{escape(text('report.no_findings', lang))}</p>"]
    if r.policies:
        policies = "".join(_policy(v, lang) for v in r.policies)
        parts += [f"<h4>{escape(text('report.policies', lang))}</h4>", f"<ul>{policies}</ul>"]
    return f"<details><summary>{escape(text('report.details', lang))}</summary>{''.join(parts)}</details>"


def _error_app(index: int, r: AppResult, lang: str) -> str:
    title = escape(text("report.error", lang))
    return (f'<article id="app-{index}"><div class="banner band-error"><p class="headline">{title}</p>'
            f'<p class="who">{h(r.input)}</p></div><p class="error-text">{h(story.error_text(r, lang))}</p></article>')


def _app(index: int, r: AppResult, rules: dict[str, RuleInfo], lang: str) -> str:
    if r.facts is None or r.score is None:
        return _error_app(index, r, lang)
    parts = [_banner(r, lang)]
    unscored = story.unscored_lines(r, lang)
    if unscored:
        parts.append(f'<div class="note"><strong>{escape(text("report.unscored", lang))}</strong>{escape(text("label.sep", lang))}'
                     f'{"; ".join(escape(x) for x in unscored)}</div>')
    if not r.facts.assessable:
        reasons = text("list.sep", lang).join(story.assessability_reasons(r.facts, lang))
        parts.append(f'<div class="warn"><strong>{escape(text("report.not_assessable_title", lang))}</strong>'
                     f'{escape(text("label.sep", lang))}{h(text("not_assessable.body", lang, reasons=reasons))}</div>')
    runtimes = runtime_sentences(r, lang)
    if runtimes:
        parts.append(_section("report.runtimes", _ul(h(s) for s in runtimes), lang))
    parts += [_section("report.reads", _reads(r, lang), lang),
              _section("report.people", "".join(f"<p>{escape(x)}</p>" for x in story.people_lines(r, lang)), lang),
              _section("report.todo", _ul(escape(x) for x in story.todo_lines(r, lang)), lang),
              _section("report.readers", _readers(r, lang), lang),
              _details(r, rules, lang)]
    return f'<article id="app-{index}">{"".join(parts)}</article>'


def render(report: Report, options: RenderOptions) -> str:
    lang = options.lang
    title = text("report.title", lang)
    rules = {info.id: info for info in report.rules}
    body = [header(title, report, lang)]
    if report.incomplete is not None:
        body.append(f'<p class="incomplete"><strong>{escape(text("report.incomplete", lang, done=report.incomplete[0], total=report.incomplete[1]))}'
                    "</strong></p>")
    if len(report.results) > 1:
        body += [chart_section(report.results, lang), _matrix(report, lang)]
    body += [_app(i, r, rules, lang) for i, r in enumerate(report.results)]
    return page(title, "\n".join(body), lang)
