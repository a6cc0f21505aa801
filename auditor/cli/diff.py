"""`auditor diff`: what a release changed; the work is in auditor.reports.diff."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.common import LANG_OPTION, OUTPUT_OPTION, RULES_OPTION, check_output, limit_options, load_rules, write
from auditor.formats.safe import visible
from auditor.limits import Limits
from auditor.reports import diff as diff_report


@click.command()
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-f", "--format", "fmt", type=click.Choice(diff_report.FORMATS), default="table", show_default=True)
@OUTPUT_OPTION
@RULES_OPTION
@LANG_OPTION
@click.pass_context
@limit_options
def diff(ctx: click.Context, old: Path, new: Path, fmt: str, output: Path | None, rule_dirs: tuple[Path, ...], lang: str,
         limits: Limits) -> None:
    """Compare two versions of an app; exit 1 when exposure went up, 2 when either could not be analysed."""
    from auditor.reports.scan import scan_report

    check_output(output, (str(old), str(new)))
    report = scan_report((old, new), load_rules(rule_dirs), limits=limits, jobs=2)
    by_input = {r.input: r for r in report.results}
    code, change = diff_report.diff_pair(by_input[str(old)], by_input[str(new)])
    for r in report.results:
        if not r.ok:
            click.echo(f"error: {visible(r.input)}: {visible(r.error)}", err=True)
    if change is not None:
        write(diff_report.render(change, fmt, lang, report), output)
    ctx.exit(code)
