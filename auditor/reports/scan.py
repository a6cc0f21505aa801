"""Build a Report from paths exactly as `auditor scan` does, for the commands that scan first.

`compare` and `diff` must judge apps the same way `scan` does, so they call the same stages
(collect_inputs -> Task -> run_batch on a LocalExecutor) rather than a variant of them.
"""

from __future__ import annotations

from pathlib import Path

from auditor import __version__
from auditor.executors import Task
from auditor.executors.local import LocalExecutor
from auditor.inputs import collect_inputs
from auditor.limits import Limits
from auditor.model import Report
from auditor.ruleset.ruleset import RuleSet
from auditor.run import run_batch


def scan_report(paths: tuple[Path, ...], rules: RuleSet, policy_ids: tuple[str, ...] = (), *,
                limits: Limits | None = None, jobs: int | None = None, show_progress: bool = False) -> Report:
    """Audit `paths` (files or folders) and return the Report `scan` would render for them."""
    inputs, missing = collect_inputs(paths)
    task = Task(rules, limits or Limits(), policy_ids)
    outcome = run_batch(inputs, missing, task, LocalExecutor(jobs), show_progress=show_progress)
    return Report(__version__, rules.digest, rules.infos(), tuple(outcome.results))
