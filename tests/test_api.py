"""The Python API (issue 15, "Missing"): only the public names of the `auditor` package are used here,
as a notebook or another tool would use them."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

import auditor

ROOT = Path(__file__).resolve().parent.parent
APK = ROOT / "tests" / "fixtures" / "apk"


def test_audit_a_path_returns_the_typed_result() -> None:
    result = auditor.audit(APK / "contacts_upload.apk")
    assert isinstance(result, auditor.AppResult) and result.ok
    assert result.score is not None and result.score.band == "high"
    assert result.facts is not None and result.facts.channels["contacts"].level == "upload"
    assert {f.rule_id for f in result.findings} >= {"CEA-CONTACTS-UPLOAD"}


def test_to_dict_is_the_json_contract() -> None:
    data = auditor.audit(str(APK / "contacts_upload.apk")).to_dict()
    assert data["band"] == "high" and data["package"] == "com.cea.fixture.contactsupload"
    assert json.loads(json.dumps(data)) == data, "plain JSON data"


def test_audit_bytes_gives_the_same_answer_as_the_path() -> None:
    data = (APK / "app_v2.apk").read_bytes()
    from_bytes = auditor.audit(data, name="v2.apk").to_dict()
    from_path = auditor.audit(APK / "app_v2.apk").to_dict()
    assert from_bytes["input"] == "v2.apk" and auditor.audit(data).input == "<bytes>"
    strip = lambda d: {k: v for k, v in d.items() if k not in ("input", "stats")}  # noqa: E731
    assert strip(from_bytes) == strip(from_path)


def test_policies_rules_and_limits() -> None:
    rules = auditor.load_rules()
    judged = auditor.audit(APK / "app_v2.apk", rules=rules, policies=["google-play-financial"])
    assert [v.policy for v in judged.policies] == ["google-play-financial"]
    assert len(auditor.audit(APK / "app_v2.apk", rules=rules, policies="all").policies) > 1
    assert auditor.audit(APK / "app_v2.apk", rules=rules).policies == ()
    with pytest.raises(KeyError):
        auditor.audit(APK / "app_v2.apk", rules=rules, policies=["no-such-pack"])
    tiny = auditor.audit(APK / "app_v2.apk", limits=auditor.Limits(max_unpacked_bytes=1000))
    assert tiny.status == "error" and tiny.error_kind == "limit-exceeded"


def test_bad_input_is_an_error_result_not_an_exception(tmp_path: Path) -> None:
    result = auditor.audit(b"MZ\x90\x00 not an apk")
    assert result.status == "error" and result.error_kind == "not-an-android-package"
    assert auditor.audit(tmp_path / "missing.apk").error_kind == "unreadable-file"


def test_own_rule_folder_replaces_a_builtin_rule(tmp_path: Path) -> None:
    builtin = next(r for r in auditor.load_rules().rules if r.id == "CEA-CONTACTS-DECLARED")
    own = tmp_path / "rules" / "exposure"
    own.mkdir(parents=True)
    source = Path(builtin.file).read_text(encoding="utf-8")
    changed = source.replace(f"points: {builtin.points}", f"points: {builtin.points + 1}", 1)
    assert changed != source
    (own / "contacts.yaml").write_text(changed, encoding="utf-8")
    rules = auditor.load_rules(tmp_path / "rules")
    assert next(r for r in rules.rules if r.id == "CEA-CONTACTS-DECLARED").points == builtin.points + 1


def test_package_is_typed() -> None:
    assert (ROOT / "auditor" / "py.typed").is_file()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    assert "py.typed" in package_data["auditor"]
    assert set(auditor.__all__) >= {"audit", "load_rules", "Limits", "AppResult"}
