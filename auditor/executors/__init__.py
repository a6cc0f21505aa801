"""Executors: how a batch of files is spread over processes (local) or a cluster (dask).

Every executor takes a list of paths and a Task and yields one AppResult per path, in completion
order; the same inputs give the same results whichever executor runs them.
"""

from __future__ import annotations

from typing import Any

from auditor.limits import Limits
from auditor.model import AppResult
from auditor.pipeline import audit_path
from auditor.records import record
from auditor.ruleset.ruleset import RuleSet


@record
class Task:
    """What to do with each file: the rule set, limits and policies (picklable)."""

    rules: RuleSet
    limits: Limits
    policy_ids: tuple[str, ...] = ()
    debug: bool = False
    assume_lending: bool = False

    def __call__(self, path: str) -> AppResult:
        return audit_path(path, self.rules, self.limits, self.policy_ids, self.debug, self.assume_lending)

    def settings(self) -> tuple[str, ...]:
        """What besides the rules and limits changes a result (the cache key's part)."""
        return (*self.policy_ids, *(("assume-lending",) if self.assume_lending else ()))


def make_executor(kind: str, jobs: int | None, scheduler: str | None, read_bytes: bool) -> Any:
    """The executor `kind` names ("local" or "dask"); the Dask one raises DaskExecutorError when the
    cluster cannot be used, so the run stops before any work."""
    if kind == "local":
        from auditor.executors.local import LocalExecutor

        return LocalExecutor(jobs)
    from auditor.executors.dask import DaskExecutor

    return DaskExecutor(scheduler or "", read_bytes=read_bytes)
