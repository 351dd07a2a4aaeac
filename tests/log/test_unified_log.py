"""UnifiedLog: append/read, roll, retention, flush -- cases from Kafka's ``UnifiedLogTest``.

Kafka's ``TestUtils.singletonRecords(value, timestamp)`` is one v2 batch with one
record and base offset 0; ``_single`` builds the same bytes.
"""

from __future__ import annotations

import os
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from simkafka.log.clock import ManualClock
from simkafka.log.epoch_cache import LeaderEpochFileCache
from simkafka.log.errors import (
    CorruptRecordError,
    InvalidRecordError,
    LogError,
    RecordTooLargeError,
)
from simkafka.log.log_config import LogConfig, RollReason
from simkafka.log.records import (
    NO_TIMESTAMP,
    Record,
    RecordBatch,
    TimestampType,
    build_batch,
    build_uniform_batch,
    crc32c,
    decode_all,
)
from simkafka.log.segment import TimestampAndOffset
from simkafka.log.unified_log import (
    EARLIEST_LOCAL_TIMESTAMP,
    EARLIEST_TIMESTAMP,
    LATEST_TIERED_TIMESTAMP,
    LATEST_TIMESTAMP,
    MAX_TIMESTAMP,
    FetchIsolation,
    OffsetOutOfRangeError,
    OffsetsOutOfOrderError,
    UnexpectedAppendOffsetError,
    UnifiedLog,
    parse_topic_partition_name,
)

MIB = 1024 * 1024
#: Bytes 16.. of a v2 batch (magic, CRC, attributes, ..., records): untouched by offset
#: and partitionLeaderEpoch assignment.
RECORD_BATCH_HEADER_AFTER_EPOCH = 16


def Cfg(segment_bytes: int | None = None, **kw) -> LogConfig:  # noqa: N802
    """A LogConfig; small segments go through ``internal.segment.bytes`` as in Kafka's tests.

    (``segment.bytes`` has a 1 MiB minimum; Kafka's own tests set the internal override.)
    """
    return LogConfig(internal_segment_bytes=segment_bytes, **kw)


def _single(
    value: bytes = b"test", timestamp: int = NO_TIMESTAMP, key: bytes | None = None
) -> bytes:
    return build_batch([Record(0, 0, key, value)], base_offset=0, base_timestamp=timestamp)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000_000)


@pytest.fixture
def open_log(tmp_path, clock):
    logs: list[UnifiedLog] = []

    def _open(cfg: Cfg | None = None, **kw) -> UnifiedLog:
        log = UnifiedLog(str(tmp_path / "topic-0"), cfg or Cfg(), clock, **kw)
        logs.append(log)
        return log

    yield _open
    for log in logs:
        try:
            log.close()
        except Exception:
            pass


def _offsets(info) -> list[int]:
    return [off for off, _ts, _r in decode_all(info.batches())]


# -- append and read -----------------------------------------------------------------


def test_append_assigns_offsets_and_epoch(open_log):
    log = open_log()
    infos = [
        log.append_as_leader(build_uniform_batch(n, 10, base_offset=0, base_timestamp=5), 7)
        for n in (3, 1, 4)
    ]
    assert [(i.first_offset, i.last_offset) for i in infos] == [(0, 2), (3, 3), (4, 7)]
    assert log.log_end_offset == 8
    log.high_watermark = 8
    batches = list(log.read(0, 10_000).batches())
    assert [(b.base_offset, b.last_offset, b.partition_leader_epoch) for b in batches] == [
        (0, 2, 7),
        (3, 3, 7),
        (4, 7, 7),
    ]
    for b in batches:
        b.ensure_valid()  # offsets/epoch rewritten outside the CRC


def test_bytearray_is_rewritten_in_place(open_log):
    log = open_log()
    log.append_as_leader(_single(), 0)
    buf = bytearray(_single())
    log.append_as_leader(buf, 3)
    assert RecordBatch(buf).base_offset == 1 and RecordBatch(buf).partition_leader_epoch == 3


def test_read_lands_on_whole_batches(open_log):
    log = open_log(Cfg(index_interval_bytes=1))
    for _ in range(10):
        log.append_as_leader(build_uniform_batch(5, 10, base_offset=0, base_timestamp=1), 0)
    log.high_watermark = log.log_end_offset
    for target in range(50):
        info = log.read(target, 1)  # min_one_message: one whole batch even over max_bytes
        first = next(info.batches())
        assert first.base_offset == target - target % 5
        assert info.fetch_offset_metadata.message_offset == target


