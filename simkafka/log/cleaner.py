"""Log compaction: Kafka's ``LogCleaner`` / ``Cleaner`` / ``LogCleanerManager`` on our log.

A compacted topic keeps, for every key, at least the record with the latest offset.
Kafka gets there in two passes over the *dirty* section of a log (the offsets since the
last cleaning, ``[firstDirtyOffset, firstUncleanableOffset)``):

1. ``buildOffsetMap`` reads the dirty section and records ``key -> last offset`` in a
   fixed-size :class:`~simkafka.log.offset_map.SkimpyOffsetMap`. If the map fills up
   (``log.cleaner.dedupe.buffer.size`` x ``log.cleaner.io.buffer.load.factor``) it stops
   there, and this round cleans only up to the last offset it mapped.
2. ``cleanSegments`` recopies every segment from the start of the log up to that offset,
   in groups (``groupSegmentsBySize``), into one ``.cleaned`` segment per group, keeping a
   record only if no later record with its key was mapped; then swaps it in
   (``.cleaned`` -> ``.swap`` -> old segments deleted -> final name), which is crash-safe
   because ``LogLoader`` completes or discards a half-done swap on open.

Tombstones (records with a null value) follow KIP-534 (Kafka 3.1+): the first cleaning
that retains a tombstone rewrites its batch with the *delete horizon*
``now + delete.retention.ms`` stored in the batch's base timestamp (attribute bit 6),
and a later cleaning at or after the horizon drops it. Consumers that read the topic from
the start within ``delete.retention.ms`` are guaranteed to see the delete.

Exact (mirrors Kafka's code):
* the offset map's fill rule, ``latestOffset`` updates and partial cleaning when full;
* ``shouldRetainRecord`` (records past the map's latest offset are always kept; records
  *without a key* are dropped and counted as invalid -- Kafka's cleaner does that, it
  does not throw; the leader rejects them at append time, which our append path skips);
* ``MemoryRecords.filterTo``: a batch whose records are all kept and that needs no delete
  horizon is copied byte for byte; otherwise it is rebuilt with the same base offset,
  *last offset* (``overrideLastOffset``: keeps the producer's last sequence), producer
  id/epoch/base sequence, leader epoch, timestamp type and compression codec; records get
  attributes 0 and timestamps relative to the new base timestamp, as ``MemoryRecordsBuilder``
  writes them; empty batches are dropped except (a) the last batch of each active
  idempotent producer, kept as an empty header so the producer's sequence state survives,
  and (b) the batch ending the cleaning round, so its last offset is not lost;
* ``groupSegmentsBySize`` (``segment.bytes``, ``segment.index.bytes`` for both indexes, the
  offset range of a group must fit in an int), and one cleaned segment per group, as in
  Kafka 4.0 and 4.1 (a later Kafka, KAFKA-20036, can split a group into several cleaned
  segments when the output overflows; not modelled);
* ``cleanInto``'s writes: what one read buffer retains is one ``LogSegment.append``, so
  the cleaned segment's index entries follow the log's Kafka release (at most one per
  read buffer in 4.0.0, up to one per batch in 4.1; see ``LogSegment.append``);
* ``LogCleanerManager``: dirty ratio, filthiest log, ``cleaner-offset-checkpoint`` per log
  directory, resetting an out-of-range checkpoint, ``min/max.compaction.lag.ms``, and
  retention for ``compact,delete`` after each run (``deletableLogs``).

Approximated / not modelled:
* transactions: control batches and transactional data batches are kept as they are and
  transactional records are not put in the offset map (we have no transaction index to
  tell aborted from committed data). Kafka removes aborted data and, after the delete
  horizon, markers of empty transactions;
* producer state is derived from the log's batch headers (the last batch of every
  producer id whose last batch is younger than ``producer.id.expiration.ms``) instead
  of Kafka's ``ProducerStateManager`` snapshot;
* message formats v0/v1 (``legacyDeleteHorizonMs``), offset-overflow segment splitting;
* threads, throttling (``log.cleaner.io.max.bytes.per.second``), ``log.cleaner.backoff.ms``,
  abort/pause: the cleaner runs synchronously, one log per :meth:`LogCleaner.run_once`
  (the caller decides when to call it); old segments are deleted at once instead of after
  ``file.delete.delay.ms``; read buffers grow to whatever batch size the segment declares.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from simkafka.log.checkpoints import CLEANER_OFFSET_CHECKPOINT, OffsetCheckpointFile
from simkafka.log.clock import Clock, SystemClock
from simkafka.log.errors import CorruptRecordError, LogError
from simkafka.log.log_config import (
    INT_MAX,
    LogConfig,
    LogToClean,
    SegmentStats,
    cleanable_offsets,
    grab_filthiest_compacted_log,
    log_to_clean,
)
from simkafka.log.offset_map import SkimpyOffsetMap
from simkafka.log.records import (
    ATTRIBUTES_OFFSET,
    CONTROL_FLAG_MASK,
    CRC_OFFSET,
    LAST_OFFSET_DELTA_OFFSET,
    LOG_OVERHEAD,
    MAGIC_VALUE_V2,
    NO_TIMESTAMP,
    RECORD_BATCH_OVERHEAD,
    TIMESTAMP_TYPE_MASK,
    TRANSACTIONAL_FLAG_MASK,
    BatchIterator,
    Record,
    RecordBatch,
    TimestampType,
    build_batch,
    crc32c,
)
from simkafka.log.segment import (
    CLEANED_FILE_SUFFIX,
    INDEX_FILE_SUFFIX,
    LOG_FILE_SUFFIX,
    SWAP_FILE_SUFFIX,
    TIME_INDEX_FILE_SUFFIX,
    LogSegment,
    segment_file,
)
from simkafka.log.unified_log import UnifiedLog, parse_topic_partition_name

__all__ = [
    "CleanerConfig",
    "CleanerStats",
    "Cleaner",
    "LastRecord",
    "LogCleaner",
    "LogCleanerManager",
    "group_segments_by_size",
    "last_records_of_active_producers",
    "replace_segments",
]

_MIB = 1024 * 1024
#: ``producer.id.expiration.ms`` default (1 day): a producer idle that long is forgotten.
PRODUCER_ID_EXPIRATION_MS_DEFAULT = 86_400_000
_HEADER = struct.Struct(">qiibIhiqqqhii")
_KINDS = (LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX)


# -- configuration and statistics ---------------------------------------------------


@dataclass(frozen=True)
class CleanerConfig:
    """The broker's ``log.cleaner.*`` settings (``CleanerConfig``), Kafka's defaults.

    Each cleaner thread gets ``dedupe_buffer_size / num_threads`` bytes of offset map
    (capped at ``Integer.MAX_VALUE``) and fills it to ``dedupe_buffer_load_factor``.
    """

    num_threads: int = 1  # log.cleaner.threads
    dedupe_buffer_size: int = 128 * _MIB  # log.cleaner.dedupe.buffer.size
    dedupe_buffer_load_factor: float = 0.9  # log.cleaner.io.buffer.load.factor
    io_buffer_size: int = 512 * 1024  # log.cleaner.io.buffer.size
    enable_cleaner: bool = True  # log.cleaner.enable
    hash_algorithm: str = "MD5"  # CleanerConfig.hashAlgorithm
    producer_id_expiration_ms: int = PRODUCER_ID_EXPIRATION_MS_DEFAULT

    def __post_init__(self) -> None:
        if self.num_threads < 1:
            raise ValueError("log.cleaner.threads must be >= 1")
        if self.io_buffer_size < 1:
            raise ValueError("log.cleaner.io.buffer.size must be >= 1")

    @property
    def offset_map_memory(self) -> int:
        """Bytes of ``SkimpyOffsetMap`` per cleaner thread."""
        return min(self.dedupe_buffer_size // self.num_threads, INT_MAX)

    @property
    def io_buffer_per_thread(self) -> int:
        """``ioBufferSize / numThreads / 2``: one read and one write buffer per thread."""
        return max(self.io_buffer_size // self.num_threads // 2, 1)


@dataclass
class CleanerStats:
    """``CleanerStats``: what one cleaning read, wrote and how long it took.

    Times come from the clock's monotonic reading; ``elapsed_secs`` covers the whole
    clean, ``elapsed_index_secs`` building the offset map.
    """

    clock: Clock = field(default_factory=SystemClock, repr=False)
    bytes_read: int = 0
    bytes_written: int = 0
    map_bytes_read: int = 0
    map_messages_read: int = 0
    messages_read: int = 0
    invalid_messages_read: int = 0
    messages_written: int = 0
    buffer_utilization: float = 0.0
    log_name: str = ""
    first_dirty_offset: int = -1
    end_offset: int = -1
    start_ns: int = -1
    map_complete_ns: int = -1
    end_ns: int = -1

    def __post_init__(self) -> None:
        if self.start_ns < 0:
            self.start_ns = self.clock.monotonic_ns()

    def read_messages(self, messages: int, size: int) -> None:
        self.messages_read += messages
        self.bytes_read += size

    def invalid_message(self) -> None:
        self.invalid_messages_read += 1

    def recopy_messages(self, messages: int, size: int) -> None:
        self.messages_written += messages
        self.bytes_written += size

    def index_messages_read(self, size: int) -> None:
        self.map_messages_read += size

    def index_bytes_read(self, size: int) -> None:
        self.map_bytes_read += size

    def index_done(self) -> None:
        self.map_complete_ns = self.clock.monotonic_ns()

    def all_done(self) -> None:
        self.end_ns = self.clock.monotonic_ns()

    @property
    def elapsed_secs(self) -> float:
        end = self.end_ns if self.end_ns >= 0 else self.clock.monotonic_ns()
        return (end - self.start_ns) / 1e9

    @property
    def elapsed_index_secs(self) -> float:
        end = self.map_complete_ns if self.map_complete_ns >= 0 else self.clock.monotonic_ns()
        return (end - self.start_ns) / 1e9

    def __repr__(self) -> str:
        """Kafka's ``recordStats`` log message, on one object."""
        mb = 1024 * 1024

        def pct(a: float, b: float) -> float:
            return 100.0 * (1.0 - a / b) if b else 0.0

        return (
            f"CleanerStats(log={self.log_name!r}, dirty section=[{self.first_dirty_offset}, "
            f"{self.end_offset}]: {self.bytes_read / mb:,.3f} MB read "
            f"({self.messages_read} messages) in {self.elapsed_secs:.3f} s, "
            f"indexed {self.map_bytes_read / mb:,.3f} MB ({self.map_messages_read} messages) "
            f"in {self.elapsed_index_secs:.3f} s, buffer utilization "
            f"{100 * self.buffer_utilization:.1f}%, wrote {self.bytes_written / mb:,.3f} MB "
            f"({self.messages_written} messages): {pct(self.bytes_written, self.bytes_read):.1f}% "
            f"size reduction ({pct(self.messages_written, self.messages_read):.1f}% fewer "
            f"messages), {self.invalid_messages_read} invalid)"
        )


