"""`--format csv`: one row per app, for spreadsheets and quick filtering.

Columns are taken from the JSON contract (serialize.app_dict), so names and values mean the same
as in `-f json`. CSV files are opened in spreadsheets and printed to terminals, and labels, package
names and file names come from the APK or its owner, so every cell goes through the shared policy
of auditor.formats.safe: control characters, escape sequences and bidi overrides become visible
escapes, and a cell that could start a formula (=, +, -, @, also after blanks or in full-width
form) gets a leading single quote (OWASP, "CSV Injection").
"""

from __future__ import annotations

import csv
import io
from typing import Any

from auditor.formats import RenderOptions
from auditor.formats.safe import neutralise, visible
from auditor.formats.serialize import app_dict
from auditor.model import CHANNELS, AppResult, Report

PLAIN_COLUMNS = ("input", "status", "error", "package", "label", "version_name", "version_code", "sha256", "container")
COLUMNS: tuple[str, ...] = (
    *PLAIN_COLUMNS,
    *(f"{c}_level" for c in CHANNELS),
    *(f"{c}_undeclared" for c in CHANNELS),
    "app_kind", "headline", "score", "band", "assessable", "sdks", "policies", "findings", "runtimes",
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def row(r: AppResult) -> list[str]:
    """The CSV row of one result, every cell made visible and neutralised."""
    app = app_dict(r)
    channels = app["channels"]
    values: list[Any] = [app[k] for k in PLAIN_COLUMNS]
    values += [channels[c]["level"] if channels else None for c in CHANNELS]
    values += [channels[c]["undeclared_access"] if channels else None for c in CHANNELS]
    values += [app["app_kind"]["kind"] if app["app_kind"] else None, app["headline"]["id"] if app["headline"] else None,
               app["score"], app["band"], app["assessable"],
               ";".join(s["name"] for s in app["sdks"]),
               ";".join(f"{p['policy']}:{p['verdict']}" for p in app["policies"]),
               ";".join(f["rule_id"] for f in app["findings"]),
               ";".join(rt["name"] for rt in app["runtimes"])]
    return [neutralise(visible(_cell(v))) for v in values]


def render(report: Report, options: RenderOptions) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(row(r) for r in report.results)
    return out.getvalue()
