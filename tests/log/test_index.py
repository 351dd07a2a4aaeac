"""OffsetIndex / TimeIndex against Kafka's own tests and a ``bisect`` oracle.

Kafka cases are ported from ``OffsetIndexTest`` and ``TimeIndexTest`` in
``storage/src/test/java/org/apache/kafka/storage/internals/log/`` (named per test).
"""

from __future__ import annotations

import bisect
import itertools
import os
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from simkafka.log.clock import Clock, ManualClock, SystemClock
from simkafka.log.errors import CorruptIndexError, InvalidOffsetError, LogError
from simkafka.log.index import (
    IndexFullError,
    IndexOffsetOverflowError,
    IndexStateError,
    OffsetIndex,
    OffsetPosition,
    TimeIndex,
    TimestampOffset,
    filename_prefix_from_offset,
    log_file,
    offset_from_file_name,
    offset_index_file,
    time_index_file,
)

BASE_OFFSET = 45  # OffsetIndexTest.BASE_OFFSET / TimeIndexTest.baseOffset
_unique = itertools.count()  # file names for hypothesis examples


@pytest.fixture
def index(tmp_path: Path) -> OffsetIndex:
    # OffsetIndexTest.setup: new OffsetIndex(nonExistentTempFile(), 45, 30 * 8)
    return OffsetIndex(tmp_path / "idx.index", BASE_OFFSET, 30 * 8)


@pytest.fixture
def tidx(tmp_path: Path) -> TimeIndex:
    # TimeIndexTest: new TimeIndex(nonExistentTempFile(), 45, 30 * 12)
    return TimeIndex(tmp_path / "idx.timeindex", BASE_OFFSET, 30 * 12)


# -- file names ---------------------------------------------------------------------


def test_file_names_are_20_digit_base_offsets(tmp_path: Path) -> None:
    # LogFileUtils.filenamePrefixFromOffset / logFile / offsetIndexFile / timeIndexFile
    assert filename_prefix_from_offset(0) == "00000000000000000000"
    assert filename_prefix_from_offset(123456789) == "00000000000123456789"
    assert log_file(tmp_path, 42).name == "00000000000000000042.log"
    assert offset_index_file(tmp_path, 42).name == "00000000000000000042.index"
    assert time_index_file(tmp_path, 42).name == "00000000000000000042.timeindex"
    assert offset_index_file(tmp_path, 42, ".deleted").name == "00000000000000000042.index.deleted"
    assert offset_from_file_name("00000000000000000042.timeindex.cleaned") == 42


# -- clock ---------------------------------------------------------------------------


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(1_000)
    assert isinstance(clock, Clock)
    assert (clock.now_ms(), clock.monotonic_ns()) == (1_000, 1_000_000_000)
    clock.advance(250)  # MockTime.sleep: both readings move
    assert (clock.now_ms(), clock.monotonic_ns()) == (1_250, 1_250_000_000)
    clock.time_ms = 5_000
    assert (clock.now_ms(), clock.monotonic_ns()) == (5_000, 5_000_000_000)
    clock.set_time_ms(4_000)  # a wall-clock step back; the monotonic reading stays put
    assert (clock.now_ms(), clock.monotonic_ns()) == (4_000, 5_000_000_000)
    clock.advance_ns(1_500_000)
    assert (clock.now_ms(), clock.monotonic_ns()) == (4_001, 5_001_500_000)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_system_clock_is_a_clock() -> None:
    clock = SystemClock()
    assert isinstance(clock, Clock)
    a = clock.monotonic_ns()
    assert clock.monotonic_ns() >= a
    assert clock.now_ms() > 1_600_000_000_000  # after Sept 2020


# -- OffsetIndexTest ------------------------------------------------------------------


def test_new_file_is_preallocated_to_whole_entries(tmp_path: Path) -> None:
    # AbstractIndex.createAndAssignMmap: setLength(roundDownToExactMultiple(maxIndexSize, 8))
    idx = OffsetIndex(tmp_path / "a.index", 0, 67)
    assert idx.length == 64 and os.path.getsize(idx.file) == 64
    assert idx.max_entries == 8 and idx.entries == 0 and idx.size_in_bytes == 0
    idx.close()
    assert os.path.getsize(idx.file) == 0  # close() trims to the valid entries
    with pytest.raises(ValueError, match="Invalid max index size: 7"):
        OffsetIndex(tmp_path / "b.index", 0, 7)
    assert not (tmp_path / "b.index").exists()


