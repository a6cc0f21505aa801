"""`auditor explain`: a rule id, a permission or a policy id in plain language (auditor.explain)."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.common import LANG_OPTION, RULES_OPTION, load_rules
from auditor.cli.failure import Failure


@click.command("explain")
@click.argument("subject")
@LANG_OPTION
@RULES_OPTION
def explain_command(subject: str, lang: str, rule_dirs: tuple[Path, ...]) -> None:
    """Explain a rule id, a permission (READ_CONTACTS) or a policy id in plain language."""
    from auditor.explain import explain, render
    from auditor.i18n import text

    sections = explain(load_rules(rule_dirs), subject, lang)
    if sections is None:
        raise Failure(text("explain.unknown", lang, subject=subject))
    click.echo(render(sections))
