"""LogSegment: cases ported from Kafka's ``LogSegmentTest`` plus index/roll properties.

Kafka's helper ``records(offset, values...)`` builds one v2 batch whose records have
offsets ``offset, offset+1, ...`` and timestamp ``offset * 10``; ``_records`` below does
the same.
"""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkafka.log.clock import ManualClock
from simkafka.log.index import TimestampOffset
from simkafka.log.records import (
    NO_TIMESTAMP,
    Record,
    RecordBatch,
    build_batch,
    decode_all,
    iter_batches,
)
from simkafka.log.segment import (
    FetchDataInfo,
    LogSegment,
    LogSegmentOffsetOverflowError,
    RollParams,
    TimestampAndOffset,
)


def _records(offset: int, *values: str, epoch: int = -1) -> bytes:
    return build_batch(
        [Record(i, 0, None, v.encode()) for i, v in enumerate(values)],
        base_offset=offset,
        base_timestamp=offset * 10,
        partition_leader_epoch=epoch,
    )


def _append(seg: LogSegment, batch: bytes) -> None:
    b = RecordBatch(batch)
    seg.append(b.last_offset, b.max_timestamp, b.last_offset, batch)


def _values(info: FetchDataInfo | None) -> list[tuple[int, bytes]]:
    assert info is not None
    return [(off, rec.value) for off, _ts, rec in decode_all(info.batches())]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_000_000)


@pytest.fixture
def make(tmp_path, clock):
    made: list[LogSegment] = []

    def _make(base: int, index_interval_bytes: int = 10, **kw) -> LogSegment:
        seg = LogSegment(
            str(tmp_path), base, clock=clock, index_interval_bytes=index_interval_bytes, **kw
        )
        made.append(seg)
        return seg

    yield _make
    for seg in made:
        try:
            seg.close()
        except Exception:
            pass


def test_read_on_empty_segment(make):
    # LogSegmentTest.testReadOnEmptySegment: a read past the end is null.
    seg = make(40)
    assert seg.read(40, 300) is None
    assert seg.read(41, 300) is None


def test_read_before_first_offset(make):
    # testReadBeforeFirstOffset: offsets below the first batch read from the first batch.
    seg = make(40)
    ms = _records(50, "hello", "there", "little", "bee")
    _append(seg, ms)
    assert _values(seg.read(41, 300)) == [
        (50, b"hello"),
        (51, b"there"),
        (52, b"little"),
        (53, b"bee"),
    ]


def test_read_after_last(make):
    # testReadAfterLast: a read starting after the last offset is null.
    seg = make(40)
    _append(seg, _records(50, "hello", "there"))
    assert seg.read(52, 200) is None


def test_read_from_gap(make):
    # testReadFromGap: an offset inside a gap reads from the next batch.
    seg = make(40)
    _append(seg, _records(50, "hello", "there"))
    _append(seg, _records(60, "alpha", "beta"))
    assert _values(seg.read(55, 200)) == [(60, b"alpha"), (61, b"beta")]


@pytest.mark.parametrize("min_one_message", [True, False])
def test_read_when_no_max_position_given(make, min_one_message):
    # testReadWhenNoMaxPositionGiven: maxSize 0 gives an empty read at the start position
    # unless minOneMessage, which returns the whole first batch.
    seg = make(40)
    ms = _records(50, "hello", "there", "little", "bee")
    _append(seg, ms)
    info = seg.read(50, 0, min_one_message=min_one_message)
    assert info.fetch_offset_metadata.relative_position_in_segment == 0
    assert info.records == (ms if min_one_message else b"")


def test_read_is_cut_at_max_size_and_max_position(make):
    # FileRecords.slice semantics: bytes are cut at max_size (a partial trailing batch
    # stays on the wire, as in Kafka), and nothing at/after max_position is returned.
    seg = make(40)
    b1, b2 = _records(40, "a" * 30), _records(41, "b" * 30)
    _append(seg, b1)
    _append(seg, b2)
    info = seg.read(40, len(b1) + 5)
    assert len(info.records) == len(b1) + 5
    assert [b.base_offset for b in info.batches()] == [40]
    assert seg.read(40, 10_000, max_position=len(b1)).records == b1
    info = seg.read(40, 10, min_one_message=False)
    assert info.first_entry_incomplete and len(info.records) == 10


def test_truncate(make):
    # LogSegmentTest.testTruncate: truncate off the last message, repeatedly.
    seg = make(40)
    offset = 40
    for _ in range(30):
        ms1 = _records(offset, "hello")
        _append(seg, ms1)
        ms2 = _records(offset + 1, "hello")
        _append(seg, ms2)
        assert [o for o, _ in _values(seg.read(offset, 10_000))] == [offset, offset + 1]
        seg.truncate_to(offset + 1)
        assert _values(seg.read(offset, 10_000)) == [(offset, b"hello")]
        offset += 1


