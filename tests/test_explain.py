"""`auditor explain` answers from the rule set, in English and Simplified Chinese."""

from __future__ import annotations

from click.testing import CliRunner

from auditor.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_permission_explains_access_others_alternative_policies_sources() -> None:
    out = run("explain", "READ_CONTACTS").output
    assert "address book" in out and "never installed" in out
    assert "Contact Picker" in out
    assert "in-rbi-digital-lending" in out and "pk-secp-circular-15" in out
    assert "developer.android.com" in out


def test_rule_and_policy_and_chinese() -> None:
    assert "SMS Retriever" in run("explain", "CEA-SMS-UPLOAD").output
    policy = run("explain", "in-rbi-digital-lending").output
    assert "Requirements" in policy and "rbi.org.in" in policy
    zh = run("explain", "--lang", "zh-CN", "READ_CONTACTS").output
    assert "联系人选择器" in zh and "爆通讯录" in zh


def test_unknown_subject_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["explain", "NOPE"])
    assert result.exit_code == 2 and "unknown" in result.output


def test_policies_commands() -> None:
    assert "google-play-financial" in run("policies", "list").output
    assert "requirements" in run("policies", "show", "pk-secp-circular-15").output


def test_every_rule_has_a_chinese_title_and_rationale(rules) -> None:
    assert all(r.title_zh and r.rationale_zh for r in rules.rules)
    assert "催收" in run("explain", "--lang", "zh-CN", "CEA-CONTACTS-UPLOAD").output
