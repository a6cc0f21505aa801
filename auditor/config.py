"""Project defaults from a config file: `.auditor.toml`, or `[tool.auditor]` in `pyproject.toml`.

A CI job or a team keeps its policy, --fail-on threshold, limits, rule folders and format in the
repository instead of repeating them on every command line. The file is looked for in the current
folder and then in each parent (the first `.auditor.toml`, or `pyproject.toml` with a
`[tool.auditor]` table, wins); options given on the command line always win over it. Keys are
spelt as the long options are (`fail-on`, `max-memory`); `rules` folders are relative to the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from auditor.errors import AuditorError

CONFIG_NAME = ".auditor.toml"

KEYS: dict[str, str] = {
    "policy": "policy_spec", "fail-on": "fail_on", "format": "fmt", "rules": "rule_dirs", "lang": "lang", "jobs": "jobs",
    "timeout": "timeout", "max-memory": "max_memory", "max-unpacked": "max_unpacked", "max-ratio": "max_ratio",
    "max-entries": "max_entries", "max-dex": "max_dex", "max-nesting": "max_nesting",
}
"""Config key -> the parameter name of the commands' option it sets."""

LIMITS = ("timeout", "max-memory", "max-unpacked", "max-ratio", "max-entries", "max-dex", "max-nesting")

COMMANDS: dict[str, tuple[str, ...]] = {
    "scan": tuple(KEYS),
    "compare": tuple(KEYS),
    "diff": ("rules", "lang", *LIMITS),
    "explain": ("rules", "lang"),
}
"""Which keys apply to which command (diff has its own formats, so `format` is not one of them)."""

MAY_NAME_TABLE = r"""tool["']?\s*\.\s*["']?auditor|\[\s*["']?tool["']?\s*\]|tool["']?\s*=\s*\{|\\[uU]"""
"""Every way TOML can spell a [tool.auditor] table: tool.auditor as a header or dotted key (quoted
or spaced), a [tool] table or an inline `tool = {...}` that may hold an auditor key, or an escape
that may spell either ("\\u0074ool"). A pyproject.toml in which none occurs is not parsed: most do
not configure the auditor, and the TOML parser would cost 2-3 ms of every run in their folder."""

LISTINGS = ("rules", "policies")
"""Groups whose list/show sub-commands take --rules, and so the configured rule folders."""


class ConfigError(AuditorError):
    kind = "config-error"


def find_config(start: Path) -> Path | None:
    """The config file that applies in `start`: the nearest `.auditor.toml` or `pyproject.toml` with [tool.auditor]."""
    for folder in (start, *start.parents):
        own = folder / CONFIG_NAME
        if own.is_file():
            return own
        project = folder / "pyproject.toml"
        if project.is_file() and _has_auditor_table(project):
            return project
    return None


def _has_auditor_table(project: Path) -> bool:
    """Whether a pyproject.toml has [tool.auditor]; one that cannot be read is some other project's concern."""
    try:
        text = project.read_text(encoding="utf-8")
        tool = _parse(text, project).get("tool", {}) if re.search(MAY_NAME_TABLE, text) else {}
    except (OSError, UnicodeDecodeError, ConfigError):
        return False
    return isinstance(tool, dict) and "auditor" in tool


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return _parse(text, path)


def _parse(text: str, path: Path) -> dict[str, Any]:
    import tomllib  # only where a config file or a pyproject.toml that may hold one exists

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def load_config(path: Path) -> dict[str, Any]:
    """The settings of a config file, checked: unknown keys and wrong types are errors naming the file."""
    data = _read(path)
    table = data.get("tool", {}).get("auditor", {}) if path.name == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.auditor] must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (known: {', '.join(KEYS)})")
    settings = dict(table)
    if "rules" in settings:
        folders = settings["rules"] if isinstance(settings["rules"], list) else [settings["rules"]]
        if not all(isinstance(f, str) for f in folders):
            raise ConfigError(f"{path}: rules must be a folder or a list of folders")
        settings["rules"] = [str((path.parent / f).resolve()) for f in folders]
    if isinstance(settings.get("policy"), list):
        settings["policy"] = ",".join(str(p) for p in settings["policy"])
    return settings


def default_map(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """click's default_map: per command, the parameter defaults the settings give."""
    out: dict[str, dict[str, Any]] = {command: {KEYS[key]: settings[key] for key in keys if key in settings}
                                      for command, keys in COMMANDS.items()}
    if "rules" in settings:
        for group in LISTINGS:
            out[group] = {sub: {"rule_dirs": settings["rules"]} for sub in ("list", "show")}
    return out
