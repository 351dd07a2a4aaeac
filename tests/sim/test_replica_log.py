"""ReplicaLog against an exact oracle that remembers every append."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.sim.replica_log import ReplicaLog

appends = st.lists(st.tuples(st.integers(1, 50), st.integers(100, 5000)), min_size=1, max_size=60)


def build(chunks, interval=4096):
    log, positions, mark = ReplicaLog(index_interval=interval), [(0, 0)], 0
    for i, (msgs, nbytes) in enumerate(chunks):
        log.append(msgs, nbytes, written_mark=mark, first_created=float(i), last_created=float(i))
        mark += nbytes
        positions.append((positions[-1][0] + msgs, positions[-1][1] + nbytes))
    return log, positions


@settings(max_examples=80, deadline=None)
@given(appends, st.data())
def test_positions_are_exact_at_boundaries_and_bounded_inside(chunks, data):
    log, truth = build(chunks)
    assert (log.log_end_offset, log.end_position) == truth[-1]
    offset = data.draw(st.integers(0, log.log_end_offset))
    pos = log.position_of(offset)
    # the true position lies between the boundaries around the offset
    below = max(p for o, p in truth if o <= offset)
    above = min(p for o, p in truth if o >= offset)
    span = 4096 + 5000  # an index span is at most the interval plus one append
    assert below - span <= pos <= above + span
    for o, p in truth:
        if o == offset and (offset == log.log_end_offset or offset == 0):
            assert pos == p


@settings(max_examples=80, deadline=None)
@given(appends, st.integers(1, 20000))
def test_reading_the_whole_log_returns_every_message_once(chunks, max_bytes):
    log, truth = build(chunks)
    offset, total_bytes, reads = 0, 0, 0
    while offset < log.log_end_offset:
        r = log.read(offset, max_bytes)
        assert r.messages >= 1  # KIP-74: always progress
        assert r.start_offset == offset
        offset = r.end_offset
        total_bytes += r.bytes
        reads += 1
    assert offset == truth[-1][0]
    assert abs(total_bytes - truth[-1][1]) <= reads  # rounding of interpolated positions only


def test_high_watermark_bounds_reads_and_truncate_and_retention():
    log, _ = build([(10, 1000)] * 10, interval=2000)
    assert log.read(0, 10**9, upto=25).end_offset == 25
    assert log.read(30, 10**9, upto=25).messages == 0
    log.truncate_to(55)
    assert log.log_end_offset == 55 and log.end_position == 5500
    log.delete_before(20)
    assert log.log_start_offset == 20 and log.size_bytes == 3500
    assert log.read(0, 10**9).start_offset == 20
    assert "offsets [20, 55)" in repr(log)


def test_index_memory_grows_with_bytes_not_messages():
    log = ReplicaLog(index_interval=65536)
    for _ in range(10_000):
        log.append(100, 16384, written_mark=0, first_created=0.0, last_created=0.0)
    assert len(log._offsets) <= 10_000 * 16384 // 65536 + 2


def test_recent_appends_keep_their_own_creation_times_and_positions():
    # bursts: 10 messages created at t=1.0, then 10 created at t=2.0 (sticky partitioner)
    log = ReplicaLog()
    log.append(10, 1000, written_mark=0, first_created=1.0, last_created=1.0)
    log.append(10, 3000, written_mark=1000, first_created=2.0, last_created=2.0)
    first = log.read(0, 10_000, upto=10)
    assert (first.first_created, first.last_created, first.bytes) == (1.0, 1.0, 1000)
    second = log.read(10, 10_000)
    assert (second.first_created, second.last_created, second.bytes) == (2.0, 2.0, 3000)
    both = log.read(5, 10_000)
    assert (both.first_created, both.last_created, both.bytes) == (1.0, 2.0, 500 + 3000)
    assert log.written_mark_of(12) == 1000
    log.truncate_to(15)
    assert log.log_end_offset == 15 and log.end_position == 1000 + 1500
    assert log.read(12, 10_000).bytes == 900


def test_an_append_keeps_the_spread_of_its_creation_times():
    # a batch closed by linger.ms: its 11 messages were created evenly over 5 ms
    log = ReplicaLog()
    log.append(11, 1100, written_mark=0, first_created=10.0, last_created=10.005)
    log.append(5, 500, written_mark=1100, first_created=10.006, last_created=10.006)
    whole = log.read(0, 10_000, upto=11)
    assert (whole.first_created, whole.last_created) == (10.0, 10.005)
    # a fetch that starts or stops inside the batch sees the creation times in between
    part = log.read(3, 10_000, upto=8)
    assert part.first_created == pytest.approx(10.0015)
    assert part.last_created == pytest.approx(10.0035)
    assert log.read(11, 10_000).first_created == 10.006
    # truncation inside the batch keeps the survivors' times: the last one left is #5
    log.truncate_to(6)
    assert log.read(0, 10_000).last_created == pytest.approx(10.0025)
