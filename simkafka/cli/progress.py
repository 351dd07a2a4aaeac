"""Progress of a long command on stderr, wherever stderr goes.

On a terminal: a rich bar with the elapsed time and an ETA, gone when the command ends.
Elsewhere (make, CI logs, pipes), where a bar would print nothing or garbage: a plain line
at the start, then whenever another tenth of the work is done (at most one a second) or
ten seconds have passed without one, and one at the end, e.g.
``simulating quickstart: 12.0s / 60.0s simulated (20%), 9s elapsed, ETA 36s``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console

# a plain line at least this often, and for each new tenth of the work at most this often
QUIET_SECONDS = 10.0
MIN_SECONDS_BETWEEN_LINES = 1.0


def format_seconds(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``: wall-clock time as a person reads it."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class ProgressDisplay:
    """``with ProgressDisplay(console, "simulating x", total) as p: p.update(done, ...)``."""

    def __init__(
        self,
        console: Console,
        description: str,
        total: float | None,
        *,
        detail: Callable[[float, float | None], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._description = description
        self._total = total
        self._detail = detail or (lambda done, total: "")
        self._clock = clock
        self._rich = None
        self._task = None
        self._done = 0.0
        self._start = 0.0
        self._phase_start = 0.0
        self._last_line = 0.0
        self._last_tenth = 0

    def __enter__(self) -> ProgressDisplay:
        self._start = self._phase_start = self._last_line = self._clock()
        if self._console.is_terminal:
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._rich = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self._console,
                transient=True,
            )
            self._rich.__enter__()
            self._task = self._rich.add_task(self._description, total=self._total, detail="")
        else:
            self._line(f"{self._description}: started")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._rich is not None:
            self._rich.__exit__(kind, error, traceback)
        elif kind is None:
            self._line(self._status(final=True))

    def update(
        self,
        done: float,
        total: float | None = None,
        *,
        description: str | None = None,
    ) -> None:
        """``done`` units of work of ``total`` (the total given at the start if omitted)."""
        if total is not None:
            self._total = total
        self._done = done
        if description is not None and description != self._description:
            # a new phase of the work: its own tenths, and a line saying it began
            self._description = description
            self._last_tenth = 0
            self._phase_start = self._clock()
            if self._rich is None:
                self._line(f"{description}: started")
        if self._rich is not None:
            self._rich.update(
                self._task,
                description=self._description,
                completed=done,
                total=self._total,
                detail=self._detail(done, self._total),
            )
            return
        now = self._clock()
        tenth = int(10 * self._fraction()) if self._fraction() is not None else 0
        since = now - self._last_line
        if since >= QUIET_SECONDS or (
            tenth > self._last_tenth and since >= MIN_SECONDS_BETWEEN_LINES
        ):
            self._last_tenth = tenth
            self._line(self._status())

    def _fraction(self) -> float | None:
        if not self._total or self._total <= 0:
            return None
        return min(1.0, max(0.0, self._done / self._total))

    def _status(self, final: bool = False) -> str:
        elapsed = self._clock() - self._start
        parts = [self._detail(self._done, self._total)]
        fraction = self._fraction()
        if fraction is not None and not final:
            parts.append(f"({100 * fraction:.0f}%)")
        text = " ".join(p for p in parts if p)
        tail = [f"{format_seconds(elapsed)} elapsed"]
        if final:
            tail = [f"done in {format_seconds(elapsed)}"]
        elif fraction:
            # from this phase's own pace: earlier phases (of bench-log) ran at another
            in_phase = self._clock() - self._phase_start
            tail.append(f"ETA {format_seconds(in_phase * (1 - fraction) / fraction)}")
        return f"{self._description}: " + ", ".join(x for x in [text, *tail] if x)

    def _line(self, text: str) -> None:
        self._last_line = self._clock()
        self._console.print(text, markup=False, highlight=False, soft_wrap=True)
