"""What the log engine does differently under Kafka 4.0 and 4.1 (``LogConfig.kafka_release``).

* ``segment.bytes``' minimum (14 bytes in 4.0, 1 MiB in 4.1) and ``internal.segment.bytes``
  (4.1 only: an unknown topic config name in 4.0) -- KAFKA-19080;
* index entries: 4.0.0's ``LogSegment.append`` adds at most one per append, 4.1's walks
  the appended batches and may add one per batch -- KAFKA-806, apache/kafka#18012. The
  index entries are exact: ``(last offset, position)`` in ``.index`` and
  ``(max timestamp so far, its offset)`` in ``.timeindex``.
"""

from __future__ import annotations

import pytest

from simkafka.kafka_version import MODELLED_RELEASE
from simkafka.log.cleaner import Cleaner, CleanerStats
from simkafka.log.clock import ManualClock
from simkafka.log.index import OffsetPosition, TimestampOffset
from simkafka.log.log_config import LogConfig
from simkafka.log.offset_map import SkimpyOffsetMap
from simkafka.log.records import Record, RecordBatch, build_batch
from simkafka.log.segment import LogSegment
from simkafka.log.unified_log import FetchIsolation, UnifiedLog

NOW = 1_700_000_000_000
MIB = 1024 * 1024


def _batch(base_offset: int, timestamp: int, value: bytes = b"v" * 100) -> bytes:
    """One v2 batch of two records at ``base_offset`` (max timestamp ``timestamp + 1``)."""
    return build_batch(
        [
            Record(0, 0, b"k%d" % base_offset, value),
            Record(1, 1, b"k%d" % (base_offset + 1), value),
        ],
        base_offset=base_offset,
        base_timestamp=timestamp,
    )


def _small_segments(release: str, size: int, **kw) -> LogConfig:
    """``size``-byte segments the way the release allows: ``segment.bytes`` in 4.0 (no
    1 MiB minimum there), ``internal.segment.bytes`` in 4.1."""
    if release == "4.0.0":
        return LogConfig(segment_bytes=size, kafka_release="4.0.0", **kw)
    return LogConfig(internal_segment_bytes=size, kafka_release="4.1", **kw)


# -- LogConfig ---------------------------------------------------------------------------


def test_the_modelled_release_is_the_default() -> None:
    assert LogConfig().kafka_release == MODELLED_RELEASE == "4.1"
    assert LogConfig().kafka_behaviour.index_entry_per_batch


def test_segment_bytes_minimum_follows_the_release() -> None:
    # 4.0: atLeast(LegacyRecord.RECORD_OVERHEAD_V0) = 14; 4.1: atLeast(1 MiB) (KAFKA-19080)
    assert LogConfig(segment_bytes=14, kafka_release="4.0.0").segment_size == 14
    with pytest.raises(ValueError, match="segment.bytes: Value must be at least 14$"):
        LogConfig(segment_bytes=13, kafka_release="4.0.0")
    with pytest.raises(ValueError, match="segment.bytes: Value must be at least 1048576$"):
        LogConfig(segment_bytes=MIB - 1, kafka_release="4.1")
    assert LogConfig(segment_bytes=MIB, kafka_release="4.1").segment_size == MIB
    c = LogConfig.from_topic_configs({"segment.bytes": "1000"}, kafka_release="4.0.0")
    assert (c.segment_bytes, c.kafka_release) == (1000, "4.0.0")
    with pytest.raises(ValueError, match="at least 1048576"):
        LogConfig.from_topic_configs({"segment.bytes": "1000"})


def test_internal_segment_bytes_is_an_unknown_name_in_4_0() -> None:
    # Kafka 4.0's LogConfig.validateNames: "Unknown topic config name"; 4.1 knows it.
    unknown = (
        r"Unknown topic config name: internal.segment.bytes \(did you mean 'segment.bytes'\?\)"
    )
    with pytest.raises(ValueError, match=unknown):
        LogConfig.from_topic_configs({"internal.segment.bytes": "1024"}, kafka_release="4.0.0")
    with pytest.raises(ValueError, match=unknown):
        LogConfig(internal_segment_bytes=1024, kafka_release="4.0.0")
    assert LogConfig(internal_segment_bytes=1024, kafka_release="4.1").segment_size == 1024
    assert LogConfig.from_topic_configs({"internal.segment.bytes": "1024"}).segment_size == 1024


