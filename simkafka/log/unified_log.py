"""The log of one partition directory: Kafka's ``UnifiedLog`` + ``LocalLog`` + ``LogLoader``.

A ``<topic>-<partition>`` directory holds segments named by base offset. This module
appends to the last (active) segment, rolls to a new one by ``segment.bytes`` /
``segment.ms`` / a full index, flushes by ``flush.messages`` / ``flush.ms`` (advancing
the *recovery point*), reads bounded by the high watermark or the log end offset,
deletes whole segments by ``retention.ms`` / ``retention.bytes`` (advancing the *log
start offset*), and on open recovers whatever was not flushed.

Offsets and checkpoints: as in Kafka, the recovery point and the log start offset are
*inputs* to the log (``LogManager`` reads them from the log directory's
``recovery-point-offset-checkpoint`` and ``log-start-offset-checkpoint`` files, one file
per log directory for all partitions, and passes them in). We keep Kafka's layout:
:meth:`UnifiedLog.load` reads this partition's entries from the files in the parent
directory and :meth:`UnifiedLog.checkpoint_offsets` updates them (other partitions'
entries are kept), so several logs can share a log directory as on a broker. Without a
checkpoint the whole log is re-validated on open -- what Kafka does when the file is
missing -- which is always safe, only slower. The leader-epoch cache lives in the
partition directory (``leader-epoch-checkpoint``), as in Kafka.

Kafka validations that need per-record work are *skipped* on the append path, which is
batch-level only (the point of the in-place path): per-record timestamp bounds
(``message.timestamp.before/after.max.ms``) are checked on the batch's first and max
timestamps instead of every record; the header's ``maxTimestamp`` is trusted where
``assignOffsetsNonCompressed`` recomputes it from the records; keys are not checked for
compacted topics; and compressed batches are neither decompressed nor recompressed (as
if the topic's ``compression.type`` were ``producer`` and the batch honest). Everything that Kafka checks at batch level is kept: CRC, sizes,
``max.message.bytes``, ``baseOffset == 0`` from clients, one batch per produce request,
record count vs offset range, no client control batches, idempotent sequence.

The append has two routes with one outcome. A produce request's buffer (one v2 batch
from a client) is validated and appended in one pass over a single ``struct`` unpack of
its header (:meth:`UnifiedLog._append_one_from_client`); anything that pass does not
accept -- an error to report, a roll, several batches, a follower append -- goes through
the general ``analyzeAndValidateRecords`` / ``LogValidator`` / ``maybeRoll`` route,
which raises Kafka's errors in Kafka's order. A property test checks that both routes
leave byte-identical logs.

On the one-pass route a batch of ``OVERLAPPED_CRC_MIN_BYTES`` or more has its CRC
checked on a worker thread *while* it is written (``LogSegment.append(...,
unchecked_crc=...)``), which takes the CRC off the critical path of a 1 MiB append.
Kafka checks before it writes; the observable order is kept because nothing that makes
bytes visible -- segment size, indexes, log end offset, high watermark, epoch cache --
moves until the CRC matched, a mismatch cuts the file back, and a crash before the cut
leaves an unflushed tail that recovery CRC-scans and truncates like any torn write.

The Kafka release is the ``LogConfig``'s (``kafka_release``, 4.1 unless told otherwise);
where 4.0 and 4.1 differ -- ``segment.bytes``' minimum, how an append of several
batches is indexed -- the log follows it (see :mod:`simkafka.log.log_config` and
:meth:`simkafka.log.segment.LogSegment.append`).

Not modelled: transactions (LSO, aborted-transaction index), producer state, tiered
storage (``ListOffsets`` answers as with ``remote.storage.enable=false``), the asynchronous scheduler (rolls flush the old segment inline, and deleted
segments are removed at once after their rename to ``.deleted``, instead of after
``file.delete.delay.ms``).
"""

from __future__ import annotations

import hashlib
import os
import random
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from crc32c import crc32c as _crc32c

from simkafka.log.checkpoints import (
    LOG_START_OFFSET_CHECKPOINT,
    RECOVERY_POINT_OFFSET_CHECKPOINT,
    LeaderEpochCheckpointFile,
    OffsetCheckpointFile,
)
from simkafka.log.clock import Clock, SystemClock
from simkafka.log.epoch_cache import LeaderEpochFileCache
from simkafka.log.errors import (
    CorruptIndexError,
    InvalidOffsetError,
    InvalidRecordError,
    LogError,
    RecordBatchTooLargeError,
    RecordTooLargeError,
)
from simkafka.log.log_config import (
    LogConfig,
    SegmentStats,
    random_segment_jitter,
    roll_reason,
    segments_to_delete_by_log_start_offset,
    segments_to_delete_by_size,
    segments_to_delete_by_time,
    should_flush_on_append,
    should_flush_on_schedule,
)
from simkafka.log.records import (
    ATTRIBUTES_OFFSET,
    CONTROL_FLAG_MASK,
    LOG_OVERHEAD,
    MAGIC_VALUE_V2,
    NO_PARTITION_LEADER_EPOCH,
    NO_TIMESTAMP,
    OVERLAPPED_CRC_MIN_BYTES,
    RECORD_BATCH_OVERHEAD,
    TIMESTAMP_TYPE_MASK,
    BatchHeader,
    BatchIterator,
    RecordBatch,
    TimestampType,
    ensure_valid_header,
    set_base_offset_and_leader_epoch,
    unpack_header,
)
from simkafka.log.segment import (
    CLEANED_FILE_SUFFIX,
    DELETED_FILE_SUFFIX,
    INDEX_FILE_SUFFIX,
    LOG_FILE_SUFFIX,
    SWAP_FILE_SUFFIX,
    TIME_INDEX_FILE_SUFFIX,
    FetchDataInfo,
    LogOffsetMetadata,
    LogSegment,
    TimestampAndOffset,
    segment_file,
)

__all__ = [
    "EARLIEST_LOCAL_TIMESTAMP",
    "EARLIEST_TIMESTAMP",
    "LATEST_TIERED_TIMESTAMP",
    "LATEST_TIMESTAMP",
    "MAX_TIMESTAMP",
    "AppendOrigin",
    "FetchIsolation",
    "LogAppendInfo",
    "OffsetOutOfRangeError",
    "OffsetsOutOfOrderError",
    "RecoveryEvent",
    "UnexpectedAppendOffsetError",
    "UnifiedLog",
]

#: ``ListOffsetsRequest.LATEST_TIMESTAMP`` / ``EARLIEST_TIMESTAMP``.
LATEST_TIMESTAMP = -1
EARLIEST_TIMESTAMP = -2
#: KIP-734 / KIP-405 / KIP-1005 ``ListOffsetsRequest`` sentinels.
MAX_TIMESTAMP = -3
EARLIEST_LOCAL_TIMESTAMP = -4
LATEST_TIERED_TIMESTAMP = -5
_LONG_MAX = (1 << 63) - 1
# DefaultRecordBatch's 61-byte header, all 13 fields (see simkafka.log.records), unpacked
# by _append_one_from_client into plain locals.
_unpack_batch_header = struct.Struct(">qiibIhiqqqhii").unpack_from
# baseOffset, batchLength, partitionLeaderEpoch (bytes 0-15, outside the CRC): the
# one-pass append rewrites offset and epoch in one call, batchLength with its own value.
_pack_base_length_epoch = struct.Struct(">qii").pack_into
_REWRITTEN_HEAD_SIZE = 16


class OffsetOutOfRangeError(LogError):
    """A fetch or log-start move outside ``[log_start_offset, log_end_offset]`` (``OffsetOutOfRangeException``)."""


