"""`--format json`: the whole report as one JSON document (the versioned contract)."""

from __future__ import annotations

import json

from auditor.formats import RenderOptions
from auditor.formats.serialize import report_dict
from auditor.model import Report


def render(report: Report, options: RenderOptions) -> str:
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2) + "\n"
