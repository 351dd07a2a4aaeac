"""Log compaction: ports of Kafka's ``LogCleanerTest`` plus a dict oracle.

Kafka's helpers, mirrored here: ``record(k, v)`` is one v2 batch with one record whose key
and value are the decimal strings of ``k`` and ``v`` (no timestamp); ``keysInLog`` lists
the keys of records that have both a key and a value (tombstones and control batches
excluded), ``offsetsInLog`` their offsets, ``lastOffsetsPerBatchInLog`` every batch's last
offset (empty batches included). The default test config is Kafka's: ``segment.bytes``
1024 (through ``internal.segment.bytes``), ``segment.index.bytes`` 1024, compact.
``makeCleaner(n)`` is a map of ``n`` slots at load factor 0.75: a ``SkimpyOffsetMap`` of
``n * 24`` bytes here.
"""

from __future__ import annotations

import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkafka.log.checkpoints import CLEANER_OFFSET_CHECKPOINT, OffsetCheckpointFile
from simkafka.log.cleaner import (
    Cleaner,
    CleanerConfig,
    CleanerStats,
    LogCleaner,
    group_segments_by_size,
)
from simkafka.log.clock import ManualClock
from simkafka.log.compression import CompressionType
from simkafka.log.log_config import LogConfig
from simkafka.log.offset_map import SkimpyOffsetMap
from simkafka.log.records import (
    NO_TIMESTAMP,
    ControlRecordType,
    Record,
    RecordBatch,
    build_batch,
    end_txn_marker_record,
    iter_batches,
)
from simkafka.log.segment import CLEANED_FILE_SUFFIX, DELETED_FILE_SUFFIX, SWAP_FILE_SUFFIX
from simkafka.log.unified_log import AppendOrigin, FetchIsolation, UnifiedLog

LONG_MAX = 2**63 - 1
NOW = 1_700_000_000_000
DAY = 86_400_000


def Cfg(segment_bytes: int = 1024, **kw) -> LogConfig:  # noqa: N802
    kw.setdefault("segment_index_bytes", 1024)
    kw.setdefault("cleanup_policy", ("compact",))
    return LogConfig(internal_segment_bytes=segment_bytes, **kw)


def record(key: int | None, value: int | None, ts: int = NO_TIMESTAMP, **kw) -> bytes:
    k = None if key is None else str(key).encode()
    v = None if value is None else str(value).encode()
    return build_batch([Record(0, 0, k, v)], base_offset=0, base_timestamp=ts, **kw)


def make_cleaner(slots: int, clock: ManualClock | None = None, **kw) -> Cleaner:
    """``makeCleaner(capacity)``: ``capacity`` slots, ``dupBufferLoadFactor`` 0.75."""
    return Cleaner(
        SkimpyOffsetMap(slots * 24),
        dup_buffer_load_factor=0.75,
        clock=clock or ManualClock(NOW),
        **kw,
    )


def big_cleaner(clock: ManualClock | None = None, **kw) -> Cleaner:
    return make_cleaner(100_000, clock, **kw)


def batches_in_segment(seg) -> list[RecordBatch]:
    with open(seg.log_path, "rb") as f:
        data = f.read()
    return [b for _p, b in iter_batches(data)]


def batches_in_log(log: UnifiedLog) -> list[RecordBatch]:
    return [b for seg in log.segments for b in batches_in_segment(seg)]


def records_in_log(log: UnifiedLog) -> list[tuple[int, bytes | None, bytes | None]]:
    return [
        (b.offset_of(r), r.key, r.value)
        for b in batches_in_log(log)
        if not b.is_control_batch
        for r in b.records()
    ]


def fetch_all(log: UnifiedLog) -> list[tuple[int, bytes | None, bytes | None]]:
    """Read the log the way a follower does (``UnifiedLog.read`` through the indexes)."""
    out = []
    offset = log.log_start_offset
    while offset < log.log_end_offset:
        batches = list(log.read(offset, 1 << 20, FetchIsolation.LOG_END).batches())
        if not batches:
            break
        for b in batches:
            out += [
                (b.offset_of(r), r.key, r.value) for r in b.records() if b.offset_of(r) >= offset
            ]
        offset = batches[-1].next_offset
    return out


def keys_in_log(log: UnifiedLog) -> list[int]:
    return [int(k) for _o, k, v in records_in_log(log) if k is not None and v is not None]


def offsets_in_log(log: UnifiedLog) -> list[int]:
    return [o for o, k, v in records_in_log(log) if k is not None and v is not None]


def last_offsets_per_batch(log: UnifiedLog) -> list[int]:
    return [b.last_offset for b in batches_in_log(log)]


def last_sequences_in_log(log: UnifiedLog) -> dict[int, int]:
    return {
        b.producer_id: b.last_sequence
        for b in batches_in_log(log)
        if b.producer_id >= 0 and not b.is_control_batch
    }


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def make_log(tmp_path, clock):
    def _make(cfg: LogConfig | None = None, name: str = "test-0") -> UnifiedLog:
        return UnifiedLog(str(tmp_path / name), cfg or Cfg(), clock)

    return _make


