"""The Python API: audit an app from a notebook or another tool, with the CLI's stages and results.

    import auditor
    result = auditor.audit("app.apk", policies="auto")
    result.score.band, result.to_dict()          # the typed AppResult, or the JSON contract's dict

Nothing here is specific to a command line: it loads rules and runs the same pipeline as
`auditor scan --jobs 1` (in this process, so the per-file time and memory limits that the CLI's
workers enforce do not apply; the unpacking limits do).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.limits import Limits
from auditor.model import AppResult

if TYPE_CHECKING:
    from auditor.ruleset.ruleset import RuleSet

Source = str | os.PathLike[str] | bytes
"""A path to an .apk/.xapk/.apks/.apkm (or .aab, .dex... where the containers know them), or its bytes."""
BYTES_NAME = "<bytes>"


def load_rules(*extra_dirs: str | os.PathLike[str]) -> RuleSet:
    """The built-in rules plus your own rule folders (a rule with a built-in id replaces it).

    Raises auditor.errors.RuleError, whose message gives the file and line of each schema error.
    """
    from auditor.ruleset.ruleset import load_ruleset

    return load_ruleset(tuple(Path(d) for d in extra_dirs))


def audit(source: Source, rules: RuleSet | None = None, policies: str | tuple[str, ...] | list[str] = (),
          limits: Limits | None = None, *, name: str | None = None, assume_lending: bool = False) -> AppResult:
    """Audit one app and return its AppResult; a bad input gives status "error", never an exception.

    `policies`: policy pack ids, or "auto" (every pack, for apps judged lending or unknown), "all"
    or "none", as `--policy` takes them; unknown ids raise KeyError. `name` is what the result calls
    an input given as bytes (default "<bytes>").
    """
    from auditor.pipeline import audit_bytes, audit_path
    from auditor.policy import select

    rules = rules if rules is not None else load_rules()
    spec = policies if isinstance(policies, str) else ",".join(policies)
    policy_ids = select(rules, spec) if spec else ()
    limits = limits or Limits()
    if isinstance(source, bytes):
        return audit_bytes(source, name or BYTES_NAME, rules, limits, policy_ids, assume_lending=assume_lending)
    return audit_path(os.fspath(source), rules, limits, policy_ids, assume_lending=assume_lending)
