"""One log segment: a ``.log`` file of record batches plus its two sparse indexes.

Mirrors Kafka's ``LogSegment`` (and the parts of ``FileRecords`` it leans on) in
``storage/.../internals/log``. A segment with base offset *b* owns
``<b:020d>.log``, ``<b:020d>.index`` and ``<b:020d>.timeindex``; every offset in it
is ``>= b`` and ``< b + 2**31`` (index entries store the offset relative to *b* as an
int32: ``OffsetIndex.canAppendOffset``).

Why everything here is batch-level: Kafka never decodes records to append, read,
roll or recover a v2 log -- the batch header (61 bytes) carries the base offset,
``lastOffsetDelta``, ``maxTimestamp`` and the CRC, so a read translates an offset to
a file position by an index lookup followed by a forward scan over batch *headers*
(``FileRecords.searchForOffsetWithSize``), and recovery checks each batch's CRC
without looking inside it. Only ``find_offset_by_timestamp`` decodes records, and only
those of the single batch whose ``maxTimestamp`` first reaches the target, exactly as
``FileRecords.searchForTimestamp`` does.

Index entries follow the Kafka release of the log's ``LogConfig``: 4.0.0 adds at most
one per ``append`` call, 4.1 walks the appended batches and may add one per batch
(KAFKA-806, apache/kafka#18012; the 4.0 branch got it after 4.0.0, apache/kafka#18842,
which is why the older release simkafka knows is 4.0.0 exactly); see :meth:`LogSegment.append`.

Not modelled: the transaction index (``.txnindex``), producer-state snapshots, lazy
index materialisation (``LazyIndex``) and file preallocation (``log.preallocate``).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from crc32c import crc32c as _crc32c

from simkafka.kafka_version import behaviour
from simkafka.log.clock import Clock
from simkafka.log.errors import CorruptRecordError, InvalidRecordError, LogError
from simkafka.log.index import (
    OffsetIndex,
    TimeIndex,
    TimestampOffset,
    filename_prefix_from_offset,
)
from simkafka.log.log_config import (
    INT_MAX,
    can_convert_to_relative_offset,
    time_waited_for_roll,
)
from simkafka.log.records import (
    ATTRIBUTES_OFFSET,
    HEADER_SIZE_UP_TO_MAGIC,
    LOG_OVERHEAD,
    NO_PARTITION_LEADER_EPOCH,
    NO_TIMESTAMP,
    RECORD_BATCH_OVERHEAD,
    BatchIterator,
    RecordBatch,
    ensure_valid_header,
    overlapped_crc32c,
)

__all__ = [
    "LOG_FILE_SUFFIX",
    "INDEX_FILE_SUFFIX",
    "TIME_INDEX_FILE_SUFFIX",
    "DELETED_FILE_SUFFIX",
    "CLEANED_FILE_SUFFIX",
    "SWAP_FILE_SUFFIX",
    "FetchDataInfo",
    "LogOffsetMetadata",
    "LogOffsetPosition",
    "LogSegment",
    "LogSegmentOffsetOverflowError",
    "RollParams",
    "TimestampAndOffset",
    "segment_file",
]

# LogFileUtils suffixes.
LOG_FILE_SUFFIX = ".log"
INDEX_FILE_SUFFIX = ".index"
TIME_INDEX_FILE_SUFFIX = ".timeindex"
DELETED_FILE_SUFFIX = ".deleted"
CLEANED_FILE_SUFFIX = ".cleaned"
SWAP_FILE_SUFFIX = ".swap"

# baseOffset, batchLength, partitionLeaderEpoch, magic, crc, attributes, lastOffsetDelta,
# baseTimestamp, maxTimestamp: the header fields a scan needs (first 43 bytes).
_SCAN_HEADER = struct.Struct(">qiibIhiqq")
# What the per-batch index walk reads of each batch: baseOffset and batchLength (0),
# lastOffsetDelta (23), maxTimestamp (35).
_BASE_AND_LENGTH = struct.Struct(">qi")
_BATCH_LENGTH = _LAST_OFFSET_DELTA = struct.Struct(">i")
_MAX_TIMESTAMP = struct.Struct(">q")
# Recovery reads the file in chunks this large; a batch larger than a chunk gets a
# chunk of its own (see LogSegment.recover).
_RECOVERY_CHUNK = 8 * 1024 * 1024


def segment_file(dir: str, base_offset: int, kind: str, suffix: str = "") -> str:
    """``LogFileUtils.logFile``/``offsetIndexFile``/...: ``dir/<20-digit offset><kind><suffix>``."""
    return os.path.join(dir, filename_prefix_from_offset(base_offset) + kind + suffix)


class LogSegmentOffsetOverflowError(LogError):
    """An offset that cannot be stored relative to the segment (``LogSegmentOffsetOverflowException``)."""


@dataclass(frozen=True, slots=True)
class LogOffsetPosition:
    """``FileRecords.LogOffsetPosition``: a batch found by offset -- its base offset, position, size."""

    offset: int
    position: int
    size: int


@dataclass(frozen=True, slots=True)
class LogOffsetMetadata:
    """``LogOffsetMetadata``: an offset and, when known, where it sits on disk.

    ``segment_base_offset``/``relative_position_in_segment`` are -1 when unknown (Kafka's
    ``UNKNOWN_OFFSET``/``UNKNOWN_FILE_POSITION``); ``LocalLog.read`` uses them to stop a
    read at the high watermark's byte position.
    """

    message_offset: int
    segment_base_offset: int = -1
    relative_position_in_segment: int = -1


@dataclass(frozen=True, slots=True)
class TimestampAndOffset:
    """``FileRecords.TimestampAndOffset``; ``leader_epoch`` is None when the batch has none."""

    timestamp: int
    offset: int
    leader_epoch: int | None = None


@dataclass(frozen=True, slots=True)
class RollParams:
    """``RollParams``: what ``LogSegment.shouldRoll`` needs to know about the incoming append."""

    max_segment_ms: int
    max_segment_bytes: int
    max_timestamp_in_messages: int
    max_offset_in_messages: int
    messages_size: int
    now: int


@dataclass(frozen=True, slots=True)
class FetchDataInfo:
    """``FetchDataInfo``: the bytes a fetch returns and where they start.

    ``records`` is exactly what Kafka's ``FileRecords.slice`` would send: it starts on a
    batch boundary and is cut at ``max_bytes``/the upper bound, so (as on the wire) its
    last batch may be partial. :meth:`batches` yields only the complete ones, as a
    consumer's ``ByteBufferLogInputStream`` does. ``first_entry_incomplete`` is set when
    even the first batch did not fit (``minOneMessage`` off).
    """

    fetch_offset_metadata: LogOffsetMetadata
    records: bytes
    first_entry_incomplete: bool = False

    def batches(self) -> Iterator[RecordBatch]:
        """The complete batches in :attr:`records` (a trailing partial one is skipped)."""
        for _pos, batch in BatchIterator(self.records):
            yield batch


class _FileRecords:
    """The ``.log`` file: whole-batch appends at the end, positional reads, truncation.

    ``FileRecords`` keeps ``size`` in memory and writes through a ``FileChannel``; we keep
    an OS file descriptor and use ``os.write``/``os.pread`` on whole batch buffers, so no
    Python-level buffering sits between an append and the page cache.
    """

    __slots__ = ("path", "_fd", "size")

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self.size = os.fstat(self._fd).st_size
        os.lseek(self._fd, self.size, os.SEEK_SET)

    def append(self, data: bytes | bytearray | memoryview) -> int:
        """Write ``data`` at the end: one ``os.write`` of the caller's buffer (no copy).

        A short write (a signal, a full pipe-like device) continues from a
        ``memoryview`` slice, as ``FileChannel.write`` loops until the buffer is drained.
        """
        written = self._write(None, data)
        self.size += written
        return written

    def append_with_head(
        self, head: bytes | bytearray, data: bytes | bytearray | memoryview
    ) -> int:
        """Write ``head`` then ``data`` from ``len(head)`` on, in one ``os.writev``.

        The bytes on disk are ``data`` with its first ``len(head)`` bytes replaced; the
        bulk is written from the caller's buffer, not copied. A short write continues
        from where it stopped, as :meth:`append` does.
        """
        written = self._write(head, data)
        self.size += written
        return written

    def append_checking_crc(
        self, head: bytes | bytearray | None, data: bytes | bytearray | memoryview, crc: int
    ) -> bool:
        """Append one batch whose CRC-32C is checked *while* it is written.

        ``crc`` is the batch's stored CRC; it covers ``attributes`` .. end (bytes 21..),
        which neither ``head`` (bytes 0-15: ``baseOffset``, ``batchLength``,
        ``partitionLeaderEpoch``) nor anything else here changes, so the worker hashes
        the caller's bytes while ``os.writev`` copies them into the page cache (both
        release the GIL). Only when the CRC matches does :attr:`size` move. On a
        mismatch -- or if the write fails -- the file is cut back to its size before the
        write and False is returned (the exception re-raised): no reader can have seen
        the bytes, since nothing that locates them (size, indexes, log end offset) moved.
        A crash before the cut leaves them beyond the recovery point, a tail that
        recovery CRC-scans and truncates like any torn one.

        With no free worker (one core, or another thread's CRC in flight) the CRC is
        computed first and nothing corrupt is written, as in Kafka's order.
        """
        check = memoryview(data)[ATTRIBUTES_OFFSET:]
        worker = overlapped_crc32c()
        if worker is None or not worker.start(check):
            if _crc32c(check) != crc:
                return False
            if head is None:
                self.append(data)
            else:
                self.append_with_head(head, data)
            return True
        position = self.size
        try:
            try:
                written = self._write(head, data)
            finally:
                computed = worker.result()  # always: it frees the worker and the view
        except BaseException:
            self._discard_from(position)
            raise
        if computed != crc:
            self._discard_from(position)
            return False
        self.size = position + written
        return True

    def _write(self, head: bytes | bytearray | None, data: bytes | bytearray | memoryview) -> int:
        """Write ``data`` (its first ``len(head)`` bytes replaced by ``head``); :attr:`size` unchanged."""
        total = len(data)
        if head is None:
            written = os.write(self._fd, data)
            if written < total:  # short writes are rare: only then pay for the view
                view = memoryview(data)
                while written < total:
                    written += os.write(self._fd, view[written:])
            return written
        h = len(head)
        rest = memoryview(data)[h:]
        written = os.writev(self._fd, (head, rest))
        while written < total:
            if written < h:
                written += os.write(self._fd, memoryview(head)[written:])
            else:
                written += os.write(self._fd, rest[written - h :])
        return written

    def _discard_from(self, position: int) -> None:
        """Cut the file back to ``position`` (== :attr:`size`): undo an unaccepted write."""
        os.ftruncate(self._fd, position)
        os.lseek(self._fd, position, os.SEEK_SET)
        self.size = position

    def read(self, position: int, size: int) -> bytes:
        if size <= 0:
            return b""
        return os.pread(self._fd, size, position)

    def truncate_to(self, size: int) -> int:
        """``FileRecords.truncateTo``: returns the bytes cut; growing the file is an error."""
        if size > self.size or size < 0:
            raise LogError(
                f"Attempt to truncate log segment {self.path} to {size} bytes failed, "
                f"size of this log segment is {self.size} bytes."
            )
        cut = self.size - size
        if cut:
            os.ftruncate(self._fd, size)
            os.lseek(self._fd, size, os.SEEK_SET)
            self.size = size
        return cut

    def flush(self) -> None:
        os.fsync(self._fd)  # FileChannel.force(true): data and metadata

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def header_at(self, position: int) -> tuple | None:
        """The scan fields of the batch at ``position``, or None at a clean/torn end.

        ``FileLogInputStream.nextBatch``: stop when no more than
        ``HEADER_SIZE_UP_TO_MAGIC`` bytes remain or the batch runs past the end.
        """
        remaining = self.size - position
        if remaining <= HEADER_SIZE_UP_TO_MAGIC:
            return None
        raw = os.pread(self._fd, _SCAN_HEADER.size, position)
        if len(raw) < _SCAN_HEADER.size:
            return None
        fields = _SCAN_HEADER.unpack(raw)
        size = LOG_OVERHEAD + fields[1]
        if size < RECORD_BATCH_OVERHEAD:
            raise CorruptRecordError(
                f"Found record size {fields[1]} smaller than the minimum batch overhead",
                file=self.path,
                position=position,
            )
        if size > remaining:
            return None
        return fields

    def batch_headers_from(self, position: int) -> Iterator[tuple[int, tuple]]:
        """``(position, fields)`` for each batch from ``position`` on, headers only."""
        while True:
            fields = self.header_at(position)
            if fields is None:
                return
            yield position, fields
            position += LOG_OVERHEAD + fields[1]


def _last_offset(fields: tuple) -> int:
    return fields[0] + fields[6]


class LogSegment:
    """Kafka's ``LogSegment``: append, read, index, roll test, recover, truncate.

    Not thread-safe (neither is Kafka's; ``UnifiedLog`` holds a lock around it).

    ``index_entry_per_batch`` is the Kafka release's way of adding index entries
    (:attr:`simkafka.kafka_version.KafkaBehaviour.index_entry_per_batch`): True as in
    4.1 (the default, the release simkafka models), False as in 4.0.0.
    """

    def __init__(
        self,
        dir: str,
        base_offset: int,
        *,
        clock: Clock,
        index_interval_bytes: int = 4096,
        max_index_size: int = 10 * 1024 * 1024,
        roll_jitter_ms: int = 0,
        suffix: str = "",
        index_entry_per_batch: bool = behaviour().index_entry_per_batch,
    ) -> None:
        self.dir = dir
        self.base_offset = base_offset
        self.index_interval_bytes = index_interval_bytes
        self.index_entry_per_batch = index_entry_per_batch
        self.max_index_size = max_index_size
        self.roll_jitter_ms = roll_jitter_ms
        self._clock = clock
        self._suffix = suffix
        self._log = _FileRecords(segment_file(dir, base_offset, LOG_FILE_SUFFIX, suffix))
        self.offset_index = OffsetIndex(
            segment_file(dir, base_offset, INDEX_FILE_SUFFIX, suffix),
            base_offset,
            max_index_size=max_index_size,
        )
        self.time_index = TimeIndex(
            segment_file(dir, base_offset, TIME_INDEX_FILE_SUFFIX, suffix),
            base_offset,
            max_index_size=max_index_size,
        )
        self.created = clock.now_ms()
        # rollingBasedTimestamp: the first batch's max timestamp, loaded lazily.
        self._rolling_based_timestamp: int | None = None
        # maxTimestampAndOffsetSoFar; None stands for TimestampOffset.UNKNOWN.
        self._max_ts_and_offset: TimestampOffset | None = None
        self._bytes_since_last_index_entry = 0
        #: The corruption that ended the last :meth:`recover` scan, if any.
        self.last_recovery_error: LogError | None = None

    # -- files and sizes -------------------------------------------------------------
    @property
    def log_path(self) -> str:
        return self._log.path

    @property
    def size(self) -> int:
        """Bytes in the ``.log`` file (``LogSegment.size``)."""
        return self._log.size

    def last_modified(self) -> int:
        """The ``.log`` file's mtime in ms (``lastModified``): the retention fallback."""
        return os.stat(self._log.path).st_mtime_ns // 1_000_000

    def set_last_modified(self, ms: int) -> None:
        """``setLastModified``: stamp all three files' mtime (tests and tools)."""
        for path in self._paths(self._suffix):
            if os.path.exists(path):
                os.utime(path, ns=(ms * 1_000_000, ms * 1_000_000))

    # -- max timestamp bookkeeping ---------------------------------------------------
    def _read_max_timestamp_and_offset(self) -> TimestampOffset:
        if self._max_ts_and_offset is None:
            self._max_ts_and_offset = self.time_index.last_entry
        return self._max_ts_and_offset

    @property
    def max_timestamp_so_far(self) -> int:
        """Largest batch ``maxTimestamp`` seen (from the time index after a reopen)."""
        return self._read_max_timestamp_and_offset().timestamp

    @property
    def offset_of_max_timestamp_so_far(self) -> int:
        return self._read_max_timestamp_and_offset().offset

    def largest_timestamp(self) -> int:
        """``largestTimestamp``: max timestamp if any record has one, else the file mtime.

        Time-based retention compares this with ``now``; the mtime fallback means a
        segment of timestamp-less records ages from its last write.
        """
        ts = self.max_timestamp_so_far
        return ts if ts >= 0 else self.last_modified()

    # -- rolling ---------------------------------------------------------------------
    def can_convert_to_relative_offset(self, offset: int) -> bool:
        """``OffsetIndex.canAppendOffset``: ``0 <= offset - base <= Integer.MAX_VALUE``."""
        return can_convert_to_relative_offset(self.base_offset, offset)

    def _load_first_batch_timestamp(self) -> None:
        if self._rolling_based_timestamp is None:
            fields = self._log.header_at(0)
            if fields is not None:
                self._rolling_based_timestamp = fields[8]

    def time_waited_for_roll(self, now: int, message_timestamp: int) -> int:
        """``timeWaitedForRoll``: record time since the first batch, else wall time since creation.

        Kafka measures ``segment.ms`` in *record* time when the first batch has a
        timestamp (the incoming batch's max timestamp minus the first batch's), so a
        producer replaying old data rolls by its own clock, not the broker's.
        """
        return time_waited_for_roll(
            now,
            message_timestamp,
            rolling_based_timestamp=self.rolling_based_timestamp,
            created_ms=self.created,
        )

    @property
    def rolling_based_timestamp(self) -> int | None:
        """The first batch's max timestamp (``rollingBasedTimestamp``); None when empty."""
        self._load_first_batch_timestamp()
        return self._rolling_based_timestamp

    def first_batch_timestamp(self) -> int:
        """``getFirstBatchTimestamp``: the first batch's timestamp, else ``Long.MAX_VALUE``."""
        self._load_first_batch_timestamp()
        ts = self._rolling_based_timestamp
        if ts is not None and ts >= 0:
            return ts
        return (1 << 63) - 1

    def should_roll(self, params: RollParams) -> bool:
        """``LogSegment.shouldRoll``: size, time (minus jitter), a full index or offset overflow.

        The size test is ``size > segment.bytes - incoming`` so a segment never grows
        past ``segment.bytes``; the time test needs a non-empty segment.
        """
        return self.should_roll_for(
            params.max_segment_bytes,
            params.max_segment_ms,
            params.messages_size,
            params.max_timestamp_in_messages,
            params.max_offset_in_messages,
            params.now,
        )

    def should_roll_for(
        self,
        max_segment_bytes: int,
        max_segment_ms: int,
        messages_size: int,
        max_timestamp_in_messages: int,
        max_offset_in_messages: int,
        now: int,
    ) -> bool:
        """:meth:`should_roll` with ``RollParams``' fields as plain arguments.

        It runs before every append, so it reads the fields behind ``size`` and
        ``rolling_based_timestamp`` directly and tests the time clause (the only one that
        may read the file, once per segment) last; the clauses and their meaning are
        those of ``LogSegment.shouldRoll``.
        """
        size = self._log.size
        if (
            size > max_segment_bytes - messages_size
            or self.offset_index.is_full
            or self.time_index.is_full
            or not 0 <= max_offset_in_messages - self.base_offset <= INT_MAX
        ):
            return True
        if size == 0:
            return False
        if self._rolling_based_timestamp is None:
            self._load_first_batch_timestamp()
        return (
            time_waited_for_roll(
                now,
                max_timestamp_in_messages,
                rolling_based_timestamp=self._rolling_based_timestamp,
                created_ms=self.created,
            )
            > max_segment_ms - self.roll_jitter_ms
        )

    # -- append ----------------------------------------------------------------------
    def append(
        self,
        largest_offset: int,
        largest_timestamp: int,
        shallow_offset_of_max_timestamp: int,
        records: bytes | bytearray | memoryview,
        *,
        head: bytes | bytearray | None = None,
        unchecked_crc: int | None = None,
    ) -> bool:
        """``LogSegment.append``: write whole batches, maybe add sparse index entries.

        ``head``, when given, is written in place of the first ``len(head)`` bytes of
        ``records`` (the leader's offset and epoch rewrite of an immutable buffer).

        ``unchecked_crc``, when given, is the stored CRC of ``records`` -- one batch --
        not yet verified: it is checked while the bytes are written
        (:meth:`_FileRecords.append_checking_crc`), and on a mismatch the file is cut
        back and False is returned with the segment exactly as before (size, both
        indexes, max timestamp, rolling timestamp, bytes since the last index entry).
        Otherwise True.

        Index entries make the index sparse -- a lookup is followed by a short header
        scan -- and how many one append may add depends on the Kafka release:

        * 4.0.0 (``index_entry_per_batch=False``): at most one. If more than
          ``index.interval.bytes`` were written since the previous entry, the append's
          ``largest_offset`` is mapped to the position where the append *starts*, and
          the time index gets the segment's max timestamp so far; then the append's size
          is counted. ``largest_timestamp`` / ``shallow_offset_of_max_timestamp``
          update the max timestamp, and the append's ``largest_timestamp`` becomes the
          rolling timestamp of an empty segment.
        * 4.1 (``index_entry_per_batch=True``, KAFKA-806, apache/kafka#18012): the
          same test per appended batch -- the batch's last offset mapped to where the
          *batch* starts, its size counted after -- with the max timestamp updated from
          each batch's header before the test. The rolling timestamp is the first
          batch's max timestamp (Kafka 4.1 loads it from the file; here it is taken
          from the bytes as they are written, the same value).

        For one batch both give the same entries, so the walk runs only for several.
        """
        size = len(records)
        if size == 0:
            return True
        log = self._log
        physical_position = log.size
        # canConvertToRelativeOffset, inlined: this runs on every append.
        if not 0 <= largest_offset - self.base_offset <= INT_MAX:
            raise LogSegmentOffsetOverflowError(
                f"Detected offset overflow at offset {largest_offset} in segment "
                f"{log.path} (base offset {self.base_offset})"
            )
        if unchecked_crc is not None:
            if not log.append_checking_crc(head, records, unchecked_crc):
                return False
        elif head is None:
            log.append(records)
        else:
            log.append_with_head(head, records)
        if (
            self.index_entry_per_batch
            and size > LOG_OVERHEAD
            and size != LOG_OVERHEAD + _BATCH_LENGTH.unpack_from(records, 8)[0]
        ):  # several batches (checked without a call: this runs on every append)
            self._index_each_batch(records, head, physical_position)
            return True
        if physical_position == 0:
            self._rolling_based_timestamp = largest_timestamp
        max_so_far = self._max_ts_and_offset
        if max_so_far is None:
            max_so_far = self._read_max_timestamp_and_offset()
        if largest_timestamp > max_so_far.timestamp:
            max_so_far = self._max_ts_and_offset = TimestampOffset(
                largest_timestamp, shallow_offset_of_max_timestamp
            )
        if self._bytes_since_last_index_entry > self.index_interval_bytes:
            self.offset_index.append(largest_offset, physical_position)
            self.time_index.maybe_append(max_so_far.timestamp, max_so_far.offset)
            self._bytes_since_last_index_entry = size
        else:
            self._bytes_since_last_index_entry += size
        return True

    def _index_each_batch(
        self,
        records: bytes | bytearray | memoryview,
        head: bytes | bytearray | None,
        physical_position: int,
    ) -> None:
        """Kafka 4.1's index walk over the batches of one append (see :meth:`append`)."""
        if head is not None:  # the first batch's rewritten offset is in ``head``
            records = bytes(head) + bytes(records[len(head) :])
        if physical_position == 0:
            self._rolling_based_timestamp = _MAX_TIMESTAMP.unpack_from(records, 35)[0]
        max_so_far = self._read_max_timestamp_and_offset()
        interval = self.index_interval_bytes
        bytes_since = self._bytes_since_last_index_entry
        position, end = 0, len(records)
        while position < end:
            base_offset, length = _BASE_AND_LENGTH.unpack_from(records, position)
            batch_size = LOG_OVERHEAD + length
            last_offset = base_offset + _LAST_OFFSET_DELTA.unpack_from(records, position + 23)[0]
            max_timestamp = _MAX_TIMESTAMP.unpack_from(records, position + 35)[0]
            if max_timestamp > max_so_far.timestamp:
                max_so_far = self._max_ts_and_offset = TimestampOffset(max_timestamp, last_offset)
            if bytes_since > interval:
                self.offset_index.append(last_offset, physical_position + position)
                self.time_index.maybe_append(max_so_far.timestamp, max_so_far.offset)
                bytes_since = 0
            position += batch_size
            bytes_since += batch_size
        self._bytes_since_last_index_entry = bytes_since

    # -- read ------------------------------------------------------------------------
    def translate_offset(
        self, offset: int, starting_file_position: int = 0
    ) -> LogOffsetPosition | None:
        """``translateOffset``: the first batch whose last offset is ``>= offset``.

        Index lookup (largest entry ``<= offset``) then a forward scan over batch
        headers (``FileRecords.searchForOffsetWithSize``); None past the end.
        """
        mapping = self.offset_index.lookup(offset)
        start = max(mapping.position, starting_file_position)
        for position, fields in self._log.batch_headers_from(start):
            if _last_offset(fields) >= offset:
                return LogOffsetPosition(fields[0], position, LOG_OVERHEAD + fields[1])
        return None

    def read(
        self,
        start_offset: int,
        max_size: int,
        max_position: int | None = None,
        min_one_message: bool = False,
    ) -> FetchDataInfo | None:
        """``LogSegment.read``: bytes from the batch holding ``start_offset`` on.

        At most ``max_size`` bytes, none at or past ``max_position`` (the upper bound's
        byte position when it lies in this segment); with ``min_one_message`` the first
        batch is returned whole even if larger than ``max_size`` (KIP-74). None when no
        batch in this segment reaches ``start_offset``.
        """
        if max_size < 0:
            raise ValueError(
                f"Invalid max size {max_size} for log read from segment {self._log.path}"
            )
        if max_position is None:
            max_position = self.size
        found = self.translate_offset(start_offset)
        if found is None:
            return None
        start_position = found.position
        metadata = LogOffsetMetadata(start_offset, self.base_offset, start_position)
        adjusted_max_size = max(max_size, found.size) if min_one_message else max_size
        if adjusted_max_size == 0:
            return FetchDataInfo(metadata, b"")
        fetch_size = min(max_position - start_position, adjusted_max_size)
        if fetch_size < 0:
            raise ValueError(f"Invalid size: {fetch_size}")  # FileRecords.slice
        data = self._log.read(start_position, min(fetch_size, self.size - start_position))
        return FetchDataInfo(metadata, data, adjusted_max_size < found.size)

    def read_next_offset(self) -> int:
        """``readNextOffset``: one past the last batch's last offset (base offset if empty)."""
        mapping = self.offset_index.lookup(self.offset_index.last_offset)
        next_offset = self.base_offset
        for _position, fields in self._log.batch_headers_from(mapping.position):
            next_offset = _last_offset(fields) + 1
        return next_offset

    def find_offset_by_timestamp(
        self, timestamp: int, starting_offset: int
    ) -> TimestampAndOffset | None:
        """``findOffsetByTimestamp``: first record with timestamp >= target and offset >= start.

        The time index narrows the scan; then batch headers are skipped until one's
        ``maxTimestamp`` reaches the target, and only that batch's records are decoded
        (``FileRecords.searchForTimestamp``).
        """
        ts_entry = self.time_index.lookup(timestamp)
        position = self.offset_index.lookup(max(ts_entry.offset, starting_offset)).position
        for pos, fields in self._log.batch_headers_from(position):
            if fields[8] >= timestamp:
                batch = RecordBatch(self._log.read(pos, LOG_OVERHEAD + fields[1]))
                epoch = batch.partition_leader_epoch
                for record in batch.records():
                    rec_ts = batch.timestamp_of(record)
                    rec_offset = batch.offset_of(record)
                    if rec_ts >= timestamp and rec_offset >= starting_offset:
                        return TimestampAndOffset(
                            rec_ts,
                            rec_offset,
                            None if epoch == NO_PARTITION_LEADER_EPOCH else epoch,
                        )
        return None

    def find_max_timestamp_record(self, position: int, timestamp: int) -> TimestampAndOffset | None:
        """The first record stamped ``timestamp`` in the first batch whose max it is.

        ``ListOffsets(MAX_TIMESTAMP)`` after KAFKA-16310: ``batchesFrom(position).find(
        _.maxTimestamp == ts)`` then ``offsetOfMaxTimestamp`` (records are decoded for
        that one batch only; under ``LOG_APPEND_TIME`` every record carries the batch's
        timestamp, so it is the base offset).
        """
        for pos, fields in self._log.batch_headers_from(position):
            if fields[8] == timestamp:
                batch = RecordBatch(self._log.read(pos, LOG_OVERHEAD + fields[1]))
                epoch = batch.partition_leader_epoch
                for record in batch.records():
                    if batch.timestamp_of(record) == timestamp:
                        return TimestampAndOffset(
                            timestamp, batch.offset_of(record), None if epoch < 0 else epoch
                        )
                return None
        return None

    def batch_positions(self, start_position: int = 0) -> Iterator[tuple[int, int, int, int]]:
        """``(position, base_offset, last_offset, max_timestamp)`` for each batch (headers only)."""
        for pos, fields in self._log.batch_headers_from(start_position):
            yield pos, fields[0], _last_offset(fields), fields[8]

    # -- recovery --------------------------------------------------------------------
    def recover(
        self, leader_epoch_cache: object | None = None, max_batch_size: int | None = None
    ) -> int:
        """``LogSegment.recover``: re-validate every batch, rebuild both indexes, cut the tail.

        Walks the file from position 0: each batch must have a plausible size and magic
        2 and a matching CRC-32C (``ensureValid``), and fit the segment's relative offset
        range. Beyond Kafka, offsets must also increase (base offset past the previous
        batch's last offset and not below the segment base): a flipped bit in
        ``baseOffset`` -- which the CRC does not cover -- is then caught too. The first
        bad or torn batch ends the valid region; everything from there is truncated and
        the number of bytes cut is returned. Index entries are rebuilt with the same
        ``index.interval.bytes`` rule as :meth:`append`, so a log written one batch per
        append gets back byte-identical indexes.
        """
        self.offset_index.truncate()
        self.offset_index.resize(self.max_index_size)
        self.time_index.truncate()
        self.time_index.resize(self.max_index_size)
        self._max_ts_and_offset = TimestampOffset(NO_TIMESTAMP, self.base_offset)
        self.last_recovery_error = None
        valid_bytes = 0
        last_index_entry = 0
        prev_last_offset = self.base_offset - 1
        path = self._log.path
        file_size = self._log.size
        max_ts, max_ts_offset = NO_TIMESTAMP, self.base_offset
        interval = self.index_interval_bytes
        try:
            while valid_bytes < file_size:
                remaining = file_size - valid_bytes
                chunk = self._log.read(valid_bytes, min(_RECOVERY_CHUNK, remaining))
                need = _declared_size(chunk)
                if need is not None and len(chunk) < need <= remaining:
                    chunk = self._log.read(valid_bytes, need)  # one batch larger than a chunk
                chunk_start = valid_bytes
                for rel_pos, batch in BatchIterator(
                    chunk, max_batch_size=max_batch_size, file=path
                ):
                    position = chunk_start + rel_pos
                    h = batch.header()  # one struct call serves every check below
                    try:
                        ensure_valid_header(chunk, rel_pos, h, file=path)
                    except CorruptRecordError as e:
                        raise e.at(position=position) from None
                    base = h.base_offset
                    last = base + h.last_offset_delta
                    if base <= prev_last_offset or last < base:
                        raise CorruptRecordError(
                            f"batch offsets [{base}, {last}] do not follow the previous "
                            f"batch's last offset {prev_last_offset}",
                            file=path,
                            position=position,
                        )
                    if not self.can_convert_to_relative_offset(last):
                        # Kafka would split a legacy (pre-v2) segment here; a v2 log we
                        # wrote cannot overflow, so this can only be corruption.
                        raise CorruptRecordError(
                            f"offset {last} overflows the segment's relative offset range",
                            file=path,
                            position=position,
                        )
                    batch_ts = h.max_timestamp
                    if batch_ts > max_ts:
                        max_ts, max_ts_offset = batch_ts, last
                    if position - last_index_entry > interval:
                        self.offset_index.append(last, position)
                        self.time_index.maybe_append(max_ts, max_ts_offset)
                        last_index_entry = position
                    if leader_epoch_cache is not None:
                        _assign_epoch(leader_epoch_cache, h.partition_leader_epoch, base)
                    prev_last_offset = last
                    valid_bytes = position + LOG_OVERHEAD + h.batch_length
                if valid_bytes == chunk_start:
                    break  # a torn batch at the tail: nothing more is whole
        except (CorruptRecordError, InvalidRecordError) as e:
            # Kafka logs "Found invalid messages in log segment <file> at byte offset <n>"
            # and truncates there; keep the error for callers that want to report it.
            self.last_recovery_error = e
        self._max_ts_and_offset = TimestampOffset(max_ts, max_ts_offset)
        truncated = self._log.size - valid_bytes
        self._log.truncate_to(valid_bytes)
        self.offset_index.trim_to_valid_size()
        # "A normally closed segment always appends the biggest timestamp ever seen."
        self.time_index.maybe_append(max_ts, max_ts_offset, skip_full_check=True)
        self.time_index.trim_to_valid_size()
        self._bytes_since_last_index_entry = valid_bytes - last_index_entry
        if valid_bytes == 0:
            self._rolling_based_timestamp = None
        return truncated

    # -- truncation ------------------------------------------------------------------
    def truncate_to(self, offset: int) -> int:
        """``LogSegment.truncateTo``: drop every batch whose last offset is ``>= offset``.

        Truncation is by whole batches: the batch containing ``offset`` goes entirely
        (Kafka truncates to ``translateOffset(offset).position``). Returns bytes cut.
        """
        mapping = self.translate_offset(offset)
        self.offset_index.truncate_to(offset)
        self.time_index.truncate_to(offset)
        self.offset_index.resize(self.max_index_size)
        self.time_index.resize(self.max_index_size)
        cut = 0 if mapping is None else self._log.truncate_to(mapping.position)
        if self._log.size == 0:
            self.created = self._clock.now_ms()
            self._rolling_based_timestamp = None
        self._bytes_since_last_index_entry = 0
        if self.max_timestamp_so_far >= 0:
            self._max_ts_and_offset = self._read_largest_timestamp()
        return cut

    def _read_largest_timestamp(self) -> TimestampOffset:
        """``readLargestTimestamp``: last time-index entry, or a larger one found after it."""
        last_entry = self.time_index.last_entry
        position = self.offset_index.lookup(last_entry.offset).position
        best = last_entry
        for _pos, fields in self._log.batch_headers_from(position):
            if fields[8] > best.timestamp:
                best = TimestampOffset(fields[8], _last_offset(fields))
        return best

    # -- lifecycle -------------------------------------------------------------------
    def on_become_inactive_segment(self) -> None:
        """``onBecomeInactiveSegment``: final time-index entry, trim both indexes."""
        self.time_index.maybe_append(
            self.max_timestamp_so_far, self.offset_of_max_timestamp_so_far, skip_full_check=True
        )
        self.offset_index.trim_to_valid_size()
        self.time_index.trim_to_valid_size()

    def sanity_check(self) -> None:
        """Check both indexes' structure (raises ``CorruptIndexError``; see ``LogLoader``)."""
        self.offset_index.sanity_check()
        self.time_index.sanity_check()

    def flush(self) -> None:
        """``LogSegment.flush``: fsync the log, then both indexes."""
        self._log.flush()
        self.offset_index.flush()
        self.time_index.flush()

    def close(self) -> None:
        """``LogSegment.close``: record the max timestamp in the time index, close files."""
        if self._max_ts_and_offset is not None:
            try:
                self.time_index.maybe_append(
                    self.max_timestamp_so_far,
                    self.offset_of_max_timestamp_so_far,
                    skip_full_check=True,
                )
            except LogError:
                pass  # Utils.swallow: closing must not fail on a bad final entry
        self.offset_index.close()
        self.time_index.close()
        self._log.close()

    def _paths(self, suffix: str) -> list[str]:
        return [
            segment_file(self.dir, self.base_offset, kind, suffix)
            for kind in (LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX)
        ]

    def delete(self) -> None:
        """Close, rename every file to ``*.deleted``, then unlink (``LocalLog.deleteSegmentFiles``).

        The rename comes first so that a crash between the two steps leaves
        ``.deleted`` files, which ``LogLoader`` removes on the next start, never a
        half-deleted live segment.
        """
        self.close()
        current = self._paths(self._suffix)
        deleted = self._paths(DELETED_FILE_SUFFIX)
        for src, dst in zip(current, deleted, strict=True):
            if os.path.exists(src):
                os.replace(src, dst)
        for path in deleted:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass

    def __repr__(self) -> str:
        return f"LogSegment(baseOffset={self.base_offset}, size={self.size})"


def _declared_size(buf: bytes) -> int | None:
    """Whole size of the batch starting at ``buf[0]`` per its length field, if readable."""
    if len(buf) < LOG_OVERHEAD:
        return None
    length = struct.unpack_from(">i", buf, 8)[0]
    if length < 0:
        return None
    return LOG_OVERHEAD + length


def _assign_epoch(cache: object, epoch: int, start_offset: int) -> None:
    """``recover``'s epoch-cache update: assign when the epoch is newer than the latest."""
    if epoch < 0:
        return
    latest = cache.latest_epoch()  # type: ignore[attr-defined]
    if latest is None or epoch > latest:
        cache.assign(epoch, start_offset)  # type: ignore[attr-defined]