def clean_all(cleaner: Cleaner, log: UnifiedLog, start: int = 0, now: int | None = None):
    """``cleaner.clean(LogToClean(log, start, activeSegment.baseOffset))``."""
    return cleaner.clean(log, start, log.active_segment.base_offset, now)


# -- ports of LogCleanerTest -----------------------------------------------------------


def test_clean_segments(make_log):
    # LogCleanerTest.testCleanSegments
    log = make_log()
    while len(log.segments) < 4:
        log.append_as_leader(record(log.log_end_offset, log.log_end_offset), 0)
    assert keys_in_log(log) == list(range(log.log_end_offset))
    leo = log.log_end_offset
    cleaner = big_cleaner()
    keys = [1, 3, 5, 7, 9]
    for k in keys:  # pretend these keys have a later record
        cleaner.offset_map.put(str(k).encode(), LONG_MAX)
    segments = log.segments[:3]
    expected_bytes_read = sum(s.size for s in segments)
    should_remain = [k for k in keys_in_log(log) if k not in keys]
    stats = CleanerStats(ManualClock(0))
    cleaner.clean_segments(log, segments, 0, stats, segments[-1].read_next_offset())
    assert keys_in_log(log) == should_remain
    assert stats.bytes_read == expected_bytes_read
    assert log.log_end_offset == leo
    assert len(log.segments) == 2  # three segments merged into one cleaned segment


def test_partial_segment_clean(make_log):
    # LogCleanerTest.testPartialSegmentClean: a map with room for one key.
    log = make_log()
    for k in (0, 1, 0, 1, 0):
        log.append_as_leader(record(k, k), 0)
    log.roll()
    cleaner = make_cleaner(2)
    end, _ = clean_all(cleaner, log, 2)
    assert end == 3
    assert keys_in_log(log) == [1, 0, 1, 0]
    assert offsets_in_log(log) == [1, 2, 3, 4]
    clean_all(cleaner, log, 3)
    assert keys_in_log(log) == [0, 1, 0]
    assert offsets_in_log(log) == [2, 3, 4]
    clean_all(cleaner, log, 4)
    assert keys_in_log(log) == [1, 0]
    assert offsets_in_log(log) == [3, 4]


def test_log_cleaner_stats(make_log):
    # LogCleanerTest.testLogCleanerStats
    log = make_log()
    for k in (0, 1, 0, 1, 0):
        log.append_as_leader(record(k, k), 0)
    log.roll()
    initial_size = log.size
    end, stats = clean_all(make_cleaner(4), log, 2)
    assert end == 5
    assert stats.messages_read == 5
    assert stats.bytes_read == initial_size
    assert stats.messages_written == 2
    assert stats.bytes_written == log.size
    assert stats.invalid_messages_read == 0
    assert stats.end_ns >= stats.start_ns
    assert "dirty section=[2, 5]" in repr(stats)


def test_build_partial_offset_map(make_log):
    # LogCleanerTest.testBuildPartialOffsetMap: 3 slots * 0.75 -> 2 keys fit.
    log = make_log()
    for k in range(5):
        log.append_as_leader(record(k, k), 0)
    log.roll()
    cleaner = make_cleaner(3)
    stats = CleanerStats(ManualClock(0))
    full = cleaner.build_offset_map(log, 2, 2**31 - 1, stats)
    om = cleaner.offset_map
    assert full
    assert om.size == 2
    assert om.get(b"0") == -1
    assert om.get(b"2") == 2
    assert om.get(b"3") == 3
    assert om.get(b"4") == -1
    assert stats.map_messages_read == 4


def test_build_offset_map(make_log):
    # LogCleanerTest.testBuildOffsetMap / checkRangeForBuildOffsetMap
    log = make_log()
    for i in range(500):
        log.append_as_leader(record(i, i), 0)
    segs = log.segments
    cleaner = make_cleaner(1000)
    om = cleaner.offset_map
    for start, end in (
        (0, segs[1].base_offset),
        (segs[1].base_offset, segs[3].base_offset),
        (segs[3].base_offset, log.log_end_offset),
    ):
        stats = CleanerStats(ManualClock(0))
        cleaner.build_offset_map(log, start, end, stats)
        assert om.latest_offset + 1 == end
        assert om.size == end - start
        assert all(om.get(str(i).encode()) == i for i in range(start, end))
        assert om.get(str(start - 1).encode()) == -1
        assert om.get(str(end).encode()) == -1
        assert stats.map_messages_read == end - start


def test_cleaning_with_deletes(make_log):
    # LogCleanerTest.testCleaningWithDeletes
    log = make_log()
    while len(log.segments) < 2:
        log.append_as_leader(record(log.log_end_offset, log.log_end_offset), 0)
    leo = log.log_end_offset
    for k in range(0, leo, 2):
        log.append_as_leader(record(k, None), 0)
    while len(log.segments) < 4:
        log.append_as_leader(record(log.log_end_offset, log.log_end_offset), 0)
    clean_all(big_cleaner(), log)
    keys = set(keys_in_log(log))
    assert not any(k in keys for k in range(0, leo, 2))
    assert all(k in keys for k in range(1, leo, 2))


