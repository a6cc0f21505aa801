"""`auditor rules list|show|validate`: the exposure rules (texts in auditor.explain)."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.common import RULES_OPTION, load_rules
from auditor.cli.failure import Failure
from auditor.gate import EXIT_ERROR, EXIT_OK


@click.group()
def rules() -> None:
    """List, show and validate exposure rules."""


@rules.command("list")
@RULES_OPTION
def rules_list(rule_dirs: tuple[Path, ...]) -> None:
    """One line per rule: id, channel, severity, points, title."""
    from auditor.explain import rules_table

    click.echo(rules_table(load_rules(rule_dirs)))


@rules.command("show")
@click.argument("rule_id")
@RULES_OPTION
def rules_show(rule_id: str, rule_dirs: tuple[Path, ...]) -> None:
    """Everything about one rule: condition, points, rationale, sources, where it is defined."""
    from auditor.explain import find_rule, rule_card

    rule = find_rule(load_rules(rule_dirs), rule_id)
    if rule is None:
        raise Failure(f"no rule {rule_id!r} (see 'auditor rules list')")
    click.echo(rule_card(rule))


@rules.command("validate")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def rules_validate(ctx: click.Context, directory: Path | None) -> None:
    """Schema-check a rule folder (default: the built-in rules); prints file:line of each error."""
    from auditor.ruleset.ruleset import BUILTIN_DIR, validate_dir

    errors = validate_dir(directory or BUILTIN_DIR)
    for line in errors:
        click.echo(line, err=True)
    click.echo(f"{len(errors)} error(s)" if errors else "rules are valid")
    ctx.exit(EXIT_ERROR if errors else EXIT_OK)
