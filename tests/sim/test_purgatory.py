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


def test_a_delayed_produce_completes_once_every_batch_is_settled_or_at_its_timeout():
    from simkafka.sim.broker import DelayedProduce

    env = simpy.Environment()
    purgatory = Purgatory(env)
    outcomes: dict[str, tuple[float, dict]] = {}

    def produce(name: str, settle: list[tuple[float, int, bool | str]], timeout: float):
        request = DelayedProduce(env)
        for index in range(2):
            request.expect(index)
        for at, index, outcome in settle:
            env.timeout(at).callbacks.append(lambda _, i=index, o=outcome: request.settle(i, o))
        yield purgatory.watch(request.wait(), env.now + timeout)
        outcomes[name] = (env.now, dict(request.outcomes))

    # both batches acknowledged: done with the second, long before the timeout
    env.process(produce("acked", [(0.1, 0, True), (0.2, 1, True)], 30.0))
    # one failed, one acknowledged: done when both are settled, the failure kept (and a
    # later outcome for a settled batch does not count)
    env.process(produce("failed", [(0.1, 1, "NOT_LEADER"), (0.15, 1, True), (0.3, 0, True)], 30.0))
    # the second batch never settles: the timeout completes it, what came after is ignored
    env.process(produce("timed out", [(0.1, 0, True), (0.6, 1, True)], 0.5))
    env.run(until=1.0)
    assert outcomes == {
        "acked": (0.2, {0: True, 1: True}),
        "failed": (0.3, {0: True, 1: "NOT_LEADER"}),
        "timed out": (0.5, {0: True, 1: None}),
    }


def test_waking_a_batch_of_waiters_costs_one_event_and_resumes_each_in_order():
    from simkafka.sim.broker import _wake

    env = simpy.Environment()
    waiters = [env.event() for _ in range(4)]
    waiters[2].succeed("earlier")  # completed already: not completed again
    resumed: list[tuple[int, object, float]] = []

    def fetch(i: int):
        value = yield waiters[i]
        resumed.append((i, value, env.now))

    for i in range(4):
        env.process(fetch(i))
    env.run(until=1.0)
    resumed.clear()  # waiter 2 resumed with its own value at t=0
    pending = list(waiters)
    queued = len(env._queue)
    _wake(pending)
    assert pending == [] and len(env._queue) == queued + 1  # one event for the batch
    assert all(w.triggered for w in waiters)
    env.run(until=2.0)
    assert resumed == [(0, None, 1.0), (1, None, 1.0), (3, None, 1.0)]


def test_a_delayed_produce_whose_first_batches_are_acknowledged_on_append_waits_for_the_rest():
    # With the ISR the leader alone, a batch's high watermark passes as it is appended:
    # the request must still wait for its batches registered after it.
    from simkafka.sim.broker import DelayedProduce

    env = simpy.Environment()
    request = DelayedProduce(env)
    request.expect(0)
    request.settle(0, True)  # acknowledged at once
    request.expect(1)
    assert not request.event.triggered
    event = request.wait()
    assert not event.triggered
    request.settle(1, True)
    assert event.triggered and request.outcomes == {0: True, 1: True}
    nothing_pending = DelayedProduce(env)
    nothing_pending.expect(0)
    nothing_pending.settle(0, True)
    assert nothing_pending.wait().triggered