def test_cleaning_with_unkeyed_messages(make_log):
    # LogCleanerTest.testCleaningWithUnkeyedMessages: the cleaner drops records without
    # a key and counts them as invalid (it does not throw).
    log = make_log(Cfg(cleanup_policy=("delete",)))
    while len(log.segments) < 2:
        log.append_as_leader(record(None, log.log_end_offset), 0)
    invalid = sum(1 for _o, k, v in records_in_log(log) if k is None and v is not None)
    size_unkeyed = log.size
    while len(log.segments) < 3:
        log.append_as_leader(record(log.log_end_offset, log.log_end_offset), 0)
    expected_size = log.size - size_unkeyed
    _, stats = clean_all(big_cleaner(), log)
    assert not any(k is None for _o, k, _v in records_in_log(log))
    assert log.size == expected_size
    assert stats.invalid_messages_read == invalid


def test_clean_segments_retaining_last_empty_batch(make_log):
    # LogCleanerTest.testCleanSegmentsRetainingLastEmptyBatch: every key deleted, yet the
    # batch ending the round survives as an empty batch so the last offset is kept.
    log = make_log()
    while len(log.segments) < 4:
        log.append_as_leader(record(log.log_end_offset, log.log_end_offset), 0)
    cleaner = big_cleaner()
    for k in keys_in_log(log):
        cleaner.offset_map.put(str(k).encode(), LONG_MAX)
    segments = log.segments[:3]
    cleaner.clean_segments(log, segments, 0, CleanerStats(), segments[-1].read_next_offset())
    assert len(log.segments) == 2
    batches = batches_in_segment(log.segments[0])
    assert len(batches) == 1
    assert batches[0].last_offset == log.segments[-1].base_offset - 1
    assert batches[0].records_count == 0
    assert batches[0].size_in_bytes == 61


def test_duplicate_check_after_cleaning(make_log, clock):
    # LogCleanerTest.testDuplicateCheckAfterCleaning: the last batch of every idempotent
    # producer keeps its base/last offset and sequence, even when emptied.
    log = make_log(Cfg(2048))
    seqs: dict[int, int] = {}

    def idempotent(pid: int, *keys: int) -> None:
        recs = [Record(i, 0, str(k).encode(), str(k).encode()) for i, k in enumerate(keys)]
        seq = seqs.get(pid, 0)
        batch = build_batch(
            recs,
            base_offset=0,
            base_timestamp=clock.now_ms(),
            producer_id=pid,
            producer_epoch=0,
            base_sequence=seq,
        )
        log.append_as_leader(batch, 0)
        seqs[pid] = seq + len(keys)

    idempotent(1, 1, 2, 3)
    idempotent(2, 3, 1, 4)
    idempotent(3, 1, 4)
    log.roll()
    cleaner = big_cleaner(clock)
    clean_all(cleaner, log)
    assert last_offsets_per_batch(log) == [2, 5, 7]
    assert last_sequences_in_log(log) == {1: 2, 2: 2, 3: 1}
    assert keys_in_log(log) == [2, 3, 1, 4]
    assert offsets_in_log(log) == [1, 3, 6, 7]

    log.close()
    log = make_log(Cfg(2048))  # reload: the cleaned log must recover as is
    assert offsets_in_log(log) == [1, 3, 6, 7]
    idempotent(4, 2)
    log.roll()
    clean_all(cleaner, log)
    assert last_sequences_in_log(log) == {1: 2, 2: 2, 3: 1, 4: 0}
    assert last_offsets_per_batch(log) == [2, 5, 7, 8]
    assert keys_in_log(log) == [3, 1, 4, 2]
    assert offsets_in_log(log) == [3, 6, 7, 8]


def test_log_cleaner_retains_producer_last_sequence(make_log, clock):
    # LogCleanerTest.testLogCleanerRetainsProducerLastSequence
    log = make_log()
    now = clock.now_ms()
    log.append_as_leader(record(0, 0, now), 0)
    for key, value, pid, seq in ((0, 1, 1, 0), (0, 2, 2, 0), (0, 3, 3, 0), (1, 1, 2, 1)):
        batch = record(key, value, now, producer_id=pid, producer_epoch=0, base_sequence=seq)
        log.append_as_leader(batch, 0)
    log.roll()
    clean_all(make_cleaner(10, clock), log)
    assert last_offsets_per_batch(log) == [1, 3, 4]
    assert last_sequences_in_log(log) == {1: 0, 2: 1, 3: 0}
    assert keys_in_log(log) == [0, 1]
    assert offsets_in_log(log) == [3, 4]


def test_expired_producer_last_batch_is_not_retained(make_log, clock):
    # ProducerStateManager forgets a producer after producer.id.expiration.ms (1 day).
    log = make_log()
    old = clock.now_ms()
    log.append_as_leader(record(0, 1, old, producer_id=7, producer_epoch=0, base_sequence=0), 0)
    log.append_as_leader(record(0, 2, old), 0)
    log.append_as_leader(record(1, 1, old), 0)
    log.roll()
    clean_all(make_cleaner(10, clock), log, now=old + DAY)
    assert last_offsets_per_batch(log) == [1, 2]


