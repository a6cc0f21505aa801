"""Colours and an inline SVG bar chart for the HTML reports.

The chart is SVG text inside the page, so a report opened offline (or under a CSP that forbids every
network load) still shows it; no charting library, no script. It is meant for HTML documents, where
inline <svg> needs no xmlns (and so the page holds no URL a naive checker could mistake for a load). Labels are app-controlled and are
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

ROW, LABEL_WIDTH, BAR_WIDTH, MAX_LABEL = 22, 280, 320, 42


def _clip(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def bar_chart(bars: Sequence[tuple[str, int | None, str | None]], title: str, max_value: int = 100) -> str:
    """Horizontal bars, one per (label, score, band); a None score (an error) gets an empty grey row."""
    height = ROW * len(bars) + 8
    width = LABEL_WIDTH + BAR_WIDTH + 48
    parts = [f'<svg role="img" class="chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>']
    for i, (label, score, band) in enumerate(bars):
        y = 4 + i * ROW
        safe = escape(terminal_safe(_clip(label)))
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">{safe}</text>')
        if score is None:
            parts.append(f'<text x="{LABEL_WIDTH}" y="{y + 15}" fill="{ERROR_COLOUR}">-</text>')
            continue
        length = max(1, round(BAR_WIDTH * min(score, max_value) / max_value))
        colour = BAND_COLOURS.get(band or "none", ERROR_COLOUR)
        parts.append(f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW - 6}" fill="{colour}">'
                     f"<title>{safe}: {score}</title></rect>")
        parts.append(f'<text x="{LABEL_WIDTH + length + 4}" y="{y + 15}">{score}</text>')
    parts.append("</svg>")
    return "".join(parts)