class UnexpectedAppendOffsetError(LogError):
    """A follower append that starts below the log end offset (``UnexpectedAppendOffsetException``)."""


class OffsetsOutOfOrderError(LogError):
    """A follower append whose batches' offsets do not increase (``OffsetsOutOfOrderException``)."""


class AppendOrigin(Enum):
    """``AppendOrigin``: who is appending decides which checks apply."""

    CLIENT = "client"
    REPLICATION = "replication"
    COORDINATOR = "coordinator"


class FetchIsolation(Enum):
    """``FetchIsolation``: how far a read may go (``TXN_COMMITTED`` is not modelled)."""

    LOG_END = "log_end"  # follower fetches
    HIGH_WATERMARK = "high_watermark"  # consumer fetches


@dataclass(frozen=True)
class RecoveryEvent:
    """What ``LogLoader`` did to one segment on open (Kafka logs these as WARN lines).

    ``kind`` is ``"truncated"`` (corrupt or torn tail cut at ``position``),
    ``"deleted"`` (a later segment dropped after a truncation), ``"emptied"`` or
    ``"index rebuilt"``; ``file`` is the segment's ``.log`` file.
    """

    kind: str
    file: str
    position: int
    detail: str


@dataclass(slots=True)
class LogAppendInfo:
    """``LogAppendInfo``: what an append did (offsets are -1 when nothing was appended)."""

    first_offset: int
    last_offset: int
    max_timestamp: int
    shallow_offset_of_max_timestamp: int
    log_append_time: int
    log_start_offset: int
    shallow_count: int
    valid_bytes: int
    offsets_monotonic: bool
    last_leader_epoch: int
    records_count: int