def test_segment_grouping(make_log):
    # LogCleanerTest.testSegmentGrouping
    log = make_log(Cfg(300, index_interval_bytes=1))
    hello = build_batch([Record(0, 0, b"hello", b"hello")], base_offset=0, base_timestamp=-1)
    while len(log.segments) < 10:
        log.append_as_leader(hello, 0)
    segs = log.segments
    n = len(segs)
    int_max = 2**31 - 1

    def order_ok(groups):
        bases = [s.base_offset for g in groups for s in g]
        return bases == sorted(bases) and len(bases) == n

    groups = group_segments_by_size(segs, int_max, int_max, log.log_end_offset)
    assert len(groups) == 1 and len(groups[0]) == n and order_ok(groups)
    groups = group_segments_by_size(segs, 1, int_max, log.log_end_offset)
    assert len(groups) == n and all(len(g) == 1 for g in groups) and order_ok(groups)
    groups = group_segments_by_size(segs, int_max, 1, log.log_end_offset)
    assert len(groups) == n and all(len(g) == 1 for g in groups) and order_ok(groups)
    log_size = sum(s.size for s in segs[:3]) + 1
    groups = group_segments_by_size(segs, log_size, int_max, log.log_end_offset)
    assert order_ok(groups) and all(len(g) == 3 for g in groups[:-1])
    index_size = sum(s.offset_index.size_in_bytes for s in segs[:3]) + 1
    groups = group_segments_by_size(segs, int_max, index_size, log.log_end_offset)
    assert order_ok(groups) and all(len(g) == 3 for g in groups[:-1])


def test_segment_grouping_with_sparse_offsets(make_log):
    # LogCleanerTest.testSegmentGroupingWithSparseOffsets: a group's offsets must fit an int.
    log = make_log(Cfg(400, index_interval_bytes=1))
    hello = build_batch([Record(0, 0, b"hello", b"hello")], base_offset=0, base_timestamp=-1)
    while len(log.segments) == 1:
        log.append_as_leader(hello, 0)
    jump = build_batch([Record(0, 0, b"hello", b"hello")], base_offset=2**31 - 2, base_timestamp=-1)
    log.append_as_follower(jump)
    log.append_as_leader(hello, 0)
    assert log.active_segment.offset_index.last_offset <= 2**31 - 1
    int_max = 2**31 - 1
    assert len(group_segments_by_size(log.segments, int_max, int_max, log.log_end_offset)) == 1
    log.append_as_leader(hello, 0)
    groups = group_segments_by_size(log.segments, int_max, int_max, log.log_end_offset)
    assert len(groups) == 2


# -- tombstones and the KIP-534 delete horizon ----------------------------------------


def test_tombstone_removed_only_after_delete_retention(make_log, clock):
    # KIP-534: the first cleaning stamps deleteHorizonMs = now + delete.retention.ms into
    # the tombstone's batch; the tombstone goes once now >= the horizon
    # (Cleaner.shouldRetainRecord: retain while currentTime < deleteHorizonMs).
    drm = 60_000
    log = make_log(Cfg(delete_retention_ms=drm))
    t0 = clock.now_ms()
    log.append_as_leader(record(0, 0, t0 - 10), 0)  # offset 0
    log.append_as_leader(record(1, 1, t0 - 5), 0)  # offset 1
    log.append_as_leader(record(0, None, t0 - 1), 0)  # offset 2: tombstone for key 0
    log.append_as_leader(record(2, 2, t0), 0)  # offset 3
    log.roll()
    cleaner = big_cleaner(clock)

    clean_all(cleaner, log, now=t0)
    recs = records_in_log(log)
    assert [(o, k) for o, k, _v in recs] == [(1, b"1"), (2, b"0"), (3, b"2")]
    tomb = next(b for b in batches_in_log(log) if b.base_offset == 2)
    assert tomb.has_delete_horizon and tomb.delete_horizon_ms == t0 + drm
    assert tomb.is_valid()
    # the record keeps its own timestamp: base (= horizon) + a negative delta
    assert [tomb.timestamp_of(r) for r in tomb.records()] == [t0 - 1]
    assert tomb.max_timestamp == t0 - 1

    stamped = tomb.to_bytes()
    clean_all(cleaner, log, now=t0 + drm - 1)  # just before the horizon: kept, untouched
    assert [o for o, _k, _v in records_in_log(log)] == [1, 2, 3]
    assert next(b for b in batches_in_log(log) if b.base_offset == 2).to_bytes() == stamped

    clean_all(cleaner, log, now=t0 + drm)  # at the horizon: gone
    assert [o for o, _k, _v in records_in_log(log)] == [1, 3]
    assert log.log_end_offset == 4


def test_clean_tombstone_with_future_horizon_is_retained(make_log, clock):
    # LogCleanerTest.testCleanTombstone (shape): a tombstone whose batch horizon has not
    # passed stays, whatever its own (old) timestamp.
    log = make_log(Cfg())
    now = clock.now_ms()
    log.append_as_leader(record(0, 0, now + DAY + 10_000), 0)
    log.roll()
    cleaner = big_cleaner(clock)
    clean_all(cleaner, log)
    log.append_as_leader(record(0, None, now - DAY - 10_000), 0)
    log.roll()
    clean_all(cleaner, log, 1)
    assert batches_in_log(log)[0].last_offset == 1
    log.append_as_leader(record(1, 1, now), 0)
    log.roll()
    clean_all(cleaner, log, 2)
    assert batches_in_log(log)[0].last_offset == 1