def test_read_is_bounded_by_high_watermark(open_log):
    # A consumer read stops before the batch holding the high watermark; a follower
    # (LOG_END) read goes to the log end.
    log = open_log()
    for _ in range(3):
        log.append_as_leader(build_uniform_batch(2, 10, base_offset=0, base_timestamp=1), 0)
    log.high_watermark = 2
    assert _offsets(log.read(0, 10_000)) == [0, 1]
    assert log.read(2, 10_000).records == b""
    assert _offsets(log.read(2, 10_000, FetchIsolation.LOG_END)) == [2, 3, 4, 5]
    # HW is clamped to [log start, LEO]
    log.high_watermark = 100
    assert log.high_watermark == 6
    assert log.read(6, 100).records == b""


def test_read_out_of_range(open_log):
    # UnifiedLogTest.testReadOutOfRange-style: below the log start / past the LEO.
    log = open_log()
    log.append_as_leader(_single(), 0)
    log.high_watermark = 1
    with pytest.raises(OffsetOutOfRangeError):
        log.read(2, 100)
    with pytest.raises(OffsetOutOfRangeError):
        log.read(-1, 100)
    assert log.read(1, 100).records == b""  # at the log end: empty, not an error


def test_min_one_message_off_returns_nothing_when_first_batch_too_big(open_log):
    log = open_log()
    log.append_as_leader(_single(b"x" * 500), 0)
    log.high_watermark = 1
    info = log.read(0, 100, min_one_message=False)
    assert info.first_entry_incomplete and len(info.records) == 100
    assert list(info.batches()) == []


def test_leader_rejects_non_zero_base_offset(open_log):
    # analyzeAndValidateRecords: "The baseOffset of the record batch ... should be 0".
    log = open_log()
    bad = build_batch([Record(0, 0, None, b"x")], base_offset=5, base_timestamp=1)
    with pytest.raises(InvalidRecordError, match="should be 0"):
        log.append_as_leader(bad, 0)


def test_leader_rejects_more_than_one_batch(open_log):
    # LogValidator.getFirstBatchAndMaybeValidateNoMoreBatches: one v2 batch per request.
    log = open_log()
    with pytest.raises(InvalidRecordError, match="more than one batch"):
        log.append_as_leader(_single() + _single(), 0)
    assert log.log_end_offset == 0


def test_leader_rejects_too_large_and_corrupt(open_log):
    # testMessageSizeCheck: batch > max.message.bytes -> RecordTooLargeException.
    log = open_log(Cfg(max_message_bytes=100))
    with pytest.raises(RecordTooLargeError, match="exceeds the maximum configured value of 100"):
        log.append_as_leader(_single(b"x" * 100), 0)
    corrupt = bytearray(_single(b"abcdef"))
    corrupt[-3] ^= 0xFF
    with pytest.raises(CorruptRecordError):
        log.append_as_leader(corrupt, 0)


def test_leader_rejects_inconsistent_count_and_control_batches(open_log):
    log = open_log()
    two = bytearray(build_batch([Record(0), Record(1)], base_offset=0, base_timestamp=1))
    two[57:61] = (1).to_bytes(4, "big")  # recordsCount 1 but lastOffsetDelta 1 (CRC-covered)
    from simkafka.log.records import CRC_OFFSET, crc32c

    two[CRC_OFFSET : CRC_OFFSET + 4] = crc32c(bytes(two[21:])).to_bytes(4, "big")
    with pytest.raises(InvalidRecordError, match="Inconsistent batch offset range"):
        log.append_as_leader(two, 0)
    control = build_batch(
        [Record(0, 0, b"\x00\x00\x00\x01", b"\x00\x00\x00\x00\x00\x00")],
        base_offset=0,
        base_timestamp=1,
        is_control=True,
        is_transactional=True,
        producer_id=1,
        producer_epoch=0,
    )
    with pytest.raises(InvalidRecordError, match="control records"):
        log.append_as_leader(control, 0)


def test_log_append_time_overwrites_max_timestamp(open_log, clock):
    log = open_log(Cfg(message_timestamp_type="LogAppendTime"))
    info = log.append_as_leader(_single(timestamp=5), 0)
    assert info.log_append_time == clock.now_ms() == info.max_timestamp
    log.high_watermark = 1
    batch = next(log.read(0, 1000).batches())
    assert batch.timestamp_type == TimestampType.LOG_APPEND_TIME
    assert batch.max_timestamp == clock.now_ms()
    batch.ensure_valid()


def test_follower_append_keeps_offsets_and_checks_order(open_log):
    log = open_log()
    b = build_uniform_batch(3, 5, base_offset=10, base_timestamp=1, partition_leader_epoch=4)
    log.truncate_fully_and_start_at(10)
    info = log.append_as_follower(b)
    assert (info.first_offset, info.last_offset, log.log_end_offset) == (10, 12, 13)
    with pytest.raises(UnexpectedAppendOffsetError):
        log.append_as_follower(build_uniform_batch(1, 5, base_offset=12, base_timestamp=1))
    out_of_order = build_uniform_batch(
        1, 5, base_offset=20, base_timestamp=1
    ) + build_uniform_batch(1, 5, base_offset=15, base_timestamp=1)
    with pytest.raises(OffsetsOutOfOrderError):
        log.append_as_follower(out_of_order)
    # a follower may append several batches at once and gaps are allowed
    log.append_as_follower(
        build_uniform_batch(1, 5, base_offset=15, base_timestamp=1)
        + build_uniform_batch(2, 5, base_offset=16, base_timestamp=1)
    )
    assert log.log_end_offset == 18