def test_lookup_extreme_cases(index: OffsetIndex) -> None:
    # OffsetIndexTest.lookupExtremeCases
    assert index.lookup(index.base_offset) == OffsetPosition(index.base_offset, 0)
    for i in range(index.max_entries):
        index.append(index.base_offset + i + 1, i)
    assert index.lookup(index.base_offset) == OffsetPosition(index.base_offset, 0)
    last = index.base_offset + index.max_entries
    assert index.lookup(last) == OffsetPosition(last, index.max_entries - 1)


def test_entry_and_entry_overflow(index: OffsetIndex) -> None:
    # OffsetIndexTest.testEntryOverflow, then testEntry
    with pytest.raises(ValueError, match="Attempt to fetch the 0th entry"):
        index.entry(0)
    for i in range(index.max_entries):
        index.append(index.base_offset + i, i)
    assert [index.entry(i) for i in range(30)] == [
        OffsetPosition(BASE_OFFSET + i, i) for i in range(30)
    ]


def test_append_too_many_and_out_of_order(index: OffsetIndex) -> None:
    # OffsetIndexTest.appendOutOfOrder
    index.append(51, 0)
    with pytest.raises(InvalidOffsetError, match="no larger than the last offset appended"):
        index.append(50, 1)
    with pytest.raises(InvalidOffsetError):
        index.append(51, 1)  # equal is rejected too: offsets strictly increase
    # OffsetIndexTest.appendTooMany
    for i in range(1, index.max_entries):
        index.append(51 + i, i)
    assert index.is_full
    with pytest.raises(IndexFullError, match=r"full index \(size = 30\)"):
        index.append(1000, 1)


def test_append_offset_overflow(tmp_path: Path) -> None:
    # AbstractIndex.relativeOffset: offset - base must fit an int32 (IndexOffsetOverflowException)
    idx = OffsetIndex(tmp_path / "o.index", 100, 80)
    assert idx.can_append_offset(100 + 2**31 - 1) and not idx.can_append_offset(100 + 2**31)
    assert not idx.can_append_offset(99)
    with pytest.raises(IndexOffsetOverflowError, match="Integer overflow for offset: 99"):
        idx.append(99, 0)
    idx.append(100 + 2**31 - 1, 7)
    assert idx.lookup(2**40) == OffsetPosition(100 + 2**31 - 1, 7)


def test_fetch_upper_bound_offset(index: OffsetIndex) -> None:
    # OffsetIndexTest.testFetchUpperBoundOffset
    first = OffsetPosition(BASE_OFFSET, 0)
    second = OffsetPosition(BASE_OFFSET + 1, 10)
    third = OffsetPosition(BASE_OFFSET + 2, 23)
    fourth = OffsetPosition(BASE_OFFSET + 3, 37)
    assert index.fetch_upper_bound_offset(first, 5) is None
    for e in (first, second, third, fourth):
        index.append(e.offset, e.position)
    assert index.fetch_upper_bound_offset(first, 5) == second
    assert index.fetch_upper_bound_offset(first, 10) == second
    assert index.fetch_upper_bound_offset(first, 23) == third
    assert index.fetch_upper_bound_offset(first, 22) == third
    assert index.fetch_upper_bound_offset(second, 24) == fourth
    assert index.fetch_upper_bound_offset(fourth, 1) is None
    assert index.fetch_upper_bound_offset(first, 200) is None
    assert index.fetch_upper_bound_offset(second, 200) is None
    # Not in Kafka's test, but Kafka's behaviour: a target equal to the *first* entry's
    # position is never matched exactly by AbstractIndex.binarySearch (its first probe is
    # slot 1), so the upper bound is the second entry. Still a valid upper bound, as the
    # fetchUpperBoundOffset javadoc only promises "not generally the smallest".
    assert index.fetch_upper_bound_offset(OffsetPosition(BASE_OFFSET, 0), 0) == second
    assert index.fetch_upper_bound_offset(OffsetPosition(BASE_OFFSET, 0), 10) == second