# -- batch rewriting ------------------------------------------------------------------


def test_untouched_batches_are_copied_byte_for_byte_and_compression_is_kept(make_log, clock):
    # MemoryRecords.filterTo: a batch that loses no record and needs no horizon is
    # written as is; a batch that loses records is rebuilt with its codec, base offset,
    # last offset (overrideLastOffset) and producer fields.
    log = make_log(Cfg(4096))
    now = clock.now_ms()

    def multi(keys, codec):
        recs = [Record(i, i, str(k).encode(), b"v%d" % k * 20) for i, k in enumerate(keys)]
        return build_batch(
            recs,
            base_offset=0,
            base_timestamp=now,
            compression=codec,
            producer_id=5,
            producer_epoch=2,
            base_sequence=0,
        )

    log.append_as_leader(multi([1, 2, 3, 4], CompressionType.GZIP), 0)  # offsets 0-3
    log.append_as_leader(record(9, 9, now), 0)  # offset 4
    log.append_as_leader(multi([1, 3], CompressionType.NONE), 0)  # 5-6
    log.roll()
    before = {b.base_offset: b.to_bytes() for b in batches_in_log(log)}
    clean_all(big_cleaner(clock), log)
    after = {b.base_offset: b for b in batches_in_log(log)}
    assert after[4].to_bytes() == before[4]
    assert after[5].to_bytes() == before[5]
    rebuilt = after[0]
    assert rebuilt.is_valid()
    assert rebuilt.compression_type is CompressionType.GZIP
    assert (rebuilt.base_offset, rebuilt.last_offset) == (0, 3)
    assert (rebuilt.producer_id, rebuilt.producer_epoch, rebuilt.base_sequence) == (5, 2, 0)
    assert rebuilt.last_sequence == 3
    assert [(rebuilt.offset_of(r), r.key) for r in rebuilt.records()] == [(1, b"2"), (3, b"4")]
    assert [rebuilt.timestamp_of(r) for r in rebuilt.records()] == [now + 1, now + 3]
    assert not rebuilt.has_delete_horizon


# -- LogCleaner / LogCleanerManager ---------------------------------------------------


def test_run_once_checkpoints_and_respects_dirty_ratio(make_log, clock):
    log = make_log()
    for i in range(60):
        log.append_as_leader(record(i % 5, i, clock.now_ms()), 0)
    log.roll()
    log.high_watermark = log.log_end_offset
    cleaner = LogCleaner(CleanerConfig(dedupe_buffer_size=64 * 1024), clock)
    stats = cleaner.run_once([log])
    assert stats is not None and stats.end_offset == 60
    assert sorted(keys_in_log(log)) == [0, 1, 2, 3, 4]
    assert offsets_in_log(log) == [55, 56, 57, 58, 59]
    cp = OffsetCheckpointFile(os.path.join(os.path.dirname(log.dir), CLEANER_OFFSET_CHECKPOINT))
    assert cp.read() == {("test", 0): 60}
    # nothing dirty: ratio 0 is not above min.cleanable.dirty.ratio
    assert cleaner.run_once([log]) is None
    # a small dirty tail (dirty/total <= 0.5) is not cleaned either
    log.append_as_leader(record(0, 100, clock.now_ms()), 0)
    log.roll()
    log.high_watermark = log.log_end_offset
    ltc = cleaner.manager.log_to_clean(log, clock.now_ms())
    assert 0 < ltc.cleanable_ratio <= 0.5
    assert cleaner.run_once([log]) is None
    # min.cleanable.dirty.ratio 0.01 makes it due
    log.update_config(Cfg(min_cleanable_dirty_ratio=0.01))
    assert cleaner.run_once([log]) is not None
    assert offsets_in_log(log) == [56, 57, 58, 59, 60]
    assert cp.read() == {("test", 0): 61}


def test_run_once_picks_the_filthiest_log(make_log, clock):
    a, b = make_log(name="a-0"), make_log(name="b-0")
    for i in range(20):
        a.append_as_leader(record(i % 10, i, clock.now_ms()), 0)  # half duplicates
        b.append_as_leader(record(i % 2, i, clock.now_ms()), 0)
    for log in (a, b):
        log.roll()
        log.high_watermark = log.log_end_offset
    cleaner = LogCleaner(CleanerConfig(dedupe_buffer_size=64 * 1024), clock)
    # both are 100% dirty; ties go to the first candidate (Stream.max keeps the first)
    assert cleaner.run_once([a, b]).log_name == "a-0"
    assert cleaner.run_once([a, b]).log_name == "b-0"
    assert cleaner.run_once([a, b]) is None


