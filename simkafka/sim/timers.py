"""A pure state machine's timers in simulated time: call it back at its next deadline.

The controller and the group coordinator each say when they next need a ``Tick``
(``next_deadline()``); that deadline moves whenever they handle something, so whoever
feeds them calls :meth:`DeadlineTimer.rearm` after each input and the timer re-reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

# a timer a Tick left due at the same instant: let time move on before firing again
NUDGE = 1e-6


class DeadlineTimer:
    """Calls ``fire(now)`` when ``next_deadline()`` comes, from :meth:`start` on."""

    def __init__(
        self,
        env: simpy.Environment,
        next_deadline: Callable[[], float | None],
        fire: Callable[[float], object],
    ) -> None:
        self.env = env
        self._next_deadline = next_deadline
        self._fire = fire
        self._rearm = env.event()

    def start(self) -> None:
        self.env.process(self._run())

    def rearm(self) -> None:
        """The deadline may have moved: look at it again."""
        if not self._rearm.triggered:
            self._rearm.succeed()

    def _run(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        while True:
            deadline = self._next_deadline()
            self._rearm = env.event()
            if deadline is None:
                yield self._rearm
            elif deadline > env.now:
                yield self._rearm | env.timeout(deadline - env.now)
            else:
                self._fire(env.now)
                after = self._next_deadline()
                if after is not None and after <= env.now:
                    yield env.timeout(NUDGE)

    def __repr__(self) -> str:
        return f"<DeadlineTimer next {self._next_deadline()}>"
