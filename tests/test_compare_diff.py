"""`compare` (many apps side by side) and `diff` (two versions of one app).

The fixture pair app_v1 -> app_v2 is the regression CI must catch: v2 adds READ_SMS and INTERNET
and starts uploading the contact list. The functions are tested directly; the test_cli_compare_*
tests run the same through `auditor` once the commands are registered on the main group.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from auditor.cli import main
from auditor.formats import RenderOptions
from auditor.model import AppResult, Evidence, Report, SdkUse
from auditor.reports import compare, diff
from auditor.reports.scan import scan_report
from auditor.ruleset.ruleset import RuleSet
from tests.conftest import rules_with_policy

FIXTURES = Path(__file__).resolve().parent / "fixtures"
APK = FIXTURES / "apk"
V1, V2 = APK / "app_v1.apk", APK / "app_v2.apk"
COMPARED = (APK / "benign.apk", V2, APK / "contacts_upload.apk", FIXTURES / "bad" / "pe32.apk", APK / "credolab.apk", V1)
POLICY_ID = "test-contacts"

TEST_POLICY = f"""
policy:
  id: {POLICY_ID}
  name: "Test contacts policy"
  jurisdiction: "Testland"
  instrument: "Instrument used only by the compare tests"
  date: "2026"
  source: "https://example.invalid/test-policy"
  confidence: primary
  applies_to: "lending apps"
  summary: "Lending apps may not upload the contact list."
  summary_zh: "测试用政策摘要"
  requirements:
    - id: TEST-UPLOAD
      text: "A lending app may not send the contact list off the phone."
      text_zh: "测试要求"
      concerns: behaviour
      condition: unconditional
      condition_text: null
      forbids: {{permissions: [], channels: {{contacts: upload}}}}
      confidence: primary