# -- producer state (what ProducerStateManager would know) ---------------------------


@dataclass(frozen=True)
class LastRecord:
    """``LastRecord``: a producer's last data offset (None if its last entry is a marker)."""

    last_data_offset: int | None
    producer_epoch: int


def last_records_of_active_producers(
    log: UnifiedLog, now_ms: int, expiration_ms: int = PRODUCER_ID_EXPIRATION_MS_DEFAULT
) -> dict[int, LastRecord]:
    """``UnifiedLog.lastRecordsOfActiveProducers`` rebuilt from batch headers.

    For every producer id: the last offset of its last data batch, or ``None`` when a
    marker of a newer epoch came after it (a bumped epoch clears the batch metadata in
    ``ProducerStateEntry``). Producers whose last batch's max timestamp is
    ``expiration_ms`` or more in the past are expired (``isProducerExpired``) unless
    a transaction of theirs is still open.
    """
    state: dict[int, list[int | None]] = {}  # pid -> [last data offset, epoch, last ts, open]
    for segment in log.segments:
        for _pos, batch in _iter_segment_batches(segment, 0, 64 * 1024):
            h = batch.header()
            if h.producer_id < 0:
                continue
            entry = state.get(h.producer_id)
            is_control = bool(h.attributes & CONTROL_FLAG_MASK)
            if entry is None:
                entry = [None, h.producer_epoch, h.max_timestamp, 0]
                state[h.producer_id] = entry
            if h.producer_epoch != entry[1]:
                entry[0] = None
            if is_control:
                entry[3] = 0
            else:
                entry[0] = h.base_offset + h.last_offset_delta
                if h.attributes & TRANSACTIONAL_FLAG_MASK:
                    entry[3] = 1
            entry[1] = h.producer_epoch
            entry[2] = h.max_timestamp
    out = {}
    for pid, (last_data, epoch, last_ts, open_txn) in state.items():
        if not open_txn and now_ms - int(last_ts) >= expiration_ms:  # type: ignore[arg-type]
            continue
        out[pid] = LastRecord(last_data, int(epoch))  # type: ignore[arg-type]
    return out


