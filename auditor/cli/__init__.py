"""Command-line interface: parses options and wires the stages together; the work is elsewhere.

One module per command (scan, compare, diff, explain, rules, policies, cache), each importing only
`auditor.cli.common` and the stages it wires; `auditor.cli.main` assembles them into the `auditor`
group. Nothing imports back from a command module. Exit codes are in auditor.gate and the README.
"""

from auditor.cli.main import main

__all__ = ["main"]