def test_reopen(index: OffsetIndex) -> None:
    # OffsetIndexTest.testReopen: an existing file is opened with all its bytes as entries
    first, sec = OffsetPosition(51, 0), OffsetPosition(52, 1)
    index.append(*first)
    index.append(*sec)
    index.close()
    reopened = OffsetIndex(index.file, index.base_offset)
    assert reopened.lookup(first.offset) == first
    assert reopened.lookup(sec.offset) == sec
    assert reopened.last_offset == sec.offset
    assert reopened.entries == 2
    with pytest.raises(IndexFullError):  # the trimmed file has no free slot
        reopened.append(53, 1)
    reopened.close()
    ro = OffsetIndex(index.file, index.base_offset, writable=False)
    assert ro.all_entries() == [first, sec]
    ro.close()


def test_truncate(tmp_path: Path) -> None:
    # OffsetIndexTest.truncate
    idx = OffsetIndex(tmp_path / "t.index", 0, 10 * 8)
    idx.truncate()
    for i in range(1, 10):
        idx.append(i, i)
    idx.truncate_to(12)
    assert idx.lookup(10) == OffsetPosition(9, 9)  # unchanged by truncate past the end
    assert idx.last_offset == 9
    idx.append(10, 10)
    idx.truncate_to(10)
    assert idx.lookup(10) == OffsetPosition(9, 9)  # unchanged by truncate at the end
    assert idx.last_offset == 9
    idx.append(10, 10)
    idx.truncate_to(9)
    assert idx.lookup(10) == OffsetPosition(8, 8)  # truncates off the last entry
    assert idx.last_offset == 8
    idx.append(9, 9)
    idx.truncate_to(5)
    assert idx.lookup(10) == OffsetPosition(4, 4)
    assert idx.last_offset == 4
    idx.append(5, 5)
    idx.truncate()
    assert idx.entries == 0
    idx.append(0, 0)
    idx.close()


def test_closed_index_refuses_lookups(tmp_path: Path) -> None:
    # OffsetIndexTest.forceUnmapTest: after unmapping, a lookup fails (NPE in Java)
    idx = OffsetIndex(tmp_path / "u.index", 0, 10 * 8)
    idx.append(1, 1)
    idx.close_handler()
    with pytest.raises(LogError, match="closed"):
        idx.lookup(1)
    idx.close()  # closing an unmapped index is harmless


def test_sanity_last_offset_equal_to_base_offset(tmp_path: Path) -> None:
    # OffsetIndexTest.testSanityLastOffsetEqualToBaseOffset
    idx = OffsetIndex(tmp_path / "s.index", 20, 10 * 8)
    idx.append(20, 0)
    idx.sanity_check()
    idx.sanity_check(check_all_entries=True)
    idx.close()


def test_byte_exact_offset_index_file(tmp_path: Path) -> None:
    # Kafka's layout: big-endian int32 relative offset, int32 position; trimmed on close.
    path = offset_index_file(tmp_path, 100)
    idx = OffsetIndex(path, 100, 1024)
    idx.append(100, 0)
    idx.append(105, 4168)
    idx.append(2**31 + 99, 0x01020304)
    idx.close()
    assert path.read_bytes() == bytes.fromhex(
        "00000000 00000000  00000005 00001048  7fffffff 01020304".replace(" ", "")
    )


def test_byte_exact_time_index_file(tmp_path: Path) -> None:
    # Kafka's layout: big-endian int64 timestamp, int32 relative offset.
    path = time_index_file(tmp_path, 100)
    idx = TimeIndex(path, 100, 1024)
    idx.maybe_append(1_700_000_000_000, 104)
    idx.maybe_append(1_700_000_000_000, 106)  # same timestamp: ignored
    idx.maybe_append(1_700_000_000_001, 106)
    idx.close()
    assert path.read_bytes() == bytes.fromhex(
        "0000018bcfe56800 00000004  0000018bcfe56801 00000006".replace(" ", "")
    )


# -- corrupt indexes -----------------------------------------------------------------