# -- reading segments in I/O-buffer chunks -------------------------------------------


def _iter_chunks(
    segment: LogSegment, start_position: int, buffer_size: int
) -> Iterator[tuple[list[tuple[int, RecordBatch]], int]]:
    """Yield ``(batches, valid_bytes)`` per read buffer, as ``FileRecords.readInto`` does.

    A chunk that holds no complete batch is re-read with the batch's declared size
    (``growBuffersOrFail``); a declared size past the end of the file is corruption.
    """
    size = segment.size
    fd = os.open(segment.log_path, os.O_RDONLY)
    try:
        position = start_position
        while position < size:
            chunk = os.pread(fd, min(buffer_size, size - position), position)
            batches = [
                (position + rel, batch)
                for rel, batch in BatchIterator(chunk, file=segment.log_path)
            ]
            if not batches:
                if len(chunk) < LOG_OVERHEAD:
                    raise CorruptRecordError(
                        "truncated batch header", file=segment.log_path, position=position
                    )
                need = LOG_OVERHEAD + struct.unpack_from(">i", chunk, 8)[0]
                if need > size - position:
                    raise CorruptRecordError(
                        f"Log segment may be corrupt, batch size {need} > "
                        f"{size - position} bytes left in segment",
                        file=segment.log_path,
                        position=position,
                    )
                chunk = os.pread(fd, need, position)
                batches = [(position, RecordBatch(chunk, 0))]
            valid = sum(b.size_in_bytes for _p, b in batches)
            yield batches, valid
            position += valid
    finally:
        os.close(fd)


