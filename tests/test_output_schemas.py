"""Every machine-readable output validates against the JSON Schema shipped in auditor/schemas/
(issue 15, "Missing"): scan JSON and JSONL, compare and diff, for every fixture and for the
committed sample reports."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.formats import RenderOptions
from auditor.formats import json as json_format
from auditor.formats import jsonl as jsonl_format
from auditor.model import Report
from auditor.reports import compare, diff
from auditor.reports.scan import scan_report
from auditor.ruleset.ruleset import RuleSet
from auditor.schemas import OUTPUTS, errors, schema, validator

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SAMPLES = ROOT / "sample_reports"


@pytest.fixture(scope="module")
def report(rules: RuleSet) -> Report:
    return scan_report((FIXTURES,), rules, ("auto",))


def test_schemas_are_valid_draft_2020_12() -> None:
    from jsonschema import Draft202012Validator

    for name in ("common", *OUTPUTS):
        Draft202012Validator.check_schema(schema(name))
        assert validator(name) is not None


def test_scan_json_of_every_fixture_validates(report: Report) -> None:
    assert any(not r.ok for r in report.results)
    assert errors("scan", json.loads(json_format.render(report, RenderOptions()))) == []
    interrupted = replace(report, incomplete=(3, 10))
    assert errors("scan", json.loads(json_format.render(interrupted, RenderOptions()))) == []


def test_jsonl_lines_validate(report: Report) -> None:
    lines = jsonl_format.render(report, RenderOptions()).splitlines()
    assert len(lines) == len(report.results)
    assert [e for line in lines for e in errors("scan-line", json.loads(line))] == []


def test_compare_json_validates(report: Report) -> None:
    assert errors("compare", json.loads(compare.render(report, "json", RenderOptions()))) == []


def test_diff_json_validates(audit) -> None:
    for old, new in (("apk/app_v1.apk", "apk/app_v2.apk"), ("apk/app_v2.apk", "apk/app_v1.apk")):
        _code, change = diff.diff_pair(audit(old), audit(new))
        assert change is not None
        assert errors("diff", json.loads(diff.render(change, "json", "en"))) == []


def test_the_schema_catches_a_broken_report(report: Report) -> None:
    data = json.loads(json_format.render(report, RenderOptions()))
    data["apps"][0]["band"] = "very high"
    del data["apps"][1]["findings"]
    found = errors("scan", data)
    assert any(e.startswith("apps/0/band") for e in found) and any("findings" in e for e in found)


@pytest.mark.parametrize("sample,name", [("corpus.json", "scan"), ("compare.json", "compare"), ("diff-app_v1-app_v2.json", "diff")])
def test_sample_reports_validate(sample: str, name: str) -> None:
    path = SAMPLES / sample
    if not path.is_file():
        pytest.skip(f"sample_reports/{sample} not generated yet")
    assert errors(name, json.loads(path.read_text(encoding="utf-8"))) == []


def test_sample_jsonl_validates() -> None:
    lines = (SAMPLES / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines and [e for line in lines for e in errors("scan-line", json.loads(line))] == []