def test_truncate_empty_segment_resets_created_time(make, clock):
    # testTruncateEmptySegment: truncating an empty segment resets the roll clock.
    seg = make(0)
    clock.advance(500)
    assert seg.truncate_to(0) == 0
    assert seg.size == 0
    assert seg.created == clock.now_ms()


def test_truncate_full(make):
    # testTruncateFull: truncate to the base offset removes everything; reads are null.
    seg = make(40)
    _append(seg, _records(40, "hello", "there"))
    seg.truncate_to(0)
    assert seg.size == 0
    assert seg.read(0, 1024) is None
    _append(seg, _records(40, "hello", "there"))
    assert seg.read_next_offset() == 42


def test_next_offset_calculation(make):
    # testNextOffsetCalculation
    seg = make(40)
    assert seg.read_next_offset() == 40
    _append(seg, _records(50, "hello", "there", "you"))
    assert seg.read_next_offset() == 53


def test_reload_largest_timestamp_and_next_offset_after_truncation(make):
    # testReloadLargestTimestampAndNextOffsetAfterTruncation
    num_messages = 30
    seg = make(40, index_interval_bytes=2 * 1024)
    for i in range(num_messages):
        _append(seg, _records(40 + i, "msg"))
    for _ in range(num_messages):
        last = 40 + num_messages - 1
        seg.truncate_to(last)
        num_messages -= 1
        if num_messages == 0:
            break
        assert seg.max_timestamp_so_far == (40 + num_messages - 1) * 10
        assert seg.read_next_offset() == 40 + num_messages


def test_find_offset_by_timestamp(make):
    # LogSegmentTest.testFindOffsetByTimestamp, verbatim expectations.
    message_size = len(_records(0, "msg00"))
    seg = make(40, index_interval_bytes=message_size * 2 - 1)
    for i in range(40, 50):
        _append(seg, _records(i, f"msg{i}"))
    assert seg.largest_timestamp() == 490
    # an indexed timestamp
    assert seg.find_offset_by_timestamp(420, 0).offset == 42
    assert seg.find_offset_by_timestamp(421, 0).offset == 43
    # an un-indexed timestamp
    assert seg.find_offset_by_timestamp(430, 0).offset == 43
    assert seg.find_offset_by_timestamp(431, 0).offset == 44
    # beyond the last timestamp
    assert seg.find_offset_by_timestamp(491, 0) is None
    # before the first indexed timestamp / before the first timestamp
    assert seg.find_offset_by_timestamp(401, 0).offset == 41
    assert seg.find_offset_by_timestamp(399, 0).offset == 40
    # the starting offset bounds the answer from below (records inside one batch)
    _append(seg, _records(50, "a", "b"))
    assert seg.find_offset_by_timestamp(400, 51) == TimestampAndOffset(500, 51, None)


def test_leader_epoch_reported_with_timestamp(make):
    seg = make(0)
    _append(seg, _records(0, "x", epoch=7))
    assert seg.find_offset_by_timestamp(0, 0) == TimestampAndOffset(0, 0, 7)


def test_index_is_sparse(make):
    # An entry is added only once more than index.interval.bytes were appended since
    # the previous one; it maps the append's *last* offset to where the append starts.
    seg = make(0, index_interval_bytes=300)
    sizes = []
    for off in range(0, 40):
        b = _records(off, "v" * 40)
        sizes.append(len(b))
        _append(seg, b)
    expected = []
    since = 0
    pos = 0
    for off, size in enumerate(sizes):
        if since > 300:
            expected.append((off, pos))
            since = 0
        since += size
        pos += size
    assert [(e.offset, e.position) for e in seg.offset_index.all_entries()] == expected
    assert 0 < seg.offset_index.entries < len(sizes) // 2
    # every offset is still found, via index lookup + header scan
    for off in range(40):
        info = seg.read(off, 1, min_one_message=True)
        assert next(info.batches()).base_offset == off


def test_append_overflowing_offset_is_rejected(make):
    seg = make(0)
    with pytest.raises(LogSegmentOffsetOverflowError):
        _append(seg, _records(2**31, "x"))


