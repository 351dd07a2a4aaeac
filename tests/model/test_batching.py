"""batch_unkeyed_records: the accumulator and the Sender, record by record, under the
built-in sticky partitioner and RoundRobinPartitioner."""

import itertools

import numpy as np
import pytest

from simkafka.model.batching import RECORD_BATCH_OVERHEAD, batch_unkeyed_records
from simkafka.model.partitioner import BatchShape, sticky_stint_records


def _partition_of_records(batches):
    where = {}
    for b in batches:
        for r in b.records:
            assert r not in where, "a record is in one batch only"
            where[r] = b
    return [where[i] for i in range(len(where))]


def _stints(placed):
    runs = []
    for b in placed:
        if runs and runs[-1][0] == b.partition:
            runs[-1][1] += 1
        else:
            runs.append([b.partition, 1])
    return runs


def test_back_to_back_stints_match_the_bulk_placement_of_the_engines():
    # no drain in between: Kafka switches at 2 x batch.size; the engines' bulk placement
    # (place_batched_records) says how many records that is -- both must agree
    # Kafka's mockRandom hook: draws 0, 1, 2, ... so every switch goes to another partition
    batches = batch_unkeyed_records([0.0] * 300, 1024, 4, batch_size=16384, linger_ms=5,
                                    rng=itertools.count().__next__)
    stints = _stints(_partition_of_records(batches))
    per_batch = (16384 - RECORD_BATCH_OVERHEAD) // 1024
    expected = sticky_stint_records(1024, 16384, BatchShape(per_batch, RECORD_BATCH_OVERHEAD))
    assert [n for _p, n in stints[:-1]] == [expected] * (len(stints) - 1)


def test_sticky_switches_after_batch_size_bytes_and_at_batch_boundaries_when_drained():
    arrivals = np.arange(400) * 0.5  # 2,000 records/s: every batch is sent at linger.ms
    batches = batch_unkeyed_records(arrivals, 1024, 4, batch_size=16384, linger_ms=5.0,
                                    rng=np.random.default_rng(42))
    placed = _partition_of_records(batches)
    assert len(placed) == 400
    switches = [i for i in range(399) if placed[i].partition != placed[i + 1].partition]
    assert switches
    for i in switches:
        assert placed[i].records[-1] == i and placed[i + 1].records[0] == i + 1
    starts = [0] + [i + 1 for i in switches]
    assert all((b - a) * 1024 >= 16384 for a, b in zip(starts, starts[1:], strict=False))
    for b in batches:
        assert b.size == RECORD_BATCH_OVERHEAD + 1024 * len(b.records) <= 16384
        assert not b.closed_full and b.sent_ms == b.opened_ms + 5.0  # linger, not full


def test_round_robin_sends_record_i_to_partition_i_mod_n():
    batches = batch_unkeyed_records(np.arange(50) * 0.5, 100, 3, batch_size=16384, linger_ms=5.0,
                                    partitioner="round-robin")
    placed = _partition_of_records(batches)
    assert [b.partition for b in placed] == [i % 3 for i in range(50)]


def test_a_full_batch_is_sent_when_it_closes_and_the_record_that_did_not_fit_opens_the_next():
    batches = batch_unkeyed_records([0.0, 1.0, 2.0], 600, 1, batch_size=1300, linger_ms=100.0,
                                    partitioner="round-robin")
    assert [(b.records, b.closed_full, b.sent_ms) for b in batches] == [((0, 1), True, 2.0), ((2,), False, 102.0)]


@pytest.mark.parametrize("kwargs, message", [
    ({"partitioner": "hash"}, "sticky"),
    ({"rng": None}, "rng"),
    ({"record_bytes": 0}, ">= 1"),
])
def test_refuses_what_it_cannot_play(kwargs, message):
    args = {"arrivals_ms": [0.0], "record_bytes": 10, "num_partitions": 2, "rng": np.random.default_rng(0)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        batch_unkeyed_records(**args)


def test_arrivals_must_not_go_back():
    with pytest.raises(ValueError, match="decrease"):
        batch_unkeyed_records([1.0, 0.5], 10, 2, partitioner="round-robin")
