"""Long polls complete on data or at their deadline, whichever is first, one event each."""

from __future__ import annotations

import simpy

from simkafka.sim.broker import Purgatory


def test_deadline_and_data_complete_waiters_in_time_order():
    env = simpy.Environment()
    purgatory = Purgatory(env)
    done: dict[str, float] = {}

    def poll(name: str, deadline: float, data_at: float | None):
        wake = env.event()
        if data_at is not None:
            env.timeout(data_at).callbacks.append(lambda _: wake.triggered or wake.succeed())
        yield purgatory.watch(wake, deadline)
        done[name] = env.now

    env.process(poll("late-deadline", 0.5, None))
    env.process(poll("data-first", 0.5, 0.1))
    env.process(poll("early-deadline", 0.2, None))  # earlier than the armed timer
    env.process(poll("deadline-before-data", 0.3, 0.4))
    env.run()
    assert done == {
        "data-first": 0.1,
        "early-deadline": 0.2,
        "deadline-before-data": 0.3,
        "late-deadline": 0.5,
    }
