"""The ``simkafka`` console script: the command line, with Ctrl-C as one line and exit 130.

This module imports nothing heavy, so it is already running when click, rich, pydantic
and numpy load: Ctrl-C during start-up is caught here (the interpreter would print a
``KeyboardInterrupt`` traceback). Ctrl-C inside a command is caught by the command group
(:mod:`simkafka.cli.main`), before click would turn it into "Aborted!" and exit status 1.
"""

from __future__ import annotations

from simkafka.cli.exits import interrupted


def main() -> None:
    """Run the ``simkafka`` command."""
    try:
        from simkafka.cli.main import main as command

        command(prog_name="simkafka")
    except KeyboardInterrupt:
        interrupted()