def _iter_segment_batches(
    segment: LogSegment, start_position: int, buffer_size: int
) -> Iterator[tuple[int, RecordBatch]]:
    for batches, _valid in _iter_chunks(segment, start_position, buffer_size):
        yield from batches


# -- building batches the way filterTo writes them ------------------------------------


def _set_last_offset_delta(data: bytes, last_offset_delta: int) -> bytes:
    """``MemoryRecordsBuilder.overrideLastOffset``: patch ``lastOffsetDelta``, redo the CRC."""
    buf = bytearray(data)
    struct.pack_into(">i", buf, LAST_OFFSET_DELTA_OFFSET, last_offset_delta)
    struct.pack_into(">I", buf, CRC_OFFSET, crc32c(memoryview(buf)[ATTRIBUTES_OFFSET:]))
    return bytes(buf)


def _rebuild_batch(batch: RecordBatch, kept: Sequence[Record], delete_horizon_ms: int) -> bytes:
    """``buildRetainedRecordsInto``: the retained records in a new batch like the old one.

    The base timestamp is the delete horizon when one is set (KIP-534), else the first
    retained record's timestamp; each record's delta is relative to it (so it may be
    negative). Under ``LOG_APPEND_TIME`` every record's timestamp is the batch's.
    """
    has_horizon = delete_horizon_ms >= 0
    stamps = [batch.timestamp_of(r) for r in kept]
    base_ts = delete_horizon_ms if has_horizon else stamps[0]
    records = [
        Record(r.offset_delta, ts - base_ts, r.key, r.value, r.headers, 0)
        for r, ts in zip(kept, stamps, strict=True)
    ]
    log_append = batch.timestamp_type == TimestampType.LOG_APPEND_TIME
    data = build_batch(
        records,
        base_offset=batch.base_offset,
        base_timestamp=base_ts,
        compression=batch.compression_type,
        timestamp_type=batch.timestamp_type,
        log_append_time=batch.max_timestamp if log_append else None,
        producer_id=batch.producer_id,
        producer_epoch=batch.producer_epoch,
        base_sequence=batch.base_sequence,
        partition_leader_epoch=batch.partition_leader_epoch,
        is_transactional=batch.is_transactional,
        is_control=batch.is_control_batch,
        has_delete_horizon=has_horizon,
    )
    return _set_last_offset_delta(data, batch.last_offset_delta)


def _empty_batch(batch: RecordBatch) -> bytes:
    """``DefaultRecordBatch.writeEmptyHeader``: a 61-byte batch with no records.

    Keeps base/last offset, producer id/epoch/base sequence, leader epoch, the
    timestamp type and ``maxTimestamp``; no compression, base timestamp -1.
    """
    attrs = batch.attributes & (TIMESTAMP_TYPE_MASK | TRANSACTIONAL_FLAG_MASK | CONTROL_FLAG_MASK)
    after_crc = struct.pack(
        ">hiqqqhii",
        attrs,
        batch.last_offset_delta,
        NO_TIMESTAMP,
        batch.max_timestamp,
        batch.producer_id,
        batch.producer_epoch,
        batch.base_sequence,
        0,
    )
    head = struct.pack(
        ">qiibI",
        batch.base_offset,
        RECORD_BATCH_OVERHEAD - LOG_OVERHEAD,
        batch.partition_leader_epoch,
        MAGIC_VALUE_V2,
        crc32c(after_crc),
    )
    return head + after_crc


# -- segment grouping and swapping ------------------------------------------------------


def _index_sizes(segment: object) -> tuple[int, int]:
    return segment.offset_index.size_in_bytes, segment.time_index.size_in_bytes  # type: ignore[attr-defined]


def group_segments_by_size(
    segments: Sequence[LogSegment],
    max_size: int,
    max_index_size: int,
    first_uncleanable_offset: int,
) -> list[list[LogSegment]]:
    """``Cleaner.groupSegmentsBySize``: consecutive segments that fit one cleaned segment.

    A group grows while the summed ``.log`` sizes stay ``<= segment.bytes``, each summed
    index size stays ``<= segment.index.bytes``, and the group's offsets fit an int
    relative to its base -- estimated with the *next* segment's base offset (or
    ``first_uncleanable_offset`` for the last one) so no segment has to be scanned; an
    empty segment skips that check.
    """
    grouped: list[list[LogSegment]] = []
    rest = list(segments)
    while rest:
        group = [rest[0]]
        log_size = rest[0].size
        index_size, time_index_size = _index_sizes(rest[0])
        rest = rest[1:]
        while rest:
            nxt = rest[0]
            nxt_index, nxt_time = _index_sizes(nxt)
            last_offset = rest[1].base_offset - 1 if len(rest) > 1 else first_uncleanable_offset - 1
            if not (
                log_size + nxt.size <= max_size
                and index_size + nxt_index <= max_index_size
                and time_index_size + nxt_time <= max_index_size
                and (nxt.size == 0 or last_offset - group[-1].base_offset <= INT_MAX)
            ):
                break
            group.append(nxt)
            log_size += nxt.size
            index_size += nxt_index
            time_index_size += nxt_time
            rest = rest[1:]
        grouped.append(group)
    return grouped


