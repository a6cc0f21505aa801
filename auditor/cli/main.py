"""The `auditor` command group: global options, and one sub-command per module of this package."""

from __future__ import annotations

import atexit
import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from auditor import __version__
from auditor.cli.failure import Failure
from auditor.cli.logs import set_verbosity
from auditor.gate import EXIT_BROKEN_PIPE, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK

COMMANDS = {
    "scan": ("auditor.cli.scan", "scan"),
    "compare": ("auditor.cli.compare", "compare"),
    "diff": ("auditor.cli.diff", "diff"),
    "explain": ("auditor.cli.explain", "explain_command"),
    "rules": ("auditor.cli.rules", "rules"),
    "policies": ("auditor.cli.policies", "policies"),
    "cache": ("auditor.cli.cache", "cache_group"),
}
"""Sub-command -> (module, object). A command's module is imported only when that command runs
(or help lists them all): `scan` must not pay for compare's tables or diff's reports at start-up."""


class AuditorGroup(click.Group):
    """The group that keeps exit code 1 for --fail-on alone.

    Click ends an interrupt, a broken pipe and an unexpected exception with 1, which CI reads as
    "an app reached --fail-on"; here they end with 130, 141 (quietly) and 2 (with the traceback)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("auditor: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            _silence_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)
        except OSError as exc:
            click.echo(f"auditor: error: {exc}", err=True)
            ctx.exit(EXIT_ERROR)
        except Exception as exc:
            click.echo(traceback.format_exc(), err=True, nl=False)
            click.echo(f"auditor: internal error (a bug, please report it): {type(exc).__name__}: {exc}", err=True)
            ctx.exit(EXIT_ERROR)


def _apply_config(ctx: click.Context, config_file: Path | None) -> None:
    """Make the config file's settings the sub-commands' defaults; options given on the command line win."""
    from auditor.config import ConfigError, default_map, find_config, load_config

    try:
        path = config_file or find_config(Path.cwd().resolve())
        if path is not None:
            ctx.default_map = default_map(load_config(path))
    except FileNotFoundError:
        return  # the current folder was deleted: no config to find
    except ConfigError as exc:
        raise Failure(exc.message) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush does not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a file (a test runner's buffer): nothing will flush to a pipe


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """--version: the tool, the built-in rules it judges by (their digest is in every report), and
    the androguard and Python it runs on, and whether the dex reader's C forms and zlib-ng run (speed only:
    both give the same results), which is what a bug report or a reproduced result needs."""
    if not value or ctx.resilient_parsing:
        return
    import platform
    from importlib import metadata

    from auditor.errors import RuleError
    from auditor.ruleset.ruleset import load_ruleset_cached

    try:
        digest = load_ruleset_cached(()).digest
    except RuleError as exc:
        digest = f"invalid ({exc.message.splitlines()[0]})"
    try:
        androguard = metadata.version("androguard")
    except metadata.PackageNotFoundError:
        androguard = "not installed"
    from auditor import deflate
    from auditor.dex import reader

    dex_reader = "C extension" if reader._native is not None else "pure Python (C extension not built or turned off)"
    click.echo(f"auditor {__version__}\nrules {digest}\nandroguard {androguard}\n"
               f"python {platform.python_version()} on {platform.system()} {platform.machine()}\ndex reader {dex_reader}\n"
               f"inflate {deflate.describe()}")
    ctx.exit()


@click.group(cls=AuditorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version, the rules digest and the androguard version, and exit.")
@click.option("-v", "--verbose", count=True, help="More detail (findings under each app; -vv for debug logs).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Defaults from this file instead of the nearest .auditor.toml or pyproject.toml [tool.auditor].")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool, config_file: Path | None) -> None:
    """Audit Android apps for access to contacts, SMS and the call log."""
    set_verbosity(verbose, quiet)
    _apply_config(ctx, config_file)
    ctx.obj = {"verbose": verbose, "quiet": quiet}



def run() -> NoReturn:
    """The `auditor` console script and `python -m auditor`: the command group, then an exit that
    skips freeing the heap.

    A normal interpreter exit deallocates every module and object one by one: 15-20 ms of a scan of
    one app (the rule set, the modules, the results), 50 ms where the analysis ran in this process
    (--debug), all of it memory the operating system takes back at once anyway. mypy ends the same
    way (`mypy.util.hard_exit`). What an exit must still do is done first: the atexit handlers
    (logging's flush, multiprocessing's reaping of workers) and the flush of stdout and stderr.
    Callers of `main` (tests, programs embedding the group) keep the ordinary exit."""
    try:
        main()
        code: object = EXIT_OK
    except SystemExit as done:
        code = done.code
    _exit_now(code)


def _exit_now(code: object) -> NoReturn:
    """Leave with SystemExit's meaning of `code` (None is 0, a number is itself, anything else is
    printed and is 1), without the interpreter's teardown."""
    if code is None:
        status = EXIT_OK
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            _silence_stdout()
            status = status or EXIT_BROKEN_PIPE
        except (OSError, ValueError, AttributeError):
            pass  # closed or replaced: nothing left to write there
    os._exit(status)
