"""A Task runs a generator as a SimPy process does, without the process's own events."""

from __future__ import annotations

import simpy

from simkafka.sim.tasks import Task


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
