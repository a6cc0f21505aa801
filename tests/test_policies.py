"""Policy packs: expected verdicts on fixtures, cannot-tell on packed code, scope, and sources."""

from __future__ import annotations

import pytest

from auditor.limits import Limits
from auditor.pipeline import audit_path
from tests.conftest import FIXTURES

PACKS = ["cn-necessary-pi-2021", "google-play-contacts", "google-play-financial", "google-play-sms-calllog",
         "id-ojk-afpi", "in-rbi-digital-lending", "ke-cbk-dcp-2022", "ng-fccpc-2025", "ph-sec-mc18-npc",
         "pk-secp-circular-15"]

# fixture -> verdict per pack, in PACKS order
EXPECTED = {
    "benign": ["complies"] * 10,
    "picker": ["complies"] * 10,
    "contacts_upload": ["cannot-tell", "complies", "violates", "complies", "violates", "violates", "cannot-tell",
                        "cannot-tell", "cannot-tell", "violates"],
    "sms_upload": ["cannot-tell", "complies", "complies", "cannot-tell", "violates", "complies", "complies",
                   "complies", "complies", "complies"],
    "packer": ["cannot-tell", "complies", "violates", "cannot-tell", "cannot-tell", "cannot-tell", "cannot-tell",
               "cannot-tell", "cannot-tell", "cannot-tell"],
}


@pytest.fixture(scope="module")
def verdicts(rules):
    out = {}
    for fixture in EXPECTED:
        result = audit_path(str(FIXTURES / "apk" / f"{fixture}.apk"), rules, Limits(), tuple(PACKS), debug=True)
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
    assert any(e.kind == "path" for v in rbi.violations for e in v.evidence)


def test_packed_app_is_cannot_tell_with_reason(verdicts) -> None:
    rbi = verdicts["packer"]["in-rbi-digital-lending"]
    assert rbi.verdict == "cannot-tell" and any("hidden" in r for r in rbi.reasons)


def test_scope_keeps_old_targets_out(verdicts) -> None:
    verdict = verdicts["contacts_upload"]["google-play-contacts"]
    assert verdict.verdict == "complies" and "API 37" in verdict.reasons[0]
