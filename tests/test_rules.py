"""The rule set as data: schema errors point at file and line, user rules override by id, and
every rule's own `tests` table (fixtures it must fire on / stay silent on) holds."""

from __future__ import annotations

import dataclasses
import fnmatch
from pathlib import Path

import pytest

from auditor.errors import RuleError
from auditor.ruleset.ruleset import PackerEntry, RuleSet, glob_matches, load_ruleset, validate_dir

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_builtin_rules_are_valid(rules) -> None:
    assert rules.rules and rules.apis and rules.permissions
    assert rules.digest.startswith("sha256:")
    assert all(r.sources for r in rules.rules)
    assert all(e.source for e in rules.apis)


def test_schema_error_reports_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text("rules:\n  - id: MY-1\n    title: A rule without points\n    channel: contacts\n"
                   "    severity: loud\n    when: {flag: packer}\n    rationale: long enough rationale here\n"
                   "    sources: [https://example.invalid]\n")
    errors = validate_dir(tmp_path)
    assert any(e.startswith(f"{bad}:5:") and "severity" in e for e in errors)
    assert any(f"{bad}:2:" in e and "points" in e for e in errors)


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("rules:\n  - id: [unclosed\n")
    errors = validate_dir(tmp_path)
    assert errors and any(f"broken.yaml:{n}:" in errors[0] for n in (2, 3))


def test_invalid_user_rules_refuse_to_load(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("rules: [{id: bad}]\n")
    with pytest.raises(RuleError):
        load_ruleset((tmp_path,))


def test_user_rule_replaces_builtin_by_id(tmp_path: Path) -> None:
    (tmp_path / "override.yaml").write_text(
        "rules:\n  - id: CEA-CONTACTS-DECLARED\n    title: Stricter contacts rule\n    channel: contacts\n"
        "    severity: high\n    points: 40\n    when: {channel: {name: contacts, at_least: declared}}\n"
        "    rationale: Our policy treats any contacts permission as high risk.\n    sources: [internal-policy-7]\n")
    rules = load_ruleset((tmp_path,))
    rule = rules.rule("CEA-CONTACTS-DECLARED")
    assert rule is not None and rule.points == 40 and rule.severity == "high"
    assert rules.digest != load_ruleset().digest


def _rule_cases():
    rules = load_ruleset()
    for rule in rules.rules:
        for fixture in rule.tests.get("fires_on", []):
            yield pytest.param(rule.id, fixture, True, id=f"{rule.id}-fires-{fixture}")
        for fixture in rule.tests.get("silent_on", []):
            yield pytest.param(rule.id, fixture, False, id=f"{rule.id}-silent-{fixture}")


@pytest.mark.parametrize(("rule_id", "fixture", "fires"), list(_rule_cases()))
def test_rule_table(audit, rule_id: str, fixture: str, fires: bool) -> None:
    result = audit(f"apk/{fixture}.apk")
    assert (rule_id in {f.rule_id for f in result.findings}) is fires


def test_cached_rule_set_follows_every_edit(tmp_path: Path, monkeypatch) -> None:
    from auditor.ruleset.ruleset import load_ruleset_cached

    monkeypatch.setenv("AUDITOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("auditor.cachedir.SETTLED_NS", 0)  # the rule file below is written just before it is cached
    monkeypatch.setattr("auditor.cachedir.SETTLED_COARSE_NS", 0)
    mine = tmp_path / "mine"
    mine.mkdir()
    rule = ("rules:\n  - id: MY-RULE\n    title: My own rule\n    channel: contacts\n    severity: low\n"
            "    points: {points}\n    when: {{declared: contacts}}\n    rationale: A rule of this team's own policy.\n"
            "    sources: [internal]\n")
    (mine / "r.yaml").write_text(rule.format(points=3))
    first = load_ruleset_cached((mine,))
    assert list((tmp_path / "cache").glob("ruleset-*.json"))
    assert load_ruleset_cached((mine,)) == first
    (mine / "r.yaml").write_text(rule.format(points=4))
    assert load_ruleset_cached((mine,)).rule("MY-RULE").points == 4


@pytest.mark.parametrize("globs", [
    ("*/libjiagu.so", "lib/*/libshella-*.so", "assets/WSSEC?.jar", "assets/ijm_lib/*", "apkprotect.com/*"),
    ("assets/[abc]x.dat", "*[0-9]", "plain/name.bin", "*"),
])
def test_packer_name_first_pass_keeps_every_name_a_glob_matches(rules: RuleSet, globs: tuple[str, ...]) -> None:
    """The cheap endswith/startswith pass may keep too much, never too little (fnmatch has the last word)."""
    packed = dataclasses.replace(rules, packers=(PackerEntry("p", globs, (), "https://example.invalid"),))
    ends, starts = packed.packer_name_ends
    names = ["lib/arm64-v8a/libjiagu.so", "x/libjiagu.so", "lib/x86/libshella-2.so", "assets/WSSEC1.jar",
             "assets/ijm_lib/a/b", "apkprotect.com/key", "assets/bx.dat", "res/raw/a7", "plain/name.bin",
             "res/drawable/icon.png", "classes.dex", "AndroidManifest.xml", "libjiagu.so"]
    for name in names:
        if any(fnmatch.fnmatchcase(name, g) for g in globs):
            assert name.endswith(ends) or name.startswith(starts), name
        for glob in globs:
            assert glob_matches(name, glob) == fnmatch.fnmatchcase(name, glob), (name, glob)
    if "*" not in globs:
        assert not any(n.endswith(ends) or n.startswith(starts) for n in ("res/drawable/icon.png", "classes.dex"))
