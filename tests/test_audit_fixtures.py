"""Each fixture app, built from smali in tests/fixtures/src, must get the channel levels it was built for."""

from __future__ import annotations

import pytest

from auditor.model import CHANNELS

# fixture: (contacts, sms, call_log)
EXPECTED_LEVELS = {
    "apk/benign.apk": ("none", "none", "none"),
    "apk/contacts_declared.apk": ("declared", "none", "none"),
    "apk/contacts_code.apk": ("code", "none", "none"),
    "apk/contacts_upload.apk": ("upload", "none", "none"),
    "apk/sms_declared.apk": ("none", "declared", "none"),
    "apk/sms_code.apk": ("none", "code", "none"),
    "apk/sms_upload.apk": ("none", "upload", "none"),
    "apk/calllog_declared.apk": ("none", "none", "declared"),
    "apk/calllog_code.apk": ("none", "none", "code"),
    "apk/calllog_upload.apk": ("none", "none", "upload"),
    "apk/undeclared.apk": ("code", "none", "none"),
    "apk/picker.apk": ("none", "none", "none"),
    "apk/multidex.apk": ("upload", "none", "none"),
    "apk/sms_receiver.apk": ("none", "upload", "none"),
    "apk/hidden_dex.apk": ("upload", "none", "none"),
    "apk/credolab.apk": ("upload", "none", "none"),
    "apk/app_v1.apk": ("declared", "none", "none"),
    "apk/app_v2.apk": ("upload", "code", "none"),  # the SMS read is discarded: no flow, only sink_nearby
    "apk/cordova_contacts.apk": ("upload", "none", "none"),
    "apk/cordova_unused.apk": ("declared", "none", "none"),
    "apk/rn_plain.apk": ("upload", "none", "none"),
    "apk/rn_hermes.apk": ("code", "none", "none"),
    "apk/flutter_contacts.apk": ("code", "none", "none"),
    "apk/xamarin_contacts.apk": ("code", "none", "none"),
    "apk/maui_blob.apk": ("code", "none", "none"),
    "apk/packer_unnamed.apk": ("declared", "declared", "none"),
    "bundles/bundle.xapk": ("upload", "none", "none"),
    "bundles/bundle.apks": ("upload", "none", "none"),
    "bundles/bundle_sai.apks": ("upload", "none", "none"),
    "bundles/bundle.apkm": ("upload", "none", "none"),
    "bundles/bundle_universal.apks": ("upload", "none", "none"),
    "bundles/bundle_nometa.apks": ("upload", "none", "none"),
    "bundles/bundle.aab": ("upload", "none", "none"),
    "bundles/feature_sync.dex": ("upload", "none", "none"),
    "bundles/feature_sync.jar": ("upload", "none", "none"),
    "bundles/library.aar": ("declared", "none", "declared"),
}

DISPATCH_FORMS = ["thread", "executor", "asynctask", "handler", "kotlin_lambda", "coroutine", "interface"]


@pytest.mark.parametrize("fixture", sorted(EXPECTED_LEVELS))
def test_channel_levels(audit, fixture: str) -> None:
    result = audit(fixture)
    assert result.status == "ok", result.error
    levels = tuple(result.facts.channels[c].level for c in CHANNELS)
    assert levels == EXPECTED_LEVELS[fixture]


@pytest.mark.parametrize("form", DISPATCH_FORMS)
def test_upload_through_dispatch_form_has_a_path(audit, form: str) -> None:
    result = audit(f"apk/dispatch_{form}.apk")
    state = result.facts.channels["contacts"]
    assert state.level == "upload"
    path = next(e for e in state.evidence if e.kind == "flow")
    assert len(path.path) >= 2, "the read and the sink meet only across methods"
    assert path.value.startswith("contacts -> network")


def test_same_method_upload_is_a_one_step_path(audit) -> None:
    path = next(e for e in audit("apk/contacts_upload.apk").facts.channels["contacts"].evidence if e.kind == "flow")
    assert len(path.path) == 1
    assert "ContactSync" in path.path[0]


def test_undeclared_access_is_flagged_only_without_permission(audit) -> None:
    assert audit("apk/undeclared.apk").facts.channels["contacts"].undeclared_access
    assert not audit("apk/contacts_code.apk").facts.channels["contacts"].undeclared_access
    assert "CEA-CONTACTS-UNDECLARED" in {f.rule_id for f in audit("apk/undeclared.apk").findings}


def test_picker_is_not_harvesting_but_is_recorded(audit) -> None:
    result = audit("apk/picker.apk")
    assert result.score.band == "none"
    assert result.facts.code.pickers, "the picker use is kept as evidence"


