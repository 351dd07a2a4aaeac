"""The leader-epoch cache of one partition replica (Kafka's ``LeaderEpochFileCache``).

Every record batch carries the leader epoch under which it was appended. The cache
remembers, per epoch, the first offset written in it (``EpochEntry``). That is what
lets a follower that comes back after a leader change ask the new leader
"where did my last epoch end?" (``OffsetsForLeaderEpoch``, answered by
:meth:`LeaderEpochFileCache.end_offset_for`) and truncate exactly the records the new
leader never had -- instead of truncating to the high watermark and risking the
divergent-log bugs of KIP-101/KIP-279.

Invariant (kept by :meth:`assign`): entries are strictly increasing in both epoch and
start offset. Every change goes to the ``leader-epoch-checkpoint`` file. Kafka writes
``assign`` synchronously but flushes the two truncations on a background scheduler
(``truncateFromEndAsyncFlush``/``truncateFromStartAsyncFlush``) to keep fsync latency
off the fetcher threads; we have no scheduler, so truncations write immediately with
``writeIfDirExists`` semantics -- the file ends up in the state Kafka's deferred flush
leaves it in.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

# EpochEntry is defined with the checkpoint file that stores it; re-exported here
# because the cache's API speaks in entries.
from simkafka.log.checkpoints import EpochEntry, LeaderEpochCheckpointFile

__all__ = [
    "UNDEFINED_EPOCH",
    "UNDEFINED_EPOCH_OFFSET",
    "EpochEntry",
    "LeaderEpochFileCache",
]

#: ``OffsetsForLeaderEpochResponse.UNDEFINED_EPOCH``.
UNDEFINED_EPOCH = -1
#: ``OffsetsForLeaderEpochResponse.UNDEFINED_EPOCH_OFFSET``.
UNDEFINED_EPOCH_OFFSET = -1


class LeaderEpochFileCache:
    """Kafka's ``LeaderEpochFileCache``, backed by an optional checkpoint file.

    With ``checkpoint=None`` the cache lives in memory only (what the simulator
    needs); otherwise the constructor loads the file by replaying every entry through
    :meth:`assign`, as Kafka's constructor does -- so a file holding non-monotonic
    entries is silently repaired on load, not rejected.
    """

    def __init__(self, checkpoint: LeaderEpochCheckpointFile | None = None) -> None:
        self.checkpoint = checkpoint
        # Sorted by epoch; by the invariant also sorted by start offset.
        self._entries: list[EpochEntry] = []
        self._epochs: list[int] = []  # parallel list of keys, for bisect
        if checkpoint is not None:
            for entry in checkpoint.read():
                self._assign(entry)

    @classmethod
    def from_entries(
        cls, entries: Iterable[EpochEntry], checkpoint: LeaderEpochCheckpointFile | None = None
    ) -> LeaderEpochFileCache:
        """Kafka's private constructor used by ``withCheckpoint``: trust ``entries``."""
        cache = cls(None)
        cache.checkpoint = checkpoint
        for entry in sorted(entries, key=lambda e: e.epoch):
            cache._put(entry)
        return cache

    def with_checkpoint(self, checkpoint: LeaderEpochCheckpointFile | None) -> LeaderEpochFileCache:
        """``withCheckpoint``: same entries, another backing file (used on log dir moves)."""
        return LeaderEpochFileCache.from_entries(self._entries, checkpoint)

    # ------------------------------------------------------------- mutation
    def assign(self, epoch: int, start_offset: int) -> None:
        """Record that ``epoch`` started at ``start_offset`` (``assign(int, long)``).

        Kafka only changes the cache when the entry is for a *different* epoch than
        the latest one, or moves the latest epoch's start *back*
        (``isUpdateNeeded``). Before inserting, every later entry that conflicts --
        epoch >= the new epoch or start offset >= the new start offset -- is removed,
        newest first (``maybeTruncateNonMonotonicEntries``). A negative epoch or
        offset is a programming error (``IllegalArgumentException``).
        """
        if self._assign(EpochEntry(epoch, start_offset)):
            self._write()

    def assign_all(self, entries: Iterable[EpochEntry]) -> None:
        """``assign(List<EpochEntry>)``: one checkpoint write for the whole batch."""
        entries = list(entries)
        for entry in entries:
            self._assign(entry)
        if entries:  # Kafka writes even when no entry changed the cache
            self._write()

    def _is_update_needed(self, entry: EpochEntry) -> bool:
        if not self._entries:
            return True
        latest = self._entries[-1]
        return entry.epoch != latest.epoch or entry.start_offset < latest.start_offset

    def _assign(self, entry: EpochEntry) -> bool:
        if entry.epoch < 0 or entry.start_offset < 0:
            raise ValueError(f"Received invalid partition leader epoch entry {entry!r}")
        if not self._is_update_needed(entry):
            return False
        # maybeTruncateNonMonotonicEntries: walk from the newest entry down.
        while self._entries and (
            self._entries[-1].epoch >= entry.epoch
            or self._entries[-1].start_offset >= entry.start_offset
        ):
            self._entries.pop()
            self._epochs.pop()
        self._put(entry)
        return True

    def _put(self, entry: EpochEntry) -> None:
        """``epochs.put(epoch, entry)`` on the TreeMap: insert or replace by epoch."""
        i = bisect.bisect_left(self._epochs, entry.epoch)
        if i < len(self._epochs) and self._epochs[i] == entry.epoch:
            self._entries[i] = entry
        else:
            self._epochs.insert(i, entry.epoch)
            self._entries.insert(i, entry)

    def truncate_from_end(self, end_offset: int) -> list[EpochEntry]:
        """Remove entries whose start offset is >= ``end_offset`` (``truncateFromEnd``).

        Called when the log is truncated to ``end_offset`` (follower divergence). A
        negative offset (``UNDEFINED_EPOCH_OFFSET``) is a no-op. Returns the removed
        entries, newest first, as Kafka's helper does.
        """
        removed: list[EpochEntry] = []
        if end_offset >= 0 and self._entries and self._entries[-1].start_offset >= end_offset:
            while self._entries and self._entries[-1].start_offset >= end_offset:
                removed.append(self._entries.pop())
                self._epochs.pop()
        if removed:
            self._write_if_dir_exists()
        return removed

    def truncate_from_start(self, start_offset: int) -> list[EpochEntry]:
        """Drop history before the new log start offset (``truncateFromStart``).

        Every entry starting at or before ``start_offset`` is removed, then the last
        of them is put back with its start moved up to ``start_offset``: the epoch in
        force at the new log start keeps its place (so ``truncate_from_start(6)`` keeps
        an entry at offset 6). Returns the removed entries, oldest first.
        """
        removed: list[EpochEntry] = []
        while self._entries and self._entries[0].start_offset <= start_offset:
            removed.append(self._entries.pop(0))
            self._epochs.pop(0)
        if removed:
            self._put(EpochEntry(removed[-1].epoch, start_offset))
            self._write_if_dir_exists()
        return removed

    def clear_and_flush(self) -> None:
        """``clearAndFlush``: forget every entry and write the empty checkpoint."""
        self.clear()
        self._write()

    def clear(self) -> None:
        """``clear``: forget every entry without touching the file."""
        self._entries.clear()
        self._epochs.clear()

    # -------------------------------------------------------------- queries
    def non_empty(self) -> bool:
        return bool(self._entries)

    def latest_entry(self) -> EpochEntry | None:
        return self._entries[-1] if self._entries else None

    def earliest_entry(self) -> EpochEntry | None:
        return self._entries[0] if self._entries else None

    def latest_epoch(self) -> int | None:
        """``latestEpoch``: the epoch of the newest entry, ``None`` when empty."""
        return self._entries[-1].epoch if self._entries else None

    def previous_epoch(self, epoch: int | None = None) -> int | None:
        """The largest cached epoch below ``epoch`` (``previousEpoch(int)``).

        Without an argument, the epoch before the latest one (``previousEpoch()``).
        """
        if epoch is None:
            if not self._entries:
                return None
            epoch = self._entries[-1].epoch
        entry = self.previous_entry(epoch)
        return entry.epoch if entry is not None else None

    def previous_entry(self, epoch: int) -> EpochEntry | None:
        """``previousEntry``: the entry with the largest epoch strictly below ``epoch``."""
        i = bisect.bisect_left(self._epochs, epoch)
        return self._entries[i - 1] if i > 0 else None

    def next_epoch(self, epoch: int) -> int | None:
        """``nextEpoch``: the smallest cached epoch strictly above ``epoch``."""
        i = bisect.bisect_right(self._epochs, epoch)
        return self._epochs[i] if i < len(self._epochs) else None

    def epoch_entry(self, epoch: int) -> EpochEntry | None:
        """``epochEntry``: the entry for exactly ``epoch``."""
        i = bisect.bisect_left(self._epochs, epoch)
        if i < len(self._epochs) and self._epochs[i] == epoch:
            return self._entries[i]
        return None

    def epoch_for_offset(self, offset: int) -> int | None:
        """``epochForOffset``: the epoch the record at ``offset`` was written in.

        ``None`` when ``offset`` precedes the first cached epoch.
        """
        i = bisect.bisect_right([e.start_offset for e in self._entries], offset)
        return self._entries[i - 1].epoch if i > 0 else None

    def end_offset_for(self, requested_epoch: int, log_end_offset: int) -> tuple[int, int]:
        """Answer an ``OffsetsForLeaderEpoch`` query (``endOffsetFor``).

        Returns ``(epoch, end_offset)``: the largest cached epoch <= the requested
        one, and the start offset of the first epoch above the requested one -- or
        ``log_end_offset`` when the requested epoch is the latest. Kafka's special
        cases: the undefined epoch, an empty cache, or an epoch above every cached one
        answer ``(UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET)``; an epoch *below* every
        cached one answers ``(requested_epoch, first entry's start offset)`` because
        the older history has been deleted and the follower must start from there.
        """
        if requested_epoch == UNDEFINED_EPOCH:
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        if self._entries and self._entries[-1].epoch == requested_epoch:
            return requested_epoch, log_end_offset
        higher = bisect.bisect_right(self._epochs, requested_epoch)
        if higher == len(self._epochs):
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        higher_start = self._entries[higher].start_offset
        if higher == 0:  # no floor entry
            return requested_epoch, higher_start
        return self._entries[higher - 1].epoch, higher_start

    def epoch_entries_in_range(self, start_offset: int, end_offset: int) -> list[EpochEntry]:
        """``epochEntriesInRange``: the history of ``[start_offset, end_offset)``.

        Used for tiered storage segment metadata; computed on a copy, as Kafka does.
        """
        copy = LeaderEpochFileCache.from_entries(self._entries)
        if start_offset >= 0:
            copy.truncate_from_start(start_offset)
        copy.truncate_from_end(end_offset)
        return copy.epoch_entries()

    def epoch_entries(self) -> list[EpochEntry]:
        """``epochEntries``: a copy of the entries, oldest epoch first."""
        return list(self._entries)

    def epoch_with_offsets(self) -> dict[int, int]:
        """``epochWithOffsets``: ``{epoch: start_offset}`` in epoch order."""
        return {e.epoch: e.start_offset for e in self._entries}

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"LeaderEpochFileCache({self._entries!r})"

    # ------------------------------------------------------------- persistence
    def _write(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint.write(self._entries, sync=True)

    def _write_if_dir_exists(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint.write_if_dir_exists(self._entries, sync=True)