def test_sanity_check_length_not_multiple_of_entry_size(tmp_path: Path) -> None:
    # OffsetIndex.sanityCheck / TimeIndex.sanityCheck: length % entrySize != 0
    path = offset_index_file(tmp_path, 0)
    path.write_bytes(struct.pack(">ii", 1, 10) + b"\x00\x00\x00")
    idx = OffsetIndex(path, 0)
    assert idx.entries == 1  # the partial entry is ignored when opening ...
    with pytest.raises(CorruptIndexError) as err:  # ... but the file is reported corrupt
        idx.sanity_check()
    assert str(path) in str(err.value)
    assert "found 11 bytes which is neither positive nor a multiple of 8" in str(err.value)

    tpath = time_index_file(tmp_path, 0)
    tpath.write_bytes(struct.pack(">qi", 5, 1) + b"\x01")
    with pytest.raises(CorruptIndexError, match="found 13 bytes .* multiple of 12"):
        TimeIndex(tpath, 0).sanity_check()


def test_sanity_check_last_offset_below_base(tmp_path: Path) -> None:
    # A negative relative offset reads back as an offset below the base offset.
    path = offset_index_file(tmp_path, 50)
    path.write_bytes(struct.pack(">iiii", 1, 0, -3, 99))
    idx = OffsetIndex(path, 50)
    assert idx.last_offset == 47
    with pytest.raises(
        CorruptIndexError, match="last offset is 47 which is less than the base offset 50"
    ):
        idx.sanity_check()


def test_sanity_check_decreasing_offsets_needs_full_scan(tmp_path: Path) -> None:
    # Kafka's sanityCheck only looks at the last entry: decreasing offsets in the middle
    # pass it. The optional full scan catches them.
    path = offset_index_file(tmp_path, 0)
    path.write_bytes(struct.pack(">iiiiii", 5, 0, 3, 100, 9, 200))
    idx = OffsetIndex(path, 0)
    idx.sanity_check()  # Kafka-exact: passes
    with pytest.raises(CorruptIndexError, match="entry 1 .*offset 3.* after offset 5"):
        idx.sanity_check(check_all_entries=True)

    tpath = time_index_file(tmp_path, 0)
    tpath.write_bytes(struct.pack(">qiqiqi", 10, 1, 30, 2, 20, 3))
    tidx = TimeIndex(tpath, 0)
    tidx.sanity_check()  # last timestamp 20 >= first 10: passes in Kafka
    with pytest.raises(CorruptIndexError, match="entry 2 .*timestamp 20"):
        tidx.sanity_check(check_all_entries=True)


def test_time_index_sanity_check(tmp_path: Path) -> None:
    # TimeIndexTest.testSanityCheck, corrupting the file instead of mocking lastEntry()
    path = time_index_file(tmp_path, BASE_OFFSET)
    idx = TimeIndex(path, BASE_OFFSET, 30 * 12)
    idx.sanity_check()
    for i in range(1, 6):
        idx.maybe_append(i * 10, i * 10 + BASE_OFFSET)
    idx.sanity_check()
    idx.close()
    good = path.read_bytes()
    # last timestamp below the first
    path.write_bytes(good[:-12] + struct.pack(">qi", 9, 50))
    with pytest.raises(
        CorruptIndexError, match="last timestamp is 9 which is less than the first timestamp 10"
    ):
        TimeIndex(path, BASE_OFFSET).sanity_check()
    # last offset below the base offset
    path.write_bytes(good[:-12] + struct.pack(">qi", 60, -1))
    with pytest.raises(
        CorruptIndexError, match="last offset is 44 which is less than the first offset 45"
    ):
        TimeIndex(path, BASE_OFFSET).sanity_check()
    path.write_bytes(good)
    TimeIndex(path, BASE_OFFSET).sanity_check()


def test_rebuild_by_delete_and_recreate(tmp_path: Path) -> None:
    # LogLoader on CorruptIndexException: delete the index files and rebuild by appending.
    path = offset_index_file(tmp_path, 0)
    path.write_bytes(b"\x00" * 13)
    idx = OffsetIndex(path, 0, 80)
    with pytest.raises(CorruptIndexError):
        idx.sanity_check()
    assert idx.delete() is True
    assert not path.exists()
    assert idx.delete() is False  # deleteIfExists: nothing left to delete
    rebuilt = OffsetIndex(path, 0, 80)
    assert rebuilt.entries == 0 and rebuilt.length == 80
    rebuilt.append(3, 100)
    rebuilt.sanity_check()
    assert rebuilt.lookup(4) == OffsetPosition(3, 100)


