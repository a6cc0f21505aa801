"""`--format jsonl`: one JSON object per app and line, so large batches can be streamed and resumed.

Each line carries the tool version and rules digest, so lines from different runs stay comparable.
"""

from __future__ import annotations

from auditor.formats import RenderOptions
from auditor.formats.safe import dumps
from auditor.formats.serialize import app_dict, report_header
from auditor.model import AppResult, Report


def line(result: AppResult, header: dict[str, object]) -> str:
    return dumps({**header, **app_dict(result)}) + "\n"


def render(report: Report, options: RenderOptions) -> str:
    header = report_header(report)
    return "".join(line(r, header) for r in report.results)
