"""The HTML report on a phone (390 px) and on a desktop (1280 px) (issue 15, defect 8).

The structural tests always run. The layout tests render the real page in headless Chromium
(skipped where it is not installed: `apt-get install chromium`) and measure it: the report's own CSP
forbids scripts, so the page is loaded into a same-origin iframe (srcdoc) of a small harness page
whose script measures the report and writes the numbers into its own DOM, which --dump-dom prints.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.formats import RenderOptions
from auditor.formats import html as html_format
from auditor.model import Report
from auditor.reports import compare

PHONE, DESKTOP = 390, 1280
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars")

MEASURE = """
const frame = document.getElementById('report');
frame.onload = () => {
  const doc = frame.contentDocument, view = frame.clientWidth;
  const inView = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.left >= -0.5 && r.right <= view + 0.5; };
  const cells = [...doc.querySelectorAll('table.grid tbody td')];
  const rows = [...doc.querySelectorAll('table.grid tbody tr')];
  const out = {
    view: view,
    scrollWidth: doc.documentElement.scrollWidth,
    numbers: [...doc.querySelectorAll('.chart .num')].map(n => [n.textContent, inView(n)]),
    cellsInView: cells.filter(inView).length, cells: cells.length,
    labelsShown: cells.filter(td => getComputedStyle(td, '::before').content.includes(td.dataset.label || '\\u0000')).length,
    rowsOnOneLine: rows.filter(tr => new Set([...tr.children].map(td => Math.round(td.getBoundingClientRect().top))).size === 1).length,
    rows: rows.length,
  };
  document.getElementById('out').textContent = JSON.stringify(out);
};
"""


def audit_report(audit, *names: str) -> Report:
    return Report("0.1.0", "sha256:" + "ab" * 32, (), tuple(audit(n) for n in names))


@pytest.fixture(scope="module")
def twins(audit) -> Report:
    """Two apps with the same label and different packages, a long path, an error and a zero score."""
    one, other = audit("apk/app_v2.apk"), audit("apk/contacts_upload.apk")
    assert one.facts is not None and other.facts is not None
    same_label = replace(other, input="/a/very/long/folder/name/" * 6 + "contacts_upload.apk",
                         facts=replace(other.facts, manifest=replace(other.facts.manifest, label=one.facts.manifest.label)))
    return Report("0.1.0", "sha256:" + "ab" * 32, (), (one, same_label, audit("apk/benign.apk"), audit("bad/pe32.apk"),
                                                       audit("apk/credolab.apk")))


# --- structure (always runs) ---------------------------------------------------------------------

def test_page_has_a_phone_layout(twins: Report) -> None:
    page = html_format.render(twins, RenderOptions())
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert re.search(r"@media \(max-width:600px\)\{[^}]*\.chart li\{grid-template-columns:minmax\(0,1fr\)\}", page)
    assert "@media (max-width:600px){" in page and ".grid thead{display:none}" in page
    assert "<svg" not in page, "a fixed-width SVG cannot shrink to a phone"


def test_matrix_cells_carry_their_column_name(twins: Report) -> None:
    page = html_format.render(twins, RenderOptions())
    matrix = page[page.index('<table class="grid">'):page.index("</table>")]
    assert matrix.count('data-label="contacts"') == len(twins.results)
    assert 'data-label="score"' in matrix and 'data-label="band"' in matrix


def test_bars_show_their_numbers_as_text(twins: Report) -> None:
    page = html_format.render(twins, RenderOptions())
    numbers = re.findall(r'<span class="num">(\d+)</span>', page)
    assert numbers == [str(r.score.value) for r in twins.results if r.score is not None]


def test_two_apps_with_the_same_label_are_told_apart_by_package(twins: Report) -> None:
    page = html_format.render(twins, RenderOptions())
    for r in twins.results[:2]:
        assert r.facts is not None
        package = html.escape(r.facts.manifest.package)
        assert f'<span class="pkg">{package}</span>' in page, "matrix"
        assert f"<small>{package}</small>" in page, "chart"


# --- layout in Chromium --------------------------------------------------------------------------

def measure(page: str, width: int, tmp_path: Path) -> dict[str, object]:
    harness = (f'<!DOCTYPE html><html><body style="margin:0"><iframe id="report" style="border:0;width:{width}px;height:900px" '
               f'srcdoc="{html.escape(page, quote=True)}"></iframe><pre id="out"></pre><script>{MEASURE}</script></body></html>')
    path = tmp_path / f"harness-{width}.html"
    path.write_text(harness, encoding="utf-8")
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={width + 40},1000",
                             "--virtual-time-budget=5000", "--dump-dom", path.as_uri()],
                            capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'<pre id="out">(.*?)</pre>', result.stdout, re.DOTALL)
    assert found and found.group(1), result.stderr[-2000:]
    data: dict[str, object] = json.loads(html.unescape(found.group(1)))
    return data


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")


@needs_chromium
@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_scan_report_fits_the_screen(twins: Report, width: int, tmp_path: Path) -> None:
    got = measure(html_format.render(twins, RenderOptions()), width, tmp_path)
    assert got["view"] == width
    assert got["scrollWidth"] <= width, "the page scrolls sideways"
    numbers = got["numbers"]
    assert isinstance(numbers, list) and len(numbers) == len(twins.results) and all(visible for _n, visible in numbers), numbers
    assert got["cellsInView"] == got["cells"], "every summary cell is on the screen, not only the app column"
    if width == PHONE:
        assert got["labelsShown"] == got["cells"] - got["rows"], "each cell but the app's shows its column name"
    else:
        assert got["rowsOnOneLine"] == got["rows"], "a desktop shows a real table"


@needs_chromium
@pytest.mark.parametrize("width", [PHONE, DESKTOP])
def test_compare_report_fits_the_screen(twins: Report, width: int, tmp_path: Path) -> None:
    got = measure(compare.render(twins, "html", RenderOptions()), width, tmp_path)
    assert got["scrollWidth"] <= width
    assert got["cellsInView"] == got["cells"]


@needs_chromium
def test_chinese_report_fits_a_phone(twins: Report, tmp_path: Path) -> None:
    got = measure(html_format.render(twins, RenderOptions(lang="zh-CN")), PHONE, tmp_path)
    assert got["scrollWidth"] <= PHONE and got["cellsInView"] == got["cells"]