# -- TimeIndexTest --------------------------------------------------------------------


def _append_entries(idx: TimeIndex, n: int) -> None:
    # TimeIndexTest.appendEntries: (i * 10, i * 10 + baseOffset) for i in 1..n
    for i in range(1, n + 1):
        idx.maybe_append(i * 10, i * 10 + BASE_OFFSET)


def test_time_index_lookup(tidx: TimeIndex) -> None:
    # TimeIndexTest.testLookUp
    assert tidx.lookup(100) == TimestampOffset(-1, BASE_OFFSET)
    _append_entries(tidx, 29)
    assert tidx.lookup(9) == TimestampOffset(-1, BASE_OFFSET)
    assert tidx.lookup(25) == TimestampOffset(20, 65)
    assert tidx.lookup(30) == TimestampOffset(30, 75)


def test_time_index_entry(tidx: TimeIndex) -> None:
    # TimeIndexTest.testEntryOverflow, testEntry
    with pytest.raises(ValueError):
        tidx.entry(0)
    _append_entries(tidx, 29)
    assert [tidx.entry(i) for i in range(4)] == [(10, 55), (20, 65), (30, 75), (40, 85)]


def test_time_index_truncate(tidx: TimeIndex) -> None:
    # TimeIndexTest.testTruncate
    _append_entries(tidx, 29)
    tidx.truncate()
    assert tidx.entries == 0
    _append_entries(tidx, 29)
    tidx.truncate_to(10 + BASE_OFFSET)
    assert tidx.entries == 0
    _append_entries(tidx, 29)
    tidx.truncate_to(70)  # entries at offsets 55, 65 stay; 75.. go
    assert tidx.entries == 2 and tidx.last_entry == TimestampOffset(20, 65)


def test_time_index_append_and_is_full(tidx: TimeIndex) -> None:
    # TimeIndexTest.testIsFull and testAppend: the last slot is reserved for the roll entry
    assert not tidx.is_full
    _append_entries(tidx, 29)
    assert tidx.is_full and tidx.max_entries == 30
    with pytest.raises(IndexFullError):
        tidx.maybe_append(10000, 1000)
    with pytest.raises(InvalidOffsetError):
        tidx.maybe_append(10000, 28 * 10, skip_full_check=True)
    tidx.maybe_append(10000, 1000, skip_full_check=True)
    assert tidx.entries == 30
    with pytest.raises(IndexFullError):  # no byte left at all (Java: BufferOverflowException)
        tidx.maybe_append(10001, 1001, skip_full_check=True)


def test_time_index_last_entry_and_ordering(tidx: TimeIndex) -> None:
    # TimeIndexTest.testLastEntry
    assert tidx.last_entry == TimestampOffset(-1, BASE_OFFSET)
    tidx.maybe_append(1, 1 + BASE_OFFSET)
    assert tidx.last_entry == TimestampOffset(1, BASE_OFFSET + 1)
    tidx.maybe_append(1, 2 + BASE_OFFSET)  # equal timestamp: not appended
    assert tidx.entries == 1
    with pytest.raises(IndexStateError, match="no larger than the last timestamp"):
        tidx.maybe_append(0, 3 + BASE_OFFSET)
    tidx.maybe_append(2, 1 + BASE_OFFSET)  # same offset, larger timestamp: appended
    assert tidx.last_entry == TimestampOffset(2, BASE_OFFSET + 1)


def test_time_index_no_timestamp_is_never_indexed(tmp_path: Path) -> None:
    # maybeAppend only writes timestamp > lastEntry.timestamp, which starts at NO_TIMESTAMP
    idx = TimeIndex(tmp_path / "n.timeindex", 0, 120)
    idx.maybe_append(-1, 5)
    assert idx.entries == 0


def test_time_index_resize(tidx: TimeIndex) -> None:
    # TimeIndexTest.testResize
    assert tidx.resize(30 * 12) is False
    assert tidx.resize(15 * 12) is True
    assert tidx.resize(60 * 12) is True
    assert tidx.max_entries == 60 and os.path.getsize(tidx.file) == 720


