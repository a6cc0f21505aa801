"""What the human-facing outputs say (issue 15, defects 9 and 10): advice that fits the app, the
table's legend and width, severity and confidence named, Markdown that is not over-escaped, evidence
listed once, and the label a user knows the app by."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from wcwidth import wcswidth

from auditor.containers import open_input
from auditor.extract.manifest import read_piece_manifest
from auditor.formats import RenderOptions, story
from auditor.formats import html as html_format
from auditor.formats import markdown as md_format
from auditor.formats import table as table_format
from auditor.limits import Limits
from auditor.model import Report
from auditor.pipeline import audit_path
from auditor.reports import diff
from auditor.ruleset.ruleset import RuleSet, load_ruleset
from tests.fuzz.axml import TYPE_STRING, Element, write_axml

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def report_of(audit, *names: str) -> Report:
    return Report("0.1.0", "sha256:test", (), tuple(audit(n) for n in names))


# --- advice (story) ------------------------------------------------------------------------------

def test_urgent_advice_does_not_go_on_about_keeping_the_app(audit) -> None:
    lines = story.todo_lines(audit("apk/contacts_upload.apk"), "en")
    assert lines[0].startswith("Do not install")
    assert not any("If you keep it" in line for line in lines)


def test_advice_names_only_the_channels_the_app_reaches(audit) -> None:
    contacts_only = " ".join(story.todo_lines(audit("apk/contacts_code.apk"), "en"))
    assert "turn off Contacts." in contacts_only and "SMS" not in contacts_only and "Call logs" not in contacts_only
    sms_only = " ".join(story.todo_lines(audit("apk/sms_code.apk"), "en"))
    assert "Contact Picker" not in sms_only, "the picker is advice about contacts"


def test_a_zero_score_is_not_called_none_risk(audit) -> None:
    for render in (html_format.render, md_format.render):
        page = render(report_of(audit, "apk/benign.apk"), RenderOptions())
        assert "none risk" not in page and "no exposure found · score 0/100" in page


def test_upload_titles_speak_of_the_data_in_the_singular(rules: RuleSet) -> None:
    titles = {r.id: r.title for r in rules.rules}
    assert titles["CEA-CALLLOG-UPLOAD"] == "Code sends the call log off the phone"
    assert titles["CEA-CONTACTS-UPLOAD"] == "Code sends the contact list off the phone"
    assert "them" not in titles["CEA-SMS-UPLOAD"]


def test_findings_say_which_rating_is_severity_and_which_confidence(audit) -> None:
    out = table_format.render(report_of(audit, "apk/contacts_upload.apk"), RenderOptions(verbose=True, width=200))
    assert "[severity high, confidence high] CEA-CONTACTS-UPLOAD" in out
    assert not re.search(r"\[(low|medium|high)/(low|medium|high)\]", out)


# --- evidence and labels -------------------------------------------------------------------------

def test_no_finding_lists_the_same_evidence_twice(audit) -> None:
    for apk in sorted((FIXTURES / "apk").glob("*.apk")):
        for f in audit(f"apk/{apk.name}").findings:
            assert len(set(f.evidence)) == len(f.evidence), (apk.name, f.rule_id)


BLACKLOAN = CORPUS / "spyloan" / "blackloan_com.loan.test1_5bc922.apk"


@pytest.mark.skipif(not BLACKLOAN.is_file(), reason="../shared/corpus is not present")
def test_a_field_read_four_times_in_one_method_is_one_evidence_item(rules: RuleSet) -> None:
    result = audit_path(str(BLACKLOAN), rules, Limits())
    code = next(f for f in result.findings if f.rule_id == "CEA-CONTACTS-CODE")
    keys = [(e.kind, e.value, e.location) for e in code.evidence]
    assert len(keys) == len(set(keys))


def _label(application: Element) -> str | None:
    """The label read from a binary manifest holding `application` (built by the fuzz writer)."""
    manifest = Element("manifest", [(False, "package", TYPE_STRING, "com.x")], [application])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("AndroidManifest.xml", write_axml(manifest))
    piece = open_input(buffer.getvalue(), Limits()).pieces[0]
    return read_piece_manifest(piece, load_ruleset()).label


def test_label_falls_back_to_the_launcher_activity() -> None:
    def item(tag: str, name: str) -> Element:
        return Element(tag, [(True, "name", TYPE_STRING, name)])

    launcher = Element("activity", [(True, "label", TYPE_STRING, "System"), (True, "name", TYPE_STRING, ".A")],
                       [Element("intent-filter", [], [item("action", "android.intent.action.MAIN"),
                                                      item("category", "android.intent.category.LAUNCHER")])])
    assert _label(Element("application", [(True, "name", TYPE_STRING, ".App")], [launcher])) == "System"
    assert _label(Element("application", [(True, "label", TYPE_STRING, "Mine")], [launcher])) == "Mine"
    other = Element("activity", [(True, "label", TYPE_STRING, "Settings"), (True, "name", TYPE_STRING, ".B")])
    assert _label(Element("application", [], [other])) is None


OBAD = CORPUS / "other-malware" / "obad_a.apk"


@pytest.mark.skipif(not OBAD.is_file(), reason="../shared/corpus is not present")
def test_obad_is_labelled_as_its_launcher_shows_it(rules: RuleSet) -> None:
    assert audit_path(str(OBAD), rules, Limits()).facts.manifest.label == "System"


# --- Markdown ------------------------------------------------------------------------------------

def test_markdown_keeps_plain_colons_and_diff_bullets_flat(audit) -> None:
    _code, change = diff.diff_pair(audit("apk/app_v1.apk"), audit("apk/app_v2.apk"))
    assert change is not None
    page = diff.render(change, "markdown", "en")
    assert re.search(r"^- score: \d+ → \d+", page, re.MULTILINE), "plain colons are not escaped"
    assert "score\\:" not in page and "band\\:" not in page
    assert not re.search(r"^- [-+] ", page, re.MULTILINE), "a bullet starting with +/- renders as a nested list"
    assert md_format.md_text("see http://x.invalid") == "see http\\://x.invalid"


# --- table ---------------------------------------------------------------------------------------

def test_table_legend_explains_the_marks(audit) -> None:
    out = table_format.render(report_of(audit, "apk/undeclared.apk", "apk/packer.apk"), RenderOptions(width=200))
    assert "code!" in out and "(?)" in out
    assert "!    read in code without requesting the permission" in out
    assert "(?)  not fully assessable" in out
    plain = table_format.render(report_of(audit, "apk/benign.apk"), RenderOptions(width=200))
    assert "read in code without" not in plain, "no legend for marks that do not appear"


@pytest.mark.parametrize("width", [100, 120, 160])
def test_table_fits_the_width(audit, width: int) -> None:
    long_input = replace(audit("apk/hostile_label.apk"), input="/very/long/path/" * 12 + "app.apk")
    report = Report("0.1.0", "sha256:test", (), (long_input, audit("apk/credolab.apk"), audit("bad/pe32.apk")))
    out = table_format.render(report, RenderOptions(width=width))
    rows = out.split("\n\n")[0].splitlines()
    assert max(wcswidth(line) for line in rows) <= width
    assert any(line.startswith("…") and "app.apk" in line for line in rows), "a path keeps its file name"


def test_error_rows_do_not_widen_the_package_column(audit) -> None:
    ok = table_format.render(report_of(audit, "apk/benign.apk"), RenderOptions(width=300))
    mixed = table_format.render(report_of(audit, "apk/benign.apk", "bad/pe32.apk"), RenderOptions(width=300))
    assert ok.splitlines()[0].index("label") == mixed.splitlines()[0].index("label")
    assert "error: " in mixed and "not an Android package (a Windows executable)" in mixed.split("\n\n")[1]


def test_table_follows_the_terminal_width(audit, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    out = table_format.render(report_of(audit, "apk/credolab.apk", "apk/contacts_upload.apk"), RenderOptions())
    assert max(wcswidth(line) for line in out.splitlines()) <= 100
