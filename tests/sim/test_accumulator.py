"""RecordAccumulator: batches close where Kafka's would, nothing is lost, drain follows Kafka."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.sim.accumulator import RECORD_BATCH_OVERHEAD, RecordAccumulator


def make(partitions=4, batch_size=16384, linger=0.005, ratio=1.0, size=1000):
    return RecordAccumulator(
        partitions,
        batch_size=batch_size,
        linger=linger,
        compression_ratio=ratio,
        message_bytes=size,
    )


def test_batch_capacity_uses_compressed_estimate():
    # 1000-byte values, null keys: DefaultRecord framing is 9 bytes for offset deltas < 64
    # (length 2, attributes 1, timestamp delta 1, offset delta 1, null key 1, value length 2,
    # header count 1), so 16 records fill 16384 - 61 bytes
    plain = make(size=1000)
    assert plain.record_bytes == 1009
    assert plain.messages_per_batch == (16384 - RECORD_BATCH_OVERHEAD) // 1009 == 16
    compressed = make(size=1000, ratio=0.5)
    # 32 records: offset deltas 0..31 still take one varint byte
    assert compressed.record_bytes == 1009
    assert compressed.messages_per_batch == int((16384 - RECORD_BATCH_OVERHEAD) / (1009 * 0.5))
    assert make(batch_size=0).messages_per_batch == 1


def test_record_framing_grows_with_offset_delta_as_in_kafka():
    # 10-byte values: 1573 records in a 16 KiB batch; deltas >= 64 take two varint bytes
    acc = make(size=10, batch_size=16384)
    n = acc.messages_per_batch
    two_byte_deltas = max(0, n - 64)
    framing = (
        1 + 1 + 1 + 1 + 1 + 1
    )  # length, attributes, ts delta, offset delta, null key, value len
    expected = 10 + framing + 1 + two_byte_deltas / n  # + header count
    assert acc.record_bytes == pytest.approx(expected)


def test_full_batches_close_at_the_interpolated_time():
    acc = make(partitions=1)
    per = acc.messages_per_batch  # 16
    acc.append(np.array([per * 2 + 3.0]), start=0.0, end=1.0)
    batches = list(acc.queues[0])
    assert [b.messages for b in batches] == [per, per]
    step = 1.0 / (per * 2 + 3)
    assert np.isclose(batches[0].first_append, step) and np.isclose(
        batches[0].last_append, per * step
    )
    assert np.isclose(batches[1].last_append, 2 * per * step)
    assert acc.open_messages[0] == 3 and acc.buffered_messages == 2 * per + 3


def test_a_batch_holding_all_that_fits_waits_for_the_next_record_or_linger():
    # 16 records of 1009 B take 16205 of 16384 bytes: not isFull(), so Kafka's ready()
    # does not send it until a 17th record fails to fit and closes it -- or linger.ms
    acc = make(partitions=1, linger=0.005)
    per = acc.messages_per_batch
    assert not acc.batch_shape.full_when_filled
    acc.append(np.array([float(per)]), start=0.0, end=0.001)
    assert acc.open_messages[0] == per and not acc.queues[0]
    assert not acc.sendable(0.002).any() and acc.last_batch_records(0) == per
    acc.append(np.array([1.0]), start=0.001, end=0.002)
    assert [b.messages for b in acc.queues[0]] == [per] and acc.open_messages[0] == 1
    assert acc.sendable(0.002).all()
    # records that fill batch.size exactly make the batch full at once
    exact = make(partitions=1, size=1024 - 9, batch_size=RECORD_BATCH_OVERHEAD + 16 * 1024)
    assert exact.batch_shape.full_when_filled
    exact.append(np.array([float(exact.messages_per_batch)]), start=0.0, end=0.001)
    assert exact.sendable(0.0).all() and exact.last_batch_records(0) == exact.messages_per_batch


def test_an_exhausted_buffer_pool_sends_every_batch_at_once():
    # RecordAccumulator.ready: exhausted = free.queued() > 0 -- with send() calls waiting
    # for buffer.memory, a batch goes without waiting for linger.ms or for the next record
    acc = make(partitions=3, linger=1.0)
    acc.append(np.array([1.0, 0.0, float(acc.messages_per_batch)]), start=0.0, end=0.001)
    assert not acc.sendable(0.002).any()
    assert acc.sendable(0.002, exhausted=True).tolist() == [True, False, True]


def test_linger_makes_a_partition_sendable():
    acc = make(partitions=2)
    acc.append(np.array([1.0, 0.0]), start=0.0, end=0.001)
    assert not acc.sendable(0.003).any()
    assert acc.sendable(0.006).tolist() == [True, False]
    assert np.isclose(acc.next_linger_expiry(), 0.006)


def test_drain_takes_one_batch_per_partition_of_the_node_and_rotates():
    acc = make(partitions=4)
    per = acc.messages_per_batch
    acc.append(np.array([2.0 * per, 1.0, 1.0, 0.0]), 0.0, 0.01)
    first = acc.drain([0, 1, 2, 3], node=7, now=0.01)
    # partition 0 gives its first full batch only; 1 and 2 their open batches; 3 nothing
    assert [(b.partition, b.messages) for b in first] == [(0, per), (1, 1), (2, 1)]
    second = acc.drain([0, 1, 2, 3], node=7, now=0.02)
    assert [(b.partition, b.messages) for b in second] == [(0, per)]


def test_drain_respects_max_request_size_but_always_sends_one():
    acc = RecordAccumulator(
        3,
        batch_size=16384,
        linger=0,
        compression_ratio=1.0,
        message_bytes=1000,
        max_request_size=20000,
    )
    per = acc.messages_per_batch
    acc.append(np.array([per, per, per], dtype=float), 0.0, 1.0)
    assert len(acc.drain([0, 1, 2], node=1, now=1.0)) == 1
    assert [b.partition for b in acc.drain([0, 1, 2], node=1, now=1.0)] == [1]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.floats(0, 200), min_size=3, max_size=3), min_size=1, max_size=20))
def test_conservation_every_message_is_buffered_or_drained(rounds):
    acc = make(partitions=3, size=500)
    drained = 0
    t = 0.0
    for i, quantities in enumerate(rounds):
        acc.append(np.array(quantities), t, t + 0.01)
        t += 0.01
        if i % 3 == 2:
            drained += sum(b.messages for b in acc.drain([0, 1, 2], node=0, now=t))
    assert acc.appended_messages == drained + acc.buffered_messages
    assert abs(acc.appended_messages - sum(map(sum, rounds))) < 3
    for q in acc.queues:
        for b in q:
            assert b.messages <= acc.messages_per_batch
            assert b.wire_bytes == RECORD_BATCH_OVERHEAD + round(b.messages * acc.record_bytes)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 80)), max_size=3), max_size=12)
)
def test_append_runs_is_append_for_whole_messages(calls):
    by_runs, by_array = make(partitions=3, size=500), make(partitions=3, size=500)
    t = 0.0
    for runs in calls:
        quantities = np.zeros(3)
        merged: dict[int, int] = {}
        for p, n in runs:
            merged[p] = merged.get(p, 0) + n
        for p, n in merged.items():
            quantities[p] = n
        by_runs.append_runs(sorted(merged.items()), t, t + 0.01)
        by_array.append(quantities, t, t + 0.01)
        t += 0.01
    assert by_runs.appended_messages == by_array.appended_messages
    assert np.array_equal(by_runs.open_messages, by_array.open_messages)
    assert np.allclose(by_runs.open_first, by_array.open_first) and np.allclose(
        by_runs.open_last, by_array.open_last
    )
    for a, b in zip(by_runs.queues, by_array.queues, strict=True):
        assert [x.messages for x in a] == [x.messages for x in b]
        assert [x.first_append for x in a] == pytest.approx([x.first_append for x in b])
        assert [x.last_append for x in a] == pytest.approx([x.last_append for x in b])


def test_expire_drops_batches_created_delivery_timeout_ago_oldest_first():
    acc = make(partitions=2)
    per = acc.messages_per_batch
    acc.append(np.array([per, 1]), 0.0, 0.1)  # a batch created at t ~ 0 on each partition
    acc.append(np.array([per, 0]), 1.0, 1.1)  # the next one of partition 0 at t ~ 1
    acc.append(np.array([3, 0]), 2.0, 2.1)  # and an open one at t ~ 2
    # delivery.timeout.ms 1 s, at t = 2.5: partition 0's first two batches go; the open
    # one and partition 1 (not asked about) stay
    assert acc.expire([0], 2.5, 1.0) == 2 * per
    assert acc.buffered_messages == 3 + 1
    assert acc.expire([0], 2.5, 1.0) == 0
    # at t = 10 the open batch has expired too
    assert acc.expire([0], 10.0, 1.0) == 3
    assert acc.open_messages[0] == 0 and not acc.queues[0] and acc.buffered_messages == 1
    assert acc.sendable(10.0)[0] == np.False_
