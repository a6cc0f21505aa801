"""`--format csv`: one row per app, for spreadsheets and quick filtering.

Columns are taken from the JSON contract (serialize.app_dict), so names and values mean the same
as in `-f json`. A CSV is opened in spreadsheets, where a cell starting with =, +, -, @, tab or
carriage return runs as a formula; labels and package names come from the APK, so every cell that
starts like that gets a leading single quote (OWASP, "CSV Injection").
"""

from __future__ import annotations

import csv
import io
from typing import Any

from auditor.formats import RenderOptions
from auditor.formats.serialize import app_dict
from auditor.model import CHANNELS, AppResult, Report

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

PLAIN_COLUMNS = ("input", "status", "error", "package", "label", "version_name", "version_code", "sha256", "container")
COLUMNS: tuple[str, ...] = (
    *PLAIN_COLUMNS,
    *(f"{c}_level" for c in CHANNELS),
    *(f"{c}_undeclared" for c in CHANNELS),
    "score", "band", "assessable", "sdks", "policies", "findings",
)


def neutralise(cell: str) -> str:
    """`cell` made inert for spreadsheets: a leading quote when it could start a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def row(r: AppResult) -> list[str]:
    """The CSV row of one result, every cell neutralised."""
    app = app_dict(r)
    channels = app["channels"]
    values: list[Any] = [app[k] for k in PLAIN_COLUMNS]
    values += [channels[c]["level"] if channels else None for c in CHANNELS]
    values += [channels[c]["undeclared_access"] if channels else None for c in CHANNELS]
    values += [app["score"], app["band"], app["assessable"],
               ";".join(s["name"] for s in app["sdks"]),
               ";".join(f"{p['policy']}:{p['verdict']}" for p in app["policies"]),
               ";".join(f["rule_id"] for f in app["findings"])]
    return [neutralise(_cell(v)) for v in values]


def render(report: Report, options: RenderOptions) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(row(r) for r in report.results)
    return out.getvalue()