def test_the_release_is_not_a_topic_config() -> None:
    c = LogConfig(segment_bytes=1000, kafka_release="4.0.0")
    assert "kafka_release" not in c.to_topic_configs()
    assert not any("release" in name for name in c.to_topic_configs())
    with pytest.raises(ValueError, match="Unknown topic config name: kafka.release"):
        LogConfig.from_topic_configs({"kafka.release": "4.0.0"})
    with pytest.raises(ValueError, match="simkafka models Kafka releases 4.0.0, 4.1, not '3.9'"):
        LogConfig(kafka_release="3.9")  # type: ignore[arg-type]
    # the same settings under the other release round-trip through the names
    again = LogConfig.from_topic_configs(c.to_topic_configs(), kafka_release="4.0.0")
    assert again == c


# -- LogSegment.append: one index entry per append (4.0.0) or per batch (4.1) -------------


@pytest.mark.parametrize("per_batch", [False, True], ids=["4.0.0", "4.1"])
def test_a_multi_batch_append_adds_one_entry_in_4_0_and_one_per_batch_in_4_1(tmp_path, per_batch):
    """LogSegmentTest.testAppendFromFile-style: first one batch, then four in one append.

    Every batch (about 300 bytes) is larger than ``index.interval.bytes`` (100).
    """
    seg = LogSegment(
        str(tmp_path),
        0,
        clock=ManualClock(NOW),
        index_interval_bytes=100,
        index_entry_per_batch=per_batch,
    )
    first = _batch(0, NOW)
    seg.append(1, NOW + 1, 1, first)
    assert seg.offset_index.all_entries() == []  # nothing written before it: no entry yet
    # four batches, timestamps not monotonic: the max is in the third
    stamps = [NOW + 10, NOW + 5, NOW + 30, NOW + 20]
    batches = [_batch(2 + 2 * i, ts) for i, ts in enumerate(stamps)]
    starts = [len(first)]
    for b in batches[:-1]:
        starts.append(starts[-1] + len(b))
    records = b"".join(batches)
    max_ts = max(stamps) + 1  # each batch's max timestamp is its second record's
    seg.append(9, max_ts, 7, records)  # largest offset 9, max timestamp at offset 7 (third)
    if per_batch:
        # 4.1: the test runs before each batch is counted, so every batch gets an entry
        # (the bytes before each exceed 100): its last offset -> where it starts.
        assert seg.offset_index.all_entries() == [
            OffsetPosition(3, starts[0]),
            OffsetPosition(5, starts[1]),
            OffsetPosition(7, starts[2]),
            OffsetPosition(9, starts[3]),
        ]
        # the time index gets the max timestamp so far at each entry (maybeAppend skips
        # a timestamp that does not grow)
        assert seg.time_index.all_entries() == [
            TimestampOffset(NOW + 11, 3),
            TimestampOffset(NOW + 31, 7),
        ]
    else:
        # 4.0.0: one entry for the whole append: its largest offset -> where it starts
        assert seg.offset_index.all_entries() == [OffsetPosition(9, starts[0])]
        assert seg.time_index.all_entries() == [TimestampOffset(max_ts, 7)]
    assert seg.max_timestamp_so_far == max_ts
    assert seg.offset_of_max_timestamp_so_far == 7
    # what is left to count toward the next entry: 4.0 the whole append, 4.1 the last batch
    expected_since = len(records) if not per_batch else len(batches[-1])
    assert seg._bytes_since_last_index_entry == expected_since
    seg.close()