def test_resize_keeps_entries_and_refuses_to_cut_them(index: OffsetIndex) -> None:
    for i in range(5):
        index.append(BASE_OFFSET + i, i)
    index.trim_to_valid_size()
    assert index.length == 40 and index.is_full
    index.resize(30 * 8)
    index.append(BASE_OFFSET + 5, 5)
    assert index.all_entries()[-1] == OffsetPosition(BASE_OFFSET + 5, 5)
    with pytest.raises(ValueError, match="holds 6 entries"):
        index.resize(16)
    index.reset()
    assert index.entries == 0 and index.length == 240


# -- model-based: bisect oracle ------------------------------------------------------

_ops = st.lists(
    st.one_of(
        st.tuples(st.just("append"), st.integers(1, 40), st.integers(0, 5000)),
        st.tuples(st.just("lookup"), st.integers(-10, 3000)),
        st.tuples(st.just("truncate_to"), st.integers(-10, 3000)),
        st.tuples(st.just("reopen")),
        st.tuples(st.just("truncate")),
    ),
    max_size=60,
)


def _oracle_lookup(keys: list[int], vals: list[int], target: int, empty: tuple[int, int]) -> tuple:
    i = bisect.bisect_right(keys, target)
    return empty if i == 0 else (keys[i - 1], vals[i - 1])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(base=st.integers(0, 1000), max_entries=st.integers(1, 40), ops=_ops)
def test_offset_index_matches_bisect_oracle(
    tmp_path: Path, base: int, max_entries: int, ops: list[tuple]
) -> None:
    path = tmp_path / f"{next(_unique)}.index"  # tmp_path is shared by all examples
    idx = OffsetIndex(path, base, max_entries * 8)
    offsets: list[int] = []
    positions: list[int] = []
    for op in ops:
        if op[0] == "append":
            offset = (offsets[-1] if offsets else base) + op[1]
            if len(offsets) >= max_entries:
                with pytest.raises(IndexFullError):
                    idx.append(offset, op[2])
            else:
                idx.append(offset, op[2])
                offsets.append(offset)
                positions.append(op[2])
        elif op[0] == "lookup":
            target = base + op[1]
            assert idx.lookup(target) == _oracle_lookup(offsets, positions, target, (base, 0))
        elif op[0] == "truncate_to":
            cut = bisect.bisect_left(offsets, base + op[1])
            del offsets[cut:], positions[cut:]
            idx.truncate_to(base + op[1])
        elif op[0] == "truncate":
            offsets.clear(), positions.clear()
            idx.truncate()
        else:  # reopen from disk, then grow back for further appends (LogSegment does this)
            idx.close()
            idx = OffsetIndex(path, base, max_entries * 8)
            idx.sanity_check(check_all_entries=True)
            idx.resize(max_entries * 8)
        assert idx.entries == len(offsets)
        assert idx.last_offset == (offsets[-1] if offsets else base)
        assert idx.all_entries() == list(zip(offsets, positions, strict=True))
    idx.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(base=st.integers(0, 1000), max_entries=st.integers(2, 40), ops=_ops)
def test_time_index_matches_bisect_oracle(
    tmp_path: Path, base: int, max_entries: int, ops: list[tuple]
) -> None:
    path = tmp_path / f"{next(_unique)}.timeindex"
    idx = TimeIndex(path, base, max_entries * 12)
    stamps: list[int] = []
    offsets: list[int] = []
    for op in ops:
        if op[0] == "append":
            ts = (stamps[-1] if stamps else 0) + op[1]
            offset = (offsets[-1] if offsets else base) + op[1]
            if len(stamps) >= max_entries - 1:
                with pytest.raises(IndexFullError):
                    idx.maybe_append(ts, offset)
            else:
                idx.maybe_append(ts, offset)
                stamps.append(ts)
                offsets.append(offset)
        elif op[0] == "lookup":
            assert idx.lookup(op[1]) == _oracle_lookup(stamps, offsets, op[1], (-1, base))
        elif op[0] == "truncate_to":
            cut = bisect.bisect_left(offsets, base + op[1])
            del stamps[cut:], offsets[cut:]
            idx.truncate_to(base + op[1])
        elif op[0] == "truncate":
            stamps.clear(), offsets.clear()
            idx.truncate()
        else:
            idx.close()
            idx = TimeIndex(path, base, max_entries * 12)
            idx.sanity_check(check_all_entries=True)
            idx.resize(max_entries * 12)
        assert idx.entries == len(stamps)
        assert idx.last_entry == ((stamps[-1], offsets[-1]) if stamps else (-1, base))
        assert idx.all_entries() == list(zip(stamps, offsets, strict=True))
    idx.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@example(n=3000, gaps=[1, 7], targets=[0, 5, 9000, 12_000])  # both sides of the warm section