class UnifiedLog:
    """One partition's log on disk (Kafka's ``UnifiedLog`` over ``LocalLog``).

    ``log_start_offset`` and ``recovery_point`` are what Kafka's ``LogManager`` would
    read from the log directory's checkpoint files; ``had_clean_shutdown`` stands for
    the ``.kafka_cleanshutdown`` marker (skip recovery). ``config`` is the topic's
    :class:`~simkafka.log.log_config.LogConfig` (Kafka's defaults when omitted);
    ``jitter_rng`` draws each new segment's ``segment.jitter.ms`` jitter (a named random
    stream; by default one seeded from the directory name).
    """

    def __init__(
        self,
        dir: str,
        config: LogConfig | None = None,
        clock: Clock | None = None,
        *,
        log_start_offset: int = 0,
        recovery_point: int = 0,
        had_clean_shutdown: bool = False,
        leader_epoch_cache: LeaderEpochFileCache | None = None,
        persist_leader_epochs: bool = True,
        jitter_rng: random.Random | None = None,
    ) -> None:
        self.dir = os.fspath(dir)
        self.name = os.path.basename(os.path.normpath(self.dir))
        self.config = config if config is not None else LogConfig()
        self._jitter_rng = jitter_rng
        #: Which ``shouldRoll`` clause caused the latest roll (``RollReason`` label).
        self.last_roll_reason: str | None = None
        self.clock = clock if clock is not None else SystemClock()
        self._segments: list[LogSegment] = []
        self._bases: list[int] = []
        #: What recovery on open did, segment by segment (empty after a clean load).
        self.recovery_report: list[RecoveryEvent] = []
        os.makedirs(self.dir, exist_ok=True)
        if leader_epoch_cache is None and persist_leader_epochs:
            # UnifiedLog.initializeLeaderEpochCache: <partition dir>/leader-epoch-checkpoint
            leader_epoch_cache = LeaderEpochFileCache(
                LeaderEpochCheckpointFile.in_directory(self.dir)
            )
        self.leader_epoch_cache = leader_epoch_cache
        loaded_start, self._recovery_point, self._log_end_offset = _LogLoader(
            self, log_start_offset, recovery_point, had_clean_shutdown
        ).load()
        self._last_flush_time = self.clock.now_ms()
        self._log_start_offset = loaded_start
        self._high_watermark = loaded_start
        self._update_log_start_offset(loaded_start)
        if self.leader_epoch_cache is not None:
            self.leader_epoch_cache.truncate_from_end(self._log_end_offset)
            self.leader_epoch_cache.truncate_from_start(loaded_start)

    # -- LogManager's part: the log directory's checkpoint files -----------------------
    @classmethod
    def load(
        cls, dir: str, config: LogConfig | None = None, clock: Clock | None = None, **kw: object
    ) -> UnifiedLog:
        """``LogManager.loadLog`` for one partition directory.

        Kafka keeps one ``recovery-point-offset-checkpoint`` and one
        ``log-start-offset-checkpoint`` per *log directory* (the parent of the
        ``<topic>-<partition>`` directories), each holding every partition's offset, and
        a ``.kafka_cleanshutdown`` marker there after a clean shutdown. This reads this
        partition's entries (0 when absent, as Kafka) and opens the log with them.
        """
        parent = os.path.dirname(os.path.normpath(os.fspath(dir)))
        tp = parse_topic_partition_name(dir)
        recovery = _read_checkpoint(os.path.join(parent, RECOVERY_POINT_OFFSET_CHECKPOINT))
        starts = _read_checkpoint(os.path.join(parent, LOG_START_OFFSET_CHECKPOINT))
        clean = os.path.exists(os.path.join(parent, CLEAN_SHUTDOWN_FILE))
        return cls(
            dir,
            config,
            clock,
            log_start_offset=starts.get(tp, 0),
            recovery_point=recovery.get(tp, 0),
            had_clean_shutdown=clean,
            **kw,  # type: ignore[arg-type]
        )

    def checkpoint_offsets(self) -> None:
        """``LogManager.checkpointRecoveryOffsetsAndCleanSnapshot`` + ``checkpointLogStartOffsets``.

        Writes this partition's recovery point (and its log start offset when it is
        above the first segment's base, as Kafka filters) into the log directory's
        checkpoint files, keeping the other partitions' entries. Kafka runs this every
        ``log.flush.offset.checkpoint.interval.ms`` / ``log.flush.start.offset.
        checkpoint.interval.ms``; between runs the files lag, which is safe (recovery
        just starts earlier).
        """
        parent = os.path.dirname(os.path.normpath(self.dir))
        tp = parse_topic_partition_name(self.dir)
        for name, value in (
            (RECOVERY_POINT_OFFSET_CHECKPOINT, self._recovery_point),
            (LOG_START_OFFSET_CHECKPOINT, self._log_start_offset),
        ):
            path = os.path.join(parent, name)
            entries = _read_checkpoint(path)
            if name == LOG_START_OFFSET_CHECKPOINT and value <= self._bases[0]:
                entries.pop(tp, None)
            else:
                entries[tp] = value
            OffsetCheckpointFile(path).write(entries)

    # -- configuration helpers ---------------------------------------------------------
    @property
    def config(self) -> LogConfig:
        """The topic's :class:`~simkafka.log.log_config.LogConfig` (Kafka's ``config``)."""
        return self._config

    @config.setter
    def config(self, config: LogConfig) -> None:
        # The append path reads these on every call; LogConfig is frozen, so deriving
        # them once per config (Kafka's LogConfig computes them in its constructor too)
        # cannot go stale.
        self._config = config
        self._log_append_time = config.message_timestamp_type == "LogAppendTime"
        self._max_message_bytes = config.max_message_bytes
        self._segment_size = config.segment_size
        self._max_segment_ms = config.max_segment_ms
        # No LogAppendTime rewrite and no timestamp bounds: the one-pass client append
        # applies (see _append_one_from_client).
        self._simple_timestamps = (
            not self._log_append_time
            and config.message_timestamp_before_max_ms == _LONG_MAX
            and config.message_timestamp_after_max_ms == _LONG_MAX
        )

    def update_config(self, config: LogConfig) -> LogConfig:
        """``updateConfig``: take a new topic config (dynamic config change); returns the old."""
        old = self._config
        self.config = config
        return old

    def _new_segment(self, base_offset: int, suffix: str = "") -> LogSegment:
        return LogSegment(
            self.dir,
            base_offset,
            clock=self.clock,
            index_interval_bytes=self.config.index_interval_bytes,
            max_index_size=self.config.max_index_size,
            roll_jitter_ms=self._roll_jitter(),
            suffix=suffix,
            index_entry_per_batch=self.config.kafka_behaviour.index_entry_per_batch,
        )

    # -- segment map (LogSegments) -------------------------------------------------------
    def _add_segment(self, segment: LogSegment) -> None:
        import bisect

        i = bisect.bisect_left(self._bases, segment.base_offset)
        if i < len(self._bases) and self._bases[i] == segment.base_offset:
            self._segments[i] = segment
        else:
            self._bases.insert(i, segment.base_offset)
            self._segments.insert(i, segment)

    def _remove_segment(self, segment: LogSegment) -> None:
        i = self._bases.index(segment.base_offset)
        del self._bases[i]
        del self._segments[i]

    def _floor_index(self, offset: int) -> int:
        import bisect

        return bisect.bisect_right(self._bases, offset) - 1

    def _segments_from(self, from_offset: int, to_offset: int) -> list[LogSegment]:
        """``LogSegments.values(from, to)``: from the segment *containing* ``from`` to ``to`` (excl.)."""
        if from_offset >= to_offset:
            return []
        start = max(self._floor_index(from_offset), 0)
        return [s for s in self._segments[start:] if s.base_offset < to_offset]

    @property
    def segments(self) -> list[LogSegment]:
        """The segments in offset order (a copy)."""
        return list(self._segments)

    @property
    def active_segment(self) -> LogSegment:
        return self._segments[-1]

    # -- offsets -----------------------------------------------------------------------
    @property
    def log_start_offset(self) -> int:
        return self._log_start_offset

    @property
    def log_end_offset(self) -> int:
        return self._log_end_offset

    @property
    def recovery_point(self) -> int:
        """Offsets below this are flushed; recovery re-validates from its segment on."""
        return self._recovery_point

    @property
    def last_flush_time(self) -> int:
        return self._last_flush_time

    @property
    def unflushed_messages(self) -> int:
        """``LocalLog.unflushedMessages``: ``log_end_offset - recovery_point``."""
        return self._log_end_offset - self._recovery_point

    @property
    def size(self) -> int:
        """Bytes in all segments (``UnifiedLog.size``)."""
        return sum(s.size for s in self._segments)

    @property
    def high_watermark(self) -> int:
        return self._high_watermark

    @high_watermark.setter
    def high_watermark(self, value: int) -> None:
        self.update_high_watermark(value)

    def update_high_watermark(self, hw: int) -> int:
        """``updateHighWatermark``: clamp to ``[log_start_offset, log_end_offset]``."""
        if hw < self._log_start_offset:
            hw = self._log_start_offset
        elif hw >= self._log_end_offset:
            hw = self._log_end_offset
        self._high_watermark = hw
        return hw

    def _update_high_watermark_with_log_end_offset(self) -> None:
        if self._high_watermark >= self._log_end_offset:
            self._high_watermark = self._log_end_offset

    def _update_log_start_offset(self, offset: int) -> None:
        self._log_start_offset = offset
        if self._high_watermark < offset:
            self.update_high_watermark(offset)
        if self._recovery_point < offset:
            self._recovery_point = offset

    def _update_log_end_offset(self, offset: int) -> None:
        self._log_end_offset = offset
        if self._recovery_point > offset:
            self._recovery_point = offset

    def maybe_assign_epoch_start_offset(self, leader_epoch: int, start_offset: int) -> None:
        """``maybeAssignEpochStartOffset``: record a new leader epoch (on becoming leader)."""
        if self.leader_epoch_cache is not None:
            _maybe_assign_epoch(self.leader_epoch_cache, leader_epoch, start_offset)

    def maybe_increment_log_start_offset(self, new_log_start_offset: int) -> None:
        """``maybeIncrementLogStartOffset`` (DeleteRecords, retention): never past the HW."""
        if new_log_start_offset > self._high_watermark:
            raise OffsetOutOfRangeError(
                f"Cannot increment the log start offset to {new_log_start_offset} of "
                f"partition {self.name} since it is larger than the high watermark "
                f"{self._high_watermark}"
            )
        if new_log_start_offset > self._log_start_offset:
            self._update_log_start_offset(new_log_start_offset)
            if self.leader_epoch_cache is not None:
                self.leader_epoch_cache.truncate_from_start(new_log_start_offset)

    # -- append ------------------------------------------------------------------------
    def append_as_leader(
        self,
        records: bytes | bytearray | memoryview,
        leader_epoch: int,
        origin: AppendOrigin = AppendOrigin.CLIENT,
    ) -> LogAppendInfo:
        """``appendAsLeader``: validate, assign offsets and the leader epoch, append.

        Offsets are assigned by rewriting the batch's ``baseOffset`` (and
        ``partitionLeaderEpoch``) in place -- both lie outside the CRC -- so the batch is
        written without re-encoding (``LogValidator.assignOffsetsNonCompressed``'s effect,
        minus its per-record loop). A ``bytearray`` argument is rewritten in place, as
        Kafka rewrites the request buffer. An immutable ``bytes`` batch is left as it is:
        its rewritten first bytes are written from a small copy, the rest straight from
        the caller's object (no copy of the batch).
        """
        if origin is AppendOrigin.CLIENT:
            kind = type(records)
            if kind is bytearray or kind is bytes:
                info = self._append_one_from_client(records, leader_epoch)  # type: ignore[arg-type]
                if info is not None:
                    return info
        return self._append(records, origin, True, leader_epoch, ignore_record_size=False)

    def _append_one_from_client(
        self, buf: bytes | bytearray, leader_epoch: int
    ) -> LogAppendInfo | None:
        """The common produce append, decided in one pass; ``None`` hands over to :meth:`_append`.

        A produce request carries one uncompressed-or-compressed v2 batch per partition
        in a buffer the broker may rewrite. When that batch passes every check of
        :meth:`_analyze_and_validate` and :meth:`_validate_and_assign_offsets` (read
        here from one ``struct`` call), needs no roll, and the topic has neither
        ``LogAppendTime`` nor timestamp bounds, this does exactly what :meth:`_append`
        would -- same offsets, epoch rewrite, epoch-cache update, segment append, log end
        offset, high watermark, flush rule and :class:`LogAppendInfo` -- without its
        general machinery. Anything else (an error to report, a roll, several batches,
        a torn tail) returns ``None`` *before* changing any state, and :meth:`_append`
        then does the whole append, raising Kafka's error in Kafka's order. The two
        paths are checked against each other in ``tests/log/test_unified_log.py``.

        A ``bytearray`` is rewritten in place; for ``bytes`` the 16 rewritten bytes
        (``baseOffset`` .. ``partitionLeaderEpoch``) go into a small ``head`` that the
        segment writes in front of the rest of the caller's buffer.
        """
        n = len(buf)
        if n < RECORD_BATCH_OVERHEAD or not self._simple_timestamps:
            return None
        (
            base,
            length,
            _epoch,
            magic,
            crc,
            attributes,
            last_delta,
            _base_ts,
            max_ts,
            producer_id,
            _producer_epoch,
            base_sequence,
            count,
        ) = _unpack_batch_header(buf, 0)
        if (
            length + LOG_OVERHEAD != n  # not exactly one whole batch
            or magic != MAGIC_VALUE_V2
            or base != 0  # clients send baseOffset 0
            or n > self._max_message_bytes
            or n > self._segment_size
            or count <= 0
            or count != last_delta + 1
            or attributes & (CONTROL_FLAG_MASK | TIMESTAMP_TYPE_MASK)
            or (producer_id >= 0 and base_sequence < 0)
        ):
            return None
        # ensureValid's CRC: a large batch's is checked while it is written (below).
        overlap = n >= OVERLAPPED_CRC_MIN_BYTES
        if not overlap and _crc32c(memoryview(buf)[ATTRIBUTES_OFFSET:]) != crc:
            return None
        now = self.clock.now_ms()
        segment = self._segments[-1]
        first = self._log_end_offset
        last = first + last_delta
        if self._needs_roll(segment, n, max_ts, last, now):
            return None
        cache = self.leader_epoch_cache
        if overlap:
            # Write first, validate meanwhile, accept after. The caller's buffer stays
            # untouched until the CRC is known good (the rewritten 16 bytes go out from
            # a copy), so a rejected batch leaves buffer, file and log as they were and
            # _append then raises CorruptRecordError exactly as for a small batch.
            head = bytearray(_REWRITTEN_HEAD_SIZE)
            _pack_base_length_epoch(head, 0, first, length, leader_epoch)
            if not segment.append(last, max_ts, last, buf, head=head, unchecked_crc=crc):
                return None
            if type(buf) is bytearray:
                buf[:_REWRITTEN_HEAD_SIZE] = head  # Kafka rewrites the request buffer
            if cache is not None:
                _maybe_assign_epoch_fast(cache, leader_epoch, first)
            return self._after_one_from_client(first, last, max_ts, n, leader_epoch, count)
        if type(buf) is bytearray:
            head = None
            _pack_base_length_epoch(buf, 0, first, length, leader_epoch)
        else:
            head = bytearray(_REWRITTEN_HEAD_SIZE)
            _pack_base_length_epoch(head, 0, first, length, leader_epoch)
        if cache is not None:
            _maybe_assign_epoch_fast(cache, leader_epoch, first)
        segment.append(last, max_ts, last, buf, head=head)
        return self._after_one_from_client(first, last, max_ts, n, leader_epoch, count)

    def _after_one_from_client(
        self, first: int, last: int, max_ts: int, n: int, leader_epoch: int, count: int
    ) -> LogAppendInfo:
        """The one-pass append's bookkeeping once the batch is in the segment."""
        self._update_log_end_offset(last + 1)
        self._update_high_watermark_with_log_end_offset()
        info = LogAppendInfo(  # the fields _append would fill in, in declaration order
            first,  # first_offset
            last,  # last_offset
            max_ts,  # max_timestamp
            last,  # shallow_offset_of_max_timestamp
            NO_TIMESTAMP,  # log_append_time
            self._log_start_offset,  # log_start_offset
            1,  # shallow_count
            n,  # valid_bytes
            True,  # offsets_monotonic
            leader_epoch,  # last_leader_epoch
            count,  # records_count
        )
        if should_flush_on_append(self._config, self._log_end_offset - self._recovery_point):
            self.flush()
        return info

    def append_as_follower(self, records: bytes | bytearray | memoryview) -> LogAppendInfo:
        """``appendAsFollower``: keep the leader's offsets; they must not go backwards."""
        return self._append(records, AppendOrigin.REPLICATION, False, -1, ignore_record_size=True)

    def _analyze_and_validate(
        self,
        buf: bytearray,
        origin: AppendOrigin,
        ignore_record_size: bool,
    ) -> tuple[LogAppendInfo, list[tuple[int, BatchHeader]]]:
        """``analyzeAndValidateRecords``: batch headers and CRCs only.

        Returns the info and each valid batch's ``(position, header)``, unpacked once
        here and reused by offset assignment. A buffer that is exactly one whole v2
        batch -- the shape of every produce request, which carries one batch per
        partition -- skips :class:`BatchIterator`: for it the iterator would yield that
        batch and stop cleanly, so the checks below see the same thing either way.
        Batches are validated as they are walked, so a bad CRC in an earlier batch is
        reported before a corrupt header in a later one, as in Kafka.
        """
        max_bytes = self._max_message_bytes
        first_offset = -1
        last_offset = -1
        last_epoch = -1
        monotonic = True
        max_ts = NO_TIMESTAMP
        offset_of_max_ts = -1
        valid = 0
        count = 0
        headers: list[tuple[int, BatchHeader]] = []
        name = self.name
        client = origin is AppendOrigin.CLIENT
        n = len(buf)
        walk: Iterable[tuple[int, BatchHeader]] | None = None
        if n >= RECORD_BATCH_OVERHEAD:
            h = unpack_header(buf, 0)
            if h.batch_length + LOG_OVERHEAD == n and h.magic == MAGIC_VALUE_V2:
                walk = ((0, h),)
        if walk is None:
            walk = ((pos, batch.header()) for pos, batch in BatchIterator(buf, file=name))
        for pos, h in walk:
            if client and h.base_offset != 0:
                raise InvalidRecordError(
                    f"The baseOffset of the record batch in the append to {name} should "
                    f"be 0, but it is {h.base_offset}"
                )
            if not headers:
                first_offset = h.base_offset
            batch_last = h.base_offset + h.last_offset_delta
            if last_offset >= batch_last:
                monotonic = False
            last_offset = batch_last
            last_epoch = h.partition_leader_epoch
            size = h.batch_length + LOG_OVERHEAD
            if not ignore_record_size and size > max_bytes:
                raise RecordTooLargeError(
                    f"The record batch size in the append to {name} is {size} bytes which "
                    f"exceeds the maximum configured value of {max_bytes}."
                )
            ensure_valid_header(buf, pos, h, file=name)
            if h.max_timestamp > max_ts:
                max_ts = h.max_timestamp
                offset_of_max_ts = batch_last
            valid += size
            count += h.records_count
            headers.append((pos, h))
        info = LogAppendInfo(  # positional: a keyword call costs twice as much
            first_offset,  # first_offset
            last_offset,  # last_offset
            max_ts,  # max_timestamp
            offset_of_max_ts,  # shallow_offset_of_max_timestamp
            NO_TIMESTAMP,  # log_append_time
            self._log_start_offset,  # log_start_offset
            len(headers),  # shallow_count
            valid,  # valid_bytes
            monotonic,  # offsets_monotonic
            last_epoch,  # last_leader_epoch
            count,  # records_count
        )
        return info, headers

    def _validate_and_assign_offsets(
        self,
        buf: bytearray,
        headers: list[tuple[int, BatchHeader]],
        info: LogAppendInfo,
        leader_epoch: int,
        origin: AppendOrigin,
        now: int,
    ) -> None:
        """``LogValidator`` for the in-place path, at batch level (see the module docstring)."""
        if len(headers) > 1:
            # getFirstBatchAndMaybeValidateNoMoreBatches: a v2 produce request carries one
            # batch per partition.
            raise InvalidRecordError("Compressed outer record has more than one batch")
        pos, h = headers[0]
        if origin is AppendOrigin.CLIENT:
            count = h.records_count
            count_from_offsets = h.last_offset_delta + 1
            last = h.base_offset + h.last_offset_delta
            if count_from_offsets <= 0:
                raise InvalidRecordError(
                    f"Batch has an invalid offset range: [{h.base_offset}, "
                    f"{last}] in topic partition {self.name}"
                )
            if count <= 0:
                raise InvalidRecordError(
                    f"Invalid reported count for record batch: {count} in topic partition {self.name}"
                )
            if count_from_offsets != count:
                raise InvalidRecordError(
                    f"Inconsistent batch offset range [{h.base_offset}, {last}] "
                    f"and count of records {count} in topic partition {self.name}"
                )
            if h.attributes & CONTROL_FLAG_MASK:
                raise InvalidRecordError(
                    f"Clients are not allowed to write control records in topic partition {self.name}"
                )
            if h.producer_id >= 0 and h.base_sequence < 0:
                raise InvalidRecordError(
                    f"Invalid sequence number {h.base_sequence} in record batch with "
                    f"producerId {h.producer_id} in topic partition {self.name}"
                )
        log_append_time = self._log_append_time
        if not log_append_time:
            if h.attributes & TIMESTAMP_TYPE_MASK:
                raise InvalidRecordError(
                    "Invalid timestamp type in message. Producer should not set timestamp type "
                    "to LogAppendTime."
                )
            before = self._config.message_timestamp_before_max_ms
            after = self._config.message_timestamp_after_max_ms
            if before < _LONG_MAX or after < _LONG_MAX:
                for ts in (h.base_timestamp, h.max_timestamp):
                    if ts != NO_TIMESTAMP and (now - ts > before or ts - now > after):
                        raise InvalidRecordError(
                            f"Timestamp {ts} of message is out of range. The timestamp should "
                            f"be within [{now - before}, {now + after}]"
                        )
        first = self._log_end_offset
        # Both fields lie outside the CRC: rewrite them in the request buffer.
        set_base_offset_and_leader_epoch(buf, pos, first, leader_epoch)
        info.first_offset = first
        info.last_offset = first + h.last_offset_delta
        info.shallow_offset_of_max_timestamp = info.last_offset
        if log_append_time:
            RecordBatch(buf, pos).set_max_timestamp(TimestampType.LOG_APPEND_TIME, now)
            info.max_timestamp = now
            info.log_append_time = now
        else:
            info.max_timestamp = h.max_timestamp
        info.last_leader_epoch = leader_epoch

    def _append(
        self,
        records: bytes | bytearray | memoryview,
        origin: AppendOrigin,
        assign_offsets: bool,
        leader_epoch: int,
        *,
        ignore_record_size: bool,
    ) -> LogAppendInfo:
        buf = records if isinstance(records, bytearray) else bytearray(records)
        info, headers = self._analyze_and_validate(buf, origin, ignore_record_size)
        valid_bytes = info.valid_bytes
        if valid_bytes <= 0:
            return info
        # trimInvalidBytes: drop a partial tail (no view needed when there is none).
        valid = buf if valid_bytes == len(buf) else memoryview(buf)[:valid_bytes]
        # One clock reading per append, used by validation and the roll check alike.
        now = self.clock.now_ms()
        cache = self.leader_epoch_cache
        if assign_offsets:
            self._validate_and_assign_offsets(buf, headers, info, leader_epoch, origin, now)
            if cache is not None:
                _maybe_assign_epoch_fast(cache, leader_epoch, info.first_offset)
        else:
            if not info.offsets_monotonic:
                raise OffsetsOutOfOrderError(f"Out of order offsets found in append to {self.name}")
            if info.first_offset < self._log_end_offset:
                raise UnexpectedAppendOffsetError(
                    f"Unexpected offset in append to {self.name}. First offset "
                    f"{info.first_offset} is less than the next offset {self._log_end_offset}. "
                    f"Log start offset = {self._log_start_offset}"
                )
            if cache is not None:
                for _pos, h in headers:
                    _maybe_assign_epoch_fast(cache, h.partition_leader_epoch, h.base_offset)
        segment_bytes = self._segment_size
        if valid_bytes > segment_bytes:
            raise RecordBatchTooLargeError(
                f"Message batch size is {valid_bytes} bytes in append to partition "
                f"{self.name}, which exceeds the maximum configured segment size of {segment_bytes}."
            )
        segment = self._maybe_roll(valid_bytes, info, now)
        segment.append(
            info.last_offset, info.max_timestamp, info.shallow_offset_of_max_timestamp, valid
        )
        self._update_log_end_offset(info.last_offset + 1)
        self._update_high_watermark_with_log_end_offset()
        info.log_start_offset = self._log_start_offset
        if should_flush_on_append(self._config, self._log_end_offset - self._recovery_point):
            self.flush()
        return info

    # -- roll --------------------------------------------------------------------------
    def _maybe_roll(
        self, messages_size: int, info: LogAppendInfo, now: int | None = None
    ) -> LogSegment:
        """``maybeRoll``: roll when the active segment is full, old or its index full.

        The decision is :func:`~simkafka.log.log_config.roll_reason`, the pure rule the
        simulator uses too; the roll offset is the append's first offset. Its clauses
        are tested here first, cheapest first, as one short-circuiting expression, so
        the common no-roll append does not pay for its keyword-argument call; the
        expression is exactly their disjunction, so ``roll_reason`` is consulted (for
        the reason) precisely when one of them holds.
        """
        segment = self._segments[-1]
        if now is None:
            now = self.clock.now_ms()
        if not self._needs_roll(segment, messages_size, info.max_timestamp, info.last_offset, now):
            return segment
        size = segment.size
        reason = roll_reason(
            self._config,
            segment_size=size,
            segment_base_offset=segment.base_offset,
            now_ms=now,
            created_ms=segment.created,
            rolling_based_timestamp=segment.rolling_based_timestamp,
            max_timestamp_in_messages=info.max_timestamp,
            max_offset_in_messages=info.last_offset,
            messages_size=messages_size,
            offset_index_full=segment.offset_index.is_full,
            time_index_full=segment.time_index.is_full,
            roll_jitter_ms=segment.roll_jitter_ms,
        )
        if reason is not None:
            self.last_roll_reason = reason
            return self.roll(info.first_offset)
        return segment

    def _needs_roll(
        self,
        segment: LogSegment,
        messages_size: int,
        max_timestamp: int,
        last_offset: int,
        now: int,
    ) -> bool:
        """Whether any clause of :func:`~simkafka.log.log_config.roll_reason` holds.

        ``LogSegment.shouldRoll`` with ``maybeRoll``'s ``RollParams`` -- exactly the
        disjunction of those clauses, without ``roll_reason``'s keyword-argument call,
        so ``roll_reason`` is consulted (for the reason) precisely when this is true.
        """
        return segment.should_roll_for(
            self._segment_size, self._max_segment_ms, messages_size, max_timestamp, last_offset, now
        )

    def _roll_jitter(self) -> int:
        """``LogConfig.randomSegmentJitter`` for a new segment (0 unless ``segment.jitter.ms``)."""
        if self.config.segment_jitter_ms == 0:
            return 0
        if self._jitter_rng is None:
            seed = int.from_bytes(hashlib.sha256(self.dir.encode()).digest()[:8], "big")
            self._jitter_rng = random.Random(seed)
        return random_segment_jitter(self.config, self._jitter_rng)

    def roll(self, expected_next_offset: int | None = None) -> LogSegment:
        """``UnifiedLog.roll``/``LocalLog.roll``: start a new active segment.

        The new base offset is ``max(expected_next_offset, log_end_offset)``. The old
        active segment gets its final time-index entry and trimmed indexes, then is
        flushed up to the new base (Kafka schedules that flush; we run it inline).
        """
        new_offset = max(expected_next_offset or 0, self._log_end_offset)
        active = self.active_segment if self._segments else None
        if new_offset in self._bases:
            if active is not None and active.base_offset == new_offset and active.size == 0:
                # KAFKA-6388: an empty active segment at the same offset is recreated.
                self._remove_segment(active)
                active.delete()
            else:
                raise LogError(
                    f"Trying to roll a new log segment for topic partition {self.name} with "
                    f"start offset {new_offset} =max(provided offset = {expected_next_offset}, "
                    f"LEO = {self._log_end_offset}) while it already exists."
                )
        elif active is not None and new_offset < active.base_offset:
            raise LogError(
                f"Trying to roll a new log segment for topic partition {self.name} with start "
                f"offset {new_offset} lower than start offset of the active segment {active}"
            )
        else:
            for kind in (LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX):
                path = segment_file(self.dir, new_offset, kind)
                if os.path.exists(path):
                    # "Newly rolled segment file ... already exists; deleting it first"
                    os.remove(path)
            if active is not None:
                active.on_become_inactive_segment()
        new_segment = self._new_segment(new_offset)
        self._add_segment(new_segment)
        self._update_high_watermark_with_log_end_offset()
        self.flush(new_segment.base_offset)
        return new_segment

    # -- flush -------------------------------------------------------------------------
    def flush(self, offset: int | None = None) -> None:
        """``flush(offset)``: fsync segments holding offsets below ``offset`` (default LEO).

        The recovery point becomes ``offset``: after a crash, recovery starts from the
        segment containing it, and everything below survives untouched.
        """
        if offset is None:
            offset = self._log_end_offset
        if offset <= self._recovery_point:
            return
        to_flush = self._segments_from(self._recovery_point, offset)
        for segment in to_flush:
            segment.flush()
        if any(s.base_offset >= self._recovery_point for s in to_flush):
            _fsync_dir(self.dir)  # new segment files: make their directory entries durable
        self._recovery_point = offset
        self._last_flush_time = self.clock.now_ms()

    def maybe_flush(self, now: int | None = None) -> bool:
        """``LogManager.flushDirtyLogs`` for this log: flush once ``flush.ms`` has passed."""
        if now is None:
            now = self.clock.now_ms()
        if should_flush_on_schedule(self.config, self._last_flush_time, now):
            before = self._recovery_point
            self.flush()
            return self._recovery_point != before
        return False

    # -- read --------------------------------------------------------------------------
    def _end_offset_metadata(self) -> LogOffsetMetadata:
        active = self.active_segment
        return LogOffsetMetadata(self._log_end_offset, active.base_offset, active.size)

    def _offset_metadata(self, offset: int) -> LogOffsetMetadata:
        """``convertToOffsetMetadataOrThrow``: where the batch holding ``offset`` starts."""
        info = self._local_read(offset, 1, False, self._end_offset_metadata())
        return info.fetch_offset_metadata

    def read(
        self,
        fetch_offset: int,
        max_bytes: int,
        isolation: FetchIsolation = FetchIsolation.HIGH_WATERMARK,
        min_one_message: bool = True,
    ) -> FetchDataInfo:
        """``UnifiedLog.read``: whole batches from the one holding ``fetch_offset``.

        Bounded by the high watermark (consumers) or the log end offset (followers):
        the bound's byte position stops the read, so a batch at or past it is never
        returned. An offset below the log start or past the log end raises
        :class:`OffsetOutOfRangeError`.
        """
        if fetch_offset < self._log_start_offset:
            raise OffsetOutOfRangeError(
                f"Received request for offset {fetch_offset} for partition {self.name}, but we "
                f"only have log segments starting from offset: {self._log_start_offset}."
            )
        if isolation is FetchIsolation.LOG_END:
            max_meta = self._end_offset_metadata()
        else:
            max_meta = self._offset_metadata(self._high_watermark)
        return self._local_read(fetch_offset, max_bytes, min_one_message, max_meta)

    def _local_read(
        self, start_offset: int, max_length: int, min_one_message: bool, max_meta: LogOffsetMetadata
    ) -> FetchDataInfo:
        """``LocalLog.read``."""
        end_offset = self._log_end_offset
        i = self._floor_index(start_offset)
        if start_offset > end_offset or i < 0:
            raise OffsetOutOfRangeError(
                f"Received request for offset {start_offset} for partition {self.name}, but we "
                f"only have log segments upto {end_offset}."
            )
        if start_offset == max_meta.message_offset:
            return FetchDataInfo(max_meta, b"")
        if start_offset > max_meta.message_offset:
            return FetchDataInfo(self._offset_metadata(start_offset), b"")
        while i < len(self._segments):
            segment = self._segments[i]
            if max_meta.segment_base_offset == segment.base_offset:
                max_position = max_meta.relative_position_in_segment
            else:
                max_position = segment.size
            info = segment.read(start_offset, max_length, max_position, min_one_message)
            if info is not None:
                return info
            i += 1
        return FetchDataInfo(self._end_offset_metadata(), b"")

    def fetch_offset_by_timestamp(self, timestamp: int) -> TimestampAndOffset | None:
        """ListOffsets on this log (``fetchOffsetByTimestamp``).

        ``EARLIEST_TIMESTAMP`` (-2) gives the log start offset, ``LATEST_TIMESTAMP`` (-1)
        the log end offset (the broker's ``Partition`` then caps it at the high
        watermark for consumers), both with timestamp -1; ``MAX_TIMESTAMP`` (-3) the
        record with the largest timestamp; ``EARLIEST_LOCAL_TIMESTAMP`` (-4) equals -2
        without tiered storage; ``LATEST_TIERED_TIMESTAMP`` (-5, KIP-1005: the highest
        offset in remote storage) is offset -1 with timestamp -1 and leader epoch -1, Kafka
        4.0's and 4.1's answer when remote storage is off (this log has none). Otherwise:
        the first segment whose largest timestamp reaches the target, then the first
        record there with timestamp >= target and offset >= log start; None if no record
        is that late.
        """
        if timestamp == EARLIEST_TIMESTAMP:
            return TimestampAndOffset(NO_TIMESTAMP, self._log_start_offset, self._earliest_epoch())
        if timestamp == LATEST_TIMESTAMP:
            return TimestampAndOffset(NO_TIMESTAMP, self._log_end_offset, self._latest_epoch())
        if timestamp == EARLIEST_LOCAL_TIMESTAMP:  # no tiered storage: the same as earliest
            return TimestampAndOffset(NO_TIMESTAMP, self._log_start_offset, self._earliest_epoch())
        if timestamp == LATEST_TIERED_TIMESTAMP:  # remoteLogEnabled() is false: nothing tiered
            return TimestampAndOffset(NO_TIMESTAMP, -1, NO_PARTITION_LEADER_EPOCH)
        if timestamp == MAX_TIMESTAMP:
            # KIP-734: the record with the largest timestamp. The segment with the largest
            # maxTimestampSoFar (the first such), then the batch whose max timestamp it
            # is, then that batch's first record carrying it (offsetOfMaxTimestamp).
            segment = max(self._segments, key=lambda s: s.max_timestamp_so_far)
            position = segment.offset_index.lookup(segment.offset_of_max_timestamp_so_far).position
            return segment.find_max_timestamp_record(position, segment.max_timestamp_so_far)
        if timestamp < 0:
            raise ValueError(f"unsupported ListOffsets timestamp {timestamp}")
        for segment in list(self._segments):
            if segment.largest_timestamp() >= timestamp:
                return segment.find_offset_by_timestamp(timestamp, self._log_start_offset)
        return None

    offsets_for_time = fetch_offset_by_timestamp

    def _earliest_epoch(self) -> int | None:
        """The earliest cached epoch if it starts at or before the log start offset."""
        cache = self.leader_epoch_cache
        if cache is None:
            return None
        entry = cache.earliest_entry()
        if entry is not None and entry.start_offset <= self._log_start_offset:
            return entry.epoch
        return None

    def _latest_epoch(self) -> int | None:
        cache = self.leader_epoch_cache
        if cache is None:
            return None
        return cache.latest_epoch()

    # -- retention ---------------------------------------------------------------------
    def delete_old_segments(self, now: int | None = None) -> int:
        """``deleteOldSegments``: log-start breach, then ``retention.bytes``, then ``retention.ms``.

        Only whole segments go, oldest first, and never one holding offsets at or past
        the high watermark (so the log start offset cannot pass it); a segment is kept
        as soon as one fails the rule. The rules are the pure functions of
        :mod:`simkafka.log.log_config`, shared with the simulator. Returns the number of
        segments deleted.
        """
        if now is None:
            now = self.clock.now_ms()
        deleted = self._delete_first(
            segments_to_delete_by_log_start_offset(
                self._segment_stats(), self._log_start_offset, **self._bounds()
            )
        )
        if self.config.delete:
            deleted += self._delete_first(
                segments_to_delete_by_size(
                    self._segment_stats(), self.config.retention_bytes, **self._bounds()
                )
            )
            deleted += self._delete_first(
                segments_to_delete_by_time(
                    self._segment_stats(), now, self.config.retention_ms, **self._bounds()
                )
            )
        return deleted

    def _bounds(self) -> dict[str, int]:
        return {"high_watermark": self._high_watermark, "log_end_offset": self._log_end_offset}

    def _segment_stats(self) -> list[SegmentStats]:
        stats = []
        for s in self._segments:
            max_ts = s.max_timestamp_so_far
            stats.append(
                SegmentStats(
                    base_offset=s.base_offset,
                    size=s.size,
                    max_timestamp=max_ts,
                    last_modified_ms=s.last_modified() if max_ts < 0 else 0,
                )
            )
        return stats

    def _delete_first(self, count: int) -> int:
        return self._delete_segments(self._segments[:count]) if count else 0

    def _delete_segments(self, deletable: list[LogSegment]) -> int:
        """``deleteSegments``: roll first if every segment goes; advance the log start."""
        n = len(deletable)
        to_delete = deletable
        if len(self._segments) == n:
            new_segment = self.roll()
            if deletable[-1].base_offset == new_segment.base_offset:
                to_delete = deletable[:-1]
        if to_delete:
            i = self._bases.index(to_delete[-1].base_offset)
            new_start = self._bases[i + 1]
            self.maybe_increment_log_start_offset(new_start)
            for segment in to_delete:
                self._remove_segment(segment)
                segment.delete()
        return n

    # -- truncation --------------------------------------------------------------------
    def truncate_to(self, target_offset: int) -> bool:
        """``truncateTo``: drop every offset ``>= target_offset`` (follower truncation).

        Whole segments above the target are deleted and the segment holding it is cut
        at the start of the batch containing ``target_offset``. Returns False when the
        target is at or past the log end (nothing to do).
        """
        if target_offset < 0:
            raise ValueError(
                f"Cannot truncate partition {self.name} to a negative offset ({target_offset})."
            )
        if target_offset >= self._log_end_offset:
            return False
        if self._bases[0] > target_offset:
            self.truncate_fully_and_start_at(target_offset)
        else:
            for segment in [s for s in self._segments if s.base_offset > target_offset]:
                self._remove_segment(segment)
                segment.delete()
            self.active_segment.truncate_to(target_offset)
            self._update_log_end_offset(target_offset)
            if self.leader_epoch_cache is not None:
                self.leader_epoch_cache.truncate_from_end(target_offset)
            self._log_start_offset = min(target_offset, self._log_start_offset)
            self._update_high_watermark_with_log_end_offset()
        return True

    def truncate_fully_and_start_at(self, new_offset: int) -> None:
        """``truncateFullyAndStartAt``: delete everything, restart the log at ``new_offset``."""
        for segment in list(self._segments):
            self._remove_segment(segment)
            segment.delete()
        self._add_segment(self._new_segment(new_offset))
        self._log_end_offset = new_offset
        self._recovery_point = new_offset
        if self.leader_epoch_cache is not None:
            self.leader_epoch_cache.clear_and_flush()
        self._log_start_offset = new_offset
        self._high_watermark = new_offset

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        """``close``: close every segment (the active one records its final time-index entry)."""
        for segment in self._segments:
            segment.close()