def test_partial_trailing_batch_is_trimmed(open_log):
    # trimInvalidBytes: a partial batch at the end of a request is dropped.
    log = open_log()
    b = _single(b"hello")
    info = log.append_as_follower(b + _single(b"x")[:20])
    assert info.valid_bytes == len(b) and log.log_end_offset == 1


# -- roll --------------------------------------------------------------------------


def test_size_based_log_roll(open_log):
    # UnifiedLogTest.testSizeBasedLogRoll: segmentBytes = 10 * (setSize - 1) -> 2 segments
    # after 11 appends.
    set_size = len(_single())
    log = open_log(Cfg(segment_bytes=10 * (set_size - 1)))
    assert len(log.segments) == 1
    for _ in range(11):
        log.append_as_leader(_single(), 0)
    assert len(log.segments) == 2
    # the roll happened when size > segment.bytes - incoming: after 9 batches
    assert [s.base_offset for s in log.segments] == [0, 9]
    assert log.last_roll_reason == RollReason.SIZE


def test_time_based_log_roll(open_log, clock):
    # UnifiedLogTest.testTimeBasedLogRoll, step by step (segmentMs = 1 hour in ms/1000).
    cfg = Cfg(segment_ms=60 * 60)
    log = open_log(cfg)
    assert cfg.segment_ms == 3600
    assert len(log.segments) == 1
    clock.advance(cfg.segment_ms + 1)
    log.append_as_leader(_single(), 0)
    assert len(log.segments) == 1, "Log doesn't roll if doing so creates an empty segment."
    log.append_as_leader(_single(), 0)
    assert len(log.segments) == 2, "Log rolls on this append since time has expired."
    for n in (3, 4):
        clock.advance(cfg.segment_ms + 1)
        log.append_as_leader(_single(), 0)
        assert len(log.segments) == n
    timestamp = clock.now_ms() + cfg.segment_ms + 1
    log.append_as_leader(_single(timestamp=timestamp), 0)
    assert len(log.segments) == 4, "rolling is by wall clock while the first batch has no timestamp"
    clock.advance(cfg.segment_ms + 1)
    log.append_as_leader(_single(timestamp=timestamp), 0)
    assert len(log.segments) == 5
    clock.advance(cfg.segment_ms + 1)
    log.append_as_leader(_single(timestamp=timestamp), 0)
    assert len(log.segments) == 5, "roll depends on the first batch's timestamp, not the wall clock"
    log.append_as_leader(_single(timestamp=clock.now_ms()), 0)
    assert len(log.segments) == 6, "the record's timestamp makes the segment expire"
    clock.advance(cfg.segment_ms + 1)
    log.append_as_leader(b"", 0)
    assert len(log.segments) == 6, "an empty append never rolls"


def test_roll_on_full_index(open_log):
    # segment.index.bytes = 24: 3 offset-index entries, 2 time-index slots (one reserved
    # for the roll entry), so the time index is full after one entry.
    log = open_log(Cfg(segment_index_bytes=24, index_interval_bytes=1))
    for i in range(6):
        log.append_as_leader(_single(timestamp=1000 + i), 0)
    # per segment: append 0 (no entry: nothing written before it), append 1 adds the
    # first entry -> time index full -> the third append rolls.
    assert [s.base_offset for s in log.segments] == [0, 2, 4]
    assert [s.offset_index.entries for s in log.segments] == [1, 1, 1]
    assert log.last_roll_reason == RollReason.TIME_INDEX_FULL


def test_roll_flushes_previous_segment(open_log):
    log = open_log(Cfg(segment_bytes=200))
    while len(log.segments) < 3:
        log.append_as_leader(_single(b"x" * 40), 0)
    assert log.recovery_point == log.segments[-1].base_offset


# -- flush -------------------------------------------------------------------------


def test_flush_by_messages(open_log):
    # flush.messages: flush when LEO - recovery point >= flush.messages.
    log = open_log(Cfg(flush_messages=3))
    seen = []
    for _ in range(7):
        log.append_as_leader(_single(), 0)
        seen.append(log.recovery_point)
    assert seen == [0, 0, 3, 3, 3, 6, 6]
    assert log.unflushed_messages == 1


