"""Bytes on disk of many replicas' logs over time: segments, rolls and retention, vectorised.

Every engine needs the same bookkeeping to say how full a broker's disks get: the
events and stepped engines feed it each probe sample's appended bytes per replica from
their counters, the flow engine its piecewise-linear appends over hours or days. It keeps
each replica's log as Kafka does -- closed segments plus one active segment -- with no
records and no per-segment Python objects: closed segments are rows of numpy arrays
(replica, bytes, newest timestamp), appended when segments roll and dropped when
retention deletes them, so a week of 100,000 replicas costs array operations per append
and per retention check, not loops over segments.

The rules, with where Kafka and the storage model (:mod:`simkafka.sim.storage`) have them:

* *Roll* (``LogSegment.shouldRoll``, :func:`simkafka.log.log_config.roll_reason`): a new
  segment starts when the active one would pass ``segment.bytes`` or has waited longer
  than ``segment.ms`` since its first record (``rollingBasedTimestamp``). Rolls are lazy,
  as in Kafka: they happen when bytes arrive, so a full active segment stays active until
  the next append. Appends are a fluid here (bytes arrive uniformly over ``[t0, t1)``),
  so a segment fills to exactly its capacity: ``segment.bytes``, or, when the caller
  knows the batch size, the whole number of batches that fit
  (:func:`simkafka.sim.storage.batches_per_segment` times the batch size, which also
  covers the index-full limits) -- then, with appends of whole batches, the segments are
  Kafka's to the byte.
* *Retention* (``LogManager.cleanupLogs`` every ``log.retention.check.interval.ms``,
  ``UnifiedLog.deleteOldSegments``, :func:`simkafka.log.log_config.delete_old_segments`):
  first ``retention.bytes`` -- while the log (closed and active segments) exceeds it, the
  oldest segments go as long as the excess covers each whole segment
  (:func:`~simkafka.log.log_config.segments_to_delete_by_size`) --, then ``retention.ms``
  -- the oldest segments whose newest record is older than ``retention.ms``
  (:func:`~simkafka.log.log_config.retention_ms_breached`). A replica's records are
  appended in time order, so newest timestamps grow from segment to segment and the
  breached segments are the oldest ones, the prefix Kafka's ``deletableSegments`` walks.
  An active segment that is breached (or covered by the excess) goes too, after an empty
  active segment is rolled at the log end, as ``UnifiedLog.deleteSegments`` does.
* *Indexes* (:func:`simkafka.sim.storage.offset_index_entries`): an ``.index`` entry (8
  bytes) and a ``.timeindex`` entry (12 bytes) every ``index.interval.bytes`` of batches,
  the first after the interval's first batch; a rolled segment's time index gets its
  final entry (``onBecomeInactiveSegment``). Counted as allocated bytes: the active
  segment's preallocated ``segment.index.bytes`` are a sparse file (the storage model's
  *apparent* size counts them; :meth:`StoragePrediction.allocated_bytes` does not).

Left out: the high watermark (a segment above it is not deletable: the fluid's replicas
are caught up), ``segment.jitter.ms``, ``log.retention.hours``/``minutes`` (the topic's
``retention.ms`` is used), compaction, ``DeleteRecords`` (log-start-offset retention), the
30 s initial delay of Kafka's retention task (checks run at whole multiples of the
interval, as :func:`simkafka.sim.storage.predict` does), and truncation (a follower that
truncates after a leader change keeps its bytes here).
"""

from __future__ import annotations

import math

import numpy as np

from simkafka.sim.storage import OFFSET_INDEX_ENTRY_SIZE, TIME_INDEX_ENTRY_SIZE

__all__ = ["LogSizes"]

_GROW = 1024  # initial rows of the closed-segment table


def _as_array(value: float | np.ndarray, n: int, dtype: type = float) -> np.ndarray:
    array = np.asarray(value, dtype=dtype)
    return np.broadcast_to(array, (n,)).copy() if array.ndim == 0 else array.copy()


