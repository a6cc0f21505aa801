"""The `compare` and `diff` commands: option parsing only; the work is in auditor.reports.

Registered on the main group by auditor.cli (main.add_command). This module does not import
auditor.cli at load time, since auditor.cli imports it; the shared helpers (_load_rules, _write,
exit codes) are looked up when a command runs. Like `scan`, the analysis stages are imported
only when a command runs, so `auditor --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import click

from auditor.formats import RenderOptions
from auditor.i18n import LANGUAGES
from auditor.reports import compare as compare_report
from auditor.reports import diff as diff_report

RULES = click.option("--rules", "rule_dirs", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
                     help="Extra rule folder; a rule with a built-in id replaces it. Repeatable.")
LANG = click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
OUTPUT = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                      help="Write the report here instead of stdout.")


def _cli() -> ModuleType:
    import auditor.cli

    return auditor.cli


def _quiet(ctx: click.Context) -> bool:
    return bool((ctx.obj or {}).get("quiet"))


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-f", "--format", "fmt", type=click.Choice(compare_report.FORMATS), default="table", show_default=True)
@OUTPUT
@RULES
@click.option("--policy", "policy_spec", default="", help="Policy ids (comma-separated) or 'all'.")
@LANG
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per core).")
@click.pass_context
def compare(ctx: click.Context, paths: tuple[Path, ...], fmt: str, output: Path | None, rule_dirs: tuple[Path, ...],
            policy_spec: str, lang: str, jobs: int | None) -> None:
    """Audit several apps and show them side by side, highest exposure first, versions grouped."""
    from auditor.policy import select
    from auditor.reports.scan import scan_report

    cli = _cli()
    rules = cli._load_rules(rule_dirs)
    try:
        policy_ids = select(rules, policy_spec)
    except KeyError as exc:
        raise click.BadParameter(f"unknown policy {exc.args[0]} (see 'auditor policies list')", param_hint="--policy") from exc
    report = scan_report(paths, rules, policy_ids, jobs=jobs, show_progress=not _quiet(ctx))
    cli._write(compare_report.render(report, fmt, RenderOptions(lang=lang)), output)
    ctx.exit(cli.EXIT_ERROR if any(not r.ok for r in report.results) else cli.EXIT_OK)


@click.command()
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-f", "--format", "fmt", type=click.Choice(diff_report.FORMATS), default="table", show_default=True)
@OUTPUT
@RULES
@LANG
@click.pass_context
def diff(ctx: click.Context, old: Path, new: Path, fmt: str, output: Path | None, rule_dirs: tuple[Path, ...], lang: str) -> None:
    """Compare two versions of an app; exit 1 when exposure went up, 2 when either could not be analysed."""
    from auditor.reports.scan import scan_report

    cli = _cli()
    report = scan_report((old, new), cli._load_rules(rule_dirs), jobs=2)
    by_input = {r.input: r for r in report.results}
    code, change = diff_report.diff_pair(by_input[str(old)], by_input[str(new)])
    for r in report.results:
        if not r.ok:
            click.echo(f"error: {r.input}: {r.error}", err=True)
    if change is not None:
        cli._write(diff_report.render(change, fmt, lang), output)
    ctx.exit(code)
