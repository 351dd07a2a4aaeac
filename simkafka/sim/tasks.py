"""A request's life as a generator of SimPy events, without a SimPy ``Process``; and
the helpers of loops written as callback state machines.

``env.process(generator)`` costs two events besides the ones the generator waits on: an
``Initialize`` event to start it and the process's own event when it ends (a process
is an event others may wait for). A ProduceRequest is started by the Sender thousands
of times a simulated second and nobody waits for its process, so :class:`Task` drives
its generator the way ``Process._resume`` does -- send each event's value in, throw a
failed event's exception in -- but starts it at once, in its caller, and ends without
an event.

The hottest loops (a replica fetcher, a consumer's fetch sessions and poll loop, the
Sender) go further: they are *callback state machines*, each step a method called back
on the event the step before waits for, appended to that event's callbacks at the
moment a process would have yielded it -- so the run is the same, event for event and
in the same order, without a generator to resume at every step. :func:`start_soon`
starts one as ``env.process`` starts a process, and :func:`first_of` is the event
``a | b`` is, for less.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy
from simpy.events import NORMAL, PENDING, URGENT


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


def start_soon(env: simpy.Environment, step: Callable[[simpy.Event], object]) -> None:
    """Call ``step`` at the current instant as ``env.process`` starts a process: on an
    URGENT event scheduled now (what ``simpy.events.Initialize`` is)."""
    event = simpy.Event(env)
    event._ok, event._value = True, None
    event.callbacks.append(step)
    env.schedule(event, URGENT)


class _FirstOf:
    """The check of :func:`first_of`: completes ``result`` when the first event is processed."""

    __slots__ = ("env", "result")

    def __init__(self, env: simpy.Environment, result: simpy.Event) -> None:
        self.env = env
        self.result = result

    def __call__(self, _event: simpy.Event) -> None:
        result = self.result
        if result._value is not PENDING:
            return
        # what Condition._check does: the condition succeeds, scheduled at this instant
        # after what was scheduled before it
        result._ok, result._value = True, None
        self.env.schedule(result, NORMAL)


def first_of(env: simpy.Environment, events: tuple[simpy.Event, ...]) -> simpy.Event:
    """An event processed after the first of ``events`` (pending ones, none failing), as
    ``a | b`` is: triggered when that one is processed, then processed itself at the same
    instant after what was scheduled before -- without the condition's value, its
    ``ConditionValue`` nor the removal of its checks from the other events."""
    result = simpy.Event(env)
    check = _FirstOf(env, result)
    for event in events:
        event.callbacks.append(check)
    return result