@pytest.mark.parametrize("per_batch", [False, True], ids=["4.0.0", "4.1"])
def test_rolling_timestamp_of_a_multi_batch_first_append(tmp_path, per_batch):
    # apache/kafka#18012: 4.0.0 took the largest timestamp of the segment's first append,
    # 4.1 the first batch's (what a follower and a restarted broker see too).
    seg = LogSegment(str(tmp_path), 0, clock=ManualClock(NOW), index_entry_per_batch=per_batch)
    records = _batch(0, NOW) + _batch(2, NOW + 50)
    seg.append(3, NOW + 51, 3, records)
    assert seg.rolling_based_timestamp == (NOW + 1 if per_batch else NOW + 51)
    seg.close()
    reopened = LogSegment(str(tmp_path), 0, clock=ManualClock(NOW))
    assert reopened.rolling_based_timestamp == NOW + 1  # loaded from the first batch
    reopened.close()


@pytest.mark.parametrize("release", ["4.0.0", "4.1"])
def test_follower_appends_index_by_release(tmp_path, release):
    """A follower fetching several batches at once (KAFKA-806's case): the log's release
    decides how many index entries the fetched data gets."""
    log = UnifiedLog(
        str(tmp_path / "t-0"),
        _small_segments(release, 64 * 1024, index_interval_bytes=100),
        ManualClock(NOW),
    )
    batches = [_batch(2 * i, NOW + i) for i in range(8)]
    starts = [0]
    for b in batches[:-1]:
        starts.append(starts[-1] + len(b))
    log.append_as_follower(b"".join(batches[:4]))
    log.append_as_follower(b"".join(batches[4:]))
    assert log.log_end_offset == 16
    entries = log.active_segment.offset_index.all_entries()
    if release == "4.0.0":
        # the first fetch starts the segment (nothing before it: no entry); the second
        # gets one entry: its last offset -> where it starts
        assert entries == [OffsetPosition(15, starts[4])]
    else:
        # every batch after the first: its last offset -> where it starts
        assert entries == [OffsetPosition(2 * i + 1, starts[i]) for i in range(1, 8)]
    # reads through either index find every batch
    for offset in range(16):
        info = log.read(offset, 1, FetchIsolation.LOG_END)
        got = RecordBatch(info.records)
        assert got.base_offset <= offset <= got.last_offset
    log.close()


@pytest.mark.parametrize("release", ["4.0.0", "4.1"])
def test_cleaner_output_is_indexed_by_release(tmp_path, release):
    """``cleanInto`` appends what one read buffer retained in one ``LogSegment.append``.

    Read buffers of two batches: 4.0.0 indexes the cleaned segment once per buffer, 4.1
    once per batch -- where the source (one batch per append) had an entry per batch.
    """
    cfg = _small_segments(
        release, 4096, index_interval_bytes=1, cleanup_policy=("compact",), segment_index_bytes=1024
    )
    log = UnifiedLog(str(tmp_path / "t-0"), cfg, ManualClock(NOW))
    batches = [_batch(0, NOW + i) for i in range(6)]
    for b in batches:
        log.append_as_leader(b, 0)
    log.roll()
    source = log.segments[0]
    size = len(batches[0])
    assert all(len(b) == size for b in batches)
    per_batch = [OffsetPosition(2 * i + 1, i * size) for i in range(1, 6)]
    assert source.offset_index.all_entries() == per_batch
    cleaner = Cleaner(SkimpyOffsetMap(1000 * 24), clock=ManualClock(NOW), io_buffer_size=2 * size)
    cleaned = cleaner.clean_segments(
        log, [source], NOW, CleanerStats(ManualClock(0)), source.read_next_offset()
    )
    assert cleaned.size == 6 * size  # nothing removed: the offset map is empty
    if release == "4.0.0":
        # buffers [0,1] [2,3] [4,5]: the first starts the segment, the others get one entry
        assert cleaned.offset_index.all_entries() == [
            OffsetPosition(7, 2 * size),
            OffsetPosition(11, 4 * size),
        ]
        assert cleaned.time_index.all_entries() == [
            TimestampOffset(NOW + 4, 7),
            TimestampOffset(NOW + 6, 11),
        ]
    else:
        assert cleaned.offset_index.all_entries() == per_batch
        assert cleaned.time_index.all_entries() == [
            TimestampOffset(NOW + i + 1, 2 * i + 1) for i in range(1, 6)
        ]
    log.close()
