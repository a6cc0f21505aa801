"""`--format json`: the whole report as one JSON document (the versioned contract)."""

from __future__ import annotations

from auditor.formats import RenderOptions
from auditor.formats.safe import dumps
from auditor.formats.serialize import report_dict
from auditor.model import Report


def render(report: Report, options: RenderOptions) -> str:
    return dumps(report_dict(report), indent=2) + "\n"
