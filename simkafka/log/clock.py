"""Clocks for the log engine: time is always passed in, never read from a global.

Kafka's storage code takes a ``org.apache.kafka.common.utils.Time`` (``Time.SYSTEM`` in a
broker, ``MockTime`` in tests) instead of calling ``System.currentTimeMillis()`` directly,
so that ``segment.ms`` rolls, retention by time and flush-by-time can be tested without
sleeping. We do the same (design.md, "Time is passed in"): every component that needs the
time takes a :class:`Clock`; the decisions themselves (``should_roll``, retention breached,
...) are pure functions of a ``now_ms`` argument, so the simulator and the validation
harness can drive the real log engine on simulated time.

Two readings, as in Kafka's ``Time``:

* :meth:`Clock.now_ms` -- wall-clock milliseconds since the epoch (``milliseconds()``),
  the time that is compared with record timestamps and file modification times;
* :meth:`Clock.monotonic_ns` -- a monotonic nanosecond counter (``nanoseconds()``), for
  measuring durations (flush latency, throughput) that must not jump with NTP.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock", "ManualClock"]


@runtime_checkable
class Clock(Protocol):
    """What the log engine needs from a clock (Kafka's ``Time``)."""

    def now_ms(self) -> int:
        """Wall-clock time in milliseconds since the Unix epoch."""
        ...

    def monotonic_ns(self) -> int:
        """A monotonic counter in nanoseconds; only differences are meaningful."""
        ...


class SystemClock:
    """The real clock (Kafka's ``Time.SYSTEM``); the default outside tests."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that only moves when told to (Kafka's ``MockTime``).

    ``advance(ms)`` is ``MockTime.sleep``: both readings move forward together. Unlike
    ``MockTime.setCurrentTimeMs`` -- which refuses to go back -- the wall clock may be set
    *backwards* here, because a wall clock can jump back in production (NTP step) and the
    roll/retention rules must be testable against that; the monotonic reading never
    decreases (a backward step leaves it where it is).
    """

    def __init__(self, start_ms: int = 0, *, start_ns: int | None = None) -> None:
        self._ms = int(start_ms)
        self._ns = int(start_ms) * 1_000_000 if start_ns is None else int(start_ns)

    def now_ms(self) -> int:
        return self._ms

    def monotonic_ns(self) -> int:
        return self._ns

    def advance(self, ms: int) -> None:
        """Move both readings forward by ``ms`` milliseconds (``MockTime.sleep``)."""
        if ms < 0:
            raise ValueError(f"cannot advance a clock by a negative duration ({ms} ms)")
        self._ms += int(ms)
        self._ns += int(ms) * 1_000_000

    def advance_ns(self, ns: int) -> None:
        """Move the monotonic reading forward by ``ns``, the wall clock by whole ms crossed."""
        if ns < 0:
            raise ValueError(f"cannot advance a clock by a negative duration ({ns} ns)")
        before = self._ns
        self._ns += int(ns)
        self._ms += self._ns // 1_000_000 - before // 1_000_000

    def set_time_ms(self, ms: int) -> None:
        """Set the wall clock to ``ms``; a forward step also advances the monotonic reading."""
        delta = int(ms) - self._ms
        self._ms = int(ms)
        if delta > 0:
            self._ns += delta * 1_000_000

    @property
    def time_ms(self) -> int:
        """The wall-clock reading, settable (``clock.time_ms = 5_000``)."""
        return self._ms

    @time_ms.setter
    def time_ms(self, ms: int) -> None:
        self.set_time_ms(ms)

    def __repr__(self) -> str:
        return f"ManualClock(now_ms={self._ms})"