#: ``LogLoader.CLEAN_SHUTDOWN_FILE``: written by ``LogManager.shutdown`` in the log directory.
CLEAN_SHUTDOWN_FILE = ".kafka_cleanshutdown"


def parse_topic_partition_name(dir: str) -> tuple[str, int]:
    """``UnifiedLog.parseTopicPartitionName``: ``.../my-topic-3`` -> ``("my-topic", 3)``."""
    name = os.path.basename(os.path.normpath(os.fspath(dir)))
    for suffix in ("-delete", "-future", "-stray"):
        if name.endswith(suffix) and "." in name:
            name = name[: name.rindex(".")]
            break
    index = name.rfind("-")
    topic, partition = name[:index], name[index + 1 :]
    if index <= 0 or not partition.isdigit():
        raise LogError(
            f"Found directory {dir}, '{name}' is not in the form of topic-partition. If a "
            "directory does not contain Kafka topic data it should not exist in Kafka's log "
            "directory"
        )
    return topic, int(partition)


def _read_checkpoint(path: str) -> dict[tuple[str, int], int]:
    return OffsetCheckpointFile(path).read() if os.path.exists(path) else {}


def _maybe_assign_epoch(cache: LeaderEpochFileCache, epoch: int, start_offset: int) -> None:
    """``maybeAssignEpochStartOffset``: the cache ignores epochs it already has."""
    if epoch >= 0:
        cache.assign(epoch, start_offset)


