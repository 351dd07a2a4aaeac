"""The storage model against hand-computed cases and a batch-by-batch oracle.

The hand-computed numbers follow Kafka's record format (``DefaultRecord.sizeInBytes``,
``DefaultRecordBatch.RECORD_BATCH_OVERHEAD`` = 61) and ``LogSegment`` rules; the oracle
is a direct per-batch walk through :func:`simkafka.log.log_config.roll_reason` -- what
``UnifiedLog.maybeRoll`` asks before every append.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.log.log_config import LogConfig, roll_reason
from simkafka.log.records import Record, build_batch
from simkafka.sim.storage import (
    StorageWorkload,
    append_seconds,
    batch_size,
    batches_per_segment,
    index_interval_batches,
    offset_index_entries,
    predict,
    record_size,
    size_of_varint,
    time_index_entries,
)


def test_size_of_varint_zigzag():
    # ByteUtils.sizeOfVarint: zig-zag, 7 bits a byte (ByteUtilsTest.testSizeOfVarint cases)
    assert [size_of_varint(v) for v in (0, -1, 63, -64, 64, -65, 8191, 8192)] == [
        1,
        1,
        1,
        1,
        2,
        2,
        2,
        3,
    ]
    assert size_of_varint(2**31 - 1) == 5
    assert size_of_varint(-(2**63)) == 10


def test_record_size_hand_computed():
    # null key, 10-byte value, deltas 0: len(1) attrs(1) ts(1) off(1) key(-1: 1)
    # vlen(1) value(10) headers(1) = 17 -- the 7-byte minimum record overhead
    assert record_size(0, None, 10) == 17
    # 100-byte value: its length varint (zig-zag 200) takes 2 bytes, body 107 -> len 2
    assert record_size(0, None, 100) == 109
    # offset delta 64 needs a 2-byte varint; the body (108) still has a 2-byte length
    assert record_size(64, None, 100) == 110
    # 10-byte key, 20-byte value: body 1+1+1+11+21+1 = 36, plus its 1-byte length
    assert record_size(0, 10, 20) == 37


@pytest.mark.parametrize(
    "count,key,value", [(1, None, 10), (10, None, 100), (70, 10, 300), (200, None, 0)]
)
def test_batch_size_matches_the_record_format(count, key, value):
    records = [
        Record(offset_delta=i, key=None if key is None else b"k" * key, value=b"v" * value)
        for i in range(count)
    ]
    assert batch_size(count, key, value) == len(
        build_batch(records, base_offset=0, base_timestamp=0)
    )


def test_batch_of_ten_hundred_byte_records():
    assert batch_size(10, None, 100) == 61 + 10 * 109 == 1151


def test_index_entry_spacing():
    # LogSegment.append: entry when bytesSinceLastIndexEntry > index.interval.bytes,
    # tested before the batch is counted: 1151-byte batches, 4096 -> batches 4, 8, ...
    p = index_interval_batches(1151, 4096)
    assert p == 4
    assert [offset_index_entries(m, p) for m in (0, 1, 4, 5, 8, 9, 17)] == [0, 0, 0, 1, 1, 2, 4]
    # index.interval.bytes 0: every batch but the first (position 0 is never indexed)
    assert offset_index_entries(10, index_interval_batches(100, 0)) == 9
    # a rolled segment gets onBecomeInactiveSegment's final time entry unless its last
    # batch already made the last entry
    assert time_index_entries(17, 4, increasing=True, rolled=True) == 4
    assert time_index_entries(11, 4, increasing=True, rolled=True) == 3
    assert time_index_entries(11, 4, increasing=True, rolled=False) == 2
    assert time_index_entries(3, 4, increasing=True, rolled=True) == 1
    # equal timestamps: TimeIndex.maybeAppend only takes a strictly larger one
    assert time_index_entries(11, 4, increasing=False, rolled=True) == 1


def test_segment_count_and_bytes_by_size():
    # 1151-byte batches, internal.segment.bytes 20000: 17 per segment (18 * 1151 > 20000)
    config = LogConfig(internal_segment_bytes=20_000)
    w = StorageWorkload(value_bytes=100, records_per_batch=10, batches=300, batch_interval_ms=1000)
    assert batches_per_segment(config, w) == 17
    p = predict(config, w)
    assert p.segment_count == 18  # ceil(300 / 17)
    assert p.log_bytes == 300 * 1151
    assert p.log_end_offset == 3000
    assert p.offset_index_entries == 17 * 4 + 2  # 11 batches in the active segment
    assert p.time_index_entries == 17 * 4 + 2
    # rolled indexes are trimmed; the active ones stay preallocated to segment.index.bytes
    assert p.offset_index_bytes == 17 * 4 * 8 + 10 * 1024 * 1024
    assert p.time_index_bytes == 17 * 4 * 12 + (10 * 1024 * 1024) // 12 * 12


def test_roll_by_segment_ms_counts_record_time():
    # segment.ms 5000, a batch a second: rolls when waited > 5000, so 6 batches a segment
    config = LogConfig(segment_ms=5000)
    w = StorageWorkload(value_bytes=10, records_per_batch=1, batches=20, batch_interval_ms=1000)
    p = predict(config, w)
    assert [s.batches for s in p.segments] == [6, 6, 6, 2]
    assert [s.base_offset for s in p.segments] == [0, 6, 12, 18]


def test_retention_by_time_hand_computed():
    # 10 batches a segment, one batch a second; at t=60s retention.ms=25s deletes the
    # segments whose newest batch is older than 35s: max timestamps 9s, 19s, 29s.
    b = batch_size(1, None, 10)
    config = LogConfig(internal_segment_bytes=10 * b, retention_ms=25_000)
    w = StorageWorkload(
        value_bytes=10,
        records_per_batch=1,
        batches=60,
        batch_interval_ms=1000,
        duration_ms=60_000,
        retention_check_interval_ms=60_000,
    )
    p = predict(config, w)
    assert p.deleted_segments == 3
    assert p.log_start_offset == 30
    assert p.segment_count == 3
    assert p.timeline.loc[60_000, "log_start_offset"] == 30


def test_retention_by_size_keeps_whole_segments():
    # 6 full segments of 10 batches; retention.bytes 25 batches: diff = 35 batches,
    # delete while diff - segment >= 0 -> 3 segments go (35 -> 25 -> 15 -> 5)
    b = batch_size(1, None, 10)
    config = LogConfig(internal_segment_bytes=10 * b, retention_bytes=25 * b, retention_ms=-1)
    w = StorageWorkload(
        value_bytes=10,
        records_per_batch=1,
        batches=60,
        batch_interval_ms=1000,
        retention_check_interval_ms=59_000,
    )
    p = predict(config, w)
    assert p.deleted_segments == 3 and p.log_start_offset == 30
    assert p.log_bytes == 30 * b


def test_retention_deleting_everything_rolls_first():
    # deleteSegments: every segment breached -> a new empty active segment at the LEO
    config = LogConfig(retention_ms=1000)
    w = StorageWorkload(
        value_bytes=10,
        records_per_batch=5,
        batches=3,
        batch_interval_ms=100,
        duration_ms=10_000,
        retention_check_interval_ms=5000,
    )
    p = predict(config, w)
    assert p.segment_count == 1
    assert p.segments[0].base_offset == 15 and p.segments[0].batches == 0
    assert p.log_start_offset == 15 and p.log_bytes == 0
    assert p.rolls == 1


def test_compacted_bytes_hand_computed():
    # 4 records a batch, 6 round-robin keys, 3 batches a segment, 10 batches: the active
    # segment starts at offset 36; survivors below it are offsets 30..35: two records of
    # batch 7 (rebuilt with the same base offset, so the same record sizes) and batch 8.
    r = record_size(0, 10, 20)
    assert r == 37
    b = 61 + 4 * r
    config = LogConfig(internal_segment_bytes=3 * b, cleanup_policy=("compact",))
    w = StorageWorkload(
        value_bytes=20,
        key_bytes=10,
        key_count=6,
        records_per_batch=4,
        batches=10,
        batch_interval_ms=1,
    )
    p = predict(config, w)
    assert p.segments[-1].base_offset == 36
    assert p.compacted_log_bytes() == (61 + 2 * r) + b + b


def test_append_seconds_dirty_throttling():
    # within the dirty limit only the page-cache copy rate counts
    assert append_seconds(100, disk_write=10, page_cache=1000, cache_write=100) == 1.0
    # beyond it the disk sets the pace: (W - 0.2 * cache) / disk
    assert append_seconds(1200, disk_write=10, page_cache=1000, cache_write=100) == 100.0
    assert (
        append_seconds(1000, disk_write=10, page_cache=0, cache_write=1e9, per_batch_seconds=0.0)
        == 100.0
    )
    # the broker's per-request CPU cost adds per batch
    assert (
        append_seconds(
            100, disk_write=10, page_cache=1000, cache_write=100, batches=4, per_batch_seconds=0.5
        )
        == 3.0
    )


def test_rejects_jitter_and_oversized_batches():
    with pytest.raises(ValueError, match="jitter"):
        predict(LogConfig(segment_jitter_ms=10), StorageWorkload(10, 1, 1))
    with pytest.raises(ValueError, match="exceeds segment.bytes"):
        predict(LogConfig(internal_segment_bytes=50), StorageWorkload(100, 1, 1))


def _oracle(config: LogConfig, w: StorageWorkload) -> list[tuple[int, int]]:
    """Per-batch walk: (base offset, batches) of every segment, asking roll_reason each time."""
    b, k = w.batch_bytes, w.records_per_batch
    p = index_interval_batches(b, config.index_interval_bytes)
    max_off = config.max_index_size // 8
    max_time = config.max_index_size // 12
    increasing = w.batch_interval_ms > 0
    segs = [[0, 0, None, w.start_ms]]  # base, batches, first timestamp, created
    leo = 0
    for j in range(w.batches):
        now = w.append_time(j)
        base, m, first, created = segs[-1]
        reason = roll_reason(
            config,
            segment_size=m * b,
            segment_base_offset=base,
            now_ms=now,
            created_ms=created,
            rolling_based_timestamp=first,
            max_timestamp_in_messages=now,
            max_offset_in_messages=leo + k - 1,
            messages_size=b,
            offset_index_full=offset_index_entries(m, p) >= max_off,
            time_index_full=time_index_entries(m, p, increasing=increasing, rolled=False)
            >= max_time - 1,
        )
        if reason is not None:
            segs.append([leo, 0, None, now])
        seg = segs[-1]
        if seg[1] == 0:
            seg[2] = now
        seg[1] += 1
        leo += k
    return [(s[0], s[1]) for s in segs]


@settings(max_examples=80, deadline=None)
@given(
    value=st.integers(0, 300),
    k=st.integers(1, 80),
    batches=st.integers(1, 400),
    dt=st.integers(0, 2000),
    seg_batches=st.integers(1, 30),
    segment_ms=st.integers(1, 20_000),
    interval=st.integers(0, 10_000),
    index_entries=st.integers(2, 12),
)
def test_segments_match_a_per_batch_walk(
    value, k, batches, dt, seg_batches, segment_ms, interval, index_entries
):
    w = StorageWorkload(
        value_bytes=value, records_per_batch=k, batches=batches, batch_interval_ms=dt
    )
    config = LogConfig(
        internal_segment_bytes=seg_batches * w.batch_bytes + w.batch_bytes // 2,
        segment_ms=segment_ms,
        index_interval_bytes=interval,
        segment_index_bytes=index_entries * 12,
        retention_ms=-1,
    )
    p = predict(config, w)
    assert [(s.base_offset, s.batches) for s in p.segments] == _oracle(config, w)
    assert p.log_bytes == batches * w.batch_bytes
    assert p.log_end_offset == batches * k


def test_dirty_ratio_is_the_brokers():
    # append_seconds must throttle where sim.broker's flusher throttles
    import inspect

    from simkafka.sim.broker import DIRTY_RATIO

    default = inspect.signature(append_seconds).parameters["dirty_ratio"].default
    assert default == DIRTY_RATIO


def test_allocated_bytes_count_whole_blocks_of_sparse_indexes():
    config = LogConfig(internal_segment_bytes=20_000)
    w = StorageWorkload(value_bytes=100, records_per_batch=10, batches=20, batch_interval_ms=1000)
    p = predict(config, w)
    # segment 1: 17 batches (19567 B -> 5 blocks), 4 + 4 index entries (1 block each);
    # active: 3 batches (3453 B -> 1 block), no index entries: preallocated but sparse
    assert p.allocated_bytes() == (5 + 1 + 1 + 1) * 4096
