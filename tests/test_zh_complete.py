"""--lang zh-CN says everything in Chinese (issue 15, defect 7).

Every human-facing format is rendered in zh-CN for every fixture (apps, bundles, malformed files)
with every shipped policy pack, and no catalogued English sentence may remain: no English text
of auditor/i18n/en.yaml, no rule title or rationale, no policy requirement, condition or summary.
A new English text without its translation fails here.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import yaml

from auditor import explain
from auditor.formats import RenderOptions
from auditor.formats import html as html_format
from auditor.formats import markdown as md_format
from auditor.formats import sarif as sarif_format
from auditor.formats import table as table_format
from auditor.i18n import localize
from auditor.model import Report
from auditor.reports import compare, diff
from auditor.reports.scan import scan_report
from auditor.ruleset.ruleset import RuleSet

FIXTURES = Path(__file__).resolve().parent / "fixtures"
I18N = Path(__file__).resolve().parent.parent / "auditor" / "i18n"
ZH = "zh-CN"
_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def _table(lang: str) -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load((I18N / f"{lang}.yaml").read_text(encoding="utf-8"))
    return data


def english_phrases(rules: RuleSet) -> set[str]:
    """Catalogued English texts, cut at their placeholders; only pieces of two words or more, so a
    shared technical word ('SDK', 'dex') is not mistaken for an untranslated sentence."""
    en, zh = _table("en"), _table(ZH)
    texts = [value for key, value in en.items() if zh.get(key) != value]
    texts += [r.title for r in rules.rules if r.title_zh] + [r.rationale for r in rules.rules if r.rationale_zh]
    for policy in rules.policies.values():
        texts += [policy.data["summary"]]
        for req in policy.data["requirements"]:
            texts += [req["text"], *([req["condition_text"]] if req.get("condition_text") else [])]
    pieces = {piece.strip(" .,:;()") for t in texts for piece in _PLACEHOLDER.split(t)}
    return {p for p in pieces if re.search(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}", p)}


@pytest.fixture(scope="module")
def report(rules: RuleSet) -> Report:
    return scan_report((FIXTURES,), rules, tuple(rules.policies))


def by_name(report: Report, name: str):
    return next(r for r in report.results if r.input.endswith(name))


def zh_outputs(report: Report, rules: RuleSet) -> dict[str, str]:
    """Every human-facing text the tool produces in zh-CN, by name."""
    zh = RenderOptions(lang=ZH, width=400)
    verbose = RenderOptions(lang=ZH, width=400, verbose=True)
    out = {"table": table_format.render(report, zh), "table -v": table_format.render(report, verbose),
           "markdown": md_format.render(report, zh), "html": html.unescape(html_format.render(report, zh))}
    log = sarif_format.sarif_log(report, ZH)["runs"][0]
    out["sarif messages"] = json.dumps([r["message"] for r in log["results"]]
                                       + [n["message"] for n in log["invocations"][0]["toolExecutionNotifications"]],
                                       ensure_ascii=False)
    for fmt in ("table", "markdown", "html"):
        out[f"compare {fmt}"] = html.unescape(compare.render(report, fmt, zh))
    for old, new in (("app_v1.apk", "app_v2.apk"), ("app_v2.apk", "app_v1.apk")):
        _code, change = diff.diff_pair(by_name(report, old), by_name(report, new))
        assert change is not None
        for fmt in diff.FORMATS:
            if fmt not in ("json", "sarif"):
                out[f"diff {fmt} {old}"] = html.unescape(diff.render(change, fmt, ZH))
    subjects = [r.id for r in rules.rules] + list(rules.policies) + list(rules.permissions)
    out["explain"] = "\n".join(explain.render(explain.explain(rules, s, ZH) or []) for s in subjects)
    return out


def _without(output: str, details: list[str]) -> str:
    for detail in details:
        output = output.replace(detail, "")
    return output


def test_no_catalogued_english_remains_in_zh_outputs(report: Report, rules: RuleSet) -> None:
    phrases = english_phrases(rules)
    assert len(phrases) > 100, "the catalogue should hold every English sentence"
    assert any(not r.ok for r in report.results) and any(r.facts and not r.facts.assessable for r in report.results)
    # the reader's technical detail is kept verbatim (and escaped in Markdown)
    details = [x for r in report.results if r.error for x in (r.error, md_format.md_text(r.error))]
    outputs = {name: _without(output, details) for name, output in zh_outputs(report, rules).items()}
    left = {name: sorted(p for p in phrases if p in output) for name, output in outputs.items()}
    assert {name: found for name, found in left.items() if found} == {}


def test_every_english_text_has_a_chinese_one() -> None:
    assert set(_table("en")) == set(_table(ZH))


def test_assessability_reasons_are_translated(report: Report) -> None:
    reasons = {reason for r in report.results if r.facts for reason in r.facts.assessability}
    assert reasons
    for reason in reasons:
        assert localize(reason, ZH) != reason, reason


def test_policy_reasons_read_as_sentences(report: Report) -> None:
    """Conditional requirements said 'allowed only allowed for ...'."""
    reasons = [reason for r in report.results for v in r.policies for reason in (*v.reasons, *v.reasons_in(ZH))]
    assert any("depends on what the APK cannot show" in x for x in reasons)
    assert not any(re.search(r"\b(\w+) only \1\b|allowed only allowed", x) for x in reasons)


def test_html_heading_is_not_repeated_in_the_warning(report: Report) -> None:
    packed = by_name(report, "apk/packer.apk")
    page = html_format.render(Report("0", "sha256:x", (), (packed,)), RenderOptions(lang=ZH))
    warning = re.search(r'<div class="warn">(.*?)</div>', page, re.DOTALL)
    assert warning is not None and warning.group(1).count("无法完整评估") == 1


def test_errors_are_led_by_their_kind_in_chinese(report: Report) -> None:
    bad = by_name(report, "bad/pe32.apk")
    page = md_format.render(Report("0", "sha256:x", (), (bad,)), RenderOptions(lang=ZH))
    assert "不是 Android 安装包" in page


def test_shipped_conditions_have_chinese_text(rules: RuleSet) -> None:
    for policy in rules.policies.values():
        for req in policy.data["requirements"]:
            assert bool(req.get("condition_text")) == bool(req.get("condition_text_zh")), req["id"]


def test_flow_steps_and_details_are_translated(report: Report) -> None:
    """The data-flow engine writes each step's action and the flow's detail in English (the JSON
    contract); every one of them must match a trace_action./trace_detail. template."""
    flows = [e for r in report.results for f in r.findings for e in f.evidence if e.kind in ("flow", "endpoint")]
    assert any(e.steps for e in flows), "the fixtures should hold data flows"
    actions = {step.action for e in flows for step in e.steps}
    details = {part for e in flows if e.detail for part in e.detail.split("; ")}
    lost = {e.value for r in report.results for f in r.findings for e in f.evidence if e.kind == "flow_lost"}
    untranslated = sorted(x for x in actions | details | lost if localize(x, ZH) == x)
    assert untranslated == []


def test_classifier_reasons_are_translated(report: Report) -> None:
    reasons = {r.app_kind.reason for r in report.results if r.app_kind}
    assert reasons and all(localize(x, ZH) != x for x in reasons), reasons


@pytest.mark.parametrize("english", [
    "analysis budget of 200,000 instructions reached; flows beyond it were not followed",
    "data passed to Lcom/x/Native;->send(Ljava/lang/String;)V, which has no code in the app (native or abstract)",
    "data passed to Ljava/lang/reflect/Method;->invoke (reflection): not followed further",
    "43 string decryption routine(s) called 2940 times with literal arguments",
    "57 of 60 app classes have obfuscated names, e.g. Lcom/a/b;",
    "lending signals weigh 0 and the code is hidden, so its strings may be too",
])
def test_tool_sentences_are_translated(english: str) -> None:
    assert localize(english, ZH) != english
