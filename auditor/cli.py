"""Command-line interface: parses options and wires the stages together; the work is elsewhere.

Exit codes (documented in the README):
  0  every input analysed, none reached --fail-on
  1  at least one app reached --fail-on (or, for diff, exposure went up)
  2  usage error, or at least one input could not be analysed (takes precedence over 1)
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import click

from auditor import __version__
from auditor.cli_reports import compare, diff
from auditor.errors import RuleError
from auditor.formats import FORMATS, RenderOptions, formatter
from auditor.i18n import LANGUAGES
from auditor.inputs import collect_inputs
from auditor.limits import Limits, MiB
from auditor.model import BANDS, Report
from auditor.ruleset.ruleset import RuleSet, load_ruleset_cached, validate_dir

EXIT_OK, EXIT_FAIL_ON, EXIT_ERROR = 0, 1, 2

log = logging.getLogger("auditor")


def _load_rules(rule_dirs: tuple[Path, ...]) -> RuleSet:
    try:
        return load_ruleset_cached(rule_dirs)
    except RuleError as exc:
        raise click.ClickException(f"invalid rules:\n{exc.message}") from exc


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditor")
@click.option("-v", "--verbose", count=True, help="More detail (findings under each app; -vv for debug logs).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Audit Android apps for access to contacts, SMS and the call log."""
    level = logging.ERROR if quiet else logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="auditor: %(message)s", stream=sys.stderr)
    ctx.obj = {"verbose": verbose, "quiet": quiet}


RULES_OPTION = click.option("--rules", "rule_dirs", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
                            help="Extra rule folder; a rule with a built-in id replaces it. Repeatable.")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--from-list", "from_list", type=click.File("r", encoding="utf-8"),
              help="Also audit the paths listed in FILE, one per line ('-' reads stdin).")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here instead of stdout.")