def test_recovery_fixes_corrupt_index(make):
    # testRecoveryFixesCorruptIndex: nonsense in the offset index is rebuilt by recover.
    seg = make(0)
    for i in range(100):
        _append(seg, _records(i, str(i)))
    path = seg.offset_index.file
    seg.offset_index.flush()
    with open(path, "r+b") as f:
        f.seek(5)
        f.write(os.urandom(max(0, os.path.getsize(path) - 5)))
    assert seg.recover() == 0
    for i in range(100):
        info = seg.read(i, 1, min_one_message=True)
        assert next(info.batches()).base_offset == i


def test_recovery_with_corrupt_message():
    # testRecoveryWithCorruptMessage: nonsense from somewhere inside batch k to the end
    # truncates the segment to the batches before k.
    rng = random.Random(1234)
    import tempfile

    for _ in range(10):
        with tempfile.TemporaryDirectory() as d:
            seg = LogSegment(d, 0, clock=ManualClock(0), index_interval_bytes=10)
            for i in range(20):
                _append(seg, _records(i, str(i)))
            corrupt_from = rng.randrange(20)
            pos = seg.translate_offset(corrupt_from).position + rng.randrange(15)
            with open(seg.log_path, "r+b") as f:
                f.seek(pos)
                f.write(bytes(rng.randrange(256) for _ in range(seg.size - pos)))
            seg.recover()
            assert [last for _p, _b, last, _t in seg.batch_positions()] == list(range(corrupt_from))
            seg.close()


def test_recover_rebuilds_identical_indexes(make):
    seg = make(0, index_interval_bytes=100)
    for i in range(200):
        _append(seg, _records(i, "x" * (i % 37)))
    seg.on_become_inactive_segment()
    offsets = seg.offset_index.all_entries()
    times = seg.time_index.all_entries()
    assert seg.recover() == 0
    assert seg.offset_index.all_entries() == offsets
    assert seg.time_index.all_entries() == times
    assert seg.max_timestamp_so_far == 199 * 10


def test_recover_cuts_torn_tail(make):
    seg = make(0)
    for i in range(10):
        _append(seg, _records(i, "payload"))
    full = seg.size
    seg.close()
    with open(os.path.join(seg.dir, "00000000000000000000.log"), "r+b") as f:
        f.truncate(full - 7)
    seg2 = make(0)
    assert seg2.recover() == full - 7 - (full // 10) * 9
    assert seg2.read_next_offset() == 9


def test_should_roll_by_size_time_and_jitter(make, clock):
    # LogSegment.shouldRoll: size > segment.bytes - incoming; time needs a non-empty
    # segment and is measured from the first batch's timestamp, minus the jitter.
    seg = make(0, roll_jitter_ms=100)
    b = _records(0, "abc")
    params = RollParams(
        max_segment_ms=1000,
        max_segment_bytes=10 * len(b),
        max_timestamp_in_messages=NO_TIMESTAMP,
        max_offset_in_messages=0,
        messages_size=len(b),
        now=clock.now_ms() + 10_000,
    )
    assert not seg.should_roll(params)  # empty: never by time
    _append(seg, b)  # first batch timestamp 0
    same = dict(
        max_segment_ms=1000,
        max_offset_in_messages=1,
        messages_size=len(b),
        now=clock.now_ms(),
    )
    assert not seg.should_roll(
        RollParams(max_segment_bytes=10 * len(b), max_timestamp_in_messages=900, **same)
    )
    assert seg.should_roll(
        RollParams(max_segment_bytes=10 * len(b), max_timestamp_in_messages=901, **same)
    )
    assert seg.should_roll(
        RollParams(max_segment_bytes=2 * len(b) - 1, max_timestamp_in_messages=0, **same)
    )
    assert not seg.should_roll(
        RollParams(max_segment_bytes=2 * len(b), max_timestamp_in_messages=0, **same)
    )
    # an offset that cannot be stored relative to the base forces a roll
    assert seg.should_roll(
        RollParams(
            max_segment_bytes=10**9,
            max_timestamp_in_messages=0,
            max_segment_ms=1000,
            max_offset_in_messages=2**31,
            messages_size=1,
            now=clock.now_ms(),
        )
    )


def test_time_waited_for_roll_uses_wall_clock_without_timestamps(make, clock):
    seg = make(0)
    _append(
        seg,
        build_batch([Record(0, 0, None, b"x")], base_offset=0, base_timestamp=NO_TIMESTAMP),
    )
    clock.advance(777)
    assert seg.time_waited_for_roll(clock.now_ms(), 5) == 777


def test_delete_renames_then_removes(make, tmp_path):
    seg = make(0)
    _append(seg, _records(0, "x"))
    seg.delete()
    assert sorted(os.listdir(tmp_path)) == []


def test_close_appends_final_time_index_entry(make, tmp_path, clock):
    seg = make(0, index_interval_bytes=10_000)
    for i in range(5):
        _append(seg, _records(i, "x"))
    assert seg.time_index.entries == 0
    seg.close()
    again = make(0, index_interval_bytes=10_000)
    assert again.time_index.last_entry == TimestampOffset(40, 4)
    assert again.max_timestamp_so_far == 40


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=40),
    gaps=st.lists(st.integers(min_value=1, max_value=5), min_size=40, max_size=40),
    interval=st.integers(min_value=1, max_value=2000),
    target=st.integers(min_value=0, max_value=400),
)
def test_read_lands_on_containing_batch(tmp_path_factory, sizes, gaps, interval, target):
    """Oracle: the batch returned for offset t is the first whose last offset >= t."""
    d = tmp_path_factory.mktemp("seg")
    seg = LogSegment(str(d), 0, clock=ManualClock(0), index_interval_bytes=interval)
    batches = []
    off = 0
    for size, gap in zip(sizes, gaps, strict=False):
        b = build_batch(
            [Record(0, 0, None, b"x" * size), Record(1, 0, None, b"y")],
            base_offset=off,
            base_timestamp=off,
        )
        _append(seg, b)
        batches.append((off, off + 1))
        off += 1 + gap
    expected = next((b for b in batches if b[1] >= target), None)
    info = seg.read(target, 1, min_one_message=True)
    if expected is None:
        assert info is None
    else:
        got = next(info.batches())
        assert (got.base_offset, got.last_offset) == expected
    # the rebuilt index equals the one built by appends (one batch per append)
    before = seg.offset_index.all_entries()
    seg.recover()
    assert seg.offset_index.all_entries() == before
    assert [b.last_offset for _p, b in iter_batches(open(seg.log_path, "rb").read())] == [
        last for _b, last in batches
    ]
    seg.close()


