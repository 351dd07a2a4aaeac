"""Scenario errors that point at the file, line and field a person has to fix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PathElement = str | int


def format_path(path: Sequence[PathElement]) -> str:
    """``('topics', 0, 'replication.factor')`` -> ``topics[0].replication.factor``."""
    text = ""
    for element in path:
        if isinstance(element, int):
            text += f"[{element}]"
        else:
            text += ("." if text else "") + element
    return text or "(top level)"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a scenario (or, with ``warning=True``, worth a second look)."""

    source: str
    line: int | None  # 1-based
    column: int | None  # 1-based
    path: tuple[PathElement, ...]
    message: str
    hint: str | None = None
    warning: bool = False

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        kind = "warning" if self.warning else "error"
        text = f"{where}: {kind}: {format_path(self.path)}: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class ScenarioError(ValueError):
    """The scenario cannot be used. ``problems`` lists every error found, in file order."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {self.problems[0].source}" if count else "invalid scenario"
        super().__init__(head + ":\n" + "\n".join(str(p) for p in self.problems))
