"""LeaderEpochFileCache: cases ported from Kafka's LeaderEpochFileCacheTest.

Each test names the Kafka test (storage/src/test/java/org/apache/kafka/storage/
internals/epoch/LeaderEpochFileCacheTest.java) whose assertions it reproduces.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.log.checkpoints import LeaderEpochCheckpointFile
from simkafka.log.epoch_cache import (
    UNDEFINED_EPOCH,
    UNDEFINED_EPOCH_OFFSET,
    EpochEntry,
    LeaderEpochFileCache,
)

UNDEFINED = (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET)
E = EpochEntry


@pytest.fixture
def checkpoint(tmp_path: Path) -> LeaderEpochCheckpointFile:
    return LeaderEpochCheckpointFile(tmp_path / "leader-epoch-checkpoint")


@pytest.fixture
def cache(checkpoint: LeaderEpochCheckpointFile) -> LeaderEpochFileCache:
    return LeaderEpochFileCache(checkpoint)


def _assign(cache: LeaderEpochFileCache, *pairs: tuple[int, int]) -> None:
    for epoch, offset in pairs:
        cache.assign(epoch, offset)


def test_undefined_constants_match_kafka() -> None:
    # OffsetsForLeaderEpochResponse.UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET
    assert UNDEFINED == (-1, -1)


def test_previous_epoch(cache: LeaderEpochFileCache) -> None:
    # testPreviousEpoch
    assert cache.previous_epoch() is None
    cache.assign(2, 10)
    assert cache.previous_epoch() is None
    cache.assign(4, 15)
    assert cache.previous_epoch() == 2
    cache.assign(10, 20)
    assert cache.previous_epoch() == 4
    cache.truncate_from_end(18)
    assert cache.previous_epoch() == 2


def test_add_epoch_and_message_offset(cache: LeaderEpochFileCache) -> None:
    # shouldAddEpochAndMessageOffsetToCache
    cache.assign(2, 10)
    assert cache.latest_epoch() == 2
    assert cache.epoch_entries()[0] == E(2, 10)
    assert cache.end_offset_for(2, 11) == (2, 11)


def test_log_end_offset_if_latest_epoch_requested(cache: LeaderEpochFileCache) -> None:
    # shouldReturnLogEndOffsetIfLatestEpochRequested
    _assign(cache, (2, 11), (2, 12))
    assert cache.end_offset_for(2, 14) == (2, 14)


def test_undefined_epoch_requested(cache: LeaderEpochFileCache) -> None:
    # shouldReturnUndefinedOffsetIfUndefinedEpochRequested and
    # shouldReturnUnsupportedIfNoEpochRecordedAndUndefinedEpochRequested
    assert cache.end_offset_for(UNDEFINED_EPOCH, 73) == UNDEFINED
    _assign(cache, (2, 11), (3, 12))
    assert cache.end_offset_for(UNDEFINED_EPOCH, 0) == UNDEFINED


def test_start_offset_of_an_epoch_is_never_moved_forward(cache: LeaderEpochFileCache) -> None:
    # shouldNotOverwriteLogEndOffsetForALeaderEpochOnceItHasBeenAssigned,
    # shouldNotOverwriteOffsetForALeaderEpochOnceItHasBeenAssigned,
    # shouldNotUpdateEpochAndStartOffsetIfItDidNotChange
    cache.assign(2, 9)
    cache.assign(2, 10)
    assert cache.epoch_entries() == [E(2, 9)]


def test_monotonic_start_offsets(cache: LeaderEpochFileCache) -> None:
    # shouldEnforceMonotonicallyIncreasingStartOffsets
    _assign(cache, (2, 9), (3, 9))
    assert cache.epoch_entries() == [E(3, 9)]


def test_empty_cache_has_no_end_offset(cache: LeaderEpochFileCache) -> None:
    # shouldReturnUnsupportedIfNoEpochRecorded, shouldFetchEndOffsetOfEmptyCache,
    # shouldFetchLatestEpochOfEmptyCache
    assert cache.end_offset_for(0, 0) == UNDEFINED
    assert cache.end_offset_for(7, 0) == UNDEFINED
    assert cache.latest_epoch() is None


def test_requested_epoch_below_first_epoch(cache: LeaderEpochFileCache) -> None:
    # shouldReturnFirstEpochIfRequestedEpochLessThanFirstEpoch
    _assign(cache, (5, 11), (6, 12), (7, 13))
    assert cache.end_offset_for(4, 0) == (4, 11)


def test_matching_epoch_with_earlier_start_truncates(cache: LeaderEpochFileCache) -> None:
    # shouldTruncateIfMatchingEpochButEarlierStartingOffset
    _assign(cache, (5, 11), (6, 12), (7, 13), (7, 12))
    assert cache.end_offset_for(5, 0) == (5, 12)
    assert cache.end_offset_for(6, 0) == (5, 12)
    assert cache.epoch_entries() == [E(5, 11), E(7, 12)]


def test_end_offset_is_start_of_next_epoch(cache: LeaderEpochFileCache) -> None:
    # shouldGetFirstOffsetOfSubsequentEpochWhenOffsetRequestedForPreviousEpoch
    _assign(cache, (1, 11), (1, 12), (2, 13), (2, 14), (3, 15), (3, 16))
    assert cache.end_offset_for(2, 17) == (2, 15)


def test_gap_in_epochs(cache: LeaderEpochFileCache) -> None:
    # shouldReturnNextAvailableEpochIfThereIsNoExactEpochForTheOneRequested
    _assign(cache, (0, 10), (2, 13), (4, 17))
    assert cache.end_offset_for(1, 0) == (0, 13)
    assert cache.end_offset_for(2, 0) == (2, 17)
    assert cache.end_offset_for(3, 0) == (2, 17)


def test_epoch_above_latest_is_undefined(cache: LeaderEpochFileCache) -> None:
    # shouldReturnInvalidOffsetIfEpochIsRequestedWhichIsNotCurrentlyTracked
    cache.assign(2, 100)
    assert cache.end_offset_for(3, 100) == UNDEFINED


def test_persist_between_instances(tmp_path: Path) -> None:
    # shouldPersistEpochsBetweenInstances
    path = tmp_path / "leader-epoch-checkpoint"
    LeaderEpochFileCache(LeaderEpochCheckpointFile(path)).assign(2, 6)
    cache2 = LeaderEpochFileCache(LeaderEpochCheckpointFile(path))
    assert cache2.epoch_entries() == [E(2, 6)]
    assert path.read_text() == "0\n1\n2 6\n"


def test_monotonic_epochs(cache: LeaderEpochFileCache) -> None:
    # shouldEnforceMonotonicallyIncreasingEpochs
    _assign(cache, (1, 5), (2, 6), (1, 7))
    assert cache.latest_epoch() == 1
    assert cache.end_offset_for(1, 8) == (1, 8)
    assert cache.end_offset_for(2, 8) == UNDEFINED
    assert cache.epoch_entries() == [E(1, 7)]


def test_monotonic_offsets(cache: LeaderEpochFileCache) -> None:
    # shouldEnforceOffsetsIncreaseMonotonically
    _assign(cache, (2, 6), (3, 5))
    assert cache.epoch_entries() == [E(3, 5)]


def test_leaders_change_many_times(cache: LeaderEpochFileCache) -> None:
    # shouldIncreaseAndTrackEpochsAsLeadersChangeManyTimes
    _assign(cache, (0, 0), (1, 0))
    assert cache.latest_epoch() == 1
    assert cache.end_offset_for(1, 0) == (1, 0)
    assert cache.end_offset_for(0, 0) == (0, 0)
    assert cache.end_offset_for(1, 5) == (1, 5)
    assert cache.end_offset_for(0, 5) == (0, 0)
    cache.assign(2, 5)
    assert cache.end_offset_for(2, 10) == (2, 10)
    assert cache.end_offset_for(1, 10) == (1, 5)
    assert cache.end_offset_for(0, 10) == (0, 0)


def test_follower_receives_many_messages(cache: LeaderEpochFileCache) -> None:
    # shouldIncreaseAndTrackEpochsAsFollowerReceivesManyMessages
    _assign(cache, (0, 0), (0, 1), (0, 2))
    assert cache.end_offset_for(0, 3) == (0, 3)
    _assign(cache, (1, 3), (1, 4), (1, 5))
    assert cache.end_offset_for(1, 6) == (1, 6)
    _assign(cache, (2, 6), (2, 7), (2, 8))
    assert cache.latest_epoch() == 2
    assert cache.end_offset_for(2, 9) == (2, 9)
    assert cache.end_offset_for(0, 9) == (0, 3)
    assert cache.end_offset_for(1, 9) == (1, 6)


@pytest.mark.parametrize(
    ("kafka_test", "end_offset", "expected"),
    [
        ("shouldDropEntriesOnEpochBoundaryWhenRemovingLatestEntries", 8, [E(2, 6)]),
        ("shouldDropEntriesBetweenEpochBoundaryWhenRemovingNewest", 9, [E(2, 6), E(3, 8)]),
        ("shouldNotResetEpochHistoryTailIfUndefinedPassed", -1, [E(2, 6), E(3, 8), E(4, 11)]),
    ],
)
def test_truncate_from_end(
    cache: LeaderEpochFileCache,
    checkpoint: LeaderEpochCheckpointFile,
    kafka_test: str,
    end_offset: int,
    expected: list[EpochEntry],
) -> None:
    _assign(cache, (2, 6), (3, 8), (4, 11))
    cache.truncate_from_end(end_offset)
    assert cache.epoch_entries() == expected, kafka_test
    assert checkpoint.read() == expected


@pytest.mark.parametrize(
    ("kafka_test", "start_offset", "expected"),
    [
        ("shouldPreserveResetOffsetOnClearEarliestIfOneExists", 8, [E(3, 8), E(4, 11)]),
        ("shouldNotClearAnythingIfOffsetTooEarly", 1, [E(2, 6), E(3, 8), E(4, 11)]),
        ("shouldNotClearAnythingIfOffsetIsFirstOffset", 6, [E(2, 6), E(3, 8), E(4, 11)]),
        ("shouldRetainLatestEpochOnClearAllEarliest", 11, [E(4, 11)]),
        ("shouldUpdateOffsetBetweenEpochBoundariesOnClearEarliest", 9, [E(3, 9), E(4, 11)]),
        ("shouldRetainLatestEpochOnClearAllEarliestAndUpdateItsOffset", 15, [E(4, 15)]),
        ("shouldNotResetEpochHistoryHeadIfUndefinedPassed", -1, [E(2, 6), E(3, 8), E(4, 11)]),
    ],
)
def test_truncate_from_start(
    cache: LeaderEpochFileCache,
    checkpoint: LeaderEpochCheckpointFile,
    kafka_test: str,
    start_offset: int,
    expected: list[EpochEntry],
) -> None:
    _assign(cache, (2, 6), (3, 8), (4, 11))
    cache.truncate_from_start(start_offset)
    assert cache.epoch_entries() == expected, kafka_test
    assert checkpoint.read() == expected


def test_truncate_from_start_between_first_two_epochs(cache: LeaderEpochFileCache) -> None:
    # shouldUpdateOffsetBetweenFirstTwoEpochBoundariesOnClearEarliest
    _assign(cache, (0, 0), (1, 7), (2, 10))
    cache.truncate_from_start(5)
    assert cache.epoch_entries() == [E(0, 5), E(1, 7), E(2, 10)]


def test_clear_all_entries(cache: LeaderEpochFileCache, checkpoint) -> None:
    # shouldClearAllEntries
    _assign(cache, (2, 6), (3, 8), (4, 11))
    cache.clear_and_flush()
    assert cache.epoch_entries() == []
    assert checkpoint.read() == []


def test_truncations_of_empty_cache(cache: LeaderEpochFileCache) -> None:
    # shouldClearEarliestOnEmptyCache, shouldClearLatestOnEmptyCache
    assert cache.truncate_from_start(7) == []
    assert cache.truncate_from_end(7) == []
    assert cache.epoch_entries() == []


def test_find_previous_epoch_and_entry(cache: LeaderEpochFileCache) -> None:
    # testFindPreviousEpoch, testFindPreviousEntry
    assert cache.previous_epoch(2) is None
    assert cache.previous_entry(2) is None
    cache.assign(2, 10)
    assert cache.previous_epoch(2) is None
    cache.assign(4, 15)
    assert cache.previous_epoch(4) == 2
    assert cache.previous_entry(4) == E(2, 10)
    cache.assign(10, 20)
    assert cache.previous_epoch(10) == 4
    assert cache.previous_entry(10) == E(4, 15)
    cache.truncate_from_end(18)
    latest = cache.latest_epoch()
    assert latest == 4
    assert cache.previous_epoch(latest) == 2
    assert cache.previous_entry(latest) == E(2, 10)


def test_find_next_epoch(cache: LeaderEpochFileCache) -> None:
    # testFindNextEpoch
    _assign(cache, (0, 0), (1, 100), (2, 200))
    assert [cache.next_epoch(e) for e in (-1, 0, 1, 2, 100)] == [0, 1, 2, None, None]


def test_get_epoch_entry(cache: LeaderEpochFileCache) -> None:
    # testGetEpochEntry
    _assign(cache, (2, 100), (3, 500), (5, 1000))
    assert cache.epoch_entry(2) == E(2, 100)
    assert cache.epoch_entry(3) == E(3, 500)
    assert cache.epoch_entry(5) == E(5, 1000)
    assert cache.epoch_entry(4) is None


def test_epoch_for_offset(cache: LeaderEpochFileCache) -> None:
    # shouldFetchEpochForGivenOffset
    _assign(cache, (0, 10), (1, 20), (5, 30))
    assert cache.epoch_for_offset(25) == 1
    assert cache.epoch_for_offset(20) == 1
    assert cache.epoch_for_offset(30) == 5
    assert cache.epoch_for_offset(50) == 5
    assert cache.epoch_for_offset(5) is None


def test_checkpoint_written_on_truncation(cache: LeaderEpochFileCache, checkpoint) -> None:
    # shouldWriteCheckpointOnTruncation
    _assign(cache, (2, 6), (3, 8), (4, 11))
    cache.truncate_from_end(11)
    cache.truncate_from_start(8)
    assert checkpoint.read() == [E(3, 8)]


def test_negative_entries_rejected(cache: LeaderEpochFileCache) -> None:
    # LeaderEpochFileCache.assign: IllegalArgumentException("Received invalid partition
    # leader epoch entry ...") for a negative epoch or start offset.
    with pytest.raises(ValueError, match="invalid partition leader epoch entry"):
        cache.assign(-1, 0)
    with pytest.raises(ValueError, match="invalid partition leader epoch entry"):
        cache.assign(0, -1)


def test_loading_repairs_non_monotonic_file(tmp_path: Path) -> None:
    # The constructor replays checkpoint.read() through assign(), so a file whose
    # entries go backwards is repaired on load, not rejected.
    path = tmp_path / "leader-epoch-checkpoint"
    path.write_text("0\n3\n1 5\n2 6\n1 7\n")
    cache = LeaderEpochFileCache(LeaderEpochCheckpointFile(path))
    assert cache.epoch_entries() == [E(1, 7)]


def test_truncation_after_directory_deleted_does_not_raise(tmp_path: Path) -> None:
    # testWriteIfDirExistsShouldNotThrowWhenDirNotExists: the deferred flush after a
    # truncation only warns when the partition directory has been deleted meanwhile.
    part = tmp_path / "topic-0"
    part.mkdir()
    cache = LeaderEpochFileCache(LeaderEpochCheckpointFile.in_directory(part))
    _assign(cache, (1, 0), (2, 10))
    part.rename(tmp_path / "topic-0.abc-delete")
    assert cache.truncate_from_end(5) == [E(2, 10)]
    assert cache.epoch_entries() == [E(1, 0)]


def test_in_memory_cache_and_with_checkpoint(tmp_path: Path) -> None:
    cache = LeaderEpochFileCache(None)
    _assign(cache, (0, 0), (3, 40))
    moved = cache.with_checkpoint(LeaderEpochCheckpointFile(tmp_path / "lec"))
    assert moved.epoch_entries() == [E(0, 0), E(3, 40)]
    moved.assign(4, 50)
    assert LeaderEpochCheckpointFile(tmp_path / "lec").read() == [E(0, 0), E(3, 40), E(4, 50)]
    assert cache.epoch_entries() == [E(0, 0), E(3, 40)]


def test_epoch_entries_in_range(cache: LeaderEpochFileCache) -> None:
    # LeaderEpochFileCache.epochEntriesInRange: start inclusive, end exclusive.
    _assign(cache, (0, 0), (1, 10), (2, 20), (3, 30))
    assert cache.epoch_entries_in_range(15, 30) == [E(1, 15), E(2, 20)]
    assert cache.epoch_entries_in_range(-1, 10) == [E(0, 0)]
    assert cache.epoch_entries() == [E(0, 0), E(1, 10), E(2, 20), E(3, 30)]


# --------------------------------------------------------------------- oracle
class _Oracle:
    """A deliberately naive restatement of Kafka's TreeMap-based rules."""

    def __init__(self) -> None:
        self.m: dict[int, int] = {}

    def assign(self, epoch: int, offset: int) -> None:
        if self.m:
            last = max(self.m)
            if epoch == last and offset >= self.m[last]:
                return
        for e in sorted(self.m, reverse=True):
            if e >= epoch or self.m[e] >= offset:
                del self.m[e]
            else:
                break
        self.m[epoch] = offset

    def truncate_from_end(self, end: int) -> None:
        if end < 0:
            return
        for e in sorted(self.m, reverse=True):
            if self.m[e] >= end:
                del self.m[e]
            else:
                break

    def truncate_from_start(self, start: int) -> None:
        removed = [e for e in sorted(self.m) if self.m[e] <= start]
        # removeWhileMatching stops at the first non-matching entry; offsets increase,
        # so the matching ones are a prefix.
        for e in removed:
            del self.m[e]
        if removed:
            self.m[removed[-1]] = start

    def end_offset_for(self, req: int, leo: int) -> tuple[int, int]:
        if req == -1:
            return (-1, -1)
        if self.m and max(self.m) == req:
            return (req, leo)
        higher = [e for e in self.m if e > req]
        if not higher:
            return (-1, -1)
        floor = [e for e in self.m if e <= req]
        start = self.m[min(higher)]
        return (max(floor), start) if floor else (req, start)

    def entries(self) -> list[EpochEntry]:
        return [E(e, self.m[e]) for e in sorted(self.m)]