def test_flush_by_time(open_log, clock):
    # LogManager.flushDirtyLogs: flush once now - lastFlushTime >= flush.ms.
    log = open_log(Cfg(flush_ms=1000))
    log.append_as_leader(_single(), 0)
    clock.advance(999)
    assert not log.maybe_flush() and log.recovery_point == 0
    clock.advance(1)
    assert log.maybe_flush() and log.recovery_point == 1
    assert log.last_flush_time == clock.now_ms()


# -- offsets for time --------------------------------------------------------------


def test_fetch_offset_by_timestamp_includes_leader_epoch(open_log, clock):
    # UnifiedLogTest.testFetchOffsetByTimestampIncludesLeaderEpoch
    log = open_log(
        Cfg(segment_bytes=200, index_interval_bytes=1), leader_epoch_cache=LeaderEpochFileCache()
    )
    assert log.fetch_offset_by_timestamp(0) is None
    first = clock.now_ms()
    log.append_as_leader(_single(os.urandom(10), timestamp=first), 0)
    second = first + 1
    log.append_as_leader(_single(os.urandom(10), timestamp=second), 1)
    assert log.fetch_offset_by_timestamp(first) == TimestampAndOffset(first, 0, 0)
    assert log.fetch_offset_by_timestamp(second) == TimestampAndOffset(second, 1, 1)
    assert log.fetch_offset_by_timestamp(EARLIEST_TIMESTAMP) == TimestampAndOffset(
        NO_TIMESTAMP, 0, 0
    )
    assert log.fetch_offset_by_timestamp(LATEST_TIMESTAMP) == TimestampAndOffset(NO_TIMESTAMP, 2, 1)
    # "The cache can be updated directly after a leader change."
    log.maybe_assign_epoch_start_offset(2, 2)
    assert log.fetch_offset_by_timestamp(LATEST_TIMESTAMP) == TimestampAndOffset(NO_TIMESTAMP, 2, 2)


@pytest.mark.parametrize("release", ["4.0.0", "4.1"])
def test_latest_tiered_timestamp_without_remote_storage(tmp_path, clock, release):
    # KIP-1005 (-5, the highest offset in remote storage). UnifiedLog.fetchOffsetByTimestamp
    # in 4.0 and 4.1 with remote storage off: new TimestampAndOffset(NO_TIMESTAMP, -1L,
    # Optional.of(-1)) -- whatever the log holds and whatever its leader epochs.
    cfg = LogConfig(segment_bytes=200, kafka_release="4.0.0") if release == "4.0.0" else Cfg(200)
    log = UnifiedLog(
        str(tmp_path / "topic-0"), cfg, clock, leader_epoch_cache=LeaderEpochFileCache()
    )
    nothing_tiered = TimestampAndOffset(NO_TIMESTAMP, -1, -1)
    assert log.fetch_offset_by_timestamp(LATEST_TIERED_TIMESTAMP) == nothing_tiered
    for epoch in (0, 3):
        log.append_as_leader(_single(os.urandom(10), timestamp=clock.now_ms()), epoch)
    assert log.log_end_offset == 2
    assert log.fetch_offset_by_timestamp(LATEST_TIERED_TIMESTAMP) == nothing_tiered
    log.close()


def test_fetch_offset_by_max_timestamp(open_log, clock):
    # UnifiedLogTest.testFetchOffsetByTimestampWithMaxTimestampIncludesTimestamp (KIP-734):
    # the record holding the largest timestamp, even when a later record is older.
    log = open_log(Cfg(segment_bytes=200, index_interval_bytes=1))
    first = clock.now_ms()
    log.append_as_leader(_single(os.urandom(10), timestamp=first), 0)
    log.append_as_leader(_single(os.urandom(10), timestamp=first + 5), 1)  # the max
    log.append_as_leader(_single(os.urandom(10), timestamp=first + 2), 1)
    assert log.fetch_offset_by_timestamp(MAX_TIMESTAMP) == TimestampAndOffset(first + 5, 1, 1)
    # inside a multi-record batch: the first record carrying the max timestamp
    log.append_as_leader(
        build_batch(
            [Record(0, 0), Record(1, 9), Record(2, 9)], base_offset=0, base_timestamp=first
        ),
        3,
    )
    assert log.fetch_offset_by_timestamp(MAX_TIMESTAMP) == TimestampAndOffset(first + 9, 4, 3)
    assert log.fetch_offset_by_timestamp(EARLIEST_LOCAL_TIMESTAMP).offset == 0


def test_offsets_for_time_across_segments(open_log):
    log = open_log(Cfg(segment_bytes=300, index_interval_bytes=1))
    for i in range(20):
        log.append_as_leader(_single(b"v" * 20, timestamp=1000 + 10 * i), 0)
    assert len(log.segments) > 3
    for i in range(20):
        assert log.offsets_for_time(1000 + 10 * i).offset == i
        assert log.offsets_for_time(1000 + 10 * i - 5).offset == i
    assert log.offsets_for_time(1000 + 10 * 19 + 1) is None


