"""The one-line error that ends a command with exit code 2, shared by the group and its commands."""

from __future__ import annotations

import click

from auditor.gate import EXIT_ERROR


class Failure(click.ClickException):
    """A one-line error that ends the command with EXIT_ERROR (2): click's own exceptions end with
    1, which CI reads as "an app reached --fail-on". The code is the class's (Click types it as a
    class variable), so every failure shares it."""

    exit_code = EXIT_ERROR
