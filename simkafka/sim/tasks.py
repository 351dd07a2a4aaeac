"""A request's life as a generator of SimPy events, without a SimPy ``Process``.

``env.process(generator)`` costs two events besides the ones the generator waits on: an
``Initialize`` event to start it and the process's own event when it ends (a process
is an event others may wait for). A ProduceRequest is started by the Sender thousands
of times a simulated second and nobody waits for its process, so :class:`Task` drives
its generator the way ``Process._resume`` does -- send each event's value in, throw a
failed event's exception in -- but starts it at once, in its caller, and ends without
an event.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy


class Task:
    """Runs ``generator`` now, until its first wait, then on each event it waits for."""

    __slots__ = ("_generator",)

    def __init__(self, generator: Generator[simpy.Event, Any, Any]) -> None:
        self._generator = generator
        self._resume(None)

    def _resume(self, event: simpy.Event | None) -> None:
        generator = self._generator
        while True:
            try:
                if event is None:
                    target = next(generator)
                elif event._ok:
                    target = generator.send(event._value)
                else:
                    event._defused = True  # the generator handles it (or fails the run)
                    target = generator.throw(event._value)
            except StopIteration:
                return
            if target.callbacks is not None:
                target.callbacks.append(self._resume)
                return
            event = target  # processed already: go on at once, as a process does
