"""LogConfig and the pure roll / retention / flush / cleaner rules, against Kafka's tests.

Cases replay ``UnifiedLogTest`` (core/src/test/scala/unit/kafka/log), ``LogConfigTest``
and ``LogCleanerManagerTest`` (storage/src/test/java/.../internals/log) on hand-built
segment lists: the tests' logs are reduced to base offsets, sizes and timestamps, which
is all the rules look at.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.log.clock import ManualClock
from simkafka.log.log_config import (
    LONG_MAX,
    LogConfig,
    RollReason,
    SegmentStats,
    calculate_cleanable_bytes,
    cleanable_offsets,
    cleanable_ratio,
    delete_old_segments,
    grab_filthiest_compacted_log,
    log_to_clean,
    max_compaction_delay,
    needs_compaction,
    random_segment_jitter,
    retention_ms_breached,
    roll_reason,
    segments_to_delete_by_log_start_offset,
    segments_to_delete_by_size,
    segments_to_delete_by_time,
    should_flush,
    should_flush_on_append,
    should_flush_on_schedule,
    should_roll,
)

# TestUtils.singletonRecords("test".getBytes): one v2 batch, one record, 72 bytes. The
# replays below hold for any size > 10; 72 only makes the numbers concrete.
S = 72
T0 = 1_700_000_000_000  # MockTime starts at the wall clock; any epoch-like value will do


# -- LogConfig -----------------------------------------------------------------------


def test_defaults_are_kafkas() -> None:
    # LogConfig.DEFAULT_* and ServerLogConfigs.*_DEFAULT
    c = LogConfig()
    assert c.segment_bytes == 1024**3
    assert c.segment_ms == c.retention_ms == 7 * 24 * 3600 * 1000
    assert c.segment_jitter_ms == 0
    assert c.segment_index_bytes == 10 * 1024 * 1024
    assert c.index_interval_bytes == 4096
    assert c.retention_bytes == -1
    assert c.cleanup_policy == ("delete",) and c.delete and not c.compact
    assert c.delete_retention_ms == 24 * 3600 * 1000
    assert c.min_cleanable_dirty_ratio == 0.5
    assert c.min_compaction_lag_ms == 0
    assert c.max_compaction_lag_ms == c.flush_messages == c.flush_ms == 2**63 - 1
    assert c.max_message_bytes == 1048588
    assert c.file_delete_delay_ms == 60000
    assert c.message_timestamp_type == "CreateTime"
    assert c.min_insync_replicas == 1 and c.compression_type == "producer"
    assert c.segment_size == c.segment_bytes and c.init_file_size == 0


def test_from_topic_configs_parses_like_configdef() -> None:
    c = LogConfig.from_topic_configs(
        {
            "cleanup.policy": "compact, delete",
            "retention.ms": "-1",
            "min.cleanable.dirty.ratio": "0.1",
            "preallocate": "TRUE",
            "segment.bytes": 2 * 1024 * 1024,
            "max.compaction.lag.ms": 60_000,
        }
    )
    assert c.cleanup_policy == ("compact", "delete") and c.compact and c.delete
    assert c.retention_ms == -1 and c.min_cleanable_dirty_ratio == 0.1 and c.preallocate
    assert c.init_file_size == 2 * 1024 * 1024
    # LogConfig.maxSegmentMs: a compacted topic rolls by max.compaction.lag.ms as well
    assert c.max_segment_ms == 60_000
    assert LogConfig(max_compaction_lag_ms=60_000).max_segment_ms == c.segment_ms  # not compact
    assert LogConfig.from_topic_configs(c.to_topic_configs()) == c
    assert LogConfig.from_topic_configs({"cleanup.policy": ""}).cleanup_policy == ()


def test_unknown_name_is_named() -> None:
    # LogConfig.validateNames: "Unknown topic config name: ..."
    with pytest.raises(
        ValueError, match=r"Unknown topic config name: retention\.msec .*'retention\.ms'"
    ):
        LogConfig.from_topic_configs({"retention.msec": 1})
    with pytest.raises(ValueError, match="Unknown topic config name: log.retention.ms"):
        LogConfig.from_topic_configs({"log.retention.ms": 1})  # a broker name, not a topic one


@pytest.mark.parametrize(
    ("configs", "message"),
    [
        # LogConfigTest.testFromPropsInvalid-style values
        ({"segment.bytes": "not_a_number"}, "Not a number"),
        ({"segment.ms": 0}, "segment.ms: Value must be at least 1"),
        ({"retention.ms": -2}, "at least -1"),
        ({"min.cleanable.dirty.ratio": 1.2}, "no more than 1"),
        ({"cleanup.policy": "compact,remove"}, "String must be one of: compact, delete"),
        ({"message.timestamp.type": "Now"}, "CreateTime, LogAppendTime"),
        ({"unclean.leader.election.enable": "yes"}, "either true or false"),
        ({"segment.bytes": 1024}, "at least 1048576"),  # Kafka 4.1: 1 MiB minimum
        ({"segment.bytes": 2**31}, "out of range for a int"),
        ({"compression.gzip.level": 0}, "between 1 and 9 or -1"),
        # LogConfigTest.testInvalidCompactionLagConfig
        (
            {"min.compaction.lag.ms": 10_000, "max.compaction.lag.ms": 1000},
            r"min.compaction.lag.ms \(10000\) > max.compaction.lag.ms \(1000\)",
        ),
    ],
)
def test_invalid_values_are_rejected(configs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LogConfig.from_topic_configs(configs)


def test_internal_segment_bytes_allows_tiny_segments() -> None:
    # LogConfig.segmentSize(): internal.segment.bytes wins (Kafka's tests use it)
    c = LogConfig.from_topic_configs({"internal.segment.bytes": "1024"})
    assert c.segment_size == 1024 and c.segment_bytes == 1024**3


# -- rolling -------------------------------------------------------------------------


class _RollingLog:
    """Just enough of ``UnifiedLog.maybeRoll`` + ``LogSegment.append`` to replay roll tests."""

    def __init__(self, config: LogConfig, clock: ManualClock, rng: random.Random | None = None):
        self.config, self.clock, self.rng = config, clock, rng or random.Random(0)
        self.segments: list[dict] = []
        self.leo = 0
        self._roll()

    def _roll(self) -> None:
        self.segments.append(
            {
                "base": self.leo,
                "size": 0,
                "created": self.clock.now_ms(),
                "first_ts": None,  # rollingBasedTimestamp
                "jitter": random_segment_jitter(self.config, self.rng),
            }
        )

    def append(self, size: int, timestamp: int, records: int = 1) -> str | None:
        seg = self.segments[-1]
        reason = roll_reason(
            self.config,
            segment_size=seg["size"],
            segment_base_offset=seg["base"],
            now_ms=self.clock.now_ms(),
            created_ms=seg["created"],
            rolling_based_timestamp=seg["first_ts"],
            max_timestamp_in_messages=timestamp,
            max_offset_in_messages=self.leo + records - 1,
            messages_size=size,
            roll_jitter_ms=seg["jitter"],
        )
        if reason is not None:
            self._roll()
            seg = self.segments[-1]
        if seg["size"] == 0:
            seg["first_ts"] = timestamp  # LogSegment.append at physical position 0
        seg["size"] += size
        self.leo += records
        return reason


def test_time_based_log_roll_during_append() -> None:
    # UnifiedLogTest.testTimeBasedLogRollDuringAppend (segment.ms = 1 * 60 * 60L ms)
    clock = ManualClock(T0)
    log = _RollingLog(LogConfig(segment_ms=3600), clock)
    no_ts = -1  # singletonRecords without a timestamp: RecordBatch.NO_TIMESTAMP
    clock.advance(3600 + 1)
    log.append(S, no_ts)
    assert len(log.segments) == 1  # "Log doesn't roll if doing so creates an empty segment."
    assert log.append(S, no_ts) == RollReason.TIME
    assert len(log.segments) == 2  # "Log rolls on this append since time has expired."
    for n in (3, 4):
        clock.advance(3600 + 1)
        log.append(S, no_ts)
        assert len(log.segments) == n
    # a timestamped batch on a segment whose first batch had none: wall clock decides
    timestamp = clock.now_ms() + 3600 + 1
    log.append(S, timestamp)
    assert len(log.segments) == 4
    clock.advance(3600 + 1)
    log.append(S, timestamp)
    assert len(log.segments) == 5  # "A new segment should have been rolled out"
    clock.advance(3600 + 1)
    log.append(S, timestamp)
    assert len(log.segments) == 5  # rolls by the first message's timestamp, not the clock
    log.append(S, clock.now_ms())
    assert len(log.segments) == 6  # "the timestamp in the message should make the segment expire"


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_time_based_log_roll_jitter(seed: int) -> None:
    # UnifiedLogTest.testTimeBasedLogRollJitter, for many jitter draws
    clock = ManualClock(T0)
    max_jitter = 20 * 60
    log = _RollingLog(
        LogConfig(segment_ms=3600, segment_jitter_ms=max_jitter), clock, random.Random(seed)
    )
    jitter = log.segments[-1]["jitter"]
    assert 0 <= jitter < max_jitter
    log.append(S, clock.now_ms())
    clock.advance(3600 - max_jitter)
    log.append(S, clock.now_ms())
    assert len(log.segments) == 1  # earlier than max jitter
    clock.advance(max_jitter - jitter + 1)
    log.append(S, clock.now_ms())
    assert len(log.segments) == 2  # after segmentMs adjusted by the jitter


def test_size_based_log_roll() -> None:
    # UnifiedLogTest.testSizeBasedLogRoll: segmentSize = msgPerSeg * (setSize - 1)
    clock = ManualClock(T0)
    log = _RollingLog(LogConfig(internal_segment_bytes=10 * (S - 1)), clock)
    reasons = [log.append(S, clock.now_ms()) for _ in range(10 + 1)]
    assert len(log.segments) == 2
    # size > segment.bytes - incoming: the 10th append finds 9*S > 10*(S-1) - S and rolls
    assert reasons.index(RollReason.SIZE) == 9


def test_roll_on_full_index_and_offset_overflow() -> None:
    base = dict(
        segment_size=100,
        segment_base_offset=1000,
        now_ms=T0,
        created_ms=T0,
        rolling_based_timestamp=T0,
        max_timestamp_in_messages=T0,
        max_offset_in_messages=1000 + 2**31 - 1,
        messages_size=10,
    )
    c = LogConfig()
    assert not should_roll(c, **base)
    assert roll_reason(c, **base, offset_index_full=True) == RollReason.OFFSET_INDEX_FULL
    assert roll_reason(c, **base, time_index_full=True) == RollReason.TIME_INDEX_FULL
    # LogSegment.canConvertToRelativeOffset: offset - base must fit an int
    over = dict(base, max_offset_in_messages=1000 + 2**31)
    assert roll_reason(c, **over) == RollReason.OFFSET_OVERFLOW


def test_random_segment_jitter_uses_kafkas_abs() -> None:
    class Fixed(random.Random):
        def __init__(self, bits: int) -> None:
            super().__init__(0)
            self.bits = bits

        def getrandbits(self, k: int) -> int:
            return self.bits

    c = LogConfig(segment_ms=3600, segment_jitter_ms=1200)
    assert random_segment_jitter(c, Fixed(0x80000000)) == 0  # Utils.abs(Integer.MIN_VALUE) == 0
    assert random_segment_jitter(c, Fixed(0xFFFFFFFF)) == 1  # abs(-1) % 1200
    assert random_segment_jitter(c, Fixed(1201)) == 1
    assert (
        random_segment_jitter(LogConfig(segment_ms=100, segment_jitter_ms=1200), Fixed(150)) == 50
    )
    assert random_segment_jitter(LogConfig(), Fixed(7)) == 0  # no jitter configured


# -- retention -----------------------------------------------------------------------


def _fifteen_appends(timestamp: int) -> list[SegmentStats]:
    """15 single-record appends with segment.bytes = 5 * S: three full segments of 5."""
    return [SegmentStats(base, 5 * S, max_timestamp=timestamp) for base in (0, 5, 10)]


def test_should_delete_size_based_segments() -> None:
    # UnifiedLogTest.shouldDeleteSizeBasedSegments / ...WhenUnderRetentionSize
    segs = _fifteen_appends(T0)
    assert segments_to_delete_by_size(segs, 10 * S, high_watermark=15, log_end_offset=15) == 1
    assert segments_to_delete_by_size(segs, 15 * S, high_watermark=15, log_end_offset=15) == 0
    result = delete_old_segments(
        LogConfig(retention_bytes=10 * S), segs, now_ms=T0, log_start_offset=0, log_end_offset=15
    )
    assert (result.by_size, len(result.remaining), result.log_start_offset) == (1, 2, 5)


def test_should_delete_time_based_segments_ready_to_be_deleted() -> None:
    # UnifiedLogTest.shouldDeleteTimeBasedSegmentsReadyToBeDeleted: all three segments,
    # the active one included, are past retention; the log rolls first and keeps one.
    config = LogConfig(retention_ms=10_000)
    result = delete_old_segments(
        config, _fifteen_appends(10), now_ms=T0, log_start_offset=0, log_end_offset=15
    )
    assert result.by_time == 3 and result.rolled
    assert [s.base_offset for s in result.remaining] == [15]
    assert result.log_start_offset == 15
    # ...WhenNoneReadyToBeDeleted
    result = delete_old_segments(
        LogConfig(retention_ms=10_000_000),
        _fifteen_appends(T0),
        now_ms=T0,
        log_start_offset=0,
        log_end_offset=15,
    )
    assert result.deleted == 0 and len(result.remaining) == 3


def test_policy_without_delete_keeps_segments() -> None:
    # UnifiedLogTest.shouldNotDeleteSegmentsWhenPolicyDoesNotIncludeDelete and
    # shouldDeleteSegmentsReadyToBeDeletedWhenCleanupPolicyIsCompactAndDelete
    segs = _fifteen_appends(10)
    kw = dict(now_ms=T0, log_start_offset=0, log_end_offset=15)
    compact = LogConfig(retention_ms=10_000, cleanup_policy=("compact",))
    assert delete_old_segments(compact, segs, **kw).deleted == 0
    both = LogConfig(retention_ms=10_000, cleanup_policy=("compact", "delete"))
    assert len(delete_old_segments(both, segs, **kw).remaining) == 1


def test_log_deletion_after_delete_records() -> None:
    # UnifiedLogTest.testLogDeletionAfterDeleteRecords
    segs = _fifteen_appends(T0)
    kw = dict(high_watermark=15, log_end_offset=15)
    assert segments_to_delete_by_log_start_offset(segs, 1, **kw) == 0
    assert segments_to_delete_by_log_start_offset(segs, 6, **kw) == 1
    assert segments_to_delete_by_log_start_offset(segs, 15, **kw) == 2  # never the active one
    compact = LogConfig(cleanup_policy=("compact",))  # runs whatever the policy
    r = delete_old_segments(compact, segs, now_ms=T0, log_start_offset=6, log_end_offset=15)
    assert (r.by_log_start_offset, r.log_start_offset) == (1, 6)


def test_retention_stops_at_the_high_watermark() -> None:
    # UnifiedLog.deleteOldSegments: "We do not delete segments with offsets at or beyond the
    # high watermark to ensure that the log start offset can never exceed it."
    segs = _fifteen_appends(10)
    assert segments_to_delete_by_time(segs, T0, 10_000, high_watermark=9, log_end_offset=15) == 1
    assert segments_to_delete_by_time(segs, T0, 10_000, high_watermark=10, log_end_offset=15) == 2
    assert segments_to_delete_by_time(segs, T0, 10_000, high_watermark=0, log_end_offset=15) == 0
    assert segments_to_delete_by_time(segs, T0, -1) == 0  # retention.ms = -1: forever


def test_empty_active_segment_is_never_deletable() -> None:
    # deletableSegments: "A final segment that is empty will never be returned."
    segs = [SegmentStats(0, 100, max_timestamp=10), SegmentStats(5, 0, last_modified_ms=10)]
    assert segments_to_delete_by_time(segs, T0, 1000, high_watermark=5, log_end_offset=5) == 1


def test_retention_time_uses_mtime_without_timestamps() -> None:
    # LogSegment.largestTimestamp: maxTimestampSoFar if >= 0, else lastModified
    seg = SegmentStats(0, 10, max_timestamp=-1, last_modified_ms=T0 - 5000)
    assert seg.largest_timestamp == T0 - 5000
    assert retention_ms_breached(seg, T0, 4999) and not retention_ms_breached(seg, T0, 5000)
    future = SegmentStats(0, 10, max_timestamp=T0 + 1)
    assert not retention_ms_breached(future, T0, 0)  # future timestamps are never breached


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 1000), min_size=1, max_size=12),
    retention=st.integers(-1, 8000),
)
def test_size_retention_deletes_whole_segments_only_down_to_the_limit(
    sizes: list[int], retention: int
) -> None:
    segs, base = [], 0
    for size in sizes:
        segs.append(SegmentStats(base, size))
        base += 10
    n = segments_to_delete_by_size(segs, retention, high_watermark=base, log_end_offset=base)
    total = sum(sizes)
    if retention < 0 or total < retention:
        assert n == 0
        return
    kept = sum(sizes[n:])
    assert kept >= retention  # never below retention.bytes ...
    if n < len(sizes) and not (n == len(sizes) - 1 and sizes[-1] == 0):
        assert kept - sizes[n] < retention  # ... and the next segment would cross it


# -- flushing ------------------------------------------------------------------------


def test_flush_rules() -> None:
    # UnifiedLog.append: unflushedMessages >= flush.messages; LogManager.flushDirtyLogs:
    # now - lastFlushTime >= flush.ms.
    c = LogConfig(flush_messages=3, flush_ms=1000)
    assert not should_flush_on_append(c, 2) and should_flush_on_append(c, 3)
    assert not should_flush_on_schedule(c, T0, T0 + 999) and should_flush_on_schedule(
        c, T0, T0 + 1000
    )
    assert should_flush(c, 1, T0, T0 + 1000)
    assert not should_flush(c, 0, T0, T0 + 10_000)  # nothing unflushed: flush is a no-op
    assert not should_flush(LogConfig(), 10**9, 0, 10**12)  # Kafka's defaults: never


# -- LogCleanerManager ---------------------------------------------------------------


def _eight_segments(timestamps: list[int]) -> list[SegmentStats]:
    """Eight segments of 20 offsets and 1000 bytes each (the last is the active one)."""
    return [
        SegmentStats(20 * i, 1000, max_timestamp=ts, first_batch_timestamp=ts)
        for i, ts in enumerate(timestamps)
    ]


def test_cleanable_offsets_for_none_and_active_segment() -> None:
    segs = _eight_segments([T0] * 8)
    kw = dict(log_start_offset=0, log_end_offset=150, now_ms=T0, min_compaction_lag_ms=0)
    # LogCleanerManagerTest.testCleanableOffsetsForNone: bounded by the LSO (HW = 50)
    got = cleanable_offsets(segs, last_stable_offset=50, last_clean_offset=0, **kw)
    assert got == (0, 50, False)
    # testCleanableOffsetsActiveSegment: bounded by the active segment
    got = cleanable_offsets(segs, last_stable_offset=150, last_clean_offset=0, **kw)
    assert got == (0, 140, False)


def test_cleanable_offsets_for_time() -> None:
    # LogCleanerManagerTest.testCleanableOffsetsForTime: four segments written at t0 (the
    # fourth, active at t0, got one t0 batch and then t1 batches), four more at t1.
    lag = 60 * 60 * 1000
    t1 = T0 + lag + 1
    segs = _eight_segments([T0, T0, T0, t1, t1, t1, t1, t1])
    got = cleanable_offsets(
        segs,
        log_start_offset=0,
        log_end_offset=150,
        last_stable_offset=150,
        last_clean_offset=0,
        now_ms=t1,
        min_compaction_lag_ms=lag,
    )
    assert got.first_uncleanable_dirty_offset == 60  # activeSegAtT0.baseOffset
    # testCleanableOffsetsForShortTime: everything older than the lag -> the active segment
    segs = _eight_segments([T0] * 8)
    got = cleanable_offsets(
        segs,
        log_start_offset=0,
        log_end_offset=150,
        last_stable_offset=150,
        last_clean_offset=0,
        now_ms=T0 + lag + 1,
        min_compaction_lag_ms=lag,
    )
    assert got.first_uncleanable_dirty_offset == 140


def test_cleanable_offsets_needs_checkpoint_reset() -> None:
    # LogCleanerManagerTest.testCleanableOffsetsNeedsCheckpointReset (log end offset 20)
    segs = [SegmentStats(0, 1000), SegmentStats(20, 0)]
    kw = dict(log_end_offset=20, last_stable_offset=20, now_ms=T0, min_compaction_lag_ms=0)
    assert not cleanable_offsets(segs, log_start_offset=10, last_clean_offset=15, **kw)[2]
    got = cleanable_offsets(segs, log_start_offset=20, last_clean_offset=15, **kw)
    assert got.force_update_checkpoint and got.first_dirty_offset == 20
    got = cleanable_offsets(segs, log_start_offset=20, last_clean_offset=25, **kw)
    assert got.force_update_checkpoint and got.first_dirty_offset == 20


def test_undecided_transactional_data_not_cleanable() -> None:
    # LogCleanerManagerTest.testUndecidedTransactionalDataNotCleanable
    lag = 60 * 60 * 1000
    t1 = T0 + lag + 1
    segs = [SegmentStats(0, 200, max_timestamp=T0), SegmentStats(3, 0)]
    kw = dict(log_start_offset=0, last_clean_offset=0, min_compaction_lag_ms=lag)
    got = cleanable_offsets(segs, log_end_offset=3, last_stable_offset=0, now_ms=t1, **kw)
    assert got == (0, 0, False)  # open transaction: LSO 0
    # abort marker at offset 3 (written at t1) in its own segment; LSO moves to 4
    segs = [segs[0], SegmentStats(3, 80, max_timestamp=t1), SegmentStats(4, 0)]
    got = cleanable_offsets(segs, log_end_offset=4, last_stable_offset=4, now_ms=t1, **kw)
    assert got.first_uncleanable_dirty_offset == 3
    got = cleanable_offsets(segs, log_end_offset=4, last_stable_offset=4, now_ms=t1 + lag + 1, **kw)
    assert got.first_uncleanable_dirty_offset == 4


def test_log_start_offset_or_checkpoint_past_active_base() -> None:
    # testLogStartOffsetLargerThanActiveSegmentBaseOffset and
    # testDirtyOffsetLargerThanActiveSegmentBaseOffset: one (active) segment, not filthy
    compact = LogConfig(cleanup_policy=("compact",))
    segs = [SegmentStats(0, 600)]
    for lso, checkpoint in ((2, 0), (0, 3)):
        ltc = log_to_clean(
            compact,
            segs,
            log_start_offset=lso,
            log_end_offset=9,
            last_stable_offset=9,
            last_clean_offset=checkpoint,
            now_ms=T0,
        )
        assert ltc.cleanable_bytes == 0 and ltc.total_bytes == 600
        assert grab_filthiest_compacted_log([("foo-0", compact, ltc)]) is None


def test_grab_filthiest_compacted_log_returns_dirtiest_ratio() -> None:
    # LogCleanerManagerTest.testGrabFilthiestCompactedLogReturnsLogWithDirtiestRatio: dirty
    # ranges [20, 20], [20, 25], [20, 30] from checkpoint 20; segments of 5 offsets, 500 B.
    config = LogConfig(cleanup_policy=("compact",), min_cleanable_dirty_ratio=0.0)
    candidates = []
    for p, leo in enumerate((20, 25, 30)):
        segs = [SegmentStats(b, 500) for b in range(0, leo, 5)] + [SegmentStats(leo, 0)]
        ltc = log_to_clean(
            config,
            segs,
            log_start_offset=0,
            log_end_offset=leo,
            last_stable_offset=leo,
            last_clean_offset=20,
            now_ms=T0,
        )
        candidates.append((f"wishing-well-{p}", config, ltc))
    ratios = [c[2].cleanable_ratio for c in candidates]
    assert ratios == [0.0, 500 / 2500, 1000 / 3000]
    assert grab_filthiest_compacted_log(candidates)[0] == "wishing-well-2"
    # ...IgnoresUncleanablePartitions / ...IgnoresInProgressPartitions: the caller drops it
    assert grab_filthiest_compacted_log(candidates[:2])[0] == "wishing-well-1"
    # ...IgnoresBothInProgressPartitionsAndUncleanablePartitions: none left that is dirty
    assert grab_filthiest_compacted_log(candidates[:1]) is None


def test_dirty_ratio_must_exceed_min_cleanable_strictly() -> None:
    # grabFilthiestCompactedLog: cleanableRatio > minCleanableRatio (not >=)
    segs = [SegmentStats(0, 500), SegmentStats(10, 500), SegmentStats(20, 0)]
    kw = dict(log_start_offset=0, log_end_offset=20, last_stable_offset=20, now_ms=T0)
    half = LogConfig(cleanup_policy=("compact",), min_cleanable_dirty_ratio=0.5)
    ltc = log_to_clean(half, segs, last_clean_offset=10, **kw)
    assert (ltc.clean_bytes, ltc.cleanable_bytes, ltc.cleanable_ratio) == (500, 500, 0.5)
    assert not needs_compaction(half, ltc)
    assert needs_compaction(
        LogConfig(cleanup_policy=("compact",), min_cleanable_dirty_ratio=0.49), ltc
    )
    assert not needs_compaction(LogConfig(min_cleanable_dirty_ratio=0.0), ltc)  # not compacted
    assert cleanable_ratio(500, 500) == 0.5 and cleanable_ratio(0, 0) == 0.0


def test_max_compaction_lag_forces_compaction() -> None:
    # LogCleanerManager.maxCompactionDelay: a dirty non-active segment whose first batch is
    # older than max.compaction.lag.ms must be compacted now, whatever the dirty ratio.
    segs = [
        SegmentStats(0, 9000, max_timestamp=T0, first_batch_timestamp=T0),
        SegmentStats(10, 1000, max_timestamp=T0 + 50, first_batch_timestamp=T0 + 50),
        SegmentStats(20, 10),
    ]
    assert max_compaction_delay(segs, 10, T0 + 1050, 1000) == 0
    assert max_compaction_delay(segs, 10, T0 + 1051, 1000) == 1
    assert max_compaction_delay(segs, 0, T0 + 1051, 1000) == 51
    config = LogConfig(cleanup_policy=("compact",), max_compaction_lag_ms=1000)
    kw = dict(log_start_offset=0, log_end_offset=20, last_stable_offset=20, last_clean_offset=10)
    ltc = log_to_clean(config, segs, now_ms=T0 + 1051, **kw)
    assert ltc.cleanable_ratio == 0.1 and ltc.need_compaction_now
    assert needs_compaction(config, ltc)
    assert not needs_compaction(config, log_to_clean(config, segs, now_ms=T0 + 1050, **kw))


def test_cleanable_bytes_counts_whole_segments() -> None:
    # calculateCleanableBytes rounds the uncleanable offset down to its segment's base
    segs = [SegmentStats(0, 100), SegmentStats(10, 200), SegmentStats(20, 400), SegmentStats(30, 5)]
    assert calculate_cleanable_bytes(segs, 0, 25) == (20, 300)
    assert calculate_cleanable_bytes(segs, 12, 25) == (20, 200)  # the segment holding 12
    assert calculate_cleanable_bytes(segs, 0, 35) == (30, 700)  # beyond: the active segment
    empty = log_to_clean(
        LogConfig(cleanup_policy=("compact",)),
        [SegmentStats(0, 0)],
        log_start_offset=0,
        log_end_offset=0,
        last_stable_offset=0,
        last_clean_offset=None,
        now_ms=T0,
    )
    assert empty.total_bytes == 0 and math.isnan(empty.cleanable_ratio)  # 0.0 / 0 in Java
    assert not needs_compaction(LogConfig(cleanup_policy=("compact",)), empty)
    assert LONG_MAX == 2**63 - 1


def test_roll_and_lag_boundaries_are_strict() -> None:
    # LogSegment.shouldRoll: size > maxSegmentBytes - messagesSize (a segment may fill exactly)
    c = LogConfig(internal_segment_bytes=1000)
    kw = dict(
        segment_base_offset=0,
        now_ms=T0,
        created_ms=T0,
        rolling_based_timestamp=T0,
        max_timestamp_in_messages=T0,
        max_offset_in_messages=5,
        messages_size=100,
    )
    assert not should_roll(c, segment_size=900, **kw)
    assert roll_reason(c, segment_size=901, **kw) == RollReason.SIZE
    # timeWaitedForRoll > segment.ms - jitter (strict as well)
    t = dict(kw, max_timestamp_in_messages=T0 + 500)
    assert not should_roll(LogConfig(segment_ms=500), segment_size=1, **t)
    assert not should_roll(LogConfig(segment_ms=510), segment_size=1, roll_jitter_ms=10, **t)
    assert should_roll(LogConfig(segment_ms=499), segment_size=1, **t)
    # findFirstUncleanableSegment: largestTimestamp > now - minCompactionLag is uncleanable
    lag = 1000
    segs = [SegmentStats(0, 10, max_timestamp=T0), SegmentStats(10, 10, max_timestamp=T0 + 1)]
    segs.append(SegmentStats(20, 0))
    kw2 = dict(
        log_start_offset=0,
        log_end_offset=20,
        last_stable_offset=20,
        last_clean_offset=0,
        min_compaction_lag_ms=lag,
    )
    assert cleanable_offsets(segs, now_ms=T0 + lag, **kw2).first_uncleanable_dirty_offset == 10
    assert cleanable_offsets(segs, now_ms=T0 + lag + 1, **kw2).first_uncleanable_dirty_offset == 20