def _open_segment(log: UnifiedLog, base_offset: int, suffix: str = "") -> LogSegment:
    """``LogSegment.open`` with the log's config and no roll jitter (``createNewCleanedSegment``).

    Not ``UnifiedLog._new_segment``: that would draw from the log's jitter stream.
    """
    return LogSegment(
        log.dir,
        base_offset,
        clock=log.clock,
        index_interval_bytes=log.config.index_interval_bytes,
        max_index_size=log.config.max_index_size,
        suffix=suffix,
        index_entry_per_batch=log.config.kafka_behaviour.index_entry_per_batch,
    )


def _rename_suffix(dir: str, base_offset: int, old: str, new: str) -> None:
    for kind in _KINDS:
        src = segment_file(dir, base_offset, kind, old)
        if os.path.exists(src):
            os.replace(src, segment_file(dir, base_offset, kind, new))


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


FaultHook = Callable[[str], None]


def replace_segments(
    log: UnifiedLog,
    cleaned: LogSegment,
    old_segments: Sequence[LogSegment],
    fault: FaultHook | None = None,
) -> LogSegment:
    """``UnifiedLog.replaceSegments`` / ``LocalLog.replaceSegments`` for one cleaned segment.

    ``cleaned`` has been written and flushed under the ``.cleaned`` suffix. The swap is
    done in Kafka's crash-safe order, with a directory fsync after each rename phase:

    1. rename ``.cleaned`` -> ``.swap`` (from here on, ``LogLoader`` will *complete* the
       swap after a crash: it deletes the segments the swap covers and renames it);
    2. delete each old segment (rename to ``.deleted``, then unlink);
    3. rename ``.swap`` -> final name and put the new segment in the log's segment map.

    A crash before step 1 leaves ``.cleaned`` files, which ``LogLoader`` deletes: the log
    is as before the cleaning. ``fault`` (tests) is called with the name of each stage.
    Lives here, on top of ``UnifiedLog``'s segment-map helpers, rather than in
    ``unified_log.py``. Returns the new segment, opened under its final name.
    """
    hook = fault or (lambda _stage: None)
    base = cleaned.base_offset
    cleaned.close()
    _rename_suffix(log.dir, base, CLEANED_FILE_SUFFIX, SWAP_FILE_SUFFIX)
    _fsync_dir(log.dir)
    hook("swap")
    # Old segments already gone (retention ran meanwhile) are skipped, as in Kafka.
    live = {s.base_offset: s for s in log.segments}
    for i, old in enumerate(sorted(old_segments, key=lambda s: s.base_offset)):
        if live.get(old.base_offset) is not old:
            continue
        log._remove_segment(old)
        old.delete()
        hook(f"delete:{i}")
    _rename_suffix(log.dir, base, SWAP_FILE_SUFFIX, "")
    _fsync_dir(log.dir)
    hook("rename")
    segment = _open_segment(log, base)
    log._add_segment(segment)
    return segment


# -- the cleaner ----------------------------------------------------------------------


def _segments_in_range(log: UnifiedLog, start: int, end: int) -> list[LogSegment]:
    """``logSegments(from, to)``: from the segment holding ``start`` to base ``< end``."""
    if start >= end:
        return []
    segments = log.segments
    first = 0
    for i, seg in enumerate(segments):
        if seg.base_offset <= start:
            first = i
        else:
            break
    return [s for s in segments[first:] if s.base_offset < end]


