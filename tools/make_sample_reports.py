"""Regenerate sample_reports/ from a corpus of real APKs, in every output format.

    python tools/make_sample_reports.py                 # ../shared/corpus -> sample_reports/
    python tools/make_sample_reports.py --corpus DIR --out DIR [--screenshot]

Each report is produced by the real CLI (`python -m auditor ...`), so the samples show exactly what
users get. With --screenshot, the HTML pages are rendered by headless Chromium into PNGs, at desktop and phone widths.
Rerun whenever the output changes; tests/test_sample_reports.py runs this script on the fixtures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TABLE_COLUMNS = "160"
"""The width the table is fitted to (COLUMNS), the same on every machine, so samples do not depend
on the terminal they were made in."""


@dataclass(frozen=True)
class Sample:
    file: str
    args: tuple[str, ...]
    what: str


def samples(corpus: str, single_app: str, fixtures: str) -> list[Sample]:
    """Every report to produce: (file name, CLI arguments, what it shows)."""
    scan = ("scan", "--policy", "all", corpus)
    out = [
        Sample("corpus-table.txt", (*scan, "-f", "table"), "the default table: one row per app, with policy verdict counts"),
        Sample("corpus-table-verbose.txt", ("-v", *scan, "-f", "table"), "`-v`: findings, evidence and call paths under each app"),
        Sample("corpus-table.zh-CN.txt", (*scan, "-f", "table", "--lang", "zh-CN"), "the table in Simplified Chinese"),
        Sample("corpus.json", (*scan, "-f", "json"), "the versioned JSON contract (schema_version 1)"),
        Sample("corpus.jsonl", (*scan, "-f", "jsonl"), "one JSON object per app and line, as streamed in large batches"),
    ]
    optional = [
        Sample("corpus.csv", (*scan, "-f", "csv"), "one row per app for spreadsheets, formula injection neutralised"),
        Sample("corpus.md", (*scan, "-f", "markdown"), "a Markdown report"),
        Sample("corpus.zh-CN.md", (*scan, "-f", "markdown", "--lang", "zh-CN"), "the Markdown report in Simplified Chinese"),
        Sample("corpus.sarif", (*scan, "-f", "sarif"), "SARIF 2.1.0 for GitHub code scanning: one result per finding and per policy violation"),
        Sample("corpus.html", (*scan, "-f", "html"), "one self-contained HTML page for the whole corpus, with the score chart"),
        Sample("single-app.html", ("scan", "--policy", "all", single_app, "-f", "html"),
               "the page a person checking one app reads: verdict, what it can read, what to do"),
        Sample("single-app.zh-CN.html", ("scan", "--policy", "all", single_app, "-f", "html", "--lang", "zh-CN"),
               "the same page in Simplified Chinese"),
        Sample("compare.md", ("compare", "--policy", "all", corpus, "-f", "markdown"),
               "`auditor compare`: apps x channels, score, policies and SDKs, versions side by side"),
        Sample("compare.html", ("compare", "--policy", "all", corpus, "-f", "html"), "the comparison as HTML"),
        Sample("compare.json", ("compare", "--policy", "all", corpus, "-f", "json"),
               "the comparison as JSON (auditor/schemas/compare.schema.json)"),
        Sample("diff-app_v1-app_v2.txt", ("diff", f"{fixtures}/apk/app_v1.apk", f"{fixtures}/apk/app_v2.apk"),
               "`auditor diff`: what changed between two versions of an app (exit 1: exposure went up)"),
        Sample("diff-app_v1-app_v2.json", ("diff", "-f", "json", f"{fixtures}/apk/app_v1.apk", f"{fixtures}/apk/app_v2.apk"),
               "the diff as JSON (auditor/schemas/diff.schema.json): permissions, channels, findings, upload paths, "
               "signing, targetSdk, SDKs, endpoints"),
        Sample("diff-app_v1-app_v2.html", ("diff", "-f", "html", f"{fixtures}/apk/app_v1.apk", f"{fixtures}/apk/app_v2.apk"),
               "the diff as an HTML page"),
    ]
    available = _cli_help()
    return out + [s for s in optional if _supported(s, available)]


def _cli_help() -> str:
    run = subprocess.run([sys.executable, "-m", "auditor", "scan", "--help"], capture_output=True, text=True, check=False)
    top = subprocess.run([sys.executable, "-m", "auditor", "--help"], capture_output=True, text=True, check=False)
    return run.stdout + top.stdout


def _supported(sample: Sample, help_text: str) -> bool:
    """A sample is made only when the CLI offers its command and format."""
    command = sample.args[0] if sample.args[0] != "-v" else sample.args[1]
    if command != "scan" and f"  {command}" not in help_text:
        return False
    fmt = sample.args[sample.args.index("-f") + 1] if "-f" in sample.args else "table"
    return command != "scan" or fmt in help_text


def generate(corpus: str, out: Path, single_app: str, fixtures: str) -> list[tuple[Sample, int]]:
    out.mkdir(parents=True, exist_ok=True)
    made = []
    for sample in samples(corpus, single_app, fixtures):
        result = subprocess.run([sys.executable, "-m", "auditor", "-q", *sample.args], capture_output=True, text=True,
                                check=False, cwd=ROOT, env={**os.environ, "COLUMNS": TABLE_COLUMNS})
        if result.returncode not in (0, 1, 2) or not result.stdout:
            raise SystemExit(f"{sample.file}: auditor exited {result.returncode}: {result.stderr.strip()[:500]}")
        (out / sample.file).write_text(result.stdout, encoding="utf-8")
        made.append((sample, result.returncode))
    return made


PHONE, DESKTOP = 390, 1100
SHOTS = (("single-app.html", DESKTOP), ("single-app.html", PHONE), ("single-app.zh-CN.html", DESKTOP),
         ("single-app.zh-CN.html", PHONE), ("corpus.html", PHONE))
"""(page, width) pairs rendered to PNG: a phone is 390 px wide (CSS pixels)."""


def shot_name(page: str, width: int) -> str:
    """single-app.png, single-app.phone.png..."""
    return page.removesuffix(".html") + (".phone" if width == PHONE else "") + ".png"


def screenshot(html: Path, png: Path, width: int = DESKTOP) -> bool:
    """Render `html` in headless Chromium (no network, fresh profile) into `png`, `width` CSS pixels wide."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        return False
    profile = png.parent / ".chromium-profile"
    height = 2400 if width == PHONE else 1600
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={profile}", "--hide-scrollbars", f"--window-size={width},{height}",
                    f"--screenshot={png}", html.resolve().as_uri()], capture_output=True, check=False, timeout=120)
    shutil.rmtree(profile, ignore_errors=True)
    return png.is_file()


