"""`auditor policies list|show`: the policy packs (texts in auditor.explain)."""

from __future__ import annotations

from pathlib import Path

import click

from auditor.cli.common import RULES_OPTION, load_rules
from auditor.cli.failure import Failure


@click.group()
def policies() -> None:
    """List and describe policy packs."""


@policies.command("list")
@RULES_OPTION
def policies_list(rule_dirs: tuple[Path, ...]) -> None:
    from auditor.explain import policies_table

    click.echo(policies_table(load_rules(rule_dirs)))


@policies.command("show")
@click.argument("policy_id")
@RULES_OPTION
def policies_show(policy_id: str, rule_dirs: tuple[Path, ...]) -> None:
    from auditor.explain import find_policy, policy_card

    policy = find_policy(load_rules(rule_dirs), policy_id)
    if policy is None:
        raise Failure(f"no policy {policy_id!r} (see 'auditor policies list')")
    click.echo(policy_card(policy.data))