def test_active_segment_and_high_watermark_are_never_cleaned(make_log, clock):
    log = make_log(Cfg(100_000))
    for i in range(20):
        log.append_as_leader(record(0, i, clock.now_ms()), 0)
    log.high_watermark = log.log_end_offset
    cleaner = LogCleaner(CleanerConfig(dedupe_buffer_size=64 * 1024), clock)
    assert cleaner.run_once([log]) is None  # everything is in the active segment
    assert len(offsets_in_log(log)) == 20
    log.roll()
    log.high_watermark = 10  # not replicated past offset 10: the LSO bounds cleaning
    assert cleaner.run_once([log]) is None
    log.high_watermark = log.log_end_offset
    assert cleaner.run_once([log]) is not None
    assert offsets_in_log(log) == [19]


def test_min_compaction_lag(make_log, clock):
    # LogCleanerManager.cleanableOffsets: a segment with a record newer than
    # now - min.compaction.lag.ms is not cleanable yet.
    log = make_log(Cfg(min_compaction_lag_ms=60_000))
    for i in range(10):
        log.append_as_leader(record(0, i, clock.now_ms()), 0)
    log.roll()
    log.high_watermark = log.log_end_offset
    cleaner = LogCleaner(CleanerConfig(dedupe_buffer_size=64 * 1024), clock)
    assert cleaner.run_once([log]) is None
    clock.advance(59_999)  # largest timestamp > now - lag: still too new
    assert cleaner.run_once([log]) is None
    clock.advance(1)  # largest timestamp == now - lag: cleanable (the test is strict ">")
    assert cleaner.run_once([log]) is not None
    assert offsets_in_log(log) == [9]


def test_compact_delete_applies_retention(make_log, clock):
    log = make_log(Cfg(300, cleanup_policy=("compact", "delete"), retention_ms=DAY))
    old = clock.now_ms()
    while len(log.segments) < 3:
        log.append_as_leader(record(log.log_end_offset, 0, old), 0)
    log.high_watermark = log.log_end_offset
    clock.advance(DAY + 1)
    cleaner = LogCleaner(CleanerConfig(dedupe_buffer_size=64 * 1024), clock)
    cleaner.run_once([log])
    assert len(log.segments) == 1 and log.log_start_offset == log.active_segment.base_offset


def test_out_of_range_checkpoint_is_reset(make_log, clock):
    # cleanableOffsets: a checkpoint past the log end restarts from the log start and
    # is rewritten (forceUpdateCheckpoint).
    log = make_log()
    for i in range(10):
        log.append_as_leader(record(i % 2, i, clock.now_ms()), 0)
    log.roll()
    log.high_watermark = log.log_end_offset
    cleaner = LogCleaner(CleanerConfig(dedupe_buffer_size=64 * 1024), clock)
    cleaner.manager.update_checkpoint(log, 1_000)
    assert cleaner.run_once([log]) is not None
    assert offsets_in_log(log) == [8, 9]


# -- crash safety ---------------------------------------------------------------------


class Crash(Exception):
    pass


STAGES = ["clean-into", "cleaned", "swap", "delete:0", "delete:1", "delete:2", "rename"]


@pytest.mark.parametrize("stage", STAGES)
def test_crash_at_each_swap_stage_recovers_a_consistent_log(tmp_path, clock, stage):
    # LogCleanerTest.testRecoveryAfterCrash: a crash before the .swap rename leaves the
    # old log; from the .swap rename on, LogLoader completes the swap.
    cfg = Cfg(300, index_interval_bytes=1)
    path = str(tmp_path / "test-0")
    log = UnifiedLog(path, cfg, clock)
    while len(log.segments) < 4:
        n = log.log_end_offset
        log.append_as_leader(record(n % 7, n), 0)
    # a larger segment.bytes (dynamic config) lets the three full segments form one group
    log.update_config(Cfg(4096, index_interval_bytes=1))
    leo = log.log_end_offset
    active_base = log.active_segment.base_offset
    original = records_in_log(log)
    latest = {k: o for o, k, _v in original if o < active_base}
    cleaned = [(o, k, v) for o, k, v in original if o >= active_base or latest[k] == o]

    def fault(s: str) -> None:
        if s == stage:
            raise Crash(s)

    with pytest.raises(Crash):
        clean_all(big_cleaner(clock, fault=fault), log)
    log.close()
    reopened = UnifiedLog(path, cfg, clock)
    leftovers = [
        f
        for f in os.listdir(path)
        if f.endswith((CLEANED_FILE_SUFFIX, SWAP_FILE_SUFFIX, DELETED_FILE_SUFFIX))
    ]
    assert leftovers == []
    assert reopened.log_end_offset == leo
    recs = records_in_log(reopened)
    if STAGES.index(stage) < STAGES.index("swap"):
        assert recs == original  # the cleaning never happened
        assert len(reopened.segments) == 4
    else:
        assert recs == cleaned  # the swap was completed on open
        assert len(reopened.segments) == 2
    # whichever state it came back in, the latest value per key is the same
    assert {k: v for _o, k, v in recs} == {k: v for _o, k, v in original}
    reopened.close()


# -- property: compaction against a dict oracle -----------------------------------------