def write_index(out: Path, made: list[tuple[Sample, int]], corpus: str, shot: bool) -> None:
    lines = ["# Sample reports", "",
             f"Generated by `python tools/make_sample_reports.py` from `{corpus}` (real APKs; see its MANIFEST.tsv",
             "for each file's origin) with the rules in `rules/`. Regenerate them whenever the output changes.", "",
             "| file | what it shows | exit code |", "|---|---|---|"]
    lines += [f"| [{s.file}]({s.file}) | {s.what} | {code} |" for s, code in made]
    if shot:
        lines += ["", "The PNGs are the pages as headless Chromium renders them (no network access), on a desktop",
                  f"({DESKTOP} px) and on a phone ({PHONE} px, `*.phone.png`): "
                  + ", ".join(f"[{shot_name(p, w)}]({shot_name(p, w)})" for p, w in SHOTS) + ".", "",
                  "![single-app.html in headless Chromium](single-app.png)",
                  "![single-app.html on a phone](single-app.phone.png)"]
    lines += ["", "The JSON outputs follow the JSON Schemas in `auditor/schemas/` (scan, scan-line for JSONL,",
              "compare, diff); `tests/test_output_schemas.py` validates these samples against them."]
    lines += ["", "Exit code 2 means some inputs could not be analysed (the malformed files are there on purpose)."]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="../shared/corpus")
    parser.add_argument("--out", type=Path, default=ROOT / "sample_reports")
    parser.add_argument("--single-app", default="../shared/corpus/spyloan/blackloan_com.loan.test1_5bc922.apk")
    parser.add_argument("--fixtures", default="tests/fixtures")
    parser.add_argument("--screenshot", action="store_true", help="also render the HTML pages to PNG, at desktop and phone widths")
    args = parser.parse_args()
    made = generate(args.corpus, args.out, args.single_app, args.fixtures)
    shot = False
    if args.screenshot:
        made_shots = [screenshot(args.out / page, args.out / shot_name(page, width), width)
                      for page, width in SHOTS if (args.out / page).is_file()]
        shot = bool(made_shots) and all(made_shots)
    write_index(args.out, made, args.corpus, shot)
    print(f"{len(made)} reports written to {args.out}" + (" (+ screenshot)" if shot else ""))


if __name__ == "__main__":
    main()
