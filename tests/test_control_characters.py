"""One escaping policy in every format (auditor.formats.safe): escape sequences, C1 controls and
bidi overrides from an app never reach a terminal or a spreadsheet raw; machine formats keep the
value but write those characters as JSON \\u escapes; CSV neutralises formulas however they hide."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.formats import FORMATS, RenderOptions, formatter
from auditor.formats.safe import UNSAFE, neutralise, visible
from auditor.model import Evidence, Report
from auditor.reports.scan import scan_report
from auditor.ruleset.ruleset import RuleSet

FIXTURES = Path(__file__).resolve().parent / "fixtures"

NASTY = ("\x1b[2J\x1b[H"                                   # clear screen, cursor home
         "\x1b]0;pwned\x07"                                # window title (OSC 0, BEL)
         "\x1b]8;;https://evil.invalid\x1b\\link\x1b]8;;\x1b\\"  # OSC 8 hyperlink
         "\x9b31m"                                         # C1 CSI: red on many terminals
         "\x90q\x9c"                                       # C1 DCS ... ST
         "\u202egpj.exe\u202c\u2066\u2069\u200f\u061c"     # bidi overrides, isolates, marks
         "\u2028\x7f\r\n\t\x00")
RAW = set("\x1b\x07\x9b\x90\x9c\u202e\u202c\u2066\u2069\u200f\u061c\u2028\x7f\r\n\t\x00")


@pytest.fixture(scope="module")
def report(rules: RuleSet) -> Report:
    """The hostile-label fixture with NASTY in its label, package, error-free evidence and input."""
    base = scan_report((FIXTURES / "apk" / "contacts_upload.apk",), rules)
    r = base.results[0]
    assert r.facts is not None and r.findings
    manifest = replace(r.facts.manifest, label=f"L{NASTY}", package=f"P{NASTY}", version_name=f"V{NASTY}")
    finding = replace(r.findings[0], evidence=(Evidence("string", f"E{NASTY}", f"M{NASTY}"), *r.findings[0].evidence))
    hostile = replace(r, input=f"/tmp/I{NASTY}.apk", facts=replace(r.facts, manifest=manifest),
                      findings=(finding, *r.findings[1:]))
    error = replace(r, input=f"/tmp/X{NASTY}.apk", status="error", error=f"bad{NASTY}", error_kind="corrupt-archive",
                    facts=None, findings=(), score=None, policies=())
    return replace(base, results=(hostile, error))


def test_visible_escapes_every_unsafe_character() -> None:
    shown = visible(NASTY)
    assert not RAW & set(shown)
    assert "\\x1b[2J" in shown and "\\x9b31m" in shown and "\\u202egpj.exe" in shown and "\\u2028" in shown
    assert visible("\udcff\udcfe") == "\\xff\\xfe"  # undecodable file-name bytes


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("verbose", [False, True])
def test_no_format_lets_a_control_character_through(report: Report, fmt: str, verbose: bool) -> None:
    out = formatter(fmt)(report, RenderOptions(verbose=verbose))
    # Line ends are layout; no other unsafe character appears raw.
    layout = {"\n"} | ({"\r"} if fmt == "csv" else set())  # CSV rows end in CRLF
    leaked = {c for c in out if UNSAFE.match(c)} - layout
    assert not leaked, f"{fmt} leaks {sorted(map(hex, map(ord, leaked)))}"
    lines = out.splitlines()
    if fmt == "jsonl":
        assert len(lines) == 2  # a newline inside a value never splits a line


@pytest.mark.parametrize("fmt", ["json", "jsonl", "sarif"])
def test_machine_formats_keep_the_values(report: Report, fmt: str) -> None:
    out = formatter(fmt)(report, RenderOptions())
    assert "\\u001b[2J" in out and "\\u009b31m" in out and "\\u202e" in out and "\\u2028" in out
    if fmt == "sarif":
        props = json.loads(out)["runs"][0]["results"][0]["properties"]
        assert props["package"] == f"P{NASTY}" and props["evidence"][0]["value"] == f"E{NASTY}"
        return
    apps = json.loads(out)["apps"] if fmt == "json" else [json.loads(line) for line in out.splitlines()]
    assert apps[0]["label"] == f"L{NASTY}" and apps[0]["input"] == f"/tmp/I{NASTY}.apk"
    assert apps[1]["error"] == f"bad{NASTY}"


def test_human_formats_show_escapes(report: Report) -> None:
    for fmt in ("table", "csv", "markdown", "html"):
        out = formatter(fmt)(report, RenderOptions(verbose=True))
        assert "x1b[2J" in out and "x9b31m" in out and "u202egpj.exe" in out, fmt


@pytest.mark.parametrize("cell", ["=1+1", " =1+1", "\u3000=1+1", "\u00a0@SUM(A1)", "  -2+3", "+cmd", "@x",
                                  "\uff1dHYPERLINK()", "\uff0b1", "\uff0d1", "\uff20x", " \uff1d1", "\ufe661"])
def test_formula_neutralising_sees_through_blanks_and_full_width(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Fixture App", "a=b", "1.0", "", "\\x09=1"])
def test_ordinary_cells_stay_as_they_are(cell: str) -> None:
    assert neutralise(cell) == cell


@pytest.mark.parametrize("start", ["\t", "\n", "\r", " \n", "\r\n"])
def test_csv_cell_with_a_hidden_formula(report: Report, start: str) -> None:
    r = report.results[0]
    assert r.facts is not None
    label = f"{start}=cmd|' /C calc'!A0"
    hostile = replace(r, facts=replace(r.facts, manifest=replace(r.facts.manifest, label=label)))
    row = next(csv.DictReader(io.StringIO(formatter("csv")(replace(report, results=(hostile,)), RenderOptions()))))
    cell = row["label"]
    assert not (set(cell) & RAW)
    assert cell.lstrip(" ").startswith(("'", "\\x")), cell  # quoted, or an inert backslash escape first


def test_log_lines_on_stderr_are_escaped(tmp_path: Path) -> None:
    """-vv logs each file by name; a name must not drive the terminal."""
    import logging

    from auditor.cli.logs import VisibleFormatter

    record = logging.LogRecord("auditor", logging.DEBUG, __file__, 1, "%s: ok", (f"/x/{NASTY}.apk",), None)
    line = VisibleFormatter("auditor: %(message)s").format(record)
    assert not RAW & set(line) and line.startswith("auditor: /x/\\x1b[2J")
