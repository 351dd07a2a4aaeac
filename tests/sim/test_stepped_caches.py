"""What the stepped engine keeps between stages instead of recomputing it (issue 16).

The accumulator's batches are updated only where records entered or were drained, and
the replication delays only when a fetcher's loop changed; these tests recompute them
from scratch after every step of a run that exercises every path (acks 0, 1 and all,
keyed Poisson producers, a max-rate producer with a small buffer.memory, an offline
broker, flush.messages, prefill, JBOD, capacity faults) and compare.
"""

from __future__ import annotations

import numpy as np

from simkafka.sim.stepped import SteppedWorld

from .stepped_scenarios import mixed_scenario


def _world() -> SteppedWorld:
    return SteppedWorld(mixed_scenario())


def test_kept_accumulator_batches_match_a_recount_after_every_step():
    world = _world()
    checked = 0
    for _ in range(600):
        world.step()
        if world._acc_batches is None:
            continue
        closed, open_ = world._acc_batches
        expected_closed, expected_open = world._batches(world.acc)
        np.testing.assert_array_equal(closed, expected_closed)
        np.testing.assert_array_equal(open_, expected_open)
        # an empty open batch has no first-record time (the drain's linger test)
        assert np.isinf(world.partial_first[expected_open == 0]).all()
        checked += 1
    assert checked > 500
    assert int(world.created.sum()) > 0 and int(world.acked.sum()) > 0


def test_kept_replication_delays_match_a_recount_after_every_step():
    world = _world()
    moved = 0
    for _ in range(600):
        before = world.replication_delay.copy()
        world.step()
        starts = world.f_segment_start
        loop = np.maximum.reduceat(world.replica_loop[world.f_stream], starts)
        held = np.maximum.reduceat(world.replica_held[world.f_stream], starts)
        np.testing.assert_array_equal(
            world.replication_delay[world.f_segment_part], loop - held
        )
        moved += not np.array_equal(before, world.replication_delay)
    assert moved > 10  # the delays do change along the run


def test_held_stages_are_views_of_one_table():
    # buffer.memory sums them in one call: each must stay a view of that table
    world = _world()
    for _ in range(200):
        world.step()
    for stage in (world.acc, world.net, world.cpu_q, world.unacked, world.sock):
        assert np.shares_memory(stage, world._held_stages)
    held = world.acc + world.net + world.sock + world.cpu_q + world.unacked
    np.testing.assert_array_equal(held.sum(axis=1), world._held_stages.sum(axis=(0, 2)))