# -- retention ---------------------------------------------------------------------


def _fifteen(open_log, timestamp=10, **cfg):
    rec = _single(timestamp=timestamp)
    log = open_log(Cfg(segment_bytes=len(rec) * 5, **cfg))
    for _ in range(15):
        log.append_as_leader(_single(timestamp=timestamp), 0)
    assert [s.base_offset for s in log.segments] == [0, 5, 10]
    return log, len(rec)


def test_delete_time_based_segments_ready_to_be_deleted(open_log):
    # shouldDeleteTimeBasedSegmentsReadyToBeDeleted: all expired -> roll, 1 segment left.
    log, _ = _fifteen(open_log, retention_ms=10_000)
    log.update_high_watermark(log.log_end_offset)
    assert log.delete_old_segments() == 3
    assert [s.base_offset for s in log.segments] == [15]
    assert log.log_start_offset == 15
    assert not [n for n in os.listdir(log.dir) if n.endswith(".deleted")]


def test_delete_size_based_segments(open_log, clock):
    # shouldDeleteSizeBasedSegments: retention.bytes = 10 batches of 15 -> 2 segments left.
    size = len(_single(timestamp=10))
    log, _ = _fifteen(open_log, timestamp=clock.now_ms(), retention_bytes=size * 10)
    log.update_high_watermark(log.log_end_offset)
    assert log.delete_old_segments() == 1
    assert [s.base_offset for s in log.segments] == [5, 10]
    assert log.log_start_offset == 5


def test_not_delete_size_based_segments_when_under_retention_size(open_log, clock):
    # shouldNotDeleteSizeBasedSegmentsWhenUnderRetentionSize
    size = len(_single(timestamp=10))
    log, _ = _fifteen(open_log, timestamp=clock.now_ms(), retention_bytes=size * 15)
    log.update_high_watermark(log.log_end_offset)
    assert log.delete_old_segments() == 0
    assert len(log.segments) == 3


def test_retention_never_passes_high_watermark(open_log):
    # deletableSegments: a segment is deletable only if HW >= next segment's base.
    log, _ = _fifteen(open_log, retention_ms=10_000)
    assert log.delete_old_segments() == 0  # HW still 0
    log.update_high_watermark(7)
    assert log.delete_old_segments() == 1
    assert log.log_start_offset == 5 and [s.base_offset for s in log.segments] == [5, 10]


def test_compact_policy_keeps_segments_but_honours_log_start(open_log):
    # shouldNotDeleteSegmentsWhenPolicyDoesNotIncludeDelete, and log-start breach is
    # applied whatever the policy (deleteLogStartOffsetBreachedSegments).
    log, _ = _fifteen(open_log, retention_ms=10_000, cleanup_policy=("compact",))
    log.update_high_watermark(log.log_end_offset)
    assert log.delete_old_segments() == 0
    log.maybe_increment_log_start_offset(11)
    assert log.delete_old_segments() == 2
    assert [s.base_offset for s in log.segments] == [10]
    with pytest.raises(OffsetOutOfRangeError):
        log.read(10, 100)


def test_retention_by_time_uses_largest_timestamp(open_log, clock):
    now = clock.now_ms()
    log = open_log(Cfg(segment_bytes=len(_single()) * 2, retention_ms=1000))
    for ts in (now - 5000, now - 4000, now - 900, now - 800, now):
        log.append_as_leader(_single(timestamp=ts), 0)
    log.update_high_watermark(log.log_end_offset)
    # segments: [ts-5000, ts-4000] [ts-900, ts-800] [ts]; only the first is older than 1 s
    assert log.delete_old_segments() == 1
    assert log.log_start_offset == 2
    clock.advance(150)  # now the second segment's largest timestamp is 950 ms old: kept
    assert log.delete_old_segments() == 0
    clock.advance(51)
    assert log.delete_old_segments() == 1 and log.log_start_offset == 4


def test_retention_without_timestamps_uses_file_mtime(open_log, clock):
    # LogSegment.largestTimestamp falls back to lastModified when no batch has a
    # timestamp (testDeleteOldSegments with NO_TIMESTAMP records + setLastModified).
    log = open_log(Cfg(segment_bytes=len(_single()) * 2, retention_ms=10_000))
    for _ in range(5):
        log.append_as_leader(_single(), 0)  # NO_TIMESTAMP
    log.update_high_watermark(log.log_end_offset)
    assert [s.base_offset for s in log.segments] == [0, 2, 4]
    for seg in log.segments[:2]:
        seg.set_last_modified(clock.now_ms() - 20_000)
    log.segments[2].set_last_modified(clock.now_ms())
    assert log.delete_old_segments() == 2
    assert log.log_start_offset == 4