_ops = st.lists(
    st.one_of(
        st.tuples(st.just("assign"), st.integers(0, 8), st.integers(0, 60)),
        st.tuples(st.just("end"), st.integers(-1, 60), st.just(0)),
        st.tuples(st.just("start"), st.integers(-1, 60), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(ops=_ops, queries=st.lists(st.tuples(st.integers(-2, 10), st.integers(0, 99)), max_size=8))
def test_matches_oracle(ops: list[tuple[str, int, int]], queries: list[tuple[int, int]]) -> None:
    cache, oracle = LeaderEpochFileCache(None), _Oracle()
    for op, a, b in ops:
        if op == "assign":
            cache.assign(a, b)
            oracle.assign(a, b)
        elif op == "end":
            cache.truncate_from_end(a)
            oracle.truncate_from_end(a)
        else:
            cache.truncate_from_start(a)
            oracle.truncate_from_start(a)
        entries = cache.epoch_entries()
        assert entries == oracle.entries()
        # Invariant: strictly increasing epochs and start offsets.
        assert all(
            x.epoch < y.epoch and x.start_offset < y.start_offset
            for x, y in itertools.pairwise(entries)
        )
    for req, leo in queries:
        assert cache.end_offset_for(req, leo) == oracle.end_offset_for(req, leo)


@settings(max_examples=30, deadline=None)
@given(pairs=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 40)), max_size=12))
def test_file_always_matches_cache(tmp_path_factory, pairs: list[tuple[int, int]]) -> None:
    path = tmp_path_factory.mktemp("lec") / "leader-epoch-checkpoint"
    cache = LeaderEpochFileCache(LeaderEpochCheckpointFile(path))
    for epoch, offset in pairs:
        cache.assign(epoch, offset)
        assert LeaderEpochCheckpointFile(path).read() == cache.epoch_entries()
    reloaded = LeaderEpochFileCache(LeaderEpochCheckpointFile(path))
    assert reloaded.epoch_entries() == cache.epoch_entries()