def _maybe_assign_epoch_fast(cache: LeaderEpochFileCache, epoch: int, start_offset: int) -> None:
    """:func:`_maybe_assign_epoch` for every appended batch.

    ``LeaderEpochFileCache.assign`` changes nothing (``isUpdateNeeded`` is false) when
    the epoch is the latest one and the offset does not move its start back -- true of
    every append but the first of an epoch -- so that case is decided here without the
    ``EpochEntry`` the cache would build to find out.
    """
    latest = cache.latest_entry()
    if latest is not None and epoch == latest.epoch and start_offset >= latest.start_offset:
        return
    _maybe_assign_epoch(cache, epoch, start_offset)


def _fsync_dir(path: str) -> None:
    """``Utils.flushDir``: fsync a directory so new file names survive a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _offset_from_file(name: str) -> int | None:
    prefix = name.split(".", 1)[0]
    if len(prefix) == 20 and prefix.isdigit():
        return int(prefix)
    return None


class _LogLoader:
    """``LogLoader.load``: clean leftovers, load segments, recover what was not flushed."""

    def __init__(
        self, log: UnifiedLog, log_start_offset: int, recovery_point: int, had_clean_shutdown: bool
    ) -> None:
        self.log = log
        self.dir = log.dir
        self.log_start_checkpoint = log_start_offset
        self.recovery_point_checkpoint = recovery_point
        self.had_clean_shutdown = had_clean_shutdown

    def _files(self) -> list[str]:
        return sorted(n for n in os.listdir(self.dir) if os.path.isfile(os.path.join(self.dir, n)))

    def load(self) -> tuple[int, int, int]:
        """Returns ``(log_start_offset, recovery_point, log_end_offset)``."""
        swap_files = self._remove_temp_files_and_collect_swap_files()
        self._complete_swaps(swap_files)
        self._load_segment_files()
        recovery_point, next_offset = self._recover_log()
        self.log.active_segment.offset_index.resize(self.log.config.max_index_size)
        self.log.active_segment.time_index.resize(self.log.config.max_index_size)
        new_start = max(self.log_start_checkpoint, self.log._bases[0])
        return new_start, recovery_point, next_offset

    def _remove_temp_files_and_collect_swap_files(self) -> list[str]:
        """Delete ``*.deleted``; delete ``*.cleaned`` and the ``*.swap`` files above them."""
        swaps: list[str] = []
        cleaned: list[str] = []
        min_cleaned = _LONG_MAX
        for name in self._files():
            path = os.path.join(self.dir, name)
            if name.endswith(DELETED_FILE_SUFFIX):
                os.remove(path)
            elif name.endswith(CLEANED_FILE_SUFFIX):
                off = _offset_from_file(name)
                if off is not None:
                    min_cleaned = min(min_cleaned, off)
                cleaned.append(path)
            elif name.endswith(SWAP_FILE_SUFFIX):
                swaps.append(name)
        valid = []
        for name in swaps:
            off = _offset_from_file(name)
            if off is not None and off >= min_cleaned:  # KAFKA-6264: an unfinished split
                os.remove(os.path.join(self.dir, name))
            else:
                valid.append(name)
        for path in cleaned:
            os.remove(path)
        return valid

    def _complete_swaps(self, swap_files: list[str]) -> None:
        """Finish an interrupted swap: drop the segments it replaces, rename it into place."""
        min_off, max_off = _LONG_MAX, -_LONG_MAX
        for name in swap_files:
            if not name.endswith(LOG_FILE_SUFFIX + SWAP_FILE_SUFFIX):
                continue
            base = _offset_from_file(name)
            assert base is not None
            index_files = [
                segment_file(self.dir, base, kind, SWAP_FILE_SUFFIX)
                for kind in (INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX)
            ]
            missing = [p for p in index_files if not os.path.exists(p)]
            seg = self.log._new_segment(base, suffix=SWAP_FILE_SUFFIX)
            min_off = min(min_off, base)
            max_off = max(max_off, seg.read_next_offset())
            seg.close()
            # Index files opening the segment created are empty, not the cleaner's:
            # drop them so that loading rebuilds the swapped-in segment's indexes.
            for path in missing:
                os.remove(path)
        if min_off <= max_off:
            for name in self._files():
                if name.endswith(SWAP_FILE_SUFFIX):
                    continue
                off = _offset_from_file(name)
                if off is not None and min_off <= off < max_off:
                    os.remove(os.path.join(self.dir, name))
        for name in self._files():
            if name.endswith(SWAP_FILE_SUFFIX):
                src = os.path.join(self.dir, name)
                os.replace(src, src[: -len(SWAP_FILE_SUFFIX)])

    def _load_segment_files(self) -> None:
        """``loadSegmentFiles``: open each ``.log``; rebuild indexes that are missing or corrupt.

        Kafka (since the lazy indexes of 2.x) only checks that the offset index *exists*
        and leaves index sanity to the recovery of unflushed segments; we additionally
        run the index sanity check on flushed segments (Kafka 1.x/2.0 behaviour, see
        :meth:`_check_flushed_indexes`), so a corrupt index below the recovery point is
        rebuilt rather than trusted.
        """
        for name in self._files():
            path = os.path.join(self.dir, name)
            base = _offset_from_file(name)
            if base is None:
                continue
            if name.endswith(INDEX_FILE_SUFFIX) or name.endswith(TIME_INDEX_FILE_SUFFIX):
                if not os.path.exists(segment_file(self.dir, base, LOG_FILE_SUFFIX)):
                    os.remove(path)  # orphaned index file
            elif name.endswith(LOG_FILE_SUFFIX):
                time_index_new = not os.path.exists(
                    segment_file(self.dir, base, TIME_INDEX_FILE_SUFFIX)
                )
                offset_index_missing = not os.path.exists(
                    segment_file(self.dir, base, INDEX_FILE_SUFFIX)
                )
                segment = self.log._new_segment(base)
                if offset_index_missing:
                    self._report("index rebuilt", segment, "offset index file missing")
                    self._recover_segment(segment)
                else:
                    if time_index_new:
                        # LogSegment.sanityCheck: a time index created just now is left
                        # empty (resized to 0), not rebuilt, unless recovery rebuilds it.
                        segment.time_index.resize(0)
                self.log._add_segment(segment)
        self._check_flushed_indexes()

    def _check_flushed_indexes(self) -> None:
        """Sanity-check the indexes of segments that ``recoverLog`` will not rebuild.

        Segments from the one holding the recovery point on are recovered anyway (their
        preallocated index tails are expected garbage after a crash), so only the
        flushed ones below it are checked; a corrupt index there is rebuilt.
        """
        log = self.log
        unflushed: set[int] = set()
        if not self.had_clean_shutdown:
            unflushed = {
                s.base_offset for s in log._segments_from(self.recovery_point_checkpoint, _LONG_MAX)
            }
        for segment in log._segments:
            if segment.base_offset in unflushed:
                continue
            try:
                segment.sanity_check()
            except CorruptIndexError as e:
                self._report("index rebuilt", segment, str(e))
                self._recover_segment(segment)

    def _report(self, kind: str, segment: LogSegment, detail: str, position: int = -1) -> None:
        self.log.recovery_report.append(RecoveryEvent(kind, segment.log_path, position, detail))

    def _recover_segment(self, segment: LogSegment) -> int:
        """``recoverSegment``: ``LogSegment.recover``, reporting a truncation with its place."""
        truncated = segment.recover(self.log.leader_epoch_cache)
        if truncated > 0:
            error = segment.last_recovery_error
            detail = (
                f"{error}; truncated {truncated} bytes"
                if error is not None
                else f"torn batch at the end of the file; truncated {truncated} bytes"
            )
            self._report("truncated", segment, detail, position=segment.size)
        return truncated

    def _recover_log(self) -> tuple[int, int]:
        """``recoverLog``: re-validate from the recovery point's segment; cut at the first corruption."""
        log = self.log
        if not self.had_clean_shutdown:
            unflushed = log._segments_from(self.recovery_point_checkpoint, _LONG_MAX)
            for i, segment in enumerate(unflushed):
                try:
                    truncated = self._recover_segment(segment)
                except (InvalidOffsetError, OSError) as e:
                    # "Found invalid offset during recovery. Deleting the corrupt segment
                    # and creating an empty one with starting offset <base>."
                    truncated = segment.truncate_to(segment.base_offset)
                    self._report("emptied", segment, str(e), position=0)
                if truncated > 0:
                    # "Corruption found in segment ..., truncating": later segments go too.
                    for later in unflushed[i + 1 :]:
                        self._report("deleted", later, "follows a truncated segment")
                        log._remove_segment(later)
                        later.delete()
                    break
        end: int | None = None
        if log._segments:
            end = log.active_segment.read_next_offset()
            if end < self.log_start_checkpoint:
                for segment in list(log._segments):
                    log._remove_segment(segment)
                    segment.delete()
                end = None
        if not log._segments:
            log._add_segment(log._new_segment(self.log_start_checkpoint))
        if self.had_clean_shutdown and end is not None:
            return end, end
        if end is None:
            end = log.active_segment.read_next_offset()
        return min(self.recovery_point_checkpoint, end), end
