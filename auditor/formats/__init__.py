"""Output formats: one module per format, each exposing `render(report, options) -> str`.

`FORMATS` maps a format name to its module so the CLI can list and pick them without knowing any.
"""

from __future__ import annotations

from importlib import import_module
from typing import Protocol

from auditor.model import Report
from auditor.records import record


@record
class RenderOptions:
    verbose: bool = False
    lang: str = "en"
    width: int | None = None
    """Columns the table may use; None: the terminal's (auditor.formats.table)."""


class Formatter(Protocol):
    def __call__(self, report: Report, options: RenderOptions) -> str: ...


FORMATS: tuple[str, ...] = ("table", "json", "jsonl", "csv", "markdown", "sarif", "html")


def formatter(name: str) -> Formatter:
    module = import_module(f"auditor.formats.{name}")
    render: Formatter = module.render
    return render
