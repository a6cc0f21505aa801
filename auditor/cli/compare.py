"""`auditor compare`: several apps side by side; the work is in auditor.reports.compare."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.common import (
    ASSUME_LENDING_OPTION,
    FAIL_ON_OPTION,
    JOBS_OPTION,
    LANG_OPTION,
    NO_CACHE_OPTION,
    OUTPUT_OPTION,
    POLICY_OPTION,
    RULES_OPTION,
    check_output,
    limit_options,
    load_rules,
    no_input_found,
    select_policies,
    write,
)
from auditor.cli.failure import Failure
from auditor.formats import RenderOptions
from auditor.gate import counted, exit_code
from auditor.limits import Limits
from auditor.reports import compare as compare_report


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-f", "--format", "fmt", type=click.Choice(compare_report.FORMATS), default="table", show_default=True)
@OUTPUT_OPTION
@RULES_OPTION
@POLICY_OPTION
@ASSUME_LENDING_OPTION
@FAIL_ON_OPTION
@LANG_OPTION
@JOBS_OPTION
@NO_CACHE_OPTION
@click.pass_context
@limit_options
def compare(ctx: click.Context, paths: tuple[Path, ...], fmt: str, output: Path | None, rule_dirs: tuple[Path, ...],
            policy_spec: str, assume_lending: bool, fail_on: str | None, lang: str, jobs: int | None, no_cache: bool,
            limits: Limits) -> None:
    """Audit several apps and show them side by side, highest exposure first, versions grouped.

    Exit codes as for scan: 1 when an app reaches --fail-on, 2 when an input could not be analysed."""
    from auditor.inputs import collect_inputs
    from auditor.reports.scan import scan_report

    inputs, missing = collect_inputs(paths)
    if not inputs and not missing:
        raise Failure(no_input_found())
    check_output(output, inputs)
    rules = load_rules(rule_dirs, use_cache=not no_cache)
    policy_ids = select_policies(rules, policy_spec)
    report = scan_report(paths, rules, policy_ids, limits=limits, jobs=jobs, assume_lending=assume_lending,
                         show_progress=not (ctx.obj or {}).get("quiet"), use_cache=not no_cache)
    write(compare_report.render(report, fmt, RenderOptions(lang=lang)), output)
    ctx.exit(exit_code(counted(report.results, (), baseline=False), fail_on))
