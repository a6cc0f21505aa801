"""The report formats: SARIF that the official schema accepts, HTML and Markdown that never let an
app's label become markup, CSV that spreadsheets cannot run as formulas.

One scan of every fixture (apps, bundles and the malformed files) with a small test policy feeds
all the tests, so each format is checked on real results, errors included.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jsonschema import Draft7Validator
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from auditor.formats import RenderOptions
from auditor.formats import csv as csv_format
from auditor.formats import html as html_format
from auditor.formats import markdown as md_format
from auditor.formats import sarif as sarif_format
from auditor.formats.safe import FORMULA_TRIGGERS
from auditor.model import AppResult, Report
from auditor.reports.scan import scan_report
from auditor.ruleset.ruleset import RuleSet
from tests.conftest import rules_with_policy

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
SCHEMA = TESTS / "schemas" / "sarif-schema-2.1.0.json"
HOSTILE_LABEL = '<script>alert(1)</script>=HYPERLINK("http://evil.invalid")'
POLICY_ID = "test-lending"

TEST_POLICY = f"""
policy:
  id: {POLICY_ID}
  name: "Test lending policy"
  jurisdiction: "Testland"
  instrument: "Instrument used only by the report-format tests"
  date: "2026"
  source: "https://example.invalid/test-policy"
  confidence: primary
  applies_to: "lending apps"
  summary: "Lending apps may not read the contact list nor request READ_SMS."
  summary_zh: "测试用政策摘要"
  requirements:
    - id: TEST-CONTACTS
      text: "A lending app may not read the contact list in code."
      text_zh: "测试要求一"
      concerns: behaviour
      condition: unconditional
      condition_text: null
      forbids: {{permissions: [], channels: {{contacts: code}}}}
      confidence: primary
    - id: TEST-SMS
      text: "A lending app may not request READ_SMS."
      text_zh: "测试要求二"
      concerns: permission
      condition: unconditional
      condition_text: null
      forbids: {{permissions: [android.permission.READ_SMS], channels: {{}}}}
      confidence: primary
"""


@pytest.fixture(scope="session")
def policy_rules(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    return rules_with_policy(tmp_path_factory, TEST_POLICY)


@pytest.fixture(scope="module")
def report(policy_rules: RuleSet) -> Report:
    return scan_report((FIXTURES,), policy_rules, (POLICY_ID,))


def result(report: Report, name: str) -> AppResult:
    return next(r for r in report.results if r.input.endswith(name))


def only(report: Report, *names: str) -> Report:
    return replace(report, results=tuple(result(report, n) for n in names))


# --- SARIF ---------------------------------------------------------------------------------------

def schema_validators() -> list[object]:
    """The validator the schema declares (draft-04), and Draft 7; both offline: the registry holds
    only this schema and has no retrieve function, so a remote $ref would fail instead of fetching."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    registry: Registry = Registry().with_resource(schema["id"], Resource.from_contents(schema, default_specification=DRAFT4))
    declared = validator_for(schema)
    declared.check_schema(schema)
    return [declared(schema, registry=registry), Draft7Validator(schema, registry=registry)]


def test_sarif_validates_against_the_official_schema(report: Report) -> None:
    log = json.loads(sarif_format.render(report, RenderOptions()))
    assert any(not r.ok for r in report.results), "the fixture scan should include error inputs"
    for validator in schema_validators():
        errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(log)]  # type: ignore[attr-defined]
        assert errors == []


