"""The `auditor` command group: global options, and one sub-command per module of this package."""

from __future__ import annotations

import logging
import sys

import click

from auditor import __version__
from auditor.cli.cache import cache_group
from auditor.cli.compare import compare
from auditor.cli.diff import diff
from auditor.cli.explain import explain_command
from auditor.cli.policies import policies
from auditor.cli.rules import rules
from auditor.cli.scan import scan


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


for command in (scan, compare, diff, explain_command, rules, policies, cache_group):
    main.add_command(command)