class LogSizes:
    """The logs of ``len(broker)`` replicas: sizes on disk, rolls and retention.

    Per replica (scalars broadcast): ``broker`` the index (0 .. ``brokers`` - 1) of the
    broker holding it; ``segment_bytes`` the bytes a segment takes before the next append
    rolls it (``segment.bytes``, or whole batches: see the module docstring);
    ``segment_ms`` (``segment.ms``), ``retention_ms`` (``retention.ms``) in the caller's
    time unit and ``retention_bytes`` (``retention.bytes``), infinite for none;
    ``index_interval_bytes`` (``index.interval.bytes``) and ``batch_bytes`` (the mean batch,
    0 when unknown) for the index entries. ``check_interval`` is
    ``log.retention.check.interval.ms`` in the same time unit as every time given (seconds
    in the engines), used by :meth:`play`.
    """

    def __init__(
        self,
        broker: np.ndarray,
        brokers: int,
        *,
        segment_bytes: float | np.ndarray,
        segment_ms: float | np.ndarray = math.inf,
        retention_ms: float | np.ndarray = math.inf,
        retention_bytes: float | np.ndarray = math.inf,
        index_interval_bytes: float | np.ndarray = 4096,
        batch_bytes: float | np.ndarray = 0.0,
        check_interval: float = 300.0,
    ) -> None:
        self.broker = np.asarray(broker, dtype=np.int64).copy()
        n = self.broker.size
        self.brokers = brokers
        self.capacity = _as_array(segment_bytes, n)
        self.segment_ms = _as_array(segment_ms, n)
        self.retention_ms = _as_array(retention_ms, n)
        self.retention_bytes = _as_array(retention_bytes, n)
        self.index_interval = _as_array(index_interval_bytes, n)
        self.batch_bytes = _as_array(batch_bytes, n)
        if (self.capacity <= 0).any() or (self.segment_ms <= 0).any():
            raise ValueError("segment.bytes and segment.ms must be above 0")
        if not check_interval > 0:
            raise ValueError("log.retention.check.interval.ms must be above 0")
        self.check_interval = check_interval
        self.next_check = check_interval
        # the active segment of each replica: bytes, first and newest record times
        self.active_bytes = np.zeros(n)
        self.active_first = np.full(n, math.nan)
        self.active_newest = np.full(n, math.nan)
        # closed segments: one row each, in the order they closed; deleted rows are dead
        # until the table is compacted
        self._rep = np.zeros(_GROW, dtype=np.int64)
        self._bytes = np.zeros(_GROW)
        self._newest = np.zeros(_GROW)
        self._alive = np.zeros(_GROW, dtype=bool)
        self._rows = 0
        self._dead = 0
        # the table in blocks, one per append that closed segments: where each starts, a
        # lower bound of its rows' newest timestamps and its alive rows -- time retention
        # reads only the blocks old enough to hold a breached segment
        self._block_start = np.zeros(0, dtype=np.int64)
        self._block_oldest = np.zeros(0)
        self._block_alive = np.zeros(0, dtype=np.int64)
        # per replica sums over its alive closed segments
        self.closed_bytes = np.zeros(n)
        self.closed_count = np.zeros(n, dtype=np.int64)
        self._closed_index = np.zeros(n)
        self.deleted_segments = np.zeros(n, dtype=np.int64)
        self.rolls = np.zeros(n, dtype=np.int64)

    @property
    def replicas(self) -> int:
        return self.broker.size

    # ---- appends ------------------------------------------------------------------------

    def append(self, replica_bytes: np.ndarray, t0: float, t1: float) -> None:
        """Each replica's ``replica_bytes`` arrive uniformly over ``[t0, t1)`` (all at ``t0``
        when ``t1 == t0``); segments roll on the way by size and by ``segment.ms``."""
        if t1 < t0:
            raise ValueError(f"an append's span ends before it starts ([{t0}, {t1}))")
        added = np.asarray(replica_bytes, dtype=float)
        idx = np.flatnonzero(added > 0)
        if idx.size == 0:
            return
        b = added[idx]
        span = t1 - t0
        a = self.active_bytes[idx]
        first = self.active_first[idx]
        occupied = a > 0
        started = np.where(occupied, first, t0)
        # the whole append fits when it neither passes the segment's capacity nor arrives
        # later than segment.ms after the segment's first record
        fits = (a + b <= self.capacity[idx]) & (started + self.segment_ms[idx] >= t1)
        stay = idx[fits]
        if stay.size:
            self.active_first[stay] = started[fits]
            self.active_bytes[stay] += b[fits]
            self.active_newest[stay] = t1
        over = ~fits
        if not over.any():
            return
        roll = idx[over]
        b, a, started, occupied = b[over], a[over], started[over], occupied[over]
        cap, seg_ms = self.capacity[roll], self.segment_ms[roll]
        rate = b / span if span > 0 else np.full(roll.size, math.inf)
        # shouldRoll by time is asked when a batch arrives: a segment that waited past
        # segment.ms while nothing came rolls before the first new byte
        late = occupied & (t0 - started > seg_ms)
        by_time = np.maximum(started + seg_ms - t0, 0.0) * rate if span > 0 else np.full(roll.size, math.inf)
        # (at most the append: rounding at the segment.ms edge must not leave negative bytes)
        room = np.minimum(np.where(late, 0.0, np.minimum(cap - a, by_time)), b)

        def at(position: np.ndarray) -> np.ndarray:
            """When the append's ``position``-th byte arrives."""
            return t0 + position / b * span if span > 0 else np.full(position.shape, t0)

        # 1. the active segment closes with what fits of the append
        closing = a + room > 0
        newest = np.where(room > 0, at(room), self.active_newest[roll])
        self._close(roll[closing], (a + room)[closing], newest[closing])
        # 2. the rest fills new segments of `length` bytes each (by size, or what arrives
        # within segment.ms of a segment's first byte), the last staying active
        rest = b - room
        length = np.minimum(cap, seg_ms * rate)
        count = np.maximum(1, np.ceil(rest / length * (1 - 1e-12)).astype(np.int64))
        full = count - 1
        if full.any():
            reps = np.repeat(roll, full)
            # segment j (1 .. full) of each replica ends at room + j * length
            j = np.arange(full.sum()) - np.repeat(np.cumsum(full) - full, full) + 1
            ends = np.repeat(room, full) + j * np.repeat(length, full)
            offsets = np.repeat(np.arange(roll.size), full)
            self._close(reps, np.repeat(length, full), t0 + ends / b[offsets] * span if span > 0 else
                        np.full(reps.size, t0))
        self.rolls[roll] += count - 1 + closing
        start = room + full * length
        self.active_bytes[roll] = rest - full * length
        self.active_first[roll] = at(start)
        self.active_newest[roll] = t1

    def _close(self, reps: np.ndarray, sizes: np.ndarray, newest: np.ndarray) -> None:
        if reps.size == 0:
            return
        need = self._rows + reps.size
        if need > self._rep.size:
            self._compact()
            need = self._rows + reps.size
            if need > self._rep.size:
                grown = max(need, 2 * self._rep.size)
                for name in ("_rep", "_bytes", "_newest", "_alive"):
                    old = getattr(self, name)
                    new = np.zeros(grown, dtype=old.dtype)
                    new[: self._rows] = old[: self._rows]
                    setattr(self, name, new)
        rows = slice(self._rows, need)
        self._rep[rows], self._bytes[rows], self._newest[rows], self._alive[rows] = reps, sizes, newest, True
        self._block_start = np.append(self._block_start, self._rows)
        self._block_oldest = np.append(self._block_oldest, newest.min())
        self._block_alive = np.append(self._block_alive, reps.size)
        self._rows = need
        np.add.at(self.closed_bytes, reps, sizes)
        np.add.at(self.closed_count, reps, 1)
        np.add.at(self._closed_index, reps, self._index_bytes(reps, sizes, closed=True))

    def _compact(self) -> None:
        if self._dead == 0:
            return
        alive = self._alive[: self._rows]
        keep = np.flatnonzero(alive)
        # a block starts where its first row lands: the alive rows before it
        before = np.r_[0, np.cumsum(alive)]
        blocks = self._block_alive > 0
        self._block_start = before[self._block_start[blocks]]
        self._block_oldest = self._block_oldest[blocks]
        self._block_alive = self._block_alive[blocks]
        for name in ("_rep", "_bytes", "_newest", "_alive"):
            array = getattr(self, name)
            array[: keep.size] = array[keep]
            array[keep.size : self._rows] = 0
        self._rows = keep.size
        self._dead = 0

    # ---- retention ----------------------------------------------------------------------

    def retention_check(self, now: float) -> None:
        """``LogManager.cleanupLogs`` at ``now``: ``retention.bytes``, then ``retention.ms``,
        on every replica (``UnifiedLog.deleteOldSegments``)."""
        self._delete_by_size()
        self._delete_by_time(now)

    def _delete_by_size(self) -> None:
        total = self.closed_bytes + self.active_bytes
        # deleteRetentionSizeBreachedSegments: nothing while size < retention.bytes
        over = np.isfinite(self.retention_bytes) & (total >= self.retention_bytes) & (total > 0)
        if not over.any():
            return
        excess = total - self.retention_bytes
        rows = np.flatnonzero(self._alive[: self._rows] & over[self._rep[: self._rows]])
        if rows.size:
            reps = self._rep[rows]
            order = np.argsort(reps, kind="stable")  # each replica's segments, oldest first
            rows, reps = rows[order], reps[order]
            sizes = self._bytes[rows]
            running = np.cumsum(sizes)
            group_start = np.r_[0, np.flatnonzero(np.diff(reps)) + 1]
            before = np.repeat(running[group_start] - sizes[group_start], np.diff(np.r_[group_start, reps.size]))
            # the oldest segments go while the excess covers each of them whole
            self._delete_rows(rows[running - before <= excess[reps]])
        # the active segment too when the excess covers the whole log (retention.bytes 0)
        active = over & (self.active_bytes > 0) & (self.closed_count == 0) & (self.active_bytes <= excess)
        self._delete_active(np.flatnonzero(active))

    def _delete_by_time(self, now: float) -> None:
        limit = self.retention_ms
        shortest = float(limit.min()) if limit.size else math.inf
        # only blocks holding a row older than the shortest retention can hold a breach
        old = np.flatnonzero((self._block_alive > 0) & (now - self._block_oldest > shortest))
        if old.size:
            ends = np.r_[self._block_start[1:], self._rows][old]
            starts = self._block_start[old]
            lengths = ends - starts
            rows = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
            alive = self._alive[rows]
            breached = alive & (now - self._newest[rows] > limit[self._rep[rows]])
            # each scanned block's oldest row still alive after this check
            kept = np.where(alive & ~breached, self._newest[rows], math.inf)
            self._block_oldest[old] = np.minimum.reduceat(kept, np.r_[0, np.cumsum(lengths)[:-1]])
            self._delete_rows(rows[breached])
        # an active segment breached: its older segments were too (times only grow)
        active = (self.active_bytes > 0) & (now - self.active_newest > limit)
        self._delete_active(np.flatnonzero(active))

    def _delete_rows(self, rows: np.ndarray) -> None:
        if rows.size == 0:
            return
        reps, sizes = self._rep[rows], self._bytes[rows]
        self._alive[rows] = False
        self._dead += rows.size
        np.subtract.at(self._block_alive, np.searchsorted(self._block_start, rows, side="right") - 1, 1)
        np.subtract.at(self.closed_bytes, reps, sizes)
        np.subtract.at(self.closed_count, reps, 1)
        np.subtract.at(self._closed_index, reps, self._index_bytes(reps, sizes, closed=True))
        np.add.at(self.deleted_segments, reps, 1)
        # sums of floats that came and went: a replica without segments holds none
        empty = reps[self.closed_count[reps] == 0]
        self.closed_bytes[empty] = 0.0
        self._closed_index[empty] = 0.0
        if self._dead > self._rows // 2:
            self._compact()

    def _delete_active(self, reps: np.ndarray) -> None:
        """``deleteSegments`` with every segment deletable: roll an empty active segment at
        the log end first, then delete the old one."""
        if reps.size == 0:
            return
        self.active_bytes[reps] = 0.0
        self.active_first[reps] = math.nan
        self.active_newest[reps] = math.nan
        self.deleted_segments[reps] += 1
        self.rolls[reps] += 1

    # ---- the engines' entry point -------------------------------------------------------

    def play(self, replica_bytes: np.ndarray, t0: float, t1: float) -> None:
        """Append ``replica_bytes`` uniformly over ``[t0, t1)``, running the retention checks
        due at every multiple of ``check_interval`` in ``(t0, t1]`` in between (a check
        at ``t1`` sees the whole append, as Kafka's sees the appends due at that instant)."""
        added = np.asarray(replica_bytes, dtype=float)
        start = t0
        while self.next_check <= t1:
            tick = self.next_check
            if tick > start:
                share = (tick - start) / (t1 - start)
                part = added * share
                self.append(part, start, tick)
                added = added - part
                start = tick
            self.retention_check(tick)
            self.next_check += self.check_interval
        if t1 > start or (t1 == start and added.any()):
            self.append(added, start, t1)

    # ---- what is on disk ----------------------------------------------------------------

    def _index_bytes(self, reps: np.ndarray, sizes: np.ndarray, *, closed: bool) -> np.ndarray:
        """Allocated ``.index`` + ``.timeindex`` bytes of segments of ``sizes`` bytes:
        an entry every ``p`` batches, ``p = index.interval.bytes // batch + 1``, the first
        after batch ``p`` (``storage.offset_index_entries``); with no batch size, one every
        ``index.interval.bytes``. A closed segment's time index has its roll entry."""
        batch = self.batch_bytes[reps]
        interval = self.index_interval[reps]
        known = batch > 0
        safe = np.where(known, batch, 1.0)
        per_entry = np.where(known, (np.floor(interval / safe) + 1) * safe, np.maximum(interval, 1.0))
        entries = np.floor(np.maximum(sizes - np.where(known, batch, 0.0), 0.0) / per_entry)
        timed = entries
        if closed:
            # storage.time_index_entries: the roll entry, unless the last entry was at the
            # last batch already ((batches - 1) % p == 0)
            batches = np.round(sizes / safe)
            at_last = known & (entries > 0) & (np.mod(batches - 1, np.round(per_entry / safe)) == 0)
            timed = entries + ((sizes > 0) & ~at_last)
        return entries * OFFSET_INDEX_ENTRY_SIZE + timed * TIME_INDEX_ENTRY_SIZE

    @property
    def segments(self) -> np.ndarray:
        """Segments per replica, the active one included (a log always has one)."""
        return self.closed_count + 1

    def log_bytes(self) -> np.ndarray:
        """``.log`` bytes per replica (what ``retention.bytes`` counts)."""
        return self.closed_bytes + self.active_bytes

    def index_bytes(self) -> np.ndarray:
        """Allocated index bytes per replica (see :meth:`_index_bytes`)."""
        active = self._index_bytes(np.arange(self.replicas), self.active_bytes, closed=False)
        return self._closed_index + active

    def bytes_on_disk(self) -> np.ndarray:
        """Bytes on disk per replica: its ``.log`` files and their indexes."""
        return self.log_bytes() + self.index_bytes()

    def broker_bytes(self) -> np.ndarray:
        """Bytes on disk per broker (index 0 .. ``brokers`` - 1)."""
        return np.bincount(self.broker, weights=self.bytes_on_disk(), minlength=self.brokers)

    def closed_segments(self, replica: int) -> list[tuple[float, float]]:
        """``(bytes, newest timestamp)`` of ``replica``'s closed segments, oldest first (for
        tests and reports; not on a hot path)."""
        rows = np.flatnonzero(self._alive[: self._rows] & (self._rep[: self._rows] == replica))
        return [(float(self._bytes[r]), float(self._newest[r])) for r in rows]