def test_sarif_run_contents(report: Report) -> None:
    run = sarif_format.sarif_log(report)["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "auditor" and driver["version"] == report.tool_version and "rules" in driver
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert {info.id for info in report.rules} <= set(rule_ids)
    for res in run["results"]:
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
        assert res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    upload = next(rule for rule in driver["rules"] if rule["id"] == "CEA-CONTACTS-UPLOAD")
    assert upload["properties"]["security-severity"] == "8.0" and upload["helpUri"].startswith("https://")
    assert upload["help"]["markdown"] and upload["properties"]["channel"] == "contacts"
    failed = [n for n in run["invocations"][0]["toolExecutionNotifications"] if n["level"] == "error"]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert len(failed) == sum(not r.ok for r in report.results)


def test_sarif_levels_locations_and_fingerprints(report: Report) -> None:
    run = sarif_format.sarif_log(only(report, "apk/app_v2.apk"))["runs"][0]
    by_rule = {res["ruleId"]: res for res in run["results"]}
    upload, declared = by_rule["CEA-CONTACTS-UPLOAD"], by_rule["CEA-CONTACTS-DECLARED"]
    assert (upload["level"], by_rule["CEA-CONTACTS-CODE"]["level"], declared["level"]) == ("error", "warning", "note")
    uri = upload["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == sarif_format.artifact_uri(result(report, "apk/app_v2.apk").input) and uri.endswith("apk/app_v2.apk")
    logical = upload["locations"][0]["logicalLocations"][0]
    assert logical == {"kind": "function", "name": "sync(Landroid/content/Context;)V",
                       "fullyQualifiedName": "Lcom/cea/fixture/app/ContactSync;->sync(Landroid/content/Context;)V"}
    assert upload["properties"]["confidence"] == "high" and upload["properties"]["points"] > 0
    assert "logicalLocations" not in declared["locations"][0]
    again = sarif_format.sarif_log(only(report, "apk/app_v2.apk"))["runs"][0]["results"]
    prints = [res["partialFingerprints"]["primaryLocationLineHash"] for res in run["results"]]
    assert prints == [res["partialFingerprints"]["primaryLocationLineHash"] for res in again]
    assert len(set(prints)) == len(prints)


def test_sarif_policy_violations_are_results_with_rules(report: Report) -> None:
    run = sarif_format.sarif_log(only(report, "apk/app_v2.apk", "apk/benign.apk"))["runs"][0]
    policy_rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"] if rule["id"].startswith("POLICY/")}
    assert set(policy_rules) == {f"POLICY/{POLICY_ID}/TEST-CONTACTS", f"POLICY/{POLICY_ID}/TEST-SMS"}
    assert policy_rules[f"POLICY/{POLICY_ID}/TEST-SMS"]["fullDescription"]["text"] == "A lending app may not request READ_SMS."
    results = [res for res in run["results"] if res["ruleId"].startswith("POLICY/")]
    assert {res["properties"]["package"] for res in results} == {"com.cea.fixture.app"}
    assert all(res["level"] == "error" and res["properties"]["verdict"] == "violates" for res in results)


def test_sarif_artifact_uri_is_a_uri_reference() -> None:
    assert sarif_format.artifact_uri("tests/fixtures/apk/a b.apk") == "tests/fixtures/apk/a%20b.apk"
    assert sarif_format.artifact_uri("../shared/x.apk") == "../shared/x.apk"
    assert sarif_format.artifact_uri("/tmp/x.apk") == "file:///tmp/x.apk"


# --- HTML ----------------------------------------------------------------------------------------

class _Checker(HTMLParser):
    """Collects unbalanced tags and every attribute that could make a browser fetch something."""

    VOID = frozenset({"meta", "br", "img", "input", "link", "hr", "source"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.unbalanced: list[str] = []
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "srcset", "poster", "data", "action", "background") or (name == "href" and tag != "a"):
                self.loads.append(f"{tag} {name}={value}")
        if tag in ("script", "link", "iframe", "object", "embed", "img"):
            self.loads.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.unbalanced.append(tag)


def check_html(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    assert checker.unbalanced == [] and checker.stack == []
    assert checker.loads == []
    assert "@import" not in page and "url(" not in page
    assert '<meta charset="utf-8">' in page
    assert "default-src 'none'; style-src 'unsafe-inline'; img-src data:" in page
    return checker


def test_html_escapes_the_hostile_label(report: Report) -> None:
    page = html_format.render(only(report, "apk/hostile_label.apk"), RenderOptions())
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page and "<script" not in page
    check_html(page)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?https?://""", page.replace('<a href="https://', "<a "))


def test_html_whole_fixture_report_is_self_contained(report: Report) -> None:
    page = html_format.render(report, RenderOptions())
    check_html(page)
    assert page.count("<article") == len(report.results)
    assert page.count('<span class="num">') == sum(r.score is not None for r in report.results)
    assert "Harvests your contact list" in page
    assert "<details>" in page and "Ljava/net/URL;-&gt;openConnection()" in page


def test_html_not_assessable_warning_and_plain_sections(report: Report) -> None:
    packed = result(report, "apk/packer.apk")
    assert packed.facts is not None and not packed.facts.assessable
    page = html_format.render(only(report, "apk/packer.apk"), RenderOptions())
    assert 'class="warn"' in page and "Not fully assessable" in page
    for heading in ("What it can read", "What it means for the people in your contacts", "What you can do", "Who reads it"):
        assert heading in page
    credolab = html_format.render(only(report, "apk/credolab.apk"), RenderOptions())
    assert "Credolab SDK" in credolab and "band-high" in credolab


def test_html_in_chinese(report: Report) -> None:
    page = html_format.render(only(report, "apk/app_v2.apk", "bad/pe32.apk"), RenderOptions(lang="zh-CN"))
    check_html(page)
    assert '<html lang="zh-CN">' in page and "它能读取什么" in page and "无法分析" in page


# --- CSV -----------------------------------------------------------------------------------------

def csv_rows(report: Report) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_format.render(report, RenderOptions()))))


def test_csv_neutralises_formula_labels(report: Report) -> None:
    rows = {row["package"]: row for row in csv_rows(only(report, "apk/hostile_csv.apk", "apk/hostile_label.apk"))}
    assert rows["com.cea.fixture.hostilecsv"]["label"] == "'" + '=HYPERLINK("http://evil.invalid","x")'
    # Starts with '<': no spreadsheet runs it, so it is kept as it is (quoted by the csv module).
    assert rows["com.cea.fixture.hostilelabel"]["label"] == HOSTILE_LABEL
    for row in rows.values():
        assert not any(cell.lstrip()[:1] in FORMULA_TRIGGERS for cell in row.values())


@pytest.mark.parametrize(("start", "shown"), [("=", "'="), ("+", "'+"), ("-", "'-"), ("@", "'@"), (" =", "' ="),
                                              ("\t", "\\x09"), ("\r", "\\x0d")])
def test_csv_quotes_every_formula_start_in_app_strings(report: Report, start: str, shown: str) -> None:
    """A formula start gets a quote; a leading tab or CR is shown as an escape, which no spreadsheet runs."""
    base = result(report, "apk/hostile_label.apk")
    assert base.facts is not None
    manifest = replace(base.facts.manifest, label=f"{start}cmd|' /C calc'!A0", package=f"{start}evil.package")
    hostile = replace(base, facts=replace(base.facts, manifest=manifest))
    row = csv_rows(replace(report, results=(hostile,)))[0]
    assert row["label"] == f"{shown}cmd|' /C calc'!A0" and row["package"] == f"{shown}evil.package"


def test_csv_columns_and_values(report: Report) -> None:
    rows = csv_rows(only(report, "apk/app_v2.apk", "apk/credolab.apk", "bad/pe32.apk"))
    assert list(rows[0]) == list(csv_format.COLUMNS)
    v2, credolab, bad = rows
    assert (v2["contacts_level"], v2["sms_level"], v2["call_log_level"], v2["band"]) == ("upload", "code", "none", "high")
    assert v2["policies"] == f"{POLICY_ID}:violates" and "CEA-CONTACTS-UPLOAD" in v2["findings"].split(";")
    assert credolab["sdks"] == "Credolab" and credolab["assessable"] == "true"
    assert (v2["app_kind"], v2["headline"], credolab["app_kind"]) == ("other", "harvests", "unknown")
    assert bad["status"] == "error" and bad["error"].startswith("not an Android package") and bad["score"] == ""


# --- Markdown ------------------------------------------------------------------------------------

def test_markdown_escapes_html_and_table_breakers(report: Report) -> None:
    page = md_format.render(only(report, "apk/hostile_label.apk"), RenderOptions())
    assert "<script" not in page and "&lt;script&gt;" in page
    base = result(report, "apk/hostile_label.apk")
    assert base.facts is not None
    piped = replace(base, facts=replace(base.facts, manifest=replace(base.facts.manifest, label="a | b | c\nd")))
    page = md_format.render(replace(report, results=(piped,)), RenderOptions())
    row = next(line for line in page.splitlines() if "com.cea.fixture.hostilelabel" in line and line.startswith("|"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 9, "eight columns: nine unescaped pipes"
    assert "\\x0a" in row


def test_markdown_sections_and_paths(report: Report) -> None:
    page = md_format.render(only(report, "apk/app_v2.apk", "apk/packer.apk", "bad/pe32.apk"), RenderOptions())
    assert page.startswith("# Contact exposure report")
    for heading in ("## Summary", "### What it can read", "### Who reads it", "### Findings", "### Policy verdicts"):
        assert heading in page
    assert "1. `starts at Lcom/cea/fixture/app/MainActivity;->onCreate(Landroid/os/Bundle;)V`" in page
    assert "2. `Lcom/cea/fixture/app/ContactSync;->sync(Landroid/content/Context;)V @0x" in page
    assert "[severity high, confidence high] CEA-CONTACTS-UPLOAD +35" in page and f"**{POLICY_ID}**: violates" in page
    assert "not assessable:" in page and "**Could not be analysed**" in page
    zh = md_format.render(only(report, "apk/credolab.apk"), RenderOptions(lang="zh-CN"))
    assert "## 概览" in zh and "Credolab SDK" in zh


def test_markdown_code_span_survives_backticks() -> None:
    assert md_format.md_code("a`b") == "``a`b``"
    assert md_format.md_code("`x`") == "`` `x` ``"
    assert md_format.md_text("[x](javascript:alert(1))") == r"\[x\]\(javascript:alert\(1\)\)"
