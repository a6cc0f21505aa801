"""The command line as users and CI pipelines meet it: exit codes, report contract, streams."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from auditor.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BENIGN = str(FIXTURES / "apk" / "benign.apk")
UPLOAD = str(FIXTURES / "apk" / "contacts_upload.apk")
NOT_APK = str(FIXTURES / "bad" / "not_a_zip.apk")


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_clean_app_exits_zero_with_table() -> None:
    result = run("scan", "--jobs", "1", BENIGN)
    assert result.exit_code == 0
    assert "com.cea.fixture.benign" in result.output


def test_fail_on_band_exits_one() -> None:
    assert run("scan", "--jobs", "1", "--fail-on", "high", UPLOAD).exit_code == 1
    assert run("scan", "--jobs", "1", "--fail-on", "critical", UPLOAD).exit_code == 0


def test_bad_input_exits_two_and_batch_goes_on() -> None:
    result = run("scan", "--jobs", "2", "--fail-on", "low", "-f", "json", NOT_APK, UPLOAD)
    assert result.exit_code == 2
    apps = json.loads(result.stdout)["apps"]
    assert [a["status"] for a in apps] == ["error", "ok"]
    assert apps[0]["error"].startswith("not an Android package")


def test_missing_path_is_an_error_result() -> None:
    result = run("scan", "-f", "json", "no/such/file.apk")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["apps"][0]["error"] == "no such file or directory"


def test_json_contract(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run("scan", "--jobs", "1", "-f", "json", "-o", str(out), UPLOAD)
    assert result.exit_code == 0 and result.stdout == ""
    report = json.loads(out.read_text())
    assert report["schema_version"] == "1" and report["tool"]["name"] == "auditor"
    assert report["rules_digest"].startswith("sha256:")
    app = report["apps"][0]
    for key in ("input", "sha256", "container", "status", "error", "package", "label", "version_name", "version_code",
                "min_sdk", "target_sdk", "permissions", "assessable", "score", "band", "channels", "findings"):
        assert key in app
    contacts = app["channels"]["contacts"]
    assert {k: contacts[k] for k in ("level", "undeclared_access", "readers")} == {"level": "upload", "undeclared_access": False, "readers": ["app"]}
    assert contacts["flows"][0]["endpoints"] == ["https://collect.example.invalid/upload"]
    assert contacts["flows"][0]["steps"][0] == {"method": contacts["flows"][0]["location"], "offset": 15, "action": "queries contacts"}
    assert [e["value"] for e in contacts["endpoints"]] == ["https://collect.example.invalid/upload"]
    finding = next(f for f in app["findings"] if f["rule_id"] == "CEA-CONTACTS-UPLOAD")
    assert finding["confidence"] == "high" and finding["points"] > 0
    assert finding["evidence"][0]["kind"] == "flow" and finding["evidence"][0]["location"].startswith("L")


def test_jsonl_one_line_per_app() -> None:
    result = run("scan", "--jobs", "1", "-f", "jsonl", BENIGN, UPLOAD)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["schema_version"] == "1" for line in lines)


def test_verbose_table_shows_findings_and_path() -> None:
    result = run("-v", "scan", "--jobs", "1", UPLOAD)
    assert "CEA-CONTACTS-UPLOAD" in result.output and "flow:" in result.output
    assert "starts at Lcom/cea/fixture/contactsupload/MainActivity;->onCreate" in result.output


def test_rules_commands(tmp_path: Path) -> None:
    assert "CEA-CONTACTS-UPLOAD" in run("rules", "list").output
    shown = run("rules", "show", "CEA-CONTACTS-UPLOAD").output
    assert "defined in" in shown and "sources:" in shown
    assert run("rules", "validate").exit_code == 0
    (tmp_path / "bad.yaml").write_text("rules:\n  - id: X-1\n")
    bad = run("rules", "validate", str(tmp_path))
    assert bad.exit_code == 2 and "bad.yaml:2:" in bad.output


def test_terminal_output_escapes_control_characters() -> None:
    from auditor.formats.safe import terminal_safe

    assert terminal_safe("evil\x1b[31mred\u202e") == "evil\\x1b[31mred\\u202e"


def test_every_evidence_item_has_an_origin() -> None:
    apps = json.loads(run("scan", "--jobs", "1", "-f", "json", str(FIXTURES / "apk" / "credolab.apk")).stdout)["apps"]
    evidence = [e for f in apps[0]["findings"] for e in f["evidence"]]
    assert evidence and all(e["origin"]["kind"] in ("app", "sdk", "library") for e in evidence)
    assert any(e["origin"] == {"kind": "sdk", "sdk": "Credolab"} for e in evidence)


def test_cache_serves_a_rerun_and_can_be_cleared(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path))
    first = run("scan", "--jobs", "1", "-f", "json", UPLOAD)
    second = run("scan", "--jobs", "1", "-f", "json", UPLOAD)
    strip = lambda out: [{k: v for k, v in a.items() if k != "stats"} for a in json.loads(out)["apps"]]  # noqa: E731
    assert strip(first.stdout) == strip(second.stdout)
    assert "removed 1 cached result" in run("cache", "clear").output
    assert "removed 0 cached result" in run("cache", "clear").output
    run("scan", "--jobs", "1", "--no-cache", UPLOAD)
    assert "removed 0 cached result" in run("cache", "clear").output


def test_baseline_fails_only_on_new_findings(tmp_path: Path) -> None:
    v1 = str(FIXTURES / "apk" / "app_v1.apk")
    v2 = str(FIXTURES / "apk" / "app_v2.apk")
    baseline = tmp_path / "baseline.json"
    run("scan", "--jobs", "1", "-f", "json", "-o", str(baseline), v2)
    same = run("scan", "--jobs", "1", "--fail-on", "low", "--baseline", str(baseline), "-f", "json", v2)
    assert same.exit_code == 0, "everything v2 has is already in the baseline"
    states = {f["baseline_state"] for f in json.loads(same.stdout)["apps"][0]["findings"]}
    assert states == {"unchanged"}
    older = tmp_path / "older.json"
    run("scan", "--jobs", "1", "-f", "json", "-o", str(older), v1)
    grown = run("scan", "--jobs", "1", "--fail-on", "low", "--baseline", str(older), "-f", "sarif", v2)
    assert grown.exit_code == 1
    sarif = json.loads(grown.stdout)
    assert {r.get("baselineState") for r in sarif["runs"][0]["results"]} >= {"new", "unchanged"}


def test_unreadable_baseline_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("not json\n{")
    result = CliRunner().invoke(main, ["scan", "--baseline", str(bad), BENIGN])
    assert result.exit_code == 2 and "--baseline" in result.output


def test_chinese_table_uses_chinese_rule_titles() -> None:
    out = run("-v", "scan", "--jobs", "1", "--lang", "zh-CN", UPLOAD).output
    assert "代码将通讯录发送出手机" in out and "通讯录" in out


def test_verbose_and_quiet_also_work_after_scan() -> None:
    assert "CEA-CONTACTS-UPLOAD" in run("scan", "--jobs", "1", UPLOAD, "-v").output
    assert run("scan", "--jobs", "1", "-q", BENIGN).exit_code == 0
