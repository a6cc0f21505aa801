"""`auditor compare`: several apps side by side; the work is in auditor.reports.compare."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.common import (
    ASSUME_LENDING_OPTION,
    JOBS_OPTION,
    LANG_OPTION,
    OUTPUT_OPTION,
    POLICY_OPTION,
    RULES_OPTION,
    check_output,
    fail,
    load_rules,
    no_input_found,
    select_policies,
    write,
)
from auditor.formats import RenderOptions
from auditor.gate import EXIT_ERROR, EXIT_OK
from auditor.reports import compare as compare_report


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-f", "--format", "fmt", type=click.Choice(compare_report.FORMATS), default="table", show_default=True)
@OUTPUT_OPTION
@RULES_OPTION
@POLICY_OPTION
@ASSUME_LENDING_OPTION
@LANG_OPTION
@JOBS_OPTION
@click.pass_context
def compare(ctx: click.Context, paths: tuple[Path, ...], fmt: str, output: Path | None, rule_dirs: tuple[Path, ...],
            policy_spec: str, assume_lending: bool, lang: str, jobs: int | None) -> None:
    """Audit several apps and show them side by side, highest exposure first, versions grouped."""
    from auditor.inputs import collect_inputs
    from auditor.reports.scan import scan_report

    inputs, missing = collect_inputs(paths)
    if not inputs and not missing:
        raise fail(no_input_found())
    check_output(output, inputs)
    rules = load_rules(rule_dirs)
    policy_ids = select_policies(rules, policy_spec)
    report = scan_report(paths, rules, policy_ids, jobs=jobs, assume_lending=assume_lending,
                         show_progress=not (ctx.obj or {}).get("quiet"))
    write(compare_report.render(report, fmt, RenderOptions(lang=lang)), output)
    ctx.exit(EXIT_ERROR if any(not r.ok for r in report.results) else EXIT_OK)
