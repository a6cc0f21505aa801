"""Loading YAML data files and checking them against JSON Schemas, with file and line in errors.

Rules, catalogs and policy packs are data that users edit by hand, so a mistake must point at
the line to fix. PyYAML's composed node tree keeps the marks that plain `safe_load` discards;
each schema error's path is walked through that tree to find the line.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

from auditor.errors import RuleError

SCHEMA_DIR = (Path(__file__).parent.parent / "builtin_rules" / "schema").resolve()


@cache
def _validator(schema_name: str, schema_dir: Path = SCHEMA_DIR) -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # imported only when rules are validated, not when served cached
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    schema = json.loads((schema_dir / f"{schema_name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    # schemas refer to each other by file name ("exposure.schema.json#/$defs/condition")
    registry: Registry[Any] = Registry().with_resources(
        (path.name, Resource.from_contents(json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT202012))
        for path in schema_dir.glob("*.schema.json"))
    return Draft202012Validator(schema, registry=registry)


def _line_of(node: yaml.Node | None, path: list[Any]) -> int:
    """1-based line of the YAML node at `path`, or of its deepest existing ancestor."""
    line = node.start_mark.line + 1 if node is not None else 1
    for key in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if child is None:
                child = next((k for k, _ in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader when PyYAML was built with it (ten times faster: rule loading is on every run's start-up)."""


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse a YAML file once into its node tree (for line numbers) and the plain data built from it."""
    try:
        text = path.read_text(encoding="utf-8")
        loader = Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise RuleError(f"{path}:{line}: YAML syntax error: {exc.problem}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read: {exc}") from exc
    return data, node


def schema_errors(path: Path, data: Any, node: yaml.Node | None, schema_name: str) -> list[str]:
    """Every schema violation in one file, as 'file:line: where: message'."""
    errors = []
    for error in sorted(_validator(schema_name).iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        errors.append(f"{path}:{_line_of(node, list(error.absolute_path))}: {where}: {error.message}")
    return errors


def load_checked(path: Path, schema_name: str) -> tuple[Any, yaml.Node | None, list[str]]:
    """Read and schema-check one file; returns its data, node tree and error lines."""
    try:
        data, node = read_yaml(path)
    except RuleError as exc:
        return None, None, [exc.message]
    return data, node, schema_errors(path, data, node, schema_name)