def test_compressed_batch_is_assigned_in_place(open_log):
    # LogValidator's in-place path for a compressed batch (source codec == target):
    # only the header changes; the compressed records are written as they came.
    from simkafka.log.compression import CompressionType

    log = open_log()
    log.append_as_leader(_single(), 0)
    raw = build_batch(
        [Record(i, i, f"k{i}".encode(), b"v" * 100) for i in range(10)],
        base_offset=0,
        base_timestamp=5,
        compression=CompressionType.GZIP,
    )
    info = log.append_as_leader(raw, 2)
    assert (info.first_offset, info.last_offset, info.max_timestamp) == (1, 10, 14)
    log.update_high_watermark(11)
    stored = list(log.read(1, 10_000).batches())[0]
    assert (
        stored.to_bytes()[RECORD_BATCH_HEADER_AFTER_EPOCH:] == raw[RECORD_BATCH_HEADER_AFTER_EPOCH:]
    )
    assert [o for o, _t, _r in decode_all([stored])] == list(range(1, 11))


# -- truncation --------------------------------------------------------------------


def test_truncate_to(open_log):
    log = open_log(Cfg(segment_bytes=len(_single()) * 3, flush_messages=1))
    for _ in range(10):
        log.append_as_leader(_single(), 0)
    log.update_high_watermark(10)
    assert not log.truncate_to(10)
    assert log.truncate_to(4)
    assert log.log_end_offset == 4 and log.high_watermark == 4 and log.recovery_point == 4
    assert [s.base_offset for s in log.segments] == [0, 3]
    log.append_as_leader(_single(), 0)
    assert log.log_end_offset == 5
    assert log.truncate_to(0)
    assert log.log_end_offset == 0 and log.size == 0


def _read_all(log: UnifiedLog) -> list[tuple[int, bytes]]:
    """Fetch loop: like LocalLog.read, one fetch never returns data from two segments."""
    out: list[tuple[int, bytes]] = []
    offset = log.log_start_offset
    while offset < log.high_watermark:
        info = log.read(offset, 10**9)
        assert info.fetch_offset_metadata.segment_base_offset <= offset
        records = [(o, r.value) for o, _t, r in decode_all(info.batches())]
        assert records, "a read below the high watermark returns at least one batch"
        out.extend(records)
        offset = records[-1][0] + 1
    return out


def test_one_read_never_spans_segments(open_log):
    # LocalLog.read returns the first segment that has data at or after the offset.
    log = open_log(Cfg(segment_bytes=len(_single()) * 2))
    for _ in range(6):
        log.append_as_leader(_single(), 0)
    log.update_high_watermark(6)
    assert _offsets(log.read(0, 10**6)) == [0, 1]
    assert _offsets(log.read(3, 10**6)) == [3]


# -- checkpoints ---------------------------------------------------------------------


def test_parse_topic_partition_name():
    # UnifiedLogTest/LogManager parseTopicPartitionName cases.
    assert parse_topic_partition_name("/data/my-topic-3") == ("my-topic", 3)
    assert parse_topic_partition_name("/d/foo.bar-0.abc123-delete") == ("foo.bar", 0)
    assert parse_topic_partition_name("/d/foo-7.abc-future") == ("foo", 7)
    for bad in ("", "test_topic", "-1", "test_topic-", "test_topic-a"):
        with pytest.raises(LogError, match="topic-partition"):
            parse_topic_partition_name(f"/d/{bad}")


def test_checkpoint_files_are_per_log_directory(tmp_path, clock):
    # LogManager: one recovery-point / log-start-offset checkpoint per log dir, holding
    # every partition; UnifiedLog.load reads its own entry.
    a = UnifiedLog(str(tmp_path / "t-0"), Cfg(flush_messages=4), clock)
    b = UnifiedLog(str(tmp_path / "t-1"), Cfg(flush_messages=2), clock)
    for _ in range(5):
        a.append_as_leader(_single(), 0)
        b.append_as_leader(_single(), 0)
    a.update_high_watermark(5)
    a.maybe_increment_log_start_offset(3)
    a.checkpoint_offsets()
    b.checkpoint_offsets()
    text = (tmp_path / "recovery-point-offset-checkpoint").read_text().split("\n")
    assert text[:2] == ["0", "2"] and sorted(text[2:4]) == ["t 0 4", "t 1 4"]
    assert (tmp_path / "log-start-offset-checkpoint").read_text().split("\n")[:3] == [
        "0",
        "1",
        "t 0 3",
    ]
    a.close()
    b.close()
    again = UnifiedLog.load(str(tmp_path / "t-0"), Cfg(), clock)
    assert (again.recovery_point, again.log_start_offset, again.log_end_offset) == (4, 3, 5)
    again.close()


