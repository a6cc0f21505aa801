"""Human-facing texts, kept as data (one YAML file per language) rather than in the code."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "zh-CN")
_DIR = Path(__file__).resolve().parent


_PRELOADED: dict[str, dict[str, str]] = {}
"""Tables taken from the rule-set cache, where a JSON copy of them is kept (see preload)."""


def preload(tables: object) -> None:
    """Use these tables (the rule-set cache's JSON copy of the YAML files) instead of parsing YAML.

    A scan that judges policies says every reason in both languages: importing PyYAML and parsing
    the two files cost it 20-25 ms. The copy is keyed, with the rule set, on the package's files,
    these two included. Raises ValueError for anything but {language: {key: text}}.
    """
    if not (isinstance(tables, dict) and all(
            isinstance(table, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in table.items())
            for table in tables.values())):
        raise ValueError("text tables are not {language: {key: text}}")
    _PRELOADED.update(tables)
    _table.cache_clear()


def tables() -> dict[str, dict[str, str]]:
    """Every language's table, as preload() takes them."""
    return {lang: _table(lang) for lang in LANGUAGES}


@cache
def _table(lang: str) -> dict[str, str]:
    if lang in _PRELOADED:
        return _PRELOADED[lang]
    import yaml  # only when a text is rendered and the rule-set cache had no copy of the tables

    # libyaml's loader where PyYAML has it: the pure-Python one took 0.1 s for the two tables
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data: dict[str, str] = yaml.load((_DIR / f"{lang}.yaml").read_text(encoding="utf-8"), Loader=loader)
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


_PLACEHOLDER = re.compile(r"\{(\w+)\}")
LOCALIZED_GROUPS = ("reason.", "trace_action.", "trace_detail.", "trace_lost.", "kind_reason.", "hiding.")
"""Keys whose English text is also data (the JSON contract keeps assessability reasons, flow steps
and evidence details in English),
so a report in another language recognises the English sentence and says it in that language."""


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for key, template in _table("en").items():
        if key.startswith(LOCALIZED_GROUPS):
            parts = _PLACEHOLDER.split(template)  # literal, name, literal, name, ..., literal
            regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
            out.append((key, re.compile(f"^{regex}$", re.DOTALL)))
    return tuple(out)


def localize(message: str, lang: str) -> str:
    """`message`, an English sentence made from a `reason.*` template, said in `lang`.

    Placeholder values stay as they are (they are app data or technical detail) except `channel`,
    which is named in `lang`. A sentence no template made is returned unchanged.
    """
    if lang == "en":
        return message
    for key, pattern in _patterns():
        match = pattern.match(message)
        if match:
            values = {k: name("channel", v, lang) if k == "channel" else v for k, v in match.groupdict().items()}
            return text(key, lang, **values)
    return message
