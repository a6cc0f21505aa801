"""`auditor cache clear`: the local result cache (auditor.cache)."""

from __future__ import annotations

import click

from auditor.cli.common import fail


@click.group("cache")
def cache_group() -> None:
    """Manage the local result cache."""


@cache_group.command("clear")
def cache_clear() -> None:
    """Delete every cached result."""
    import sqlite3

    from auditor.cache import ResultCache, clear_all

    store = ResultCache()
    try:
        count = clear_all(store)
    except sqlite3.OperationalError as exc:
        raise fail(f"cache {store.path} is busy ({exc}); retry when no scan is running") from exc
    click.echo(f"removed {count} cached result(s) from {store.path}")
