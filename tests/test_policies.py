"""Policy packs: expected verdicts on fixtures, cannot-tell on packed code, scope, and sources."""

from __future__ import annotations

import pytest

from auditor.limits import Limits
from auditor.pipeline import audit_path
from tests.conftest import FIXTURES

PACKS = ["cn-necessary-pi-2021", "google-play-contacts", "google-play-financial", "google-play-sms-calllog",
         "id-ojk-afpi", "in-rbi-digital-lending", "ke-cbk-dcp-2022", "ng-fccpc-2025", "ph-sec-mc18-npc",
         "pk-secp-circular-15"]

# fixture -> verdict per pack, in PACKS order, judged as lending apps (--assume-lending); google-play-contacts
# binds only apps targeting API 37+, so it is not-applicable to every fixture (they target 29)
EXPECTED = {
    "benign": ["complies", "not-applicable", *["complies"] * 8],
    "picker": ["complies", "not-applicable", *["complies"] * 8],
    "contacts_upload": ["cannot-tell", "not-applicable", "violates", "complies", "violates", "violates", "cannot-tell",
                        "cannot-tell", "cannot-tell", "violates"],
    "sms_upload": ["cannot-tell", "not-applicable", "complies", "cannot-tell", "violates", "complies", "complies",
                   "complies", "complies", "complies"],
    "packer": ["cannot-tell", "not-applicable", "violates", "cannot-tell", "cannot-tell", "cannot-tell", "cannot-tell",
               "cannot-tell", "cannot-tell", "cannot-tell"],
}


@pytest.fixture(scope="module")
def verdicts(rules):
    out = {}
    for fixture in EXPECTED:
        result = audit_path(str(FIXTURES / "apk" / f"{fixture}.apk"), rules, Limits(), tuple(PACKS), debug=True,
                            assume_lending=True)
        out[fixture] = {v.policy: v for v in result.policies}
    return out


def test_every_pack_is_loaded_and_cited(rules) -> None:
    assert sorted(rules.policies) == PACKS
    for policy in rules.policies.values():
        data = policy.data
        assert len(data["source"]) >= 10 and data["date"]  # a URL or a full citation
        assert data["confidence"] in ("primary", "secondary-source")
        assert all(r["confidence"] in ("primary", "secondary-source") for r in data["requirements"])


def test_unverified_mappings_say_so(rules) -> None:
    assert rules.policies["id-ojk-afpi"].data["confidence"] == "secondary-source"
    fin = rules.policies["google-play-financial"].data["requirements"]
    assert all(r["confidence"] == "secondary-source" for r in fin)


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_verdicts(verdicts, fixture: str) -> None:
    assert [verdicts[fixture][p].verdict for p in PACKS] == EXPECTED[fixture]


def test_violation_carries_requirement_and_evidence(verdicts) -> None:
    rbi = verdicts["contacts_upload"]["in-rbi-digital-lending"]
    assert rbi.violations and all(v.evidence for v in rbi.violations)
    assert any(e.kind == "flow" for v in rbi.violations for e in v.evidence)


def test_packed_app_is_cannot_tell_with_reason(verdicts) -> None:
    rbi = verdicts["packer"]["in-rbi-digital-lending"]
    assert rbi.verdict == "cannot-tell" and any("hidden" in r for r in rbi.reasons)


def test_scope_keeps_old_targets_out(verdicts) -> None:
    verdict = verdicts["contacts_upload"]["google-play-contacts"]
    assert verdict.verdict == "not-applicable" and "API 37" in verdict.reasons[0]


def _policies(rules, fixture: str, spec: str) -> dict[str, object]:
    from auditor.policy import select

    result = audit_path(str(FIXTURES / "apk" / f"{fixture}.apk"), rules, Limits(), select(rules, spec), debug=True)
    return {v.policy: v for v in result.policies}


def test_lending_packs_do_not_bind_a_non_lending_app(rules) -> None:
    verdicts = _policies(rules, "contacts_upload", "all")
    lending = [p for p in PACKS if (rules.policies[p].data.get("scope") or {}).get("app_kind") == "lending"]
    assert len(lending) == 8
    for pack in lending:
        assert verdicts[pack].verdict == "not-applicable" and "lending" in verdicts[pack].reasons[0]
    assert verdicts["google-play-sms-calllog"].verdict == "complies"


def test_default_judges_lending_apps_only(rules) -> None:
    spyloan = _policies(rules, "lending_upload", "auto")
    assert sorted(spyloan) == PACKS and spyloan["google-play-financial"].verdict == "violates"
    picker = _policies(rules, "lending_picker", "auto")
    assert picker["google-play-financial"].verdict == "complies"
    assert all(v.verdict in ("complies", "not-applicable") for v in picker.values())
    assert _policies(rules, "contacts_upload", "auto") == {}
    assert _policies(rules, "lending_upload", "none") == {}


def test_unknown_kind_turns_lending_violations_into_cannot_tell(rules) -> None:
    verdict = _policies(rules, "packer", "auto")["google-play-financial"]
    assert verdict.verdict == "cannot-tell" and verdict.violations
    assert any("could not tell" in r for r in verdict.reasons)


def test_cli_policy_default_none_and_assume_lending(tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from auditor.cli import main

    def apps(*args: str) -> dict[str, dict[str, object]]:
        out = tmp_path / "r.json"
        CliRunner().invoke(main, ["scan", "--no-cache", "-j", "1", "-f", "json", "-o", str(out), *args], catch_exceptions=False)
        return {a["package"]: a for a in json.loads(out.read_text(encoding="utf-8"))["apps"]}

    lender, other = str(FIXTURES / "apk" / "lending_upload.apk"), str(FIXTURES / "apk" / "contacts_upload.apk")
    default = apps(lender, other)
    assert len(default["com.cea.fixture.lendingupload"]["policies"]) == len(PACKS)
    assert default["com.cea.fixture.contactsupload"]["policies"] == []
    assert all(a["policies"] == [] for a in apps("--policy", "none", lender).values())
    assumed = apps("--assume-lending", other)["com.cea.fixture.contactsupload"]
    assert assumed["app_kind"]["kind"] == "lending"
    assert {p["policy"]: p["verdict"] for p in assumed["policies"]}["google-play-financial"] == "violates"