def test_leader_epochs_persist_in_partition_directory(open_log, tmp_path):
    log = open_log()
    for epoch in (0, 0, 2, 2, 2, 5):
        log.append_as_leader(_single(), epoch)
    assert (tmp_path / "topic-0" / "leader-epoch-checkpoint").exists()
    log.close()
    again = open_log()
    assert [(e.epoch, e.start_offset) for e in again.leader_epoch_cache.epoch_entries()] == [
        (0, 0),
        (2, 2),
        (5, 5),
    ]
    assert again.truncate_to(4)
    assert again.leader_epoch_cache.latest_epoch() == 2


# -- property: the log against a list of batches -------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    counts=st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=30),
    seg_batches=st.integers(min_value=1, max_value=6),
    interval=st.sampled_from([1, 100, 4096]),
)
def test_log_matches_list_oracle(tmp_path_factory, counts, seg_batches, interval):
    d = tmp_path_factory.mktemp("p") / "t-0"
    clock = ManualClock(0)
    batch_size = len(build_uniform_batch(8, 7, base_offset=0, base_timestamp=0))
    cfg = Cfg(segment_bytes=batch_size * seg_batches, index_interval_bytes=interval)
    log = UnifiedLog(str(d), cfg, clock)
    oracle: list[tuple[int, bytes]] = []
    for n in counts:
        payload = os.urandom(n * 7)
        log.append_as_leader(
            build_uniform_batch(n, 7, base_offset=0, base_timestamp=0, payload=payload), 0
        )
        for i in range(n):
            oracle.append((len(oracle), payload[i * 7 : (i + 1) * 7]))
    log.update_high_watermark(log.log_end_offset)
    assert log.log_end_offset == len(oracle)
    assert _read_all(log) == oracle
    for target in range(0, len(oracle), 3):
        first = next(log.read(target, 1).batches())
        assert first.base_offset <= target <= first.last_offset
    log.close()
    again = UnifiedLog(str(d), cfg, clock)
    assert again.log_end_offset == len(oracle)
    again.update_high_watermark(len(oracle))
    assert _read_all(again) == oracle
    again.close()


# -- state machine: append / roll / truncate / retain / reopen against a list ----------


class LogMachine(RuleBasedStateMachine):
    """The log against a plain list of (offset, value) records (design.md's oracle).

    Retention only ever drops a prefix of whole segments and truncation a suffix, so the
    oracle is a list plus the log start offset; every read must return exactly the
    oracle's records from the log start to the high watermark.
    """

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.dir = os.path.join(self.tmp.name, "t-0")
        self.clock = ManualClock(1_000_000)
        self.cfg = Cfg(
            segment_bytes=400,
            index_interval_bytes=150,
            retention_bytes=1200,
            segment_index_bytes=4096,
        )
        self.log = UnifiedLog(self.dir, self.cfg, self.clock)
        self.records: list[tuple[int, bytes]] = []
        self.batch_starts: list[int] = []
        self.start = 0

    @rule(n=st.integers(1, 4), size=st.integers(1, 60))
    def append(self, n: int, size: int) -> None:
        payload = os.urandom(n * size)
        info = self.log.append_as_leader(
            build_uniform_batch(
                n, size, base_offset=0, base_timestamp=self.clock.now_ms(), payload=payload
            ),
            0,
        )
        assert info.first_offset == len(self.records)
        self.batch_starts.append(info.first_offset)
        self.records += [
            (info.first_offset + i, payload[i * size : (i + 1) * size]) for i in range(n)
        ]
        self.clock.advance(1)

    @rule(data=st.data())
    def truncate(self, data) -> None:
        # Followers truncate to batch boundaries (epoch end offsets); Kafka's truncateTo
        # sets the log end to the target even if that lies inside a batch, so only
        # boundaries make sense to an oracle.
        choices = [b for b in self.batch_starts if b >= self.start] + [len(self.records)]
        target = data.draw(st.sampled_from(choices))
        self.log.truncate_to(target)
        del self.records[target:]
        self.batch_starts = [b for b in self.batch_starts if b < target]

    @rule()
    def retain(self) -> None:
        self.log.update_high_watermark(self.log.log_end_offset)
        self.log.delete_old_segments()
        assert self.log.size <= max(1200, self.log.segments[-1].size) + 400
        assert self.log.log_start_offset >= self.start
        self.start = self.log.log_start_offset
        assert [s.base_offset for s in self.log.segments][0] <= self.start

    @rule(clean=st.booleans())
    def reopen(self, clean: bool) -> None:
        self.log.flush()
        self.log.checkpoint_offsets()
        self.log.close()
        self.log = UnifiedLog.load(self.dir, self.cfg, self.clock)

    @invariant()
    def matches_oracle(self) -> None:
        log = self.log
        assert log.log_end_offset == len(self.records)
        assert log.log_start_offset == self.start
        log.update_high_watermark(log.log_end_offset)
        assert _read_all(log) == self.records[self.start :]

    def teardown(self) -> None:
        self.log.close()
        self.tmp.cleanup()


