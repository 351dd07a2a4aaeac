"""The simulator's storage model of one partition log: batch-level and fluid, no records.

Given a workload of identical record batches appended at a fixed interval, this predicts
what Kafka's log would hold on disk over time -- log end offset, ``.log`` bytes, segment
count, ``.index`` / ``.timeindex`` entries and bytes, log start offset after retention,
the size after one compaction pass -- and how long the appends take on a disk of given
bandwidth behind a page cache. It never loops over records: a segment's content follows
from how many batches it holds, and the loop runs once per *segment* (roll) or retention
check, so a week of appends costs as much as its number of segments.

Why it can be exact: for fixed-size records every batch has the same size, so

* a record's size is ``DefaultRecord.sizeInBytes``: a length varint, attributes (1),
  ``timestampDelta`` varlong, ``offsetDelta`` varint, key and value length varints (a null
  key is the varint -1, one byte) plus their bytes, the header count varint -- the
  ``offsetDelta`` varint grows at deltas 64 and 8192, so record sizes differ *within* a
  batch (:func:`record_size`);
* a batch is ``RECORD_BATCH_OVERHEAD`` (61 bytes, of which 12 -- ``LOG_OVERHEAD`` -- are
  not counted in ``batchLength``) plus its records (:func:`batch_size`);
* ``LogSegment.shouldRoll`` depends only on the segment's size, its first batch's
  timestamp and its index fill, all functions of the batch count ``m`` in it, so every
  segment between two rolls holds the same number of batches (:func:`batches_per_segment`);
  the roll decision itself is :func:`simkafka.log.log_config.roll_reason`, the rule the
  real engine applies;
* ``LogSegment.append`` adds an index entry when *more than* ``index.interval.bytes`` were
  written since the last one, checked *before* counting the current batch: the first entry
  is at batch ``p = index.interval.bytes // B + 1`` and then every ``p`` batches
  (:func:`offset_index_entries`). A leader appends one produced batch at a time, and for
  one-batch appends Kafka 4.0.0 and 4.1 index alike (they differ for multi-batch appends,
  see :mod:`simkafka.log.segment`), so this holds for either ``cluster.kafka_version``;
* retention is :func:`simkafka.log.log_config.delete_old_segments`, applied at the times
  ``LogManager.cleanupLogs`` runs (every ``log.retention.check.interval.ms``).

What ``simkafka validate`` showed and what was done about it (each is a row or a
time-series column of its table; the fixes are here, in the storage model):

1. *Batch overhead* (model fixed; the producer still approximates). ``sim.accumulator``
   sizes a batch with a flat 8 bytes per record; the exact overhead is 7 bytes for a
   null key, a 1-byte value-length varint and ``offsetDelta < 64``, and grows with the
   value size and the delta (``.log`` bytes -0.87% for 10 x 100-byte records; the table
   shows that row as ``.log bytes (sim.accumulator framing)``). :func:`record_size`
   computes it from the record format.
2. *Index bytes* (model fixed). ``entries * 8`` misses that the active segment's index
   files are preallocated to ``segment.index.bytes`` (rounded down to whole entries) and
   only trimmed on roll (``onBecomeInactiveSegment``) or close: the *apparent* size of a
   one-segment log is 10 MiB + 10 MiB - 4 bytes of index by default, whatever its data;
   the *allocated* size is not, because the preallocation is sparse
   (:meth:`StoragePrediction.allocated_bytes`). The time index also gets a final entry on
   roll when the last batch is newer than its last entry (:func:`time_index_entries`).
3. *Index entries* (model fixed). The first entry is not at ``index.interval.bytes`` but at
   the first batch that *starts* after more than that many bytes (the check precedes the
   byte count): with 1151-byte batches and the default 4096, entries are at batches 4, 8,
   12 ..., i.e. ``(m - 1) // p`` for ``m`` batches, and ``index.interval.bytes=0`` indexes
   every batch but the first.
4. *Retention-induced rolls* (model fixed). When retention deletes every segment,
   ``deleteSegments`` first rolls a new empty active segment at the log end offset, which
   restarts the roll period, so the model steps segment by segment instead of assuming
   ``ceil(batches / per_segment)`` segments.
5. *Append throughput* (calibrated, not fixed). The simulator's broker (``costs.broker.byte_cpu``
   0.25 ns/B, ``costs.broker.request_cpu`` 50 us per request, ``disk_write`` behind a page cache)
   predicts about 1.7-2.5x the engine's MB/s (before the per-request cost was charged per
   batch here it was >100x), and nothing for segment rolls, which flush the old segment.
   ``validate --calibrate`` measures the page-cache and device write rates with
   ``diskbench`` and the engine's cost per append and per roll with a probe;
   :func:`append_seconds` plus ``rolls * per_roll`` then lands within ~20-30% on a local
   disk. A scenario can carry the calibrated ``disk_write``.

Approximations (said so in the comparison table): compression is a ratio applied to the
records section (the codec's real output is not predictable from a ratio alone);
``segment.jitter.ms`` must be 0 (Kafka draws it at random per segment); the index files
of an empty active segment are counted as created, which the engine does eagerly while
Kafka's ``LazyIndex`` creates them on first use; disk bytes are *apparent* sizes -- a
preallocated index is a sparse file whose allocated blocks depend on the file system.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from simkafka.log.log_config import LogConfig, SegmentStats, delete_old_segments, roll_reason

__all__ = [
    "RECORD_BATCH_OVERHEAD",
    "OFFSET_INDEX_ENTRY_SIZE",
    "TIME_INDEX_ENTRY_SIZE",
    "DEFAULT_RETENTION_CHECK_INTERVAL_MS",
    "StorageWorkload",
    "SegmentState",
    "StoragePrediction",
    "size_of_varint",
    "record_size",
    "record_sizes",
    "total_record_size",
    "batch_size",
    "index_interval_batches",
    "offset_index_entries",
    "time_index_entries",
    "batches_per_segment",
    "compacted_bytes",
    "append_seconds",
    "predict",
]

#: ``DefaultRecordBatch.RECORD_BATCH_OVERHEAD``: the v2 batch header.
RECORD_BATCH_OVERHEAD = 61
#: ``OffsetIndex`` entry: relative offset int32 + position int32.
OFFSET_INDEX_ENTRY_SIZE = 8
#: ``TimeIndex`` entry: timestamp int64 + relative offset int32.
TIME_INDEX_ENTRY_SIZE = 12
#: ``log.retention.check.interval.ms`` default (5 minutes).
DEFAULT_RETENTION_CHECK_INTERVAL_MS = 300_000
_INT_MAX = 2**31 - 1


def size_of_varint(value: int) -> int:
    """``ByteUtils.sizeOfVarint`` / ``sizeOfVarlong``: bytes of the zig-zag varint of ``value``."""
    zz = (value << 1) ^ (value >> 63)
    zz &= (1 << 64) - 1
    n = 1
    while zz >= 0x80:
        zz >>= 7
        n += 1
    return n


def record_size(
    offset_delta: int,
    key_bytes: int | None,
    value_bytes: int | None,
    timestamp_delta: int = 0,
    header_count: int = 0,
) -> int:
    """``DefaultRecord.sizeInBytes`` of a record without headers (``header_count`` 0).

    ``key_bytes``/``value_bytes`` ``None`` mean a null key/value (length varint -1).
    """
    body = 1 + size_of_varint(timestamp_delta) + size_of_varint(offset_delta)
    for part in (key_bytes, value_bytes):
        body += 1 if part is None else size_of_varint(part) + part
    body += size_of_varint(header_count)
    if header_count:
        raise ValueError("records with headers are not modelled")
    return size_of_varint(body) + body


def record_sizes(records_per_batch: int, key_bytes: int | None, value_bytes: int) -> list[int]:
    """The size of each record of a batch by its offset delta (timestamp delta 0)."""
    return [record_size(d, key_bytes, value_bytes) for d in range(records_per_batch)]


def total_record_size(records_per_batch: int, key_bytes: int | None, value_bytes: int) -> int:
    """``sum(record_sizes(...))`` in constant time: a record's size depends on its offset
    delta only through the delta's varint length, which changes at 64, 8192, 2**20 and
    2**27 (zig-zag), so the deltas are summed in those ranges. A batch of millions of
    tiny records (a huge ``batch.size``) costs five terms, not a loop over its records."""
    total, lo = 0, 0
    for hi in (64, 8192, 1 << 20, 1 << 27, 1 << 34, 1 << 41, 1 << 48, 1 << 55, 1 << 62):
        if lo >= records_per_batch:
            break
        count = min(hi, records_per_batch) - lo
        total += count * record_size(lo, key_bytes, value_bytes)
        lo = hi
    return total


def batch_size(
    records_per_batch: int,
    key_bytes: int | None,
    value_bytes: int,
    compression_ratio: float = 1.0,
) -> int:
    """Bytes of one v2 batch of fixed-size records (header + records section).

    Uncompressed it is exact; compressed, the records section is scaled by
    ``compression_ratio`` and rounded (an approximation: the codec decides).
    """
    if records_per_batch < 1:
        raise ValueError("records_per_batch must be >= 1")
    section = total_record_size(records_per_batch, key_bytes, value_bytes)
    if compression_ratio != 1.0:
        section = int(round(section * compression_ratio))
    return RECORD_BATCH_OVERHEAD + section


def index_interval_batches(batch_bytes: int, index_interval_bytes: int) -> int:
    """``p``: an index entry is written every ``p`` batches, the first at batch ``p`` (0-based).

    ``LogSegment.append`` tests ``bytesSinceLastIndexEntry > indexIntervalBytes`` *before*
    adding the current batch, so ``p`` is the smallest count with ``p * B > interval``.
    """
    return index_interval_bytes // batch_bytes + 1


def offset_index_entries(batches: int, p: int) -> int:
    """Offset-index entries of a segment holding ``batches`` batches: at batches p, 2p, ..."""
    return (batches - 1) // p if batches > 0 else 0


def time_index_entries(batches: int, p: int, *, increasing: bool, rolled: bool) -> int:
    """Time-index entries of a segment with ``batches`` batches.

    ``TimeIndex.maybeAppend`` runs with each offset-index entry but only adds one when the
    segment's max timestamp grew past the last entry (``increasing``: every batch carries a
    later timestamp than the one before). A rolled segment gets one more from
    ``onBecomeInactiveSegment`` when its max timestamp is newer than its last entry.
    """
    entries = offset_index_entries(batches, p)
    timed = entries if increasing else min(entries, 1)
    if rolled and batches > 0:
        last_entry_is_last_batch = entries > 0 and (batches - 1) % p == 0
        if timed == 0 or (increasing and not last_entry_is_last_batch):
            timed += 1
    return timed


@dataclass(frozen=True)
class StorageWorkload:
    """``batches`` identical batches, one every ``batch_interval_ms`` from ``start_ms``.

    Each batch holds ``records_per_batch`` records of ``value_bytes`` with a key of
    ``key_bytes`` (``None``: null keys) and the batch's append time as timestamp
    (``CreateTime`` stamped by a producer on the broker's clock). With ``key_count``
    records are keyed round-robin: record ``g`` (counted from the first) has key
    ``g % key_count`` -- what a compaction prediction needs to be exact.
    Retention runs every ``retention_check_interval_ms`` (after the appends due at the
    same instant) until ``start_ms + duration_ms``.
    """

    value_bytes: int
    records_per_batch: int
    batches: int
    batch_interval_ms: int = 1
    key_bytes: int | None = None
    key_count: int | None = None
    compression_ratio: float = 1.0
    start_ms: int = 0
    duration_ms: int | None = None
    retention_check_interval_ms: int = DEFAULT_RETENTION_CHECK_INTERVAL_MS

    def __post_init__(self) -> None:
        if self.value_bytes < 0 or self.records_per_batch < 1 or self.batches < 0:
            raise ValueError("value_bytes >= 0, records_per_batch >= 1 and batches >= 0 needed")
        if self.batch_interval_ms < 0 or self.start_ms < 0:
            raise ValueError("batch_interval_ms and start_ms must be >= 0")
        if self.retention_check_interval_ms < 1:
            raise ValueError("retention_check_interval_ms must be >= 1")
        if self.key_count is not None and (self.key_count < 1 or self.key_bytes is None):
            raise ValueError("key_count needs key_bytes and must be >= 1")
        if not 0 < self.compression_ratio <= 1:
            raise ValueError("compression_ratio must be in (0, 1]")
        if self.duration_ms is not None and self.duration_ms < self.last_append_offset_ms:
            raise ValueError("duration_ms must cover every append")

    @property
    def last_append_offset_ms(self) -> int:
        return max(self.batches - 1, 0) * self.batch_interval_ms

    @property
    def end_ms(self) -> int:
        """When the workload ends: the last append, or ``start + duration``."""
        span = self.last_append_offset_ms if self.duration_ms is None else self.duration_ms
        return self.start_ms + span

    @property
    def batch_bytes(self) -> int:
        return batch_size(
            self.records_per_batch, self.key_bytes, self.value_bytes, self.compression_ratio
        )

    @property
    def total_records(self) -> int:
        return self.batches * self.records_per_batch

    @property
    def total_bytes(self) -> int:
        return self.batches * self.batch_bytes

    def append_time(self, j: int) -> int:
        """The time (and timestamp) of batch ``j``."""
        return self.start_ms + j * self.batch_interval_ms

    def retention_check_times(self) -> list[int]:
        """``LogManager.cleanupLogs`` runs, after the start, up to the end."""
        step = self.retention_check_interval_ms
        return list(range(self.start_ms + step, self.end_ms + 1, step))


def batches_per_segment(config: LogConfig, workload: StorageWorkload) -> int:
    """Most batches a segment takes before ``shouldRoll`` fires, from size, index and offsets.

    ``segment.ms`` is not in this number: it depends on when the segment's first batch came
    and is applied while stepping (:func:`predict`). The answer is found by asking
    :func:`~simkafka.log.log_config.roll_reason` -- the engine's own rule -- at the few
    candidate counts where a limit can bind.
    """
    b = workload.batch_bytes
    k = workload.records_per_batch
    p = index_interval_batches(b, config.index_interval_bytes)
    max_offset_entries = config.max_index_size // OFFSET_INDEX_ENTRY_SIZE
    max_time_entries = config.max_index_size // TIME_INDEX_ENTRY_SIZE
    increasing = workload.batch_interval_ms > 0
    # The first batch count m at which the next append rolls, for each limit:
    candidates = [
        config.segment_size // b,  # size: m*B > segment.bytes - B
        max_offset_entries * p + 1,  # offset index full: (m-1)//p >= entries
        (_INT_MAX - (k - 1)) // k + 1,  # relative offset overflow: m*k + k-1 > Int.MAX
    ]
    # time index full: entries >= maxEntries - 1 (one slot kept for the roll entry)
    if increasing:
        candidates.append(max(max_time_entries - 1, 0) * p + 1)
    elif max_time_entries - 1 <= 0:
        candidates.append(0)
    elif max_time_entries - 1 == 1:
        candidates.append(p + 1)
    limit = min(candidates)
    if limit < 1:
        raise ValueError("a segment cannot hold even one batch with this config")
    # Confirm with the shared rule: m = limit - 1 batches take one more, m = limit rolls.
    for m in (limit - 1, limit):
        reason = roll_reason(
            config,
            segment_size=m * b,
            segment_base_offset=0,
            now_ms=0,
            created_ms=0,
            rolling_based_timestamp=0 if m else None,
            max_timestamp_in_messages=0,
            max_offset_in_messages=m * k + k - 1,
            messages_size=b,
            offset_index_full=offset_index_entries(m, p) >= max_offset_entries,
            time_index_full=time_index_entries(m, p, increasing=increasing, rolled=False)
            >= max_time_entries - 1,
        )
        if (reason is None) != (m == limit - 1):
            raise AssertionError(f"roll limit {limit} disagrees with roll_reason at m={m}")
    return limit


@dataclass
class SegmentState:
    """One predicted segment: where it starts, how many batches, its first/last timestamp."""

    base_offset: int
    created_ms: int
    batches: int = 0
    first_timestamp: int = -1
    last_timestamp: int = -1
    rolled: bool = False

    def stats(self, batch_bytes: int) -> SegmentStats:
        return SegmentStats(
            base_offset=self.base_offset,
            size=self.batches * batch_bytes,
            max_timestamp=self.last_timestamp,
            last_modified_ms=self.created_ms,
            first_batch_timestamp=self.first_timestamp,
        )


@dataclass
class StoragePrediction:
    """The predicted log at the end and a time series sampled at every retention check."""

    workload: StorageWorkload
    config: LogConfig
    segments: list[SegmentState]
    log_start_offset: int
    log_end_offset: int
    deleted_segments: int
    rolls: int
    timeline: pd.DataFrame = field(repr=False)

    @property
    def p(self) -> int:
        return index_interval_batches(self.workload.batch_bytes, self.config.index_interval_bytes)

    @property
    def log_bytes(self) -> int:
        return sum(s.batches for s in self.segments) * self.workload.batch_bytes

    @property
    def segment_count(self) -> int:
        return len(self.segments)

    @property
    def offset_index_entries(self) -> int:
        return sum(offset_index_entries(s.batches, self.p) for s in self.segments)

    @property
    def time_index_entries(self) -> int:
        increasing = self.workload.batch_interval_ms > 0
        return sum(
            time_index_entries(s.batches, self.p, increasing=increasing, rolled=s.rolled)
            for s in self.segments
        )

    @property
    def offset_index_bytes(self) -> int:
        """Apparent ``.index`` bytes: trimmed for rolled segments, preallocated for the active one."""
        return _index_bytes(self.segments, self.config, self.p, time=False, increasing=True)

    @property
    def time_index_bytes(self) -> int:
        increasing = self.workload.batch_interval_ms > 0
        return _index_bytes(self.segments, self.config, self.p, time=True, increasing=increasing)

    @property
    def index_bytes(self) -> int:
        return self.offset_index_bytes + self.time_index_bytes

    def allocated_bytes(self, block: int = 4096) -> int:
        """Bytes the file system allocates, if it allocates whole ``block``s on write.

        Preallocated indexes are sparse (``RandomAccessFile.setLength``/``ftruncate``), so
        only the pages holding entries take space; the apparent size overstates the
        disk an idle partition uses by ~20 MiB. Approximate: depends on the file system.
        """
        increasing = self.workload.batch_interval_ms > 0
        p = self.p
        total = 0
        for s in self.segments:
            files = (
                s.batches * self.workload.batch_bytes,
                OFFSET_INDEX_ENTRY_SIZE * offset_index_entries(s.batches, p),
                TIME_INDEX_ENTRY_SIZE
                * time_index_entries(s.batches, p, increasing=increasing, rolled=s.rolled),
            )
            total += sum(-(-size // block) * block for size in files)
        return total

    def compacted_log_bytes(self) -> int:
        """``.log`` bytes after one cleaner pass over everything below the active segment."""
        return compacted_bytes(self.workload, self.segments, self.log_start_offset)


def _index_bytes(
    segments: list[SegmentState], config: LogConfig, p: int, *, time: bool, increasing: bool
) -> int:
    size = TIME_INDEX_ENTRY_SIZE if time else OFFSET_INDEX_ENTRY_SIZE
    total = 0
    for s in segments:
        if not s.rolled:  # createAndAssignMmap preallocates; roundDownToExactMultiple
            total += config.max_index_size // size * size
        elif time:
            total += size * time_index_entries(s.batches, p, increasing=increasing, rolled=True)
        else:
            total += size * offset_index_entries(s.batches, p)
    return total


def compacted_bytes(
    workload: StorageWorkload, segments: list[SegmentState], log_start_offset: int
) -> int:
    """``.log`` bytes after ``LogCleaner`` cleans ``[log start, active segment base)`` once.

    The cleaner's offset map holds the latest offset of each key in the dirty range, and a
    record survives if it is that latest offset (``LogCleaner.shouldRetainRecord``). With
    round-robin keys the survivors are the last ``key_count`` offsets below the active
    segment's base. ``MemoryRecords.filterTo`` rewrites each batch with survivors as a new
    v2 batch keeping the original ``baseOffset`` and ``lastOffsetDelta``
    (``buildRetainedRecordsInto``), so every surviving record keeps its offset delta and
    its size; batches with no survivor and no producer id vanish (``DELETE_EMPTY``). The
    active segment is never cleaned.
    """
    if workload.key_count is None:
        raise ValueError("a compaction prediction needs round-robin keys (key_count)")
    if workload.compression_ratio != 1.0:
        raise ValueError("compaction of compressed batches is not modelled")
    b = workload.batch_bytes
    k = workload.records_per_batch
    active = segments[-1]
    active_bytes = active.batches * b
    end = active.base_offset  # first uncleanable offset
    start = max(log_start_offset, end - workload.key_count)
    if end <= start:
        return active_bytes
    sizes = record_sizes(k, workload.key_bytes, workload.value_bytes)
    first_batch, last_batch = start // k, (end - 1) // k
    total = 0
    if first_batch == last_batch:
        total += RECORD_BATCH_OVERHEAD + sum(sizes[start % k : (end - 1) % k + 1])
    else:
        total += RECORD_BATCH_OVERHEAD + sum(sizes[start % k :])
        total += (last_batch - first_batch - 1) * b
        total += RECORD_BATCH_OVERHEAD + sum(sizes[: (end - 1) % k + 1])
    return total + active_bytes


def append_seconds(
    total_bytes: int,
    *,
    disk_write: float,
    page_cache: float,
    cache_write: float,
    batches: int = 0,
    per_batch_seconds: float = 0.0,
    dirty_ratio: float = 0.2,
) -> float:
    """How long appending ``total_bytes`` takes behind a page cache, as ``sim.broker`` models it.

    Appends go into the page cache at ``cache_write`` bytes/s (the broker's per-byte CPU
    cost, or a measured memory-copy rate); a flusher writes dirty bytes back at
    ``disk_write`` from the start; once more than ``dirty_ratio * page_cache`` is dirty
    (``vm.dirty_ratio``) appends are throttled to the disk's rate. Each batch also costs
    ``per_batch_seconds`` (the broker's ``costs.broker.request_cpu``: one ProduceRequest per batch
    here). Fluid solution: ``T = max(n s + W / c, (W - limit) / d)``.
    """
    if total_bytes <= 0:
        return 0.0
    limit = dirty_ratio * page_cache
    t_cache = batches * per_batch_seconds
    t_cache += total_bytes / cache_write if cache_write > 0 else math.inf
    t_disk = (total_bytes - limit) / disk_write if disk_write > 0 else math.inf
    return max(t_cache, t_disk if total_bytes > limit else 0.0)


def predict(config: LogConfig, workload: StorageWorkload) -> StoragePrediction:
    """Step the log through the workload segment by segment and retention check by check."""
    if config.segment_jitter_ms:
        raise ValueError("segment.jitter.ms is random per segment; the model needs it at 0")
    b = workload.batch_bytes
    if b > config.segment_size:
        raise ValueError(
            f"a batch of {b} bytes exceeds segment.bytes {config.segment_size} "
            "(RecordBatchTooLargeException)"
        )
    k = workload.records_per_batch
    dt = workload.batch_interval_ms
    per_segment = batches_per_segment(config, workload)
    window = config.max_segment_ms  # segment.ms (jitter 0): roll when waited > window
    segments = [SegmentState(0, workload.start_ms)]
    state = {"lso": 0, "leo": 0, "deleted": 0, "rolls": 0, "j": 0}
    rows: list[dict[str, float]] = []

    def roll(now: int) -> None:
        segments[-1].rolled = True
        segments.append(SegmentState(state["leo"], now))
        state["rolls"] += 1

    def append_until(j_end: int) -> None:
        while state["j"] < j_end:
            j = state["j"]
            seg = segments[-1]
            # the segment's first batch fixes rollingBasedTimestamp; later ones join while
            # (t - first) <= segment.ms, with t = start + j' * dt
            first = workload.append_time(j) if seg.batches == 0 else seg.first_timestamp
            if dt == 0:
                take_time = j_end - j if (window >= 0 or seg.batches == 0) else 0
            else:
                last_ok = (first + window - workload.start_ms) // dt
                take_time = max(0, min(j_end, last_ok + 1) - j)
                if seg.batches == 0:
                    take_time = max(take_time, 1)
            take = min(per_segment - seg.batches, take_time, j_end - j)
            if take <= 0:
                roll(workload.append_time(j))
                continue
            if seg.batches == 0:
                seg.first_timestamp = workload.append_time(j)
            seg.batches += take
            seg.last_timestamp = workload.append_time(j + take - 1)
            state["j"] = j + take
            state["leo"] += take * k

    def sample(now: int) -> None:
        prediction = _snapshot()
        rows.append(
            {
                "time_ms": now,
                "log_end_offset": state["leo"],
                "log_start_offset": state["lso"],
                "segments": len(segments),
                "log_bytes": prediction.log_bytes,
                "index_bytes": prediction.index_bytes,
                "offset_index_entries": prediction.offset_index_entries,
                "time_index_entries": prediction.time_index_entries,
                "deleted_segments": state["deleted"],
            }
        )

    def _snapshot() -> StoragePrediction:
        return StoragePrediction(
            workload,
            config,
            segments,
            state["lso"],
            state["leo"],
            state["deleted"],
            state["rolls"],
            pd.DataFrame(),
        )

    for check in workload.retention_check_times():
        due = workload.batches
        if dt > 0:
            due = min(workload.batches, (check - workload.start_ms) // dt + 1)
        append_until(due)
        result = delete_old_segments(
            config,
            [s.stats(b) for s in segments],
            now_ms=check,
            log_start_offset=state["lso"],
            log_end_offset=state["leo"],
            roll_created_ms=check,
        )
        if result.deleted:
            if result.rolled:
                roll(check)
            keep = {s.base_offset for s in result.remaining}
            gone = [s for s in segments if s.base_offset not in keep]
            state["deleted"] += len(gone)
            segments[:] = [s for s in segments if s.base_offset in keep]
        state["lso"] = result.log_start_offset
        sample(check)
    append_until(workload.batches)
    if not rows or rows[-1]["time_ms"] != workload.end_ms:
        sample(workload.end_ms)
    out = _snapshot()
    out.timeline = pd.DataFrame(rows).set_index("time_ms")
    return out
