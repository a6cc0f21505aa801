"""`auditor cache info|clear`: the local result cache (auditor.cache)."""

from __future__ import annotations

import click

from auditor.cli.failure import Failure


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
        raise Failure(f"cache {store.path} is busy ({exc}); retry when no scan is running") from exc
    click.echo(f"removed {count} cached result(s) from {store.path}")


@cache_group.command("info")
def cache_info() -> None:
    """Where the cache is, its size on disk and how many results it holds."""
    from auditor.cache import ResultCache
    from auditor.cache import cache_info as info_of

    info = info_of(ResultCache())
    entries = "unreadable (busy, corrupt or not yours; 'auditor cache clear' resets it)" if info.entries is None else str(info.entries)
    click.echo(f"location: {info.path}\nsize: {info.size / 1024 / 1024:.1f} MiB ({info.size} bytes)\n"
               f"entries: {entries}\nrule sets: {info.rulesets}")