TestLogMachine = LogMachine.TestCase
TestLogMachine.settings = settings(max_examples=30, stateful_step_count=30, deadline=None)


# -- the one-pass produce append against the general path ------------------------------


def _mangle(batch: bytes, how: str) -> bytes:
    """One of the faults a produce request can carry, each rejected by ``LogValidator``
    or ``analyzeAndValidateRecords`` (cases of Kafka's ``LogValidatorTest`` /
    ``UnifiedLogTest``: non-zero base offset, corrupt CRC, control batch from a client,
    LogAppendTime from a producer, count vs offset range, sequence without producer id
    semantics, a torn tail, two batches)."""
    b = bytearray(batch)
    if how == "base_offset":
        b[7] = 5
    elif how == "crc":
        b[-1] ^= 0xFF
    elif how == "control":
        b[22] |= 0x20  # attributes low byte: control flag
    elif how == "log_append_time":
        b[22] |= 0x08  # timestamp type LogAppendTime, set by a producer
    elif how == "count":
        b[60] += 1  # recordsCount no longer lastOffsetDelta + 1
    elif how == "torn":
        b += b"\x00" * 20
    elif how == "two":
        b += batch
    if how in ("control", "log_append_time", "count"):  # a valid CRC: reach the real check
        struct.pack_into(">I", b, 17, crc32c(memoryview(b)[21 : len(batch)]))
    return bytes(b)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    appends=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=6),  # records
            st.integers(min_value=0, max_value=3),  # ms to advance the clock first
            st.integers(min_value=0, max_value=2),  # leader epoch
            st.sampled_from(
                ["ok"] * 6
                + ["base_offset", "crc", "control", "log_append_time", "count", "torn", "two"]
            ),
            st.booleans(),  # idempotent producer (producerId/sequence set)
        ),
        min_size=1,
        max_size=25,
    ),
    seg_batches=st.integers(min_value=1, max_value=5),
    interval=st.sampled_from([1, 100, 4096]),
    flush_messages=st.sampled_from([3, (1 << 63) - 1]),
    segment_ms=st.sampled_from([2, 7 * 24 * 3600 * 1000]),
)
def test_one_pass_client_append_equals_general_path(
    tmp_path_factory, appends, seg_batches, interval, flush_messages, segment_ms
):
    # append_as_leader takes a one-pass route for a bytearray or bytes holding one valid
    # batch that needs no roll, and the general route (_append) otherwise -- e.g. for a
    # memoryview, which it copies first. All must leave identical logs and return
    # identical infos (or raise the same error): same files byte for byte, indexes,
    # offsets, high watermark, recovery point, epoch cache, roll reasons.
    batch_size = len(build_uniform_batch(6, 9, base_offset=0, base_timestamp=0))
    cfg = Cfg(
        segment_bytes=batch_size * seg_batches,
        index_interval_bytes=interval,
        flush_messages=flush_messages,
        segment_ms=segment_ms,
    )
    root = tmp_path_factory.mktemp("eq")
    clocks = [ManualClock(1_000_000) for _ in range(3)]
    logs = [
        UnifiedLog(str(root / name / "t-0"), cfg, clk)
        for name, clk in zip(("general", "bytearray", "bytes"), clocks, strict=True)
    ]
    for n, advance, epoch, fault, idempotent in appends:
        for clk in clocks:
            clk.advance(advance)
        batch = build_uniform_batch(
            n,
            9,
            base_offset=0,
            base_timestamp=clocks[0].now_ms(),
            payload=os.urandom(n * 9),
            producer_id=7 if idempotent else -1,
            producer_epoch=0 if idempotent else -1,
            base_sequence=3 if idempotent else -1,
        )
        if fault != "ok":
            batch = _mangle(batch, fault)
        outcomes = []
        immutable = bytes(batch)
        for log, arg in zip(
            logs, (memoryview(bytes(batch)), bytearray(batch), immutable), strict=True
        ):
            try:
                outcomes.append(log.append_as_leader(arg, epoch))
            except LogError as e:
                outcomes.append((type(e), str(e).replace(log.dir, "<dir>")))
        assert outcomes[1] == outcomes[0] and outcomes[2] == outcomes[0]
    for log in logs:
        log.close()
    general = logs[0]
    for fast in logs[1:]:
        assert fast.log_end_offset == general.log_end_offset
        assert fast.high_watermark == general.high_watermark
        assert fast.recovery_point == general.recovery_point
        assert fast.last_roll_reason == general.last_roll_reason
        assert fast.leader_epoch_cache.epoch_entries() == general.leader_epoch_cache.epoch_entries()
        names = sorted(os.listdir(fast.dir))
        assert names == sorted(os.listdir(general.dir))
        for name in names:
            with open(os.path.join(fast.dir, name), "rb") as a:
                with open(os.path.join(general.dir, name), "rb") as b:
                    assert a.read() == b.read(), name
