"""Executors: how a batch of files is spread over processes (local) or a cluster (dask).

Every executor takes a list of paths and a Task and yields one AppResult per path, in completion
order; the same inputs give the same results whichever executor runs them.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.limits import Limits
from auditor.model import AppResult
from auditor.pipeline import audit_path
from auditor.ruleset.ruleset import RuleSet


@dataclass(frozen=True)
class Task:
    """What to do with each file: the rule set, limits and policies (picklable)."""

    rules: RuleSet
    limits: Limits
    policy_ids: tuple[str, ...] = ()
    debug: bool = False

    def __call__(self, path: str) -> AppResult:
        return audit_path(path, self.rules, self.limits, self.policy_ids, self.debug)
