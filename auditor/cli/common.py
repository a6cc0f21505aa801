"""What several commands share: the options they spell alike, loading the rule set, writing -o."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from auditor.cli.failure import Failure
from auditor.errors import RuleError
from auditor.i18n import LANGUAGES
from auditor.limits import Limits, MiB
from auditor.model import BANDS
from auditor.ruleset.ruleset import RuleSet, load_ruleset_cached

RULES_OPTION = click.option("--rules", "rule_dirs", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
                            help="Extra rule folder; a rule with a built-in id replaces it. Repeatable.")
LANG_OPTION = click.option("--lang", type=click.Choice(LANGUAGES, case_sensitive=False), default="en", show_default=True,
                           help="Language of table, markdown, html and explain (zh-cn is zh-CN).")
OUTPUT_OPTION = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                             help="Write the report here instead of stdout.")
POLICY_OPTION = click.option("--policy", "policy_spec", default="auto", show_default=True,
                             help="Policy ids (comma-separated), 'all', 'none', or 'auto': every pack for apps judged "
                                  "lending (or unknown), none for the others.")
ASSUME_LENDING_OPTION = click.option("--assume-lending", is_flag=True,
                                     help="Treat every app as a lending app, whatever the classifier says (for reviewers who know).")
FAIL_ON_OPTION = click.option("--fail-on", type=click.Choice(BANDS[1:]), help="Exit 1 when an app reaches this band.")
NO_CACHE_OPTION = click.option("--no-cache", is_flag=True,
                               help="Neither read nor write the result cache (~/.cache/auditor; AUDITOR_CACHE_DIR overrides).")
JOBS_OPTION = click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per core).")

LIMIT_OPTIONS = (
    click.option("--timeout", type=click.FloatRange(min=0.1), default=Limits.timeout, show_default=True, help="Seconds per file."),
    click.option("--max-memory", type=click.IntRange(min=64), default=Limits.max_memory_mb, show_default=True, help="MiB per worker."),
    click.option("--max-unpacked", type=click.IntRange(min=1), default=Limits.max_unpacked_bytes // MiB, show_default=True,
                 help="MiB a file may unpack to in total."),
    click.option("--max-ratio", type=click.IntRange(min=2), default=Limits.max_ratio, show_default=True,
                 help="Largest compression ratio of an entry."),
    click.option("--max-entries", type=click.IntRange(min=1), default=Limits.max_entries, show_default=True, help="Zip entries per archive."),
    click.option("--max-dex", type=click.IntRange(min=1), default=Limits.max_dex_bytes // MiB, show_default=True, help="MiB per dex file."),
    click.option("--max-nesting", type=click.IntRange(min=0), default=Limits.max_nesting, show_default=True, help="Bundle nesting depth."),
)


def limit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The scan limits as options (--timeout, --max-memory, --max-unpacked...), handed to `command` as
    one `limits` argument. Put it directly above the function, below the other option decorators."""
    @functools.wraps(command)
    def with_limits(*args: Any, **kwargs: Any) -> Any:
        kwargs["limits"] = Limits(
            max_unpacked_bytes=kwargs.pop("max_unpacked") * MiB, max_ratio=kwargs.pop("max_ratio"),
            max_entries=kwargs.pop("max_entries"), max_dex_bytes=kwargs.pop("max_dex") * MiB,
            max_nesting=kwargs.pop("max_nesting"), timeout=kwargs.pop("timeout"), max_memory_mb=kwargs.pop("max_memory"))
        return command(*args, **kwargs)

    decorated: Callable[..., Any] = with_limits
    for option in reversed(LIMIT_OPTIONS):
        decorated = option(decorated)
    return decorated


def load_rules(rule_dirs: tuple[Path, ...], use_cache: bool = True) -> RuleSet:
    """The built-in rules plus `rule_dirs`; an invalid rule set stops the command.

    `use_cache=False` (--no-cache) writes nothing to the cache folder; it still reads a checked rule
    set cached there by an earlier run (plain JSON, keyed by every rule file), which is start-up time."""
    try:
        return load_ruleset_cached(rule_dirs, write=use_cache)
    except RuleError as exc:
        raise Failure(f"invalid rules:\n{exc.message}") from exc


def select_policies(rules: RuleSet, spec: str) -> tuple[str, ...]:
    """The policy ids --policy names; an unknown one is a usage error."""
    from auditor.policy import select

    try:
        return select(rules, spec)
    except KeyError as exc:
        raise click.BadParameter(f"unknown policy {exc.args[0]} (see 'auditor policies list')", param_hint="--policy") from None


def write(text: str, output: Path | None) -> None:
    """The rendered report to -o, or to stdout."""
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def check_output(output: Path | None, inputs: Iterable[str]) -> None:
    """Stop before any work when -o cannot be written or names one of the inputs."""
    from auditor.output import OutputError
    from auditor.output import check_output as check

    if output is None:
        return
    try:
        check(output, inputs)
    except OutputError as exc:
        raise Failure(exc.message) from None


def no_input_found() -> str:
    """The warning for a run whose paths hold no app at all (an empty folder would otherwise pass CI)."""
    from auditor.inputs import EXTENSIONS

    return f"no input found (folders are searched for {' '.join(EXTENSIONS)})"