class Cleaner:
    """Kafka's ``Cleaner``: one cleaner thread's dedupe map, buffers and the algorithm.

    ``offset_map`` is reused across cleanings (cleared each time). ``fault`` is a test
    hook called with a stage name before each step that changes files, so a crash can
    be injected at any point of a cleaning.
    """

    def __init__(
        self,
        offset_map: SkimpyOffsetMap,
        *,
        dup_buffer_load_factor: float = 0.9,
        io_buffer_size: int = 256 * 1024,
        clock: Clock | None = None,
        producer_id_expiration_ms: int = PRODUCER_ID_EXPIRATION_MS_DEFAULT,
        fault: FaultHook | None = None,
    ) -> None:
        if offset_map.slots * dup_buffer_load_factor <= 1:
            raise ValueError(
                "offset map is too small to fit in even a single message, so log cleaning "
                "will never make progress. You can increase log.cleaner.dedupe.buffer.size "
                "or decrease log.cleaner.threads"
            )
        self.offset_map = offset_map
        self.dup_buffer_load_factor = dup_buffer_load_factor
        self.io_buffer_size = io_buffer_size
        self.clock = clock if clock is not None else SystemClock()
        self.producer_id_expiration_ms = producer_id_expiration_ms
        self._fault = fault or (lambda _stage: None)

    # -- doClean --------------------------------------------------------------------
    def clean(
        self,
        log: UnifiedLog,
        first_dirty_offset: int,
        first_uncleanable_offset: int,
        now_ms: int | None = None,
    ) -> tuple[int, CleanerStats]:
        """``Cleaner.doClean``: returns (first offset not cleaned, stats).

        ``first_uncleanable_offset`` is ``LogToClean.firstUncleanableOffset`` (a segment
        base offset, at most the active segment's). The returned offset is the offset
        map's latest offset + 1: what ``cleaner-offset-checkpoint`` records.
        """
        now = self.clock.now_ms() if now_ms is None else now_ms
        stats = CleanerStats(self.clock, log_name=log.name, first_dirty_offset=first_dirty_offset)
        self.build_offset_map(log, first_dirty_offset, first_uncleanable_offset, stats)
        end_offset = self.offset_map.latest_offset + 1
        stats.index_done()
        producers = last_records_of_active_producers(log, now, self.producer_id_expiration_ms)
        groups = group_segments_by_size(
            _segments_in_range(log, 0, end_offset),
            log.config.segment_size,
            log.config.max_index_size,
            first_uncleanable_offset,
        )
        for group in groups:
            self.clean_segments(
                log, group, now, stats, first_uncleanable_offset, producers=producers
            )
        stats.buffer_utilization = self.offset_map.utilization
        stats.end_offset = end_offset
        stats.all_done()
        return end_offset, stats

    # -- buildOffsetMap ---------------------------------------------------------------
    def build_offset_map(self, log: UnifiedLog, start: int, end: int, stats: CleanerStats) -> bool:
        """``buildOffsetMap``: map ``key -> last offset`` over ``[start, end)``; True if full.

        Each segment is read from the index position of ``start``. The map takes keys
        until ``size`` reaches ``slots * load factor``; then it stops *before* the record
        that did not fit, and ``latest_offset`` is the last batch fully mapped. After a
        whole segment ``latest_offset`` jumps to the next segment's base - 1, covering
        offset gaps left by earlier cleanings.
        """
        om = self.offset_map
        om.clear()
        dirty = _segments_in_range(log, start, end)
        max_desired = int(om.slots * self.dup_buffer_load_factor)
        for i, segment in enumerate(dirty):
            next_start = dirty[i + 1].base_offset if i + 1 < len(dirty) else end
            position = segment.offset_index.lookup(start).position
            for batches, valid in _iter_chunks(segment, position, self.io_buffer_size):
                for _pos, batch in batches:
                    if batch.is_control_batch:
                        stats.index_messages_read(1)
                    elif batch.is_transactional:
                        # Not modelled: transactional data stays as it is (module docs).
                        stats.index_messages_read(batch.records_count)
                    else:
                        base = batch.base_offset
                        for record in batch.records():
                            offset = base + record.offset_delta
                            if record.key is not None and offset >= start:
                                if om.size < max_desired:
                                    om.put(record.key, offset)
                                else:
                                    return True
                            stats.index_messages_read(1)
                    if batch.last_offset >= start:
                        om.update_latest_offset(batch.last_offset)
                stats.index_bytes_read(valid)
            om.update_latest_offset(next_start - 1)
        return False

    # -- cleanSegments / cleanInto ------------------------------------------------------
    def clean_segments(
        self,
        log: UnifiedLog,
        segments: Sequence[LogSegment],
        now_ms: int,
        stats: CleanerStats,
        upper_bound_offset_of_cleaning_round: int,
        *,
        producers: dict[int, LastRecord] | None = None,
    ) -> LogSegment:
        """``cleanSegments``: recopy a group into one ``.cleaned`` segment and swap it in."""
        if producers is None:
            producers = last_records_of_active_producers(
                log, now_ms, self.producer_id_expiration_ms
            )
        base = segments[0].base_offset
        for kind in _KINDS:  # createNewCleanedSegment: drop leftovers of an earlier attempt
            stale = segment_file(log.dir, base, kind, CLEANED_FILE_SUFFIX)
            if os.path.exists(stale):
                os.remove(stale)
        cleaned = _open_segment(log, base, CLEANED_FILE_SUFFIX)
        try:
            for segment in segments:
                self._clean_into(
                    segment,
                    cleaned,
                    log.config,
                    now_ms,
                    stats,
                    upper_bound_offset_of_cleaning_round,
                    producers,
                )
                self._fault("clean-into")
            cleaned.on_become_inactive_segment()
            cleaned.flush()
            cleaned.set_last_modified(segments[-1].last_modified())
            self._fault("cleaned")
        except BaseException:
            cleaned.close()
            raise
        return replace_segments(log, cleaned, segments, self._fault)

    def _clean_into(
        self,
        source: LogSegment,
        dest: LogSegment,
        config: LogConfig,
        now_ms: int,
        stats: CleanerStats,
        upper_bound: int,
        producers: dict[int, LastRecord],
    ) -> None:
        """``cleanInto`` + ``MemoryRecords.filterTo`` with the cleaner's ``RecordFilter``.

        What one read buffer retains goes to ``dest`` in one ``LogSegment.append``, as
        Kafka's ``cleanInto`` writes it; how many index entries that adds is the log's
        Kafka release's rule (one at most in 4.0.0, up to one per batch in 4.1).
        """
        om = self.offset_map
        latest = om.latest_offset
        delete_retention_ms = config.delete_retention_ms
        for batches, _valid in _iter_chunks(source, 0, self.io_buffer_size):
            retained: list[tuple[bytes, int]] = []  # (batch, its last offset): the output buffer
            for _pos, batch in batches:
                h = batch.header()
                size = LOG_OVERHEAD + h.batch_length
                if h.attributes & (CONTROL_FLAG_MASK | TRANSACTIONAL_FLAG_MASK):
                    # Not modelled: transactional data and markers are kept as they are.
                    stats.read_messages(h.records_count, size)
                    stats.recopy_messages(h.records_count, size)
                    retained.append((batch.to_bytes(), h.base_offset + h.last_offset_delta))
                    continue
                last_offset = h.base_offset + h.last_offset_delta
                # checkBatchRetention: the producer's last batch, or the round's last batch,
                # survives even when every record goes (BatchRetention.RETAIN_EMPTY).
                retain_empty = False
                if h.producer_id >= 0:
                    last = producers.get(h.producer_id)
                    if last is not None and last.last_data_offset == last_offset:
                        retain_empty = True
                if last_offset + 1 == upper_bound:
                    retain_empty = True
                # shouldRetainRecord, per record
                kept: list[Record] = []
                all_kept = True
                tombstones = False
                horizon = h.base_timestamp if batch.has_delete_horizon else None
                retain_deletes = horizon is None or now_ms < horizon
                n = 0
                for record in batch.records():
                    n += 1
                    offset = h.base_offset + record.offset_delta
                    if offset > latest:
                        keep = True
                    elif record.key is None:
                        stats.invalid_message()
                        keep = False
                    else:
                        keep = offset >= om.get(record.key) and (
                            record.value is not None or retain_deletes
                        )
                    if keep:
                        kept.append(record)
                        if record.value is None:
                            tombstones = True
                    else:
                        all_kept = False
                stats.read_messages(n, size)
                if kept:
                    need_horizon = tombstones and horizon is None
                    if all_kept and not need_horizon:
                        out = batch.to_bytes()
                    else:
                        new_horizon = (
                            now_ms + delete_retention_ms
                            if need_horizon
                            else (horizon if horizon is not None else NO_TIMESTAMP)
                        )
                        out = _rebuild_batch(batch, kept, new_horizon)
                    stats.recopy_messages(len(kept), len(out))
                    retained.append((out, last_offset))
                elif retain_empty:
                    out = _empty_batch(batch)
                    stats.recopy_messages(0, len(out))
                    retained.append((out, last_offset))
            if retained:
                self._append(dest, retained)

    @staticmethod
    def _append(dest: LogSegment, retained: list[tuple[bytes, int]]) -> None:
        """``dest.append`` of one read buffer's retained batches, with ``FilterResult``'s
        ``maxOffset``, ``maxTimestamp`` and ``shallowOffsetOfMaxTimestamp`` (the last
        offset of the first batch carrying the largest timestamp)."""
        max_offset, max_ts, shallow_offset = -1, NO_TIMESTAMP, -1  # FilterResult's start
        for data, last_offset in retained:
            batch_max_ts = struct.unpack_from(">q", data, 35)[0]
            if batch_max_ts > max_ts:
                max_ts, shallow_offset = batch_max_ts, last_offset
            max_offset = max(max_offset, last_offset)
        records = retained[0][0] if len(retained) == 1 else b"".join(d for d, _o in retained)
        dest.append(max_offset, max_ts, shallow_offset, records)


