"""The real malformed and split-bundle files of ../shared/corpus (skipped where it is absent, as in a
user's clone): every file gives a result or a one-line error, never an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.limits import Limits
from auditor.pipeline import audit_path

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
FILES = sorted(p for folder in ("malformed", "split-bundle") for p in (CORPUS / folder).glob("*")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not FILES, reason="../shared/corpus is not present")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_hostile_file_gives_result_or_one_line_error(rules, path: Path) -> None:
    result = audit_path(str(path), rules, Limits())
    assert result.error_kind != "internal-error", result.error
    if result.ok:
        assert result.score is not None
        if result.facts.anti_analysis or not result.facts.assessable:
            assert result.score.band != "none", "tampered or unreadable apps are never reported clean"
    else:
        assert result.error and "\n" not in result.error


OBAD = CORPUS / "other-malware" / "obad_a.apk"


@pytest.mark.skipif(not OBAD.is_file(), reason="../shared/corpus is not present")
def test_string_encrypted_obad_is_flagged_and_not_assessable(rules) -> None:
    result = audit_path(str(OBAD), rules, Limits())
    assert "string_encryption" in result.facts.flags
    assert not result.facts.assessable and result.score.band != "none"


SMSBYPASS = CORPUS / "benign-contacts-sms" / "fdroid_souch.smsbypass_9.apk"


@pytest.mark.skipif(not SMSBYPASS.is_file(), reason="../shared/corpus is not present")
def test_version_name_given_as_a_string_resource_is_resolved(rules) -> None:
    assert audit_path(str(SMSBYPASS), rules, Limits()).facts.manifest.version_name == "0.9"


XBOT = CORPUS / "sms-stealer" / "xbot_org.merry.core.apk"


@pytest.mark.skipif(not XBOT.is_file(), reason="../shared/corpus is not present")
def test_xbot_contacts_exposed_to_webview_javascript_are_reported(rules) -> None:
    """xAPI.getContacts, callable by the page through addJavascriptInterface (Xbot declares no
    targetSdkVersion, so every public method is), returns a list of contact objects whose fields hold
    the rows: a flow to the webview_bridge sink, not a flow_lost any more."""
    contacts = audit_path(str(XBOT), rules, Limits()).facts.channels["contacts"]
    assert contacts.level == "upload"
    flows = [e for e in contacts.evidence if e.kind == "flow"]
    assert any(e.value.startswith("contacts -> webview_bridge") and any("xAPI;->getContacts(" in s.method for s in e.steps)
               for e in flows), [e.value for e in flows]
    assert not [e for e in contacts.evidence if e.kind == "flow_lost" and "xAPI;->getContacts(" in e.value]
