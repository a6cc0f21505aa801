"""Human-facing texts, kept as data (one YAML file per language) rather than in the code."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LANGUAGES = ("en", "zh-CN")
_DIR = Path(__file__).resolve().parent


@cache
def _table(lang: str) -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load((_DIR / f"{lang}.yaml").read_text(encoding="utf-8"))
    return data


def text(key: str, lang: str = "en", **values: object) -> str:
    """The text for `key` in `lang` (falling back to English), with {placeholders} filled in."""
    template = _table(lang).get(key) or _table("en")[key]
    return template.format(**values)


def name(group: str, value: str, lang: str = "en") -> str:
    """The reader-facing name of a value of `group` (kind, sdk_category...), or the value itself.

    For values that rule data may extend (a user's rules can name a new evidence kind): an
    unknown value is shown as it is rather than failing the report.
    """
    key = f"{group}.{value}"
    return text(key, lang) if key in _table("en") else value
