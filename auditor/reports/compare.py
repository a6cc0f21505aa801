"""`auditor compare`: many apps side by side, worst first, versions of one app next to each other.

The matrix answers "which of these apps reaches furthest into other people's data, and which
policies do they break": one row per app with the three channel levels, score, band, one column
per selected policy and the SDKs, plus a count of apps violating each policy. Rows are ordered by
the highest score any version of the package reaches, so a package's versions stay together
and a regression between two versions is read across adjacent rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from tabulate import tabulate

from auditor.formats import RenderOptions, story
from auditor.formats import csv as csv_format
from auditor.formats import html as html_format
from auditor.formats import jsonl as jsonl_format
from auditor.formats import markdown as md_format
from auditor.formats import sarif as sarif_format
from auditor.formats.safe import dumps, terminal_safe
from auditor.formats.serialize import app_dict, report_header
from auditor.i18n import text
from auditor.model import CHANNELS, AppResult, Report
from auditor.records import record

FORMATS: tuple[str, ...] = ("table", "json", "jsonl", "csv", "markdown", "sarif", "html")

T = TypeVar("T")

Cell = tuple[str, str | None]
"""A matrix cell: its text (raw, unescaped) and a CSS class for HTML colouring (or None)."""


@record
class PolicyTally:
    """How many of the judged apps violate, may violate, or comply with one policy."""

    policy: str
    violates: int
    cannot_tell: int
    complies: int

    @property
    def total(self) -> int:
        return self.violates + self.cannot_tell + self.complies


def _group(r: AppResult) -> str:
    return r.facts.manifest.package if r.facts else r.input


def ordered(results: tuple[AppResult, ...]) -> tuple[AppResult, ...]:
    """Worst package first (by its best-scoring version), then package name, then version code."""
    best: dict[str, int] = {}
    for r in results:
        best[_group(r)] = max(best.get(_group(r), -1), r.score.value if r.score else -1)

    def key(r: AppResult) -> tuple[int, str, int, str]:
        code = r.facts.manifest.version_code if r.facts else None
        return (-best[_group(r)], _group(r), code or 0, r.input)

    return tuple(sorted(results, key=key))


def policy_ids(results: tuple[AppResult, ...]) -> tuple[str, ...]:
    """The policies judged in this run, in the order they were selected."""
    return tuple(dict.fromkeys(v.policy for r in results for v in r.policies))


def tally(results: tuple[AppResult, ...]) -> list[PolicyTally]:
    counts = {pid: {"violates": 0, "cannot-tell": 0, "complies": 0} for pid in policy_ids(results)}
    for r in results:
        for v in r.policies:
            counts[v.policy][v.verdict] = counts[v.policy].get(v.verdict, 0) + 1
    return [PolicyTally(pid, c["violates"], c["cannot-tell"], c["complies"]) for pid, c in counts.items()]


def headers(policies: tuple[str, ...], lang: str) -> list[str]:
    return [*(text(f"col.{c}", lang) for c in ("app", "package", "version", "verdict", "score", "band", *CHANNELS)),
            *policies, text("col.sdks", lang)]


def row(r: AppResult, policies: tuple[str, ...], lang: str) -> list[Cell]:
    """The matrix row of one result; an error shows its path as the app and its reason in the last column."""
    if r.facts is None or r.score is None:
        empty: Cell = ("", None)
        return [(r.input, None), *[empty] * 4,  # package, version, verdict, score
                (text("error.prefix", lang), "band-error"), *[empty] * (len(CHANNELS) + len(policies)),
                (story.error_text(r, lang), None)]
    verdicts = {v.policy: v.verdict for v in r.policies}
    states = [r.facts.channels[c] for c in CHANNELS]
    return [(story.app_name(r), None), (r.facts.manifest.package, None), (story.version_of(r), None),
            (story.verdict_short(r, lang), None),
            (str(r.score.value), None), (text(f"band.{r.score.band}", lang), f"band-{r.score.band}"),
            *[(story.level_word(s, lang), f"lvl-{s.level}") for s in states],
            *[(story.policy_word(verdicts[p], lang) if p in verdicts else "", None) for p in policies],
            (", ".join(s.name for s in r.facts.code.sdks), None)]


def summary_lines(tallies: list[PolicyTally], lang: str) -> list[str]:
    return [text("compare.policy_line", lang, policy=t.policy, violates=t.violates, total=t.total,
                 cannot=t.cannot_tell, complies=t.complies) for t in tallies]


def _matrix(report: Report, lang: str, cell: Callable[[Cell], T]) -> tuple[list[str], list[list[T]]]:
    """Headers and rows of the comparison, each cell passed through the format's `cell` (its escaping)."""
    policies = policy_ids(report.results)
    return headers(policies, lang), [[cell(c) for c in row(r, policies, lang)] for r in report.results]


def _table(report: Report, lang: str) -> str:
    head, rows = _matrix(report, lang, lambda c: terminal_safe(c[0]))
    lines = [*summary_lines(tally(report.results), lang), story.scope_line(lang)]
    return tabulate(rows, headers=head, tablefmt="simple") + "\n" + "".join(f"\n{x}" for x in lines) + ("\n" if lines else "")


def _json(report: Report, lang: str) -> str:
    data = {**report_header(report),
            "policies": [{"policy": t.policy, "violates": t.violates, "cannot-tell": t.cannot_tell,
                          "complies": t.complies, "total": t.total} for t in tally(report.results)],
            "apps": [app_dict(r) for r in report.results]}
    return dumps(data, indent=2) + "\n"


def _markdown(report: Report, lang: str) -> str:
    head, rows = _matrix(report, lang, lambda c: md_format.md_text(c[0]))
    lines = [*md_format.header("report.compare_title", report, lang), *md_format.table(head, rows)]
    tallies = tally(report.results)
    if tallies:
        lines += ["", f"## {text('compare.policy_summary', lang)}", "", *(f"- {x}" for x in summary_lines(tallies, lang))]
    return "\n".join(lines) + "\n"


def _html_cell(cell: Cell) -> str | tuple[str, str]:
    return (cell[1], html_format.h(cell[0])) if cell[1] else html_format.h(cell[0])


def _html(report: Report, lang: str) -> str:
    head, cells = _matrix(report, lang, _html_cell)
    title = text("report.compare_title", lang)
    body = [html_format.header(title, report, lang), html_format.chart_section(report.results, lang),
            f"<section><h2>{html_format.h(text('report.matrix', lang))}</h2>"
            f"{html_format.table(map(html_format.h, head), cells)}</section>"]
    tallies = tally(report.results)
    if tallies:
        items = "".join(f"<li>{html_format.h(x)}</li>" for x in summary_lines(tallies, lang))
        body.append(f"<section><h2>{html_format.h(text('compare.policy_summary', lang))}</h2><ul>{items}</ul></section>")
    return html_format.page(title, "\n".join(body), lang)


_RENDERERS: dict[str, Callable[[Report, str], str]] = {
    "table": _table, "json": _json, "markdown": _markdown, "html": _html,
    "csv": lambda report, lang: csv_format.render(report, RenderOptions(lang=lang)),
    # one app per line / one SARIF run, in comparison order: what scan gives, sorted for reading
    "jsonl": lambda report, lang: jsonl_format.render(report, RenderOptions(lang=lang)),
    "sarif": lambda report, lang: sarif_format.render(report, RenderOptions(lang=lang)),
}


def render(report: Report, fmt: str, options: RenderOptions) -> str:
    """The comparison of all apps of `report` in `fmt` (one of FORMATS)."""
    return _RENDERERS[fmt](replace(report, results=ordered(report.results)), options.lang)
