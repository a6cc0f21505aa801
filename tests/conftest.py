"""Shared fixtures: the built-in rule set and an in-process audit of the committed fixture APKs."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.limits import Limits
from auditor.model import AppResult
from auditor.pipeline import audit_path
from auditor.ruleset.ruleset import RuleSet, load_ruleset

FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
