"""The exit statuses of the ``simkafka`` command, and the one way it stops on Ctrl-C.

Imports nothing heavy: :mod:`simkafka.cli.entry` needs :func:`interrupted` before click,
rich, pydantic and numpy have loaded.
"""

from __future__ import annotations

import sys
from typing import NoReturn

# the command ran, and what it checked does not hold (a disagreeing validation, a failed
# conservation or read-back check)
EXIT_FAILED = 1
# bad input: a scenario with errors, an option out of range, an output simkafka may not write
EXIT_USAGE = 2
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