ops = st.lists(
    st.tuples(st.integers(0, 7), st.one_of(st.none(), st.binary(min_size=0, max_size=40))),
    min_size=1,
    max_size=80,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=ops,
    batch=st.integers(1, 4),
    segment_bytes=st.sampled_from([200, 500, 4096]),
    codec=st.sampled_from([CompressionType.NONE, CompressionType.GZIP]),
)
def test_compaction_matches_dict_oracle(ops, batch, segment_bytes, codec):
    clock = ManualClock(NOW)
    drm = 1_000
    with tempfile.TemporaryDirectory() as d:
        log = UnifiedLog(
            os.path.join(d, "prop-0"), Cfg(segment_bytes, delete_retention_ms=drm), clock
        )
        oracle: dict[bytes, bytes | None] = {}
        original: dict[int, tuple[bytes, bytes | None]] = {}
        for i in range(0, len(ops), batch):
            chunk = ops[i : i + batch]
            recs = [Record(j, 0, str(k).encode(), v) for j, (k, v) in enumerate(chunk)]
            data = build_batch(recs, base_offset=0, base_timestamp=NOW, compression=codec)
            info = log.append_as_leader(data, 0)
            for j, (k, v) in enumerate(chunk):
                oracle[str(k).encode()] = v
                original[info.first_offset + j] = (str(k).encode(), v)
        log.roll()
        leo = log.log_end_offset
        cleaner = big_cleaner(clock)

        clean_all(cleaner, log, now=NOW)  # before the horizon: tombstones stay
        recs = records_in_log(log)
        assert all(original[o] == (k, v) for o, k, v in recs)  # offsets preserved
        assert [o for o, _k, _v in recs] == sorted({o for o, _k, _v in recs})
        assert {k: v for _o, k, v in recs} == oracle  # the last record per key is the latest
        assert fetch_all(log) == recs  # the rebuilt indexes find every batch
        assert len(recs) == len(oracle)  # and only that one is left
        assert log.log_end_offset == leo
        assert all(b.compression_type is codec for b in batches_in_log(log) if b.records_count)

        clean_all(cleaner, log, now=NOW + drm)  # past the horizon: tombstones gone
        recs = records_in_log(log)
        assert {k: v for _o, k, v in recs} == {k: v for k, v in oracle.items() if v is not None}
        assert log.log_end_offset == leo
        log.close()
        reopened = UnifiedLog(os.path.join(d, "prop-0"), Cfg(segment_bytes), clock)
        assert records_in_log(reopened) == recs  # every rewritten batch passes recovery
        reopened.close()


# -- SkimpyOffsetMap and I/O buffers --------------------------------------------------


def test_skimpy_offset_map_accounting():
    # SkimpyOffsetMap: MD5 (16 bytes) + an 8-byte offset per slot; an overwrite does not
    # grow the map; a put on a full map fails even for a known key.
    om = SkimpyOffsetMap(24 * 3 + 23)
    assert (om.slots, om.bytes_per_entry, om.size, om.latest_offset) == (3, 24, 0, -1)
    om.put(b"a", 5)
    om.put(b"a", 7)
    assert (om.size, om.get(b"a"), om.latest_offset) == (1, 7, 7)
    om.put(b"b", 8)
    om.put(b"c", 2)
    assert om.size == 3 and om.latest_offset == 2 and om.utilization == 1.0
    with pytest.raises(ValueError, match="full offset map"):
        om.put(b"a", 9)
    assert om.get(b"zz") == -1
    om.clear()
    assert (om.size, om.latest_offset, om.get(b"a")) == (0, -1, -1)
    with pytest.raises(ValueError, match="too small"):
        Cleaner(SkimpyOffsetMap(24), dup_buffer_load_factor=0.9)


def test_io_buffer_smaller_than_a_batch_grows(make_log, clock):
    # Cleaner.growBuffersOrFail: a batch larger than the read buffer is read whole.
    def build(io_buffer_size: int, name: str) -> list:
        log = make_log(Cfg(8192), name=name)
        for i in range(30):
            recs = [Record(j, 0, str((i + j) % 4).encode(), bytes(100)) for j in range(3)]
            log.append_as_leader(build_batch(recs, base_offset=0, base_timestamp=NOW), 0)
        log.roll()
        clean_all(big_cleaner(clock, io_buffer_size=io_buffer_size), log)
        return [b.to_bytes() for b in batches_in_log(log)]

    assert build(64, "small-0") == build(256 * 1024, "large-0")


# -- property: cleaner passes interleaved with appends, tiny map ----------------------

steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("append"),
            st.integers(0, 9),
            st.one_of(st.none(), st.binary(max_size=30)),
        ),
        st.tuples(st.just("roll"), st.just(0), st.none()),
        st.tuples(st.just("clean"), st.integers(0, 3_000), st.none()),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps, slots=st.integers(2, 12))