@RULES_OPTION
@click.option("--fail-on", type=click.Choice(BANDS[1:]), help="Exit 1 when an app reaches this band.")
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An earlier JSON/JSONL report: its findings are accepted, --fail-on counts only new ones.")
@click.option("--policy", "policy_spec", default="", help="Policy ids (comma-separated) or 'all'.")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per core).")
@click.option("--executor", "executor_kind", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Analyse in processes on this machine (-j), or on a Dask cluster (--scheduler); see docs/scale.md.")
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="Dask scheduler address (with --executor dask).")
@click.option("--read-bytes", is_flag=True,
              help="With --executor dask: send each file's bytes to the workers instead of its path (no shared file system).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=Limits.timeout, show_default=True, help="Seconds per file.")
@click.option("--max-memory", type=click.IntRange(min=64), default=Limits.max_memory_mb, show_default=True, help="MiB per worker.")
@click.option("--max-unpacked", type=click.IntRange(min=1), default=Limits.max_unpacked_bytes // MiB, show_default=True,
              help="MiB a file may unpack to in total.")
@click.option("--max-ratio", type=click.IntRange(min=2), default=Limits.max_ratio, show_default=True, help="Largest compression ratio of an entry.")
@click.option("--max-entries", type=click.IntRange(min=1), default=Limits.max_entries, show_default=True, help="Zip entries per archive.")
@click.option("--max-dex", type=click.IntRange(min=1), default=Limits.max_dex_bytes // MiB, show_default=True, help="MiB per dex file.")
@click.option("--max-nesting", type=click.IntRange(min=0), default=Limits.max_nesting, show_default=True, help="Bundle nesting depth.")
@click.option("--no-cache", is_flag=True,
              help="Neither read nor write the result cache (~/.cache/auditor; AUDITOR_CACHE_DIR overrides). "
                   "Off with --executor dask, where hashing every file on the client first would idle the cluster.")
@click.option("--debug", is_flag=True, help="Run in one process and show tracebacks of internal errors.")
@click.option("-v", "--verbose", "verbose_here", count=True, help="Same as auditor -v (users put it after 'scan' too).")
@click.option("-q", "--quiet", "quiet_here", is_flag=True, help="Same as auditor -q.")
@click.pass_context
def scan(ctx: click.Context, paths: tuple[Path, ...], from_list: TextIO | None, fmt: str, output: Path | None, rule_dirs: tuple[Path, ...],
         fail_on: str | None, baseline: Path | None, policy_spec: str, lang: str, jobs: int | None,
         executor_kind: str, scheduler: str | None, read_bytes: bool, timeout: float, max_memory: int,
         max_unpacked: int, max_ratio: int, max_entries: int, max_dex: int, max_nesting: int, no_cache: bool, debug: bool,
         verbose_here: int, quiet_here: bool) -> None:
    """Audit APK files, split bundles (.xapk .apks .apkm) and folders of them."""
    ctx.obj["verbose"] += verbose_here
    ctx.obj["quiet"] = ctx.obj["quiet"] or quiet_here
    from auditor.baseline import BaselineError, has_new_exposure, load_baseline
    from auditor.executors import Task
    from auditor.policy import select

    rules = _load_rules(rule_dirs)
    try:
        known = load_baseline(baseline) if baseline is not None else None
    except BaselineError as exc:
        raise click.BadParameter(exc.message, param_hint="--baseline") from None
    try:
        policy_ids = select(rules, policy_spec)
    except KeyError as exc:
        raise click.BadParameter(f"unknown policy {exc.args[0]} (see 'auditor policies list')", param_hint="--policy") from None
    limits = Limits(max_unpacked_bytes=max_unpacked * MiB, max_ratio=max_ratio, max_entries=max_entries,
                    max_dex_bytes=max_dex * MiB, max_nesting=max_nesting, timeout=timeout, max_memory_mb=max_memory)
    if not paths and from_list is None:
        raise click.UsageError("give at least one PATH, or --from-list FILE")
    listed = tuple(Path(entry) for entry in (raw.rstrip("\r\n") for raw in from_list) if entry) if from_list else ()
    inputs, missing = collect_inputs(paths + listed)
    task = Task(rules, limits, policy_ids, debug)
    options = RenderOptions(verbose=ctx.obj["verbose"] > 0, lang=lang)
    executor = _make_executor(executor_kind, jobs, scheduler, read_bytes)
    try:
        outcome = _run_scan(inputs, missing, task, executor, fmt, output, options, show_progress=not ctx.obj["quiet"],
                            use_cache=not no_cache and not debug and executor_kind == "local", known=known)
    finally:
        close = getattr(executor, "close", None)
        if close is not None:
            close()
    counted = [(r.ok, r.score.band if r.score and (known is None or has_new_exposure(r)) else None) for r in outcome.results]
    counted += [(line.get("status") == "ok", line.get("band") if known is None or _new_in_line(line) else None)
                for line in outcome.resumed]
    ctx.exit(exit_code(counted, fail_on))


def _new_in_line(line: dict[str, Any]) -> bool:
    """A resumed JSONL line (already marked against the baseline) with new findings that add points."""
    findings = line.get("findings") or []
    return any(f.get("baseline_state") == "new" and f.get("points", 0) > 0 for f in findings if isinstance(f, dict))


def _make_executor(kind: str, jobs: int | None, scheduler: str | None, read_bytes: bool) -> Any:
    """The executor --executor asks for; a Dask cluster that cannot be used stops the run (exit 2) before any work."""
    if kind == "local":
        if scheduler or read_bytes:
            raise click.UsageError("--scheduler and --read-bytes need --executor dask")
        from auditor.executors.local import LocalExecutor

        return LocalExecutor(jobs)
    if not scheduler:
        raise click.UsageError("--executor dask needs --scheduler tcp://HOST:PORT")
    from auditor.executors.dask import DaskExecutor, DaskExecutorError

    try:
        return DaskExecutor(scheduler, read_bytes=read_bytes)
    except DaskExecutorError as exc:
        error = click.ClickException(str(exc))
        error.exit_code = EXIT_ERROR
        raise error from None


def _run_scan(inputs: list[str], missing: list[str], task: Any, executor: Any, fmt: str, output: Path | None,
              options: RenderOptions, show_progress: bool, use_cache: bool, known: set[tuple[str, str]] | None) -> Any:
    """Stream JSONL as results arrive (resuming an existing -o file); render other formats at the end."""
    from auditor.baseline import mark
    from auditor.formats.jsonl import line
    from auditor.formats.serialize import report_header
    from auditor.run import resumable_lines, run_batch

    rules = task.rules
    cache: Any = None
    cache_key: Any = None
    if use_cache:
        from auditor.cache import ResultCache, make_key

        cache, cache_key = ResultCache(), make_key(rules.digest, task.policy_ids, task.limits)
    if fmt != "jsonl":
        outcome = run_batch(inputs, missing, task, executor, cache=cache, cache_key=cache_key, show_progress=show_progress)
        if known is not None:
            outcome = replace(outcome, results=[mark(r, known) for r in outcome.results])
        report = Report(__version__, rules.digest, rules.infos(), tuple(outcome.results))
        _write(formatter(fmt)(report, options), output)
        return outcome
    header = report_header(Report(__version__, rules.digest, rules.infos()))
    resume = resumable_lines(output, rules.digest)
    handle = output.open("a", encoding="utf-8") if output is not None else sys.stdout
    if output is not None and handle.tell() > 0 and not output.read_bytes().endswith(b"\n"):
        handle.write("\n")  # a killed run may have left half a line: start the next one clean
    try:
        def emit(result: Any) -> None:
            handle.write(line(mark(result, known) if known is not None else result, header))
            handle.flush()

        return run_batch(inputs, missing, task, executor, cache=cache, cache_key=cache_key, resume=resume,
                         on_result=emit, show_progress=show_progress)
    finally:
        if output is not None:
            handle.close()


def exit_code(outcomes: list[tuple[bool, str | None]], fail_on: str | None) -> int:
    """0 clean, 1 an app reached --fail-on, 2 an input could not be analysed (2 wins over 1)."""
    if any(not ok for ok, _band in outcomes):
        return EXIT_ERROR
    if fail_on and any(band and BANDS.index(band) >= BANDS.index(fail_on) for _ok, band in outcomes):
        return EXIT_FAIL_ON
    return EXIT_OK


@main.group()
def rules() -> None:
    """List, show and validate exposure rules."""


@rules.command("list")
@RULES_OPTION
def rules_list(rule_dirs: tuple[Path, ...]) -> None:
    """One line per rule: id, channel, severity, points, title."""
    from tabulate import tabulate

    rows = [(r.id, r.channel or "-", r.severity, r.points, r.title) for r in _load_rules(rule_dirs).rules]
    click.echo(tabulate(rows, headers=["id", "channel", "severity", "points", "title"]))


@rules.command("show")
@click.argument("rule_id")
@RULES_OPTION
def rules_show(rule_id: str, rule_dirs: tuple[Path, ...]) -> None:
    """Everything about one rule: condition, points, rationale, sources, where it is defined."""
    import yaml

    rule = _load_rules(rule_dirs).rule(rule_id)
    if rule is None:
        raise click.ClickException(f"no rule {rule_id!r} (see 'auditor rules list')")
    click.echo(f"{rule.id}: {rule.title}\n  defined in {rule.file}:{rule.line}\n  channel: {rule.channel or '-'}"
               f"  severity: {rule.severity}  points: {rule.points}\n  when: {yaml.safe_dump(rule.when, default_flow_style=True).strip()}"
               f"\n\n{rule.rationale}\n\nsources:\n" + "\n".join(f"  - {s}" for s in rule.sources))


@rules.command("validate")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def rules_validate(ctx: click.Context, directory: Path | None) -> None:
    """Schema-check a rule folder (default: the built-in rules); prints file:line of each error."""
    from auditor.ruleset.ruleset import BUILTIN_DIR

    errors = validate_dir(directory or BUILTIN_DIR)
    for line in errors:
        click.echo(line, err=True)
    click.echo(f"{len(errors)} error(s)" if errors else "rules are valid")
    ctx.exit(EXIT_ERROR if errors else EXIT_OK)


@main.command("explain")
@click.argument("subject")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@RULES_OPTION
def explain_command(subject: str, lang: str, rule_dirs: tuple[Path, ...]) -> None:
    """Explain a rule id, a permission (READ_CONTACTS) or a policy id in plain language."""
    from auditor.explain import explain, render
    from auditor.i18n import text

    sections = explain(_load_rules(rule_dirs), subject, lang)
    if sections is None:
        raise click.ClickException(text("explain.unknown", lang, subject=subject))
    click.echo(render(sections))


@main.group("cache")
def cache_group() -> None:
    """Manage the local result cache."""


@cache_group.command("clear")
def cache_clear() -> None:
    """Delete every cached result."""
    import sqlite3

    from auditor.cache import ResultCache

    store = ResultCache()
    try:
        count = store.clear()
    except sqlite3.OperationalError as exc:
        raise click.ClickException(f"cache {store.path} is busy ({exc}); retry when no scan is running") from exc
    for pickled in store.path.parent.glob("ruleset-*.pickle"):
        pickled.unlink(missing_ok=True)
    click.echo(f"removed {count} cached result(s) from {store.path}")


@main.group()
def policies() -> None:
    """List and describe policy packs."""


@policies.command("list")
@RULES_OPTION
def policies_list(rule_dirs: tuple[Path, ...]) -> None:
    from tabulate import tabulate

    rows = [(p.id, p.data.get("jurisdiction"), p.data.get("date"), p.data.get("confidence"), p.data.get("name"))
            for p in _load_rules(rule_dirs).policies.values()]
    click.echo(tabulate(rows, headers=["id", "jurisdiction", "date", "confidence", "name"]))


@policies.command("show")
@click.argument("policy_id")
@RULES_OPTION
def policies_show(policy_id: str, rule_dirs: tuple[Path, ...]) -> None:
    import yaml

    policy = _load_rules(rule_dirs).policies.get(policy_id)
    if policy is None:
        raise click.ClickException(f"no policy {policy_id!r} (see 'auditor policies list')")
    click.echo(yaml.safe_dump(policy.data, allow_unicode=True, sort_keys=False))


main.add_command(compare)
main.add_command(diff)