def test_multidex_evidence_names_second_dex(audit) -> None:
    evidence = audit("apk/multidex.apk").facts.channels["contacts"].evidence
    assert any(e.dex == "classes2.dex" for e in evidence if e.kind != "permission")


def test_hidden_dex_is_scanned_and_flagged(audit) -> None:
    result = audit("apk/hidden_dex.apk")
    assert "hidden_dex" in result.facts.flags
    assert any(e.dex == "assets/payload.dex" for e in result.facts.channels["contacts"].evidence)


@pytest.mark.parametrize("bundle", ["bundle.xapk", "bundle.apks", "bundle_sai.apks", "bundle.apkm"])
def test_bundle_evidence_names_its_split(audit, bundle: str) -> None:
    result = audit(f"bundles/{bundle}")
    assert result.facts.manifest.package == "com.cea.fixture.bundle"
    assert result.container == bundle.rsplit(".", 1)[1]
    code = [e for e in result.facts.channels["contacts"].evidence if e.kind != "permission"]
    assert code and all(e.split == "feature_sync" for e in code)


def test_config_split_implied_permissions_are_not_counted(audit) -> None:
    permissions = audit("bundles/bundle.apks").facts.manifest.permissions
    assert not any(p.implied and p.split for p in permissions)
    assert "android.permission.READ_PHONE_STATE" not in {p.name for p in permissions}


def test_sms_receiver_and_forwarding(audit) -> None:
    result = audit("apk/sms_receiver.apk")
    assert {"sms_receiver", "sms_send"} <= set(result.facts.flags)
    path = next(e for e in result.facts.channels["sms"].evidence if e.kind == "flow")
    assert path.value.startswith("sms -> sms")


def test_notification_listener_is_flagged(audit) -> None:
    assert "notification_listener" in audit("apk/notification_listener.apk").facts.flags


def test_manifest_facts_of_a_fixture(audit) -> None:
    m = audit("apk/app_v2.apk").facts.manifest
    assert (m.package, m.version_name, m.version_code) == ("com.cea.fixture.app", "2.0", 2)
    assert m.label == "Fixture App"
    assert m.cert_sha256 and len(m.cert_sha256[0]) == 64


@pytest.mark.parametrize(("fixture", "words"), [
    ("bad/not_a_zip.apk", "text file"),
    ("bad/pe32.apk", "Windows executable"),
    ("bad/empty.apk", "empty zip"),
])
def test_not_an_android_package(audit, fixture: str, words: str) -> None:
    result = audit(fixture)
    assert result.status == "error"
    assert result.error_kind == "not-an-android-package"
    assert words in result.error and "\n" not in result.error


def test_score_is_traceable_and_capped(audit) -> None:
    for fixture in EXPECTED_LEVELS:
        result = audit(fixture)
        total = sum(item.points for item in result.score.items)
        assert result.score.value == min(100, total) or result.score.capped_by
        assert {i.rule_id for i in result.score.items} <= {f.rule_id for f in result.findings}


def test_declared_scores_lower_than_code_lower_than_upload(audit) -> None:
    for prefix in ("contacts", "sms", "calllog"):
        scores = [audit(f"apk/{prefix}_{level}.apk").score.value for level in ("declared", "code", "upload")]
        assert scores[0] < scores[1] < scores[2]


def test_flow_says_the_data_was_serialised_on_the_way(audit) -> None:
    flow = next(e for e in audit("apk/contacts_upload.apk").facts.channels["contacts"].evidence if e.kind == "flow")
    assert flow.detail is not None and "serialised" in flow.detail
    assert flow.endpoints == ("https://collect.example.invalid/upload",)


def test_flow_names_its_entry_point_and_the_columns_taken(audit) -> None:
    evidence = audit("apk/sms_upload.apk").facts.channels["sms"].evidence
    flow = next(e for e in evidence if e.kind == "flow")
    assert flow.entry_point is not None and flow.entry_point.endswith("MainActivity;->onCreate(Landroid/os/Bundle;)V")
    assert [s.action.split(" ")[0] for s in flow.steps] == ["queries", "gets", "passes", "sends"]
    assert any(e.kind == "data_taken" and e.value == "body" for e in evidence)


def test_a_discarded_read_next_to_a_send_is_only_nearby(audit) -> None:
    sms = audit("apk/app_v2.apk").facts.channels["sms"]
    assert sms.level == "code"
    assert any(e.kind == "sink_nearby" for e in sms.evidence) and not any(e.kind == "flow" for e in sms.evidence)


def test_sdk_reader_is_named(audit) -> None:
    state = audit("apk/credolab.apk").facts.channels["contacts"]
    assert any(o.kind == "sdk" and o.sdk == "Credolab" for o in state.readers)
    assert not any(o.kind == "sdk" for o in audit("apk/contacts_upload.apk").facts.channels["contacts"].readers)
