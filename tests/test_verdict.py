"""The headline verdict, the reading/sending score and its caps, on the verdict fixtures."""

from __future__ import annotations

import html
from dataclasses import replace

import pytest

from auditor.evaluate import evaluate
from auditor.extract.facts import assemble
from auditor.i18n import text
from auditor.model import PermissionUse
from auditor.scoring import caps_for, score

HEADLINES = {
    "lending_upload": "spyloan-pattern", "contacts_upload": "harvests", "sms_receiver": "harvests",
    "sms_backup_offline": "reads-cannot-send", "notification_listener": "reads-cannot-send", "packer": "hidden-code",
    "packer_noperm": "hidden-code", "contacts_declared": "only-asks", "lending_picker": "no-exposure", "benign": "no-exposure",
    "picker": "no-exposure",
}


@pytest.mark.parametrize(("fixture", "expected"), sorted(HEADLINES.items()))
def test_headline(audit, fixture: str, expected: str) -> None:
    result = audit(f"apk/{fixture}.apk")
    assert result.headline is not None and result.headline.id == expected
    if expected != "no-exposure":
        assert result.headline.evidence, "a headline names the evidence that triggered it"


def test_spyloan_headline_names_channel_in_both_languages(audit) -> None:
    from auditor.formats import story

    result = audit("apk/lending_upload.apk")
    assert story.verdict_title(result, "en") == "Spyloan pattern: a lending app that sends your contact list off the phone"
    assert "通讯录" in story.verdict_title(result, "zh-CN") and "爆通讯录" in story.verdict_title(result, "zh-CN")
    assert any(e.kind == "lending" for e in result.headline.evidence) and any(e.kind == "flow" for e in result.headline.evidence)


def test_every_headline_has_texts_and_the_last_always_holds(rules) -> None:
    assert "when" not in rules.headlines[-1]
    for row in rules.headlines:
        for lang in ("en", "zh-CN"):
            assert text(f"verdict.{row['id']}", lang)


def test_a_hidden_app_without_channel_permissions_is_low_never_none(audit) -> None:
    result = audit("apk/packer_noperm.apk")
    assert result.score.band == "low" and result.score.value > 0 and result.score.capped_by == ("CAP-NOTHING-READ",)


def test_an_app_that_cannot_send_is_at_most_medium(audit, rules) -> None:
    """app_v2 reads and uploads contacts and SMS (100); without INTERNET its reads cannot leave."""
    facts = audit("apk/app_v2.apk").facts
    offline = replace(facts.manifest, permissions=tuple(p for p in facts.manifest.permissions
                                                         if p.name != "android.permission.INTERNET"))
    again = assemble(offline, facts.code, rules, facts.anti_analysis, True)
    capped = score(evaluate(again, rules), rules.scoring, caps_for(again, rules.scoring))
    assert capped.band == "medium" and capped.value == 49 and "CAP-NO-WAY-OUT" in capped.capped_by
    assert sum(i.points for i in capped.items) > capped.value  # every point still listed


def test_reading_counts_less_than_sending(rules) -> None:
    points = {r.id: r.points for r in rules.rules}
    for channel in ("CONTACTS", "SMS", "CALLLOG"):
        assert points[f"CEA-{channel}-DECLARED"] < points[f"CEA-{channel}-CODE"] < points[f"CEA-{channel}-UPLOAD"]
        alone = points[f"CEA-{channel}-DECLARED"] + points[f"CEA-{channel}-CODE"] + points[f"CEA-{channel}-UPLOAD"]
        assert alone == 50, "one channel read and sent off the phone is high on its own"
    assert points["CEA-SMS-SEND"] == 0, "sending SMS is reported, not scored as contact exposure"


GRANTS = ("android.permission.INTERNET", "android.permission.SEND_SMS", "android.permission.READ_CONTACTS",
          "android.permission.WRITE_EXTERNAL_STORAGE")


@pytest.mark.parametrize("fixture", ["contacts_code", "sms_backup_offline", "app_v2", "packer_noperm", "packer",
                                     "notification_listener", "undeclared", "benign"])
def test_more_permissions_never_lower_the_score(audit, rules, fixture: str) -> None:
    """Monotone: caps are lifted, never added, by evidence."""
    result = audit(f"apk/{fixture}.apk")
    facts = result.facts
    more = replace(facts.manifest, permissions=(*facts.manifest.permissions, *(PermissionUse(p) for p in GRANTS)))
    again = assemble(more, facts.code, rules, facts.anti_analysis, True)
    assert score(evaluate(again, rules), rules.scoring, caps_for(again, rules.scoring)).value >= result.score.value


def test_non_lending_uploader_policies_not_applicable(rules) -> None:
    from auditor.limits import Limits
    from auditor.pipeline import audit_path
    from auditor.policy import select
    from tests.conftest import FIXTURES

    result = audit_path(str(FIXTURES / "apk" / "contacts_upload.apk"), rules, Limits(), select(rules, "all"))
    assert result.headline.id == "harvests"
    assert {v.policy: v.verdict for v in result.policies}["google-play-financial"] == "not-applicable"


def test_lending_picker_complies(rules) -> None:
    from auditor.limits import Limits
    from auditor.pipeline import audit_path
    from tests.conftest import FIXTURES

    result = audit_path(str(FIXTURES / "apk" / "lending_picker.apk"), rules, Limits(), ("auto",))
    verdicts = {v.policy: v.verdict for v in result.policies}
    assert verdicts["google-play-financial"] == "complies" and "violates" not in verdicts.values()


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_human_formats_lead_with_headline_score_and_policies(audit, rules, lang: str) -> None:
    """Table, Markdown and HTML put the headline, score and policy verdicts first, and say what they judge."""
    from auditor.formats import RenderOptions, formatter, story
    from auditor.limits import Limits
    from auditor.model import Report
    from auditor.pipeline import audit_path
    from tests.conftest import FIXTURES

    lender = audit_path(str(FIXTURES / "apk" / "lending_upload.apk"), rules, Limits(), ("auto",))
    premium = audit("apk/sms_receiver.apk")
    report = Report("0", rules.digest, rules.infos(), (lender, premium))
    title, banner = story.verdict_title(lender, lang), story.policy_banner(lender, lang)
    for fmt in ("table", "markdown", "html"):
        raw = formatter(fmt)(report, RenderOptions(lang=lang, width=400))
        page = html.unescape(raw).replace("\\", "")  # the formats' escaping aside
        assert story.scope_line(lang) in page
        assert story.verdict_short(lender, lang) in page and "google-play-financial" in page
        if fmt != "table":
            body = page[page.index(title):]
            assert body.index(title) < body.index(story.score_line(lender, lang))
            assert banner.split("(")[0] in body[:2000], "the policy banner stands by the score"
        assert text("unscored.sms_send", lang) in page


def test_explain_headlines_and_caps(rules) -> None:
    from auditor.explain import explain

    spyloan = explain(rules, "spyloan-pattern")
    assert spyloan is not None and spyloan[0][0].startswith("Spyloan pattern") and "app_kind: lending" in spyloan[1][1][0]
    cap = explain(rules, "cap-no-way-out", "zh-CN")
    assert cap is not None and cap[0][0] == "CAP-NO-WAY-OUT (max 49)" and "flag: can_send" in cap[1][1][0]
    assert explain(rules, "no-exposure") is not None