# -- LogCleanerManager-lite and LogCleaner ----------------------------------------------


def _segment_stats(log: UnifiedLog) -> list[SegmentStats]:
    out = []
    for s in log.segments:
        first = s.rolling_based_timestamp
        out.append(
            SegmentStats(
                base_offset=s.base_offset,
                size=s.size,
                max_timestamp=s.max_timestamp_so_far,
                last_modified_ms=s.last_modified(),
                first_batch_timestamp=first if first is not None else NO_TIMESTAMP,
            )
        )
    return out


class LogCleanerManager:
    """The bookkeeping half of Kafka's ``LogCleanerManager``, without threads or locks.

    Keeps one ``cleaner-offset-checkpoint`` per log directory (the parent of the
    ``<topic>-<partition>`` directories) and the set of partitions marked uncleanable
    after a failed cleaning. The cleanable range is ``UnifiedLog``'s last stable offset,
    which without transactions is the high watermark: callers advance it, as
    replication would.
    """

    def __init__(self) -> None:
        self.uncleanable: set[tuple[str, int]] = set()

    @staticmethod
    def topic_partition(log: UnifiedLog) -> tuple[str, int]:
        return parse_topic_partition_name(log.dir)

    @staticmethod
    def checkpoint_file(log: UnifiedLog) -> OffsetCheckpointFile:
        parent = os.path.dirname(os.path.normpath(log.dir))
        return OffsetCheckpointFile(os.path.join(parent, CLEANER_OFFSET_CHECKPOINT))

    def last_clean_offset(self, log: UnifiedLog) -> int | None:
        cp = self.checkpoint_file(log)
        if not os.path.exists(cp.path):
            return None
        return cp.read().get(self.topic_partition(log))

    def update_checkpoint(self, log: UnifiedLog, offset: int) -> None:
        """``updateCheckpoints``: set this partition's entry, keep the others."""
        cp = self.checkpoint_file(log)
        entries = cp.read() if os.path.exists(cp.path) else {}
        entries[self.topic_partition(log)] = offset
        cp.write(entries)

    def log_to_clean(self, log: UnifiedLog, now_ms: int) -> LogToClean:
        """The ``LogToClean`` of one log; resets an out-of-range checkpoint on disk.

        ``cleanableOffsets`` falls back to the log start offset when the checkpoint lies
        below it or past the log end, and ``grabFilthiestCompactedLog`` then rewrites the
        checkpoint (``forceUpdateCheckpoint``).
        """
        segments = _segment_stats(log)
        last_clean = self.last_clean_offset(log)
        kw = {
            "log_start_offset": log.log_start_offset,
            "log_end_offset": log.log_end_offset,
            "last_stable_offset": log.high_watermark,
            "last_clean_offset": last_clean,
            "now_ms": now_ms,
        }
        offsets = cleanable_offsets(
            segments, min_compaction_lag_ms=log.config.min_compaction_lag_ms, **kw
        )
        if offsets.force_update_checkpoint:
            self.update_checkpoint(log, offsets.first_dirty_offset)
        return log_to_clean(log.config, segments, **kw)

    def grab_filthiest_compacted_log(
        self, logs: Iterable[UnifiedLog], now_ms: int
    ) -> tuple[UnifiedLog, LogToClean] | None:
        """``grabFilthiestCompactedLog``: the compacted log with the highest dirty ratio
        above its ``min.cleanable.dirty.ratio`` (or past ``max.compaction.lag.ms``)."""
        candidates = []
        for log in logs:
            if not log.config.compact or self.topic_partition(log) in self.uncleanable:
                continue
            candidates.append((log, log.config, self.log_to_clean(log, now_ms)))
        return grab_filthiest_compacted_log(candidates)