def test_run_once_keeps_the_latest_value_of_every_live_key(steps, slots):
    """Whatever the schedule, map size or tombstone age, a consumer reading the whole log
    sees, per key, the latest value written (and nothing for a key whose latest write is
    a tombstone) -- the guarantee compaction gives."""
    clock = ManualClock(NOW)
    with tempfile.TemporaryDirectory() as d:
        log = UnifiedLog(
            os.path.join(d, "prop-0"),
            Cfg(400, delete_retention_ms=1_000, min_cleanable_dirty_ratio=0.0),
            clock,
        )
        cleaner = LogCleaner(CleanerConfig(dedupe_buffer_size=slots * 24), clock)
        oracle: dict[bytes, bytes | None] = {}
        written: dict[int, tuple[bytes, bytes | None]] = {}
        for op, a, b in steps:
            if op == "append":
                key = str(a).encode()
                batch = build_batch([Record(0, 0, key, b)], base_offset=0, base_timestamp=NOW)
                info = log.append_as_leader(batch, 0)
                written[info.first_offset] = (key, b)
                oracle[key] = b
            elif op == "roll" and log.active_segment.size > 0:
                log.roll()
            elif op == "clean":
                clock.advance(a)
                log.high_watermark = log.log_end_offset
                cleaner.run_once([log])
            recs = records_in_log(log)
            assert all(written[o] == (k, v) for o, k, v in recs)  # offsets preserved
            seen: dict[bytes, bytes | None] = {}
            for _o, k, v in recs:
                seen[k] = v
            live = {k: v for k, v in seen.items() if v is not None}
            assert live == {k: v for k, v in oracle.items() if v is not None}
        log.close()


def test_max_compaction_lag_forces_a_clean_below_the_dirty_ratio(make_log, clock):
    # grabFilthiestCompactedLog (KIP-354): once the oldest dirty batch is older than
    # max.compaction.lag.ms, a log with cleanable bytes is cleaned whatever its ratio.
    log = make_log(Cfg(max_compaction_lag_ms=DAY))
    for i in range(40):
        log.append_as_leader(record(i, i, clock.now_ms()), 0)
    log.roll()
    log.high_watermark = log.log_end_offset
    cleaner = LogCleaner(CleanerConfig(dedupe_buffer_size=64 * 1024), clock)
    assert cleaner.run_once([log]).end_offset == 40  # all dirty: ratio 1.0
    for i in range(3):
        log.append_as_leader(record(0, 100 + i, clock.now_ms()), 0)
    log.roll()
    log.high_watermark = log.log_end_offset
    assert cleaner.manager.log_to_clean(log, clock.now_ms()).cleanable_ratio < 0.5
    assert cleaner.run_once([log]) is None
    clock.advance(DAY)  # first dirty batch == now - lag: not yet past it
    assert cleaner.run_once([log]) is None
    clock.advance(1)
    assert cleaner.run_once([log]) is not None
    assert keys_in_log(log).count(0) == 1 and offsets_in_log(log)[-1] == 42


def test_transactional_and_control_batches_are_kept_verbatim(make_log, clock):
    # Not modelled (module docs): without a transaction index, transactional data and
    # markers are copied as they are and their keys are not mapped.
    log = make_log()
    now = clock.now_ms()
    log.append_as_leader(record(1, 1, now), 0)  # offset 0
    txn = build_batch(
        [Record(0, 0, b"1", b"t")],
        base_offset=0,
        base_timestamp=now,
        producer_id=9,
        producer_epoch=0,
        base_sequence=0,
        is_transactional=True,
    )
    log.append_as_leader(txn, 0)  # offset 1
    marker = build_batch(
        [end_txn_marker_record(ControlRecordType.COMMIT, 0)],
        base_offset=0,
        base_timestamp=now,
        producer_id=9,
        producer_epoch=0,
        is_transactional=True,
        is_control=True,
    )
    log.append_as_leader(marker, 0, AppendOrigin.COORDINATOR)  # offset 2
    log.append_as_leader(record(2, 2, now), 0)  # offset 3
    log.roll()
    before = [b.to_bytes() for b in batches_in_log(log)]
    clean_all(big_cleaner(clock), log)
    assert [b.to_bytes() for b in batches_in_log(log)] == before


def _at(key: int, value: int, offset: int) -> bytes:
    """``messageWithOffset``: a one-record batch already carrying its offset."""
    return build_batch(
        [Record(0, 0, str(key).encode(), str(value).encode())],
        base_offset=offset,
        base_timestamp=NO_TIMESTAMP,
    )


def test_cleaning_beyond_missing_offsets(tmp_path, clock):
    # LogCleanerTest.testCleaningBeyondMissingOffsets: buildOffsetMapForSegment fast-forwards
    # latestOffset to the next segment's base - 1, so the cleaning point passes gaps.
    cfg = Cfg(1024 * 1024)
    log = UnifiedLog(str(tmp_path / "gap-0"), cfg, clock)
    for i in range(10):
        log.append_as_follower(_at(i, i, i))
    log.roll(11)  # offsets [10, 10] never written
    log.append_as_follower(_at(1015, 1015, 11))
    end, _ = clean_all(big_cleaner(clock), log)
    assert end == log.active_segment.base_offset == 11

    log = UnifiedLog(str(tmp_path / "gaps-0"), cfg, clock)
    for i in range(10):
        log.append_as_follower(_at(i, i, i))
    log.roll(15)  # hole [10, 14]
    for i in range(15, 25):
        log.append_as_follower(_at(i, i, i))
    log.roll(30)  # hole [25, 29]
    log.append_as_follower(_at(1015, 1015, 30))
    end, _ = clean_all(big_cleaner(clock), log)
    assert end == log.active_segment.base_offset == 30