@pytest.mark.parametrize("chunk", [61, 500, 1000, 4096])
def test_recover_across_chunk_boundaries(make, monkeypatch, chunk):
    # Recovery reads the file in chunks; batches straddling a chunk boundary, batches
    # larger than a chunk and a torn tail must give the same result as one big read.
    import simkafka.log.segment as segment_module

    seg = make(0, index_interval_bytes=700)
    rng = random.Random(chunk)
    for i in range(40):
        _append(seg, _records(i, "z" * rng.randrange(1, 2500)))
    offsets = seg.offset_index.all_entries()
    full = seg.size
    seg.close()
    with open(seg.log_path, "r+b") as f:
        f.truncate(full - 9)  # tear the last batch
    seg = make(0, index_interval_bytes=700)
    monkeypatch.setattr(segment_module, "_RECOVERY_CHUNK", chunk)
    assert seg.recover() == full - 9 - seg.size
    assert [last for _p, _b, last, _t in seg.batch_positions()] == list(range(39))
    assert seg.offset_index.all_entries() == [e for e in offsets if e.offset < 39]


@pytest.mark.parametrize("stop_at", [0, 5, 16, 17, 100])
def test_append_with_head_survives_short_writes(make, monkeypatch, stop_at):
    # An append of an immutable batch writes a rewritten 16-byte head (baseOffset ..
    # partitionLeaderEpoch) and then the caller's buffer from byte 16 in one writev.
    # A short writev -- inside the head, at its end, or in the body -- must be finished
    # from the right place (FileChannel.write loops until the buffer is drained), so the
    # file holds exactly the rewritten batch.
    import simkafka.log.segment as segment_module

    real_writev = os.writev
    calls = []

    def short_writev(fd, buffers):
        joined = b"".join(bytes(b) for b in buffers)
        if not calls:  # only the first call comes up short
            calls.append(stop_at)
            return os.write(fd, joined[:stop_at]) if stop_at else 0
        return real_writev(fd, buffers)

    monkeypatch.setattr(segment_module.os, "writev", short_writev)
    seg = make(0)
    batch = _records(0, "a" * 150, "b")
    rewritten = bytearray(batch)
    rewritten[0:8] = (7).to_bytes(8, "big")  # baseOffset 7 ...
    rewritten[12:16] = (3).to_bytes(4, "big")  # ... partitionLeaderEpoch 3
    head = bytes(rewritten[:16])
    seg.append(8, 0, 8, batch, head=head)
    assert seg.size == len(batch)
    with open(seg.log_path, "rb") as f:
        assert f.read() == bytes(rewritten)
    stored = next(iter(seg.read(7, 10_000, min_one_message=True).batches()))
    assert (stored.base_offset, stored.partition_leader_epoch) == (7, 3)
    stored.ensure_valid()  # the CRC does not cover the rewritten fields
