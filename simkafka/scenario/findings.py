"""What the contradiction checks report: ``(path, message, hint, is_warning)``.

Paths use the file's own key names (``("consumer_groups", 0, "session.timeout.ms")``), so
the loader can point at the line.
"""

from __future__ import annotations

import difflib

Finding = tuple[tuple, str, str | None, bool]


def error(path: tuple, message: str, hint: str | None = None) -> Finding:
    """A contradiction: the scenario cannot be used."""
    return (path, message, hint, False)


def warning(path: tuple, message: str, hint: str | None = None) -> Finding:
    """A doubtful setting: the scenario loads, the user is told."""
    return (path, message, hint, True)


def closest(word: str, options: list[str]) -> str | None:
    """A hint naming the option closest to ``word``, or every option."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return ("defined: " + ", ".join(options)) if options else None