@given(
    n=st.integers(1, 3000),
    gaps=st.lists(st.integers(1, 50), min_size=1, max_size=8),
    targets=st.lists(st.integers(-5, 80_000), min_size=1, max_size=40),
)
def test_warm_section_search_equals_bisect(
    tmp_path: Path, n: int, gaps: list[int], targets: list[int]
) -> None:
    """Indexes larger than the 1024-entry warm section exercise both search branches."""
    path = tmp_path / f"w{next(_unique)}.index"
    idx = OffsetIndex(path, 0, n * 8)
    keys, vals, offset = [], [], 0
    for i in range(n):
        offset += gaps[i % len(gaps)]
        idx.append(offset, 3 * i)  # positions with gaps, so misses happen too
        keys.append(offset)
        vals.append(3 * i)
    hot = max(0, n - 1025)  # firstHotEntry = entries - 1 - warmEntries (8192 / 8)
    edges = [keys[0], keys[-1], keys[hot], keys[max(0, hot - 1)]]
    edges += [vals[0], vals[-1], vals[hot], vals[hot] + 1, vals[max(0, hot - 1)]]
    for t in targets + edges:
        assert idx.lookup(t) == _oracle_lookup(keys, vals, t, (0, 0))
        # smallestUpperBoundSlotFor over the position column (fetchUpperBoundOffset)
        j = bisect.bisect_left(vals, t)
        if t == vals[0]:
            # Kafka quirk: binarySearch starts with lo = 0 and only tests mids >= 1, so an
            # exact hit on slot 0 is never seen and the *next* slot is returned (or none).
            j = 1 if n > 1 else n
        expected = None if j >= n else OffsetPosition(keys[j], vals[j])
        assert idx.fetch_upper_bound_offset(OffsetPosition(0, 0), t) == expected
    assert idx.delete() is True


def test_rename_keeps_the_mapping(tmp_path: Path) -> None:
    # AbstractIndex.renameTo: LocalLog renames files to .deleted / .cleaned / .swap
    path = offset_index_file(tmp_path, 0)
    idx = OffsetIndex(path, 0, 80)
    idx.append(2, 30)
    target = offset_index_file(tmp_path, 0, ".deleted")
    idx.rename_to(target)
    assert idx.file == target and target.exists() and not path.exists()
    idx.append(4, 60)  # still mapped
    assert idx.lookup(5) == OffsetPosition(4, 60)
    idx.close()
    assert target.read_bytes() == struct.pack(">iiii", 2, 30, 4, 60)


def test_crash_leaves_preallocated_zeros_that_kafkas_sanity_check_accepts(tmp_path: Path) -> None:
    # An index that was never trimmed (broker killed) still has its preallocated tail.
    # AbstractIndex takes every whole entry of an existing file as valid, so the zeros
    # read as (base_offset, 0) entries; OffsetIndex.sanityCheck only compares the last
    # offset with the base offset and passes. Kafka relies on LogLoader recovering
    # unflushed segments (rebuilding their indexes) instead.
    path = offset_index_file(tmp_path, 100)
    idx = OffsetIndex(path, 100, 10 * 8)
    idx.append(103, 4100)
    idx.append(107, 8200)
    idx.flush()
    idx.close_handler()  # no trim: what a crash leaves behind
    reopened = OffsetIndex(path, 100, 10 * 8)
    assert reopened.entries == 10 and reopened.is_full
    assert reopened.last_offset == 100
    reopened.sanity_check()  # Kafka-exact: passes
    with pytest.raises(CorruptIndexError, match="entry 2 .*offset 100, position 0"):
        reopened.sanity_check(check_all_entries=True)
    # The binary search meets the zero tail and answers (base, 0): wrong but safe, the
    # segment is then scanned from its start.
    assert reopened.lookup(105) == OffsetPosition(100, 0)
