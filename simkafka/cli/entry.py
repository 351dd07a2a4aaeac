"""The ``simkafka`` console script: the command line, with Ctrl-C as one line and exit 130.

This module imports nothing heavy, so it is already running when click, rich, pydantic
and numpy load: Ctrl-C during start-up is caught here (the interpreter would print a
``KeyboardInterrupt`` traceback). Ctrl-C inside a command is caught by the command group
(:mod:`simkafka.cli.main`), before click would turn it into "Aborted!" and exit status 1.
"""

from __future__ import annotations

import sys
from typing import NoReturn

# 128 + SIGINT: what a shell reports for a program Ctrl-C stopped
EXIT_INTERRUPTED = 130


def interrupted() -> NoReturn:
    """Say that the command was interrupted, in one line, and exit with status 130."""
    try:
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr closed: the exit status still tells
    sys.exit(EXIT_INTERRUPTED)


def main() -> None:
    """Run the ``simkafka`` command."""
    try:
        from simkafka.cli.main import main as command

        command(prog_name="simkafka")
    except KeyboardInterrupt:
        interrupted()
