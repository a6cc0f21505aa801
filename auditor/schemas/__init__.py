"""JSON Schemas (draft 2020-12) of auditor's machine-readable outputs, shipped with the package.

    scan         auditor scan -f json
    scan-line    one line of auditor scan -f jsonl
    compare      auditor compare -f json
    diff         auditor diff -f json

`validator(name)` gives a jsonschema validator with the shared definitions (common.schema.json)
resolved locally: nothing is fetched.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DIR = Path(__file__).resolve().parent
OUTPUTS = ("scan", "scan-line", "compare", "diff")


@cache
def schema(name: str) -> dict[str, Any]:
    """The schema of output `name` (one of OUTPUTS, or "common") as data."""
    data: dict[str, Any] = json.loads((DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    return data


def validator(name: str) -> Any:
    """A Draft 2020-12 validator for output `name`, with every schema of this folder registered."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resources(
        (schema(n)["$id"], Resource.from_contents(schema(n))) for n in ("common", *OUTPUTS))
    return Draft202012Validator(schema(name), registry=registry)


def errors(name: str, data: Any) -> list[str]:
    """Every way `data` breaks the schema of `name`, as 'path: message' lines (empty if valid)."""
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in validator(name).iter_errors(data)]
