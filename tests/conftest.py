"""Shared fixtures: the built-in rule set and an in-process audit of the committed fixture APKs."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.limits import Limits
from auditor.model import AppResult
from auditor.pipeline import audit_path
from auditor.ruleset.ruleset import RuleSet, load_ruleset

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True, scope="session")
def private_cache_dir(tmp_path_factory: pytest.TempPathFactory):
    """Keep the CLI's result cache out of the user's home while tests run."""
    import os

    previous = os.environ.get("AUDITOR_CACHE_DIR")
    os.environ["AUDITOR_CACHE_DIR"] = str(tmp_path_factory.mktemp("auditor-cache"))
    yield
    if previous is None:
        os.environ.pop("AUDITOR_CACHE_DIR", None)
    else:
        os.environ["AUDITOR_CACHE_DIR"] = previous


def rules_with_policy(factory: pytest.TempPathFactory, policy_yaml: str) -> RuleSet:
    """The built-in rules plus one test policy pack, so policy output does not depend on the shipped packs."""
    root = factory.mktemp("rules")
    (root / "policies").mkdir()
    (root / "policies" / "test.yaml").write_text(policy_yaml, encoding="utf-8")
    return load_ruleset((root,))


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    return load_ruleset()


@pytest.fixture(scope="session")
def audit(rules: RuleSet):
    """audit('apk/contacts_code.apk') -> AppResult, cached for the session."""
    cache: dict[str, AppResult] = {}

    def run(relative: str) -> AppResult:
        if relative not in cache:
            cache[relative] = audit_path(str(FIXTURES / relative), rules, Limits(), debug=True)
        return cache[relative]

    return run
