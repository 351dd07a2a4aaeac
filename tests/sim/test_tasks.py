"""A Task runs a generator as a SimPy process does, without the process's own events;
start_soon and first_of put a callback state machine's steps where a process's would be."""

from __future__ import annotations

import simpy

from simkafka.sim.tasks import Task, first_of, start_soon


def test_a_task_runs_at_once_gets_values_and_exceptions_and_schedules_nothing_of_its_own():
    env = simpy.Environment()
    seen: list[object] = []

    def request():
        seen.append(("start", env.now))
        value = yield env.timeout(1.0, value="answer")
        seen.append((value, env.now))
        done = env.event()
        done.succeed(7)
        seen.append(((yield done), env.now))
        failing = env.event()
        failing.fail(ValueError("refused"))
        try:
            yield failing
        except ValueError as error:
            seen.append((str(error), env.now))

    Task(request())
    assert seen == [("start", 0.0)]  # started in its caller, before any event
    assert len(env._queue) == 1  # only the timeout it waits on: no Initialize event
    env.run()
    assert seen == [("start", 0.0), ("answer", 1.0), (7, 1.0), ("refused", 1.0)]


def test_a_task_waiting_on_a_processed_event_goes_on_at_once():
    env = simpy.Environment()
    fired = env.timeout(0.5)
    env.run()
    steps: list[float] = []

    def request():
        yield fired  # processed already
        steps.append(env.now)

    Task(request())
    assert steps == [0.5]


def _wait_for_either(use_first_of: bool) -> list[tuple[str, float]]:
    """At t=1 ``a`` succeeds and then ``x``, both at that instant; a waiter on ``a`` or
    a timeout at t=2 -- a process on ``a | b``, or a callback on ``first_of``."""
    env = simpy.Environment()
    seen: list[tuple[str, float]] = []
    a = env.event()
    b = env.timeout(2.0)

    def at_one(_event: simpy.Event) -> None:
        a.succeed()
        x = env.event()
        x.callbacks.append(lambda _e: seen.append(("x", env.now)))
        x.succeed()

    env.timeout(1.0).callbacks.append(at_one)
    if use_first_of:
        first_of(env, (a, b)).callbacks.append(lambda _e: seen.append(("waiter", env.now)))
    else:

        def waiter():
            yield a | b
            seen.append(("waiter", env.now))

        Task(waiter())
    env.run()
    return seen


def test_first_of_resumes_where_a_condition_does_one_event_after_the_first():
    # the condition is an event of its own, scheduled when `a` is processed: `x`,
    # scheduled before that, comes first -- resuming in `a`'s callback would reorder them
    assert _wait_for_either(use_first_of=False) == [("x", 1.0), ("waiter", 1.0)]
    assert _wait_for_either(use_first_of=True) == [("x", 1.0), ("waiter", 1.0)]


def _start(use_start_soon: bool) -> list[str]:
    env = simpy.Environment()
    seen: list[str] = []
    earlier = env.event()
    earlier.callbacks.append(lambda _e: seen.append("scheduled before"))
    earlier.succeed()
    if use_start_soon:
        start_soon(env, lambda _e: seen.append("started"))
    else:

        def process():
            seen.append("started")
            yield env.timeout(0)

        env.process(process())
    assert seen == []  # not in the caller: at an event of its own
    env.run()
    return seen


def test_start_soon_starts_where_a_process_starts():
    # an URGENT event at the same instant, as a process's Initialize
    assert _start(use_start_soon=False) == ["started", "scheduled before"]
    assert _start(use_start_soon=True) == ["started", "scheduled before"]
