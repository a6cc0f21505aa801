"""Colours and the score bars of the HTML reports.

The bars are plain HTML and CSS (a track and a fill whose width is the score), so a report opened
offline (or under a CSP that forbids every network load) still shows them; no charting library, no
script. Unlike a fixed-width SVG they reflow: on a phone each label sits above its bar and the
score number always stays beside the bar, inside the screen. Labels are app-controlled and are
escaped here, since the caller hands over raw strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from auditor.formats.safe import terminal_safe

BAND_COLOURS: dict[str, str] = {
    "none": "#2e7d32", "low": "#827717", "medium": "#b45309", "high": "#c62828", "critical": "#6d0f0f",
}
"""Dark enough for white text on top (banners) and distinct enough side by side (bars)."""

LEVEL_COLOURS: dict[str, str] = {"none": "#eef6ee", "declared": "#fff4cc", "code": "#ffd8a8", "upload": "#ffb3b3"}
"""Light backgrounds for dark text in the channel matrix, warming as the level rises."""

ERROR_COLOUR = "#757575"

MAX_LABEL = 60

CHART_CSS = """
.chart{list-style:none;margin:0;padding:0}
.chart li{display:grid;grid-template-columns:minmax(8rem,16rem) minmax(0,1fr);gap:.1rem .6rem;align-items:center;margin:.15rem 0}
.chart .label{text-align:right;overflow-wrap:anywhere;font-size:.9rem;line-height:1.2}
.chart .label small{display:block;color:#555;font-size:.75rem}
.chart .bar{display:flex;align-items:center;gap:.35rem;min-width:0}
.chart .fill{height:.9rem;border-radius:2px;flex:none}
.chart .num{font-size:.85rem;font-variant-numeric:tabular-nums;flex:none}
@media (max-width:600px){.chart li{grid-template-columns:minmax(0,1fr)}.chart .label{text-align:left}}
"""
"""On a phone the label goes above the bar; the fill's width is a share of what is left beside the
number (calc), so the number is never pushed off the screen."""


def _clip(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def bar_chart(bars: Sequence[tuple[str, str, int | None, str | None]], title: str, max_value: int = 100) -> str:
    """One bar per (label, package, score, band); a None score (an error) shows '-' in grey.

    The package is shown under the label, so two apps with the same label can be told apart.
    """
    items = []
    for label, package, score, band in bars:
        name = f'<bdi>{escape(terminal_safe(_clip(label)))}</bdi>'
        if package and package != label:
            name += f"<small>{escape(terminal_safe(package))}</small>"
        if score is None:
            bar = f'<span class="num" style="color:{ERROR_COLOUR}">-</span>'
        else:
            share = min(score, max_value) / max_value
            colour = BAND_COLOURS.get(band or "none", ERROR_COLOUR)
            bar = (f'<span class="fill" style="width:calc((100% - 2.5rem) * {share:.2f});min-width:2px;background:{colour}"></span>'
                   f'<span class="num">{score}</span>')
        items.append(f'<li><span class="label">{name}</span><span class="bar">{bar}</span></li>')
    return f'<ul class="chart" aria-label="{escape(title)}">{"".join(items)}</ul>'
