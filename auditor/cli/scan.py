"""`auditor scan`: audit files and folders, render one report, exit by --fail-on."""

from __future__ import annotations

import io
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import click

from auditor.cli.common import (
    ASSUME_LENDING_OPTION,
    FAIL_ON_OPTION,
    JOBS_OPTION,
    LANG_OPTION,
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
from auditor.cli.logs import set_verbosity
from auditor.formats import FORMATS, RenderOptions
from auditor.gate import EXIT_INTERRUPTED
from auditor.limits import Limits

log = logging.getLogger("auditor")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--from-list", "from_list", type=click.File("r", encoding="utf-8", errors="surrogateescape"),
              help="Also audit the paths listed in FILE, one per line ('-' reads stdin).")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@OUTPUT_OPTION
@RULES_OPTION
@FAIL_ON_OPTION
@click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An earlier JSON/JSONL report: its findings are accepted, --fail-on counts only new ones.")
@POLICY_OPTION
@ASSUME_LENDING_OPTION
@LANG_OPTION
@JOBS_OPTION
@click.option("--executor", "executor_kind", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Analyse in processes on this machine (-j), or on a Dask cluster (--scheduler); see docs/scale.md.")
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="Dask scheduler address (with --executor dask).")
@click.option("--read-bytes", is_flag=True,
              help="With --executor dask: send each file's bytes to the workers instead of its path (no shared file system).")
@click.option("--no-cache", is_flag=True,
              help="Read and write no results, and write nothing in the cache folder (~/.cache/auditor; "
                   "AUDITOR_CACHE_DIR overrides); a rule set checked by an earlier run is still read from it. "
                   "Results are not cached with --executor dask anyway, "
                   "where hashing every file on the client first would idle the cluster.")
@click.option("--fresh", is_flag=True, help="With -f jsonl -o FILE: start FILE over instead of resuming it.")
@click.option("--debug", is_flag=True, help="Run in one process and show tracebacks of internal errors.")
@click.option("-v", "--verbose", "verbose_here", count=True, help="Same as auditor -v (users put it after 'scan' too).")
@click.option("-q", "--quiet", "quiet_here", is_flag=True, help="Same as auditor -q.")
@click.pass_context
@limit_options
def scan(ctx: click.Context, paths: tuple[Path, ...], from_list: TextIO | None, fmt: str, output: Path | None, rule_dirs: tuple[Path, ...],
         fail_on: str | None, baseline: Path | None, policy_spec: str, assume_lending: bool, lang: str, jobs: int | None,
         executor_kind: str, scheduler: str | None, read_bytes: bool, limits: Limits,
         no_cache: bool, fresh: bool, debug: bool,
         verbose_here: int, quiet_here: bool) -> None:
    """Audit APK files, split bundles (.xapk .apks .apkm), App Bundles (.aab), code alone (.dex .jar .aar) and folders of them."""
    ctx.obj["verbose"] += verbose_here
    ctx.obj["quiet"] = ctx.obj["quiet"] or quiet_here
    set_verbosity(ctx.obj["verbose"], ctx.obj["quiet"])
    from auditor.baseline import BaselineError, load_baseline
    from auditor.errors import LimitExceeded
    from auditor.executors import Task
    from auditor.gate import EXIT_ERROR, counted, exit_code, reaching, summary
    from auditor.inputs import ListError, collect_inputs, is_stream, read_list, spool_streams
    from auditor.reports.scan import prepare_resume, write_scan

    rules = load_rules(rule_dirs, use_cache=not no_cache)
    try:
        known = load_baseline(baseline) if baseline is not None else None
    except BaselineError as exc:
        raise Failure(f"--baseline {exc.message}") from None
    policy_ids = select_policies(rules, policy_spec)
    if not paths and from_list is None:
        raise click.UsageError("give at least one PATH, or --from-list FILE")
    spool = ctx.with_resource(tempfile.TemporaryDirectory(prefix="auditor-streams-")) if any(map(is_stream, paths)) else ""
    try:
        paths, names = spool_streams(paths, Path(spool), limits.max_unpacked_bytes, _stdin_bytes())
    except LimitExceeded as exc:
        raise Failure(exc.message) from None
    try:
        listed = read_list(from_list) if from_list else ()
    except ListError as exc:
        raise click.BadParameter(str(exc), param_hint="--from-list") from None
    inputs, missing = collect_inputs(paths + listed)
    use_cache = not no_cache and not debug and executor_kind == "local"
    log.debug("rules %s (%d rules, %d policy packs); %d input%s, %d missing; cache %s; executor %s, jobs %s", rules.digest,
              len(rules.rules), len(rules.policies), len(inputs), "" if len(inputs) == 1 else "s", len(missing),
              _cache_path() if use_cache else "off", executor_kind, jobs or "one per core")
    if not inputs and not missing:
        raise Failure(no_input_found())
    check_output(output, inputs)
    resume = prepare_resume(output, fmt, rules.digest, inputs, missing, fresh)
    resuming = resume.summary(len(inputs) + len(missing), output) if output is not None else None
    if resuming and not ctx.obj["quiet"]:
        click.echo(f"auditor: {resuming}", err=True)
    executor = _executor(executor_kind, jobs, scheduler, read_bytes)
    try:
        outcome = write_scan(inputs, missing, Task(rules, limits, policy_ids, debug, assume_lending), executor, fmt, output,
                             RenderOptions(verbose=ctx.obj["verbose"] > 0, lang=lang), lambda text: write(text, output),
                             show_progress=not ctx.obj["quiet"], use_cache=use_cache,
                             known=known, resume=resume, names=names)
    finally:
        close = getattr(executor, "close", None)
        if close is not None:
            close()
    if outcome.interrupted:
        written = f"; {output} holds them" + ("" if fmt == "jsonl" else ", marked incomplete") if output is not None else ""
        click.echo(f"auditor: interrupted: {outcome.done} of {outcome.total} files done{written}", err=True)
        ctx.exit(EXIT_INTERRUPTED)
    weighed = counted(outcome.results, outcome.resumed, baseline=known is not None)
    code = exit_code(weighed, fail_on)
    if not ctx.obj["quiet"] or code == EXIT_ERROR:
        click.echo(f"auditor: {summary(outcome.results, outcome.resumed, fail_on, reaching(weighed, fail_on))}", err=True)
    ctx.exit(code)


def _cache_path() -> Path:
    from auditor.cache import default_cache_path  # and sqlite3 with it: a --no-cache run imports neither

    return default_cache_path()


def _executor(kind: str, jobs: int | None, scheduler: str | None, read_bytes: bool) -> Any:
    """The executor --executor asks for; a Dask cluster that cannot be used stops the run (exit 2) before any work."""
    from auditor.executors import make_executor

    if kind == "local" and (scheduler or read_bytes):
        raise click.UsageError("--scheduler and --read-bytes need --executor dask")
    if kind == "dask" and not scheduler:
        raise click.UsageError("--executor dask needs --scheduler tcp://HOST:PORT")
    if kind == "local":
        return make_executor(kind, jobs, scheduler, read_bytes)
    from auditor.executors.dask import DaskExecutorError

    try:
        return make_executor(kind, jobs, scheduler, read_bytes)
    except DaskExecutorError as exc:
        raise Failure(str(exc)) from None


def _stdin_bytes() -> BinaryIO:
    """Standard input as bytes, for `-` among the paths (click.get_binary_stream is deprecated and
    goes in Click 9); an empty stream where the process has no standard input at all."""
    return getattr(sys.stdin, "buffer", None) or io.BytesIO()