"""


@pytest.fixture(scope="module")
def policy_rules(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    return rules_with_policy(tmp_path_factory, TEST_POLICY)


@pytest.fixture(scope="module")
def report(policy_rules: RuleSet) -> Report:
    return scan_report(COMPARED, policy_rules, (POLICY_ID,))


def by_name(report: Report, name: str) -> AppResult:
    return next(r for r in report.results if r.input.endswith(name))


# --- diff ----------------------------------------------------------------------------------------

def test_diff_v1_to_v2_is_a_regression(report: Report) -> None:
    code, change = diff.diff_pair(by_name(report, "app_v1.apk"), by_name(report, "app_v2.apk"))
    assert code == diff.EXIT_UP == 1 and change is not None
    assert "android.permission.READ_SMS" in change.permissions_added and change.permissions_removed == ()
    contacts = next(c for c in change.channels if c.channel == "contacts")
    assert (contacts.old, contacts.new, contacts.direction) == ("declared", "upload", 1)
    assert "CEA-CONTACTS-UPLOAD" in {f.rule_id for f in change.new_findings}
    assert change.score_new > change.score_old


def test_diff_v2_to_v1_is_not(report: Report) -> None:
    code, change = diff.diff_pair(by_name(report, "app_v2.apk"), by_name(report, "app_v1.apk"))
    assert code == diff.EXIT_SAME == 0 and change is not None and not change.exposure_up
    assert "android.permission.READ_SMS" in change.permissions_removed and change.new_findings == ()
    assert {c.channel: c.direction for c in change.channels}["contacts"] == -1


def test_diff_of_an_unreadable_input_is_an_error(report: Report) -> None:
    assert diff.diff_pair(by_name(report, "app_v1.apk"), by_name(report, "pe32.apk")) == (diff.EXIT_ERROR, None)


def test_diff_renderings(report: Report) -> None:
    _code, change = diff.diff_pair(by_name(report, "app_v1.apk"), by_name(report, "app_v2.apk"))
    assert change is not None
    data = json.loads(diff.render(change, "json", "en"))
    assert data["permissions"]["added"] == ["android.permission.INTERNET", "android.permission.READ_SMS"]
    assert data["channels"]["contacts"] == {"old": "declared", "new": "upload", "direction": 1}
    assert data["exposure_up"] is True and data["score"]["delta"] == data["score"]["new"] - data["score"]["old"]
    assert {"rule_id", "severity", "confidence", "points", "evidence"} <= set(data["findings"]["new"][0])
    table = diff.render(change, "table", "en")
    assert "contacts: declared → upload (up)" in table and "Exposure went up." in table
    assert table.rstrip().endswith("It is not a malware or fraud verdict."), "every human-facing report says what it judges"
    markdown = diff.render(change, "markdown", "zh-CN")
    assert "## 新增权限" in markdown and "暴露程度升高" in markdown


# --- compare -------------------------------------------------------------------------------------

def test_compare_orders_by_score_and_groups_versions(report: Report) -> None:
    rows = compare.ordered(report.results)
    names = [Path(r.input).name for r in rows]
    assert names.index("app_v2.apk") == names.index("app_v1.apk") + 1, "versions of one package side by side"
    assert names[-1] == "pe32.apk", "inputs that could not be analysed come last"
    best: dict[str, int] = {}
    for r in rows[:-1]:
        assert r.facts is not None and r.score is not None
        best[r.facts.manifest.package] = max(best.get(r.facts.manifest.package, 0), r.score.value)
    group_scores = [best[r.facts.manifest.package] for r in rows[:-1] if r.facts]
    assert group_scores == sorted(group_scores, reverse=True)


def test_compare_policy_tally(report: Report) -> None:
    (tally,) = compare.tally(report.results)
    uploaders = {Path(r.input).name for r in report.results if r.facts and r.facts.channels["contacts"].level == "upload"}
    assert tally.policy == POLICY_ID and tally.violates == len(uploaders) and tally.total == sum(r.ok for r in report.results)


def test_compare_formats(report: Report) -> None:
    options = RenderOptions()
    table = compare.render(report, "table", options)
    assert POLICY_ID in table.splitlines()[0] and f"{POLICY_ID}: 3 of 5 app(s) violate" in table
    data = json.loads(compare.render(report, "json", options))
    assert data["policies"][0]["violates"] == 3 and data["apps"][0]["input"].endswith("app_v1.apk")
    rows = list(csv.DictReader(io.StringIO(compare.render(report, "csv", options))))
    assert [Path(r["input"]).name for r in rows] == [Path(r.input).name for r in compare.ordered(report.results)]
    markdown = compare.render(report, "markdown", options)
    assert "## Policy summary" in markdown and "| Fixture App |" in markdown
    page = compare.render(report, "html", RenderOptions(lang="zh-CN"))
    assert '<ul class="chart"' in page and "default-src 'none'" in page and "<script" not in page and "政策汇总" in page


# --- through the command line (pass once auditor.cli registers compare and diff) -----------------

def invoke(*args: str) -> Result:
    from auditor.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cli_compare_json_groups_versions() -> None:
    result = invoke("compare", "-f", "json", "-j", "2", str(APK / "benign.apk"), str(V2), str(V1))
    assert result.exit_code == 0
    inputs = [Path(a["input"]).name for a in json.loads(result.stdout)["apps"]]
    assert inputs == ["app_v1.apk", "app_v2.apk", "benign.apk"]


def test_cli_compare_error_input_exits_two() -> None:
    result = invoke("compare", str(V1), str(FIXTURES / "bad" / "pe32.apk"))
    assert result.exit_code == 2 and "not an Android package" in result.stdout


def test_cli_compare_diff_exit_codes() -> None:
    up = invoke("diff", str(V1), str(V2))
    assert up.exit_code == 1 and "READ_SMS" in up.stdout
    assert invoke("diff", "-f", "json", str(V2), str(V1)).exit_code == 0
    assert invoke("diff", str(V1), str(FIXTURES / "bad" / "pe32.apk")).exit_code == 2


def test_cli_compare_jsonl_and_sarif_follow_the_comparison_order() -> None:
    from click.testing import CliRunner

    from auditor.cli import main

    apps = [str(FIXTURES / "apk" / name) for name in ("benign.apk", "contacts_upload.apk", "app_v2.apk")]
    lines = CliRunner().invoke(main, ["compare", "--jobs", "1", "-f", "jsonl", *apps]).output.strip().splitlines()
    scores = [json.loads(line)["score"] for line in lines]
    assert scores == sorted(scores, reverse=True) and len(scores) == 3
    sarif = json.loads(CliRunner().invoke(main, ["compare", "--jobs", "1", "-f", "sarif", *apps]).output)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]


# --- what a release changed beyond findings --------------------------------------------------------

def _with_upload_path(r: AppResult, rule_id: str, method: str) -> AppResult:
    extra = Evidence("path", "contacts -> network (a second route)", method, path=(method, "Lcom/x/Net;->post()V"))
    return replace(r, findings=tuple(replace(f, evidence=(*f.evidence, extra)) if f.rule_id == rule_id else f
                                     for f in r.findings))


def test_diff_sees_a_new_upload_path_under_an_existing_rule(report: Report) -> None:
    v2 = by_name(report, "app_v2.apk")
    grown = _with_upload_path(v2, "CEA-CONTACTS-UPLOAD", "Lcom/cea/fixture/app/Other;->leak()V")
    code, change = diff.diff_pair(v2, grown)
    assert change is not None and code == diff.EXIT_UP, "same findings, same score, but a new way out"
    assert [(rule, e.location) for rule, e in change.new_uploads] == [("CEA-CONTACTS-UPLOAD", "Lcom/cea/fixture/app/Other;->leak()V")]
    assert "Lcom/cea/fixture/app/Other;->leak()V" in diff.render(change, "table", "en")
    assert json.loads(diff.render(change, "json", "en"))["uploads"]["new"][0]["rule_id"] == "CEA-CONTACTS-UPLOAD"
    assert diff.diff_pair(v2, v2)[0] == diff.EXIT_SAME


def test_diff_sees_signing_sdks_target_sdk_and_endpoints(report: Report) -> None:
    v2 = by_name(report, "app_v2.apk")
    assert v2.facts is not None
    sdk = SdkUse("Credolab", "credit-scoring", "credoapp.")
    manifest = replace(v2.facts.manifest, cert_sha256=("ab" * 32,), target_sdk=34)
    endpoint = Evidence("endpoint", "http://collect.example.invalid/up", "Lcom/x/Net;->post()V", detail="cleartext")
    findings = tuple(replace(f, evidence=(*f.evidence, endpoint)) if f.rule_id == "CEA-CONTACTS-UPLOAD" else f for f in v2.findings)
    changed = replace(v2, findings=findings,
                      facts=replace(v2.facts, manifest=manifest, code=replace(v2.facts.code, sdks=(*v2.facts.code.sdks, sdk))))
    _code, change = diff.diff_pair(v2, changed)
    assert change is not None and change.cert_changed and change.target_sdk == (29, 34)
    assert [s.name for s in change.sdks_added] == ["Credolab"] and change.endpoints_added == ("http://collect.example.invalid/up",)
    data = json.loads(diff.render(change, "json", "en"))
    assert data["signing"]["changed"] and data["target_sdk"] == {"old": 29, "new": 34}
    assert data["sdks"]["added"][0]["name"] == "Credolab" and data["endpoints"]["added"] == ["http://collect.example.invalid/up"]
    table = diff.render(change, "table", "en")
    assert "signing certificate changed" in table and "targetSdk: 29 → 34" in table and "SDKs added" in table
    zh = diff.render(change, "markdown", "zh-CN")
    assert "签名证书已更换" in zh and "新增的第三方SDK" in zh


def test_diff_html_and_sarif(report: Report) -> None:
    _code, change = diff.diff_pair(by_name(report, "app_v1.apk"), by_name(report, "app_v2.apk"))
    assert change is not None
    page = diff.render(change, "html", "en")
    assert "default-src 'none'" in page and "Exposure went up." in page and "<script" not in page
    states = {r["ruleId"]: r.get("baselineState") for r in json.loads(diff.render(change, "sarif", "en", report))["runs"][0]["results"]}
    assert states["CEA-CONTACTS-DECLARED"] == "unchanged" and states["CEA-CONTACTS-UPLOAD"] == "new"


def test_cli_diff_takes_the_scan_limits_and_new_formats(tmp_path: Path) -> None:
    limited = CliRunner().invoke(main, ["diff", "--max-entries", "2", str(V1), str(V2)])
    assert limited.exit_code == 2 and "limit --max-entries" in limited.output
    out = tmp_path / "d.html"
    assert CliRunner().invoke(main, ["diff", "-f", "html", "-o", str(out), str(V1), str(V2)]).exit_code == 1
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