class LogCleaner:
    """Kafka's ``LogCleaner`` run synchronously: :meth:`run_once` is one ``doWork`` pass.

    Each pass picks the filthiest compacted log, cleans it, checkpoints how far it got,
    then applies retention to every compacted log (``deletableLogs``: ``compact,delete``
    topics get time/size retention, ``compact`` only the log-start-offset rule).
    """

    def __init__(
        self,
        config: CleanerConfig | None = None,
        clock: Clock | None = None,
        *,
        fault: FaultHook | None = None,
    ) -> None:
        self.config = config if config is not None else CleanerConfig()
        self.clock = clock if clock is not None else SystemClock()
        self.manager = LogCleanerManager()
        self.cleaner = Cleaner(
            SkimpyOffsetMap(self.config.offset_map_memory, self.config.hash_algorithm),
            dup_buffer_load_factor=self.config.dedupe_buffer_load_factor,
            io_buffer_size=self.config.io_buffer_per_thread,
            clock=self.clock,
            producer_id_expiration_ms=self.config.producer_id_expiration_ms,
            fault=fault,
        )
        #: The stats of the last cleaning (``lastStats``).
        self.last_stats: CleanerStats | None = None

    def run_once(
        self, logs: Iterable[UnifiedLog], now_ms: int | None = None
    ) -> CleanerStats | None:
        """Clean the filthiest log if any is due; returns its stats, else None.

        A cleaning that fails with a :class:`LogError` marks the partition uncleanable
        (``markPartitionUncleanable``) so later passes skip it, as Kafka does.
        """
        if not self.config.enable_cleaner:
            return None
        now = self.clock.now_ms() if now_ms is None else now_ms
        logs = list(logs)
        result: CleanerStats | None = None
        chosen = self.manager.grab_filthiest_compacted_log(logs, now)
        if chosen is not None:
            log, ltc = chosen
            try:
                end, stats = self.cleaner.clean(
                    log, ltc.first_dirty_offset, ltc.first_uncleanable_offset, now
                )
            except LogError:
                self.manager.uncleanable.add(self.manager.topic_partition(log))
            else:
                self.manager.update_checkpoint(log, end)  # doneCleaning
                self.last_stats = result = stats
        for log in logs:
            if (
                log.config.compact
                and self.manager.topic_partition(log) not in self.manager.uncleanable
            ):
                log.delete_old_segments(now)
        return result
