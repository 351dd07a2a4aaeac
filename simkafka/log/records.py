"""Record batch v2 (magic 2): Kafka's on-disk and on-wire format, byte for byte.

The layout is ``DefaultRecordBatch``'s::

    offset  field                 type
    0       baseOffset            int64
    8       batchLength           int32   bytes after this field
    12      partitionLeaderEpoch  int32
    16      magic                 int8    (2)
    17      crc                   uint32  CRC-32C of bytes 21..end
    21      attributes            int16
    23      lastOffsetDelta       int32
    27      baseTimestamp         int64
    35      maxTimestamp          int64
    43      producerId            int64
    51      producerEpoch         int16
    53      baseSequence          int32
    57      recordsCount          int32
    61      records ...           (compressed as one stream when attributes say so)

The CRC starts at ``attributes`` so that the two fields a broker rewrites on every
append -- ``baseOffset`` (offset assignment) and ``partitionLeaderEpoch`` -- can be
patched in place without recomputing it. That is why :meth:`RecordBatch.set_base_offset`
is a plain 8-byte write.

Each record (``DefaultRecord``) is::

    length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
    keyLength varint | key | valueLength varint | value |
    headerCount varint | [headerKeyLength varint | headerKey | headerValueLength varint | value]

with zig-zag varints exactly as ``ByteUtils`` writes them; a length of -1 means null.
"""

from __future__ import annotations

import _thread
import os
import struct
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import lru_cache
from typing import NamedTuple

import crc32c as _crc32c

from simkafka.log.compression import (
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    CompressionType,
    compress,
    decompress,
)
from simkafka.log.errors import CorruptRecordError, InvalidRecordError

__all__ = [
    "Record",
    "RecordBatch",
    "TimestampType",
    "BatchHeader",
    "unpack_header",
    "ensure_valid_header",
    "set_base_offset_and_leader_epoch",
    "TornTail",
    "BatchIterator",
    "build_batch",
    "build_uniform_batch",
    "iter_batches",
    "crc32c",
    "OVERLAPPED_CRC_MIN_BYTES",
    "OverlappedCrc32c",
    "overlapped_crc32c",
    "decode_all",
    "ControlRecordType",
    "end_txn_marker_record",
    "parse_control_record",
    "read_varint",
    "read_varlong",
    "write_varint",
    "write_varlong",
    "write_unsigned_varint",
    "size_of_varint",
    "size_of_varlong",
    "MAGIC_VALUE_V2",
    "LOG_OVERHEAD",
    "RECORD_BATCH_OVERHEAD",
    "HEADER_SIZE_UP_TO_MAGIC",
    "NO_TIMESTAMP",
    "NO_PRODUCER_ID",
    "NO_PRODUCER_EPOCH",
    "NO_SEQUENCE",
    "NO_PARTITION_LEADER_EPOCH",
]

# --- constants (names from DefaultRecordBatch / Records / RecordBatch) -------------------

MAGIC_VALUE_V2 = 2
BASE_OFFSET_OFFSET = 0
LENGTH_OFFSET = 8
PARTITION_LEADER_EPOCH_OFFSET = 12
MAGIC_OFFSET = 16
CRC_OFFSET = 17
ATTRIBUTES_OFFSET = 21
LAST_OFFSET_DELTA_OFFSET = 23
BASE_TIMESTAMP_OFFSET = 27
MAX_TIMESTAMP_OFFSET = 35
PRODUCER_ID_OFFSET = 43
PRODUCER_EPOCH_OFFSET = 51
BASE_SEQUENCE_OFFSET = 53
RECORDS_COUNT_OFFSET = 57
RECORDS_OFFSET = 61
RECORD_BATCH_OVERHEAD = RECORDS_OFFSET
#: ``Records.LOG_OVERHEAD``: baseOffset + batchLength, the part not counted in batchLength.
LOG_OVERHEAD = 12
#: ``Records.HEADER_SIZE_UP_TO_MAGIC``.
HEADER_SIZE_UP_TO_MAGIC = 17
#: ``LegacyRecord.RECORD_OVERHEAD_V0``: the smallest batchLength any magic allows; the
#: log reader rejects anything smaller before it even looks at the magic.
RECORD_OVERHEAD_V0 = 14

NO_TIMESTAMP = -1
NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
NO_SEQUENCE = -1
NO_PARTITION_LEADER_EPOCH = -1

COMPRESSION_CODEC_MASK = 0x07
TIMESTAMP_TYPE_MASK = 0x08
TRANSACTIONAL_FLAG_MASK = 0x10
CONTROL_FLAG_MASK = 0x20
#: KIP-534: when set, ``baseTimestamp`` holds the delete horizon of the batch's tombstones.
DELETE_HORIZON_FLAG_MASK = 0x40

_HEADER = struct.Struct(">qiibIhiqqqhii")
_HEADER_UP_TO_CRC = struct.Struct(">qiibI")
_HEADER_AFTER_CRC = struct.Struct(">hiqqqhii")
_CRC_STRUCT = struct.Struct(">I")
_INT64 = struct.Struct(">q")
_INT32 = struct.Struct(">i")
_INT16 = struct.Struct(">h")
_INT8 = struct.Struct(">b")
_UINT32 = struct.Struct(">I")

_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """CRC-32C (Castagnoli), as ``org.apache.kafka.common.utils.Crc32C.compute``."""
    return _crc32c.crc32c(data)


# --- CRC-32C overlapped with the write ------------------------------------------------
#: Batches at least this large have their CRC checked on a worker thread while their
#: bytes are written (see :class:`OverlappedCrc32c`). Measured on the 2-core VM with
#: ``benchmarks/bench_log_append.py --sizes`` (us per append, inline -> overlapped):
#: with the second core free, 128 KiB 91 -> 83, 256 KiB 159 -> 125, 1 MiB 500 -> 343;
#: with it taken by other work, 128 KiB 85 -> 113, 256 KiB 146 -> 171, 1 MiB 463 ->
#: 462 (the hand-off is paid, the overlap is not had). 256 KiB keeps the loss on a busy
#: machine small and the gain on a quiet one large; 16 KiB would lose either way.
OVERLAPPED_CRC_MIN_BYTES = 256 * 1024


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


class OverlappedCrc32c:
    """One daemon thread that computes a CRC-32C while its caller does something else.

    ``crc32c.crc32c`` and ``os.write``/``os.writev`` all release the GIL, so on a
    machine with two cores a large batch's CRC and its write into the page cache run at
    the same time. Kafka validates before it writes (``LogValidator`` runs before
    ``LogSegment.append``); the append path keeps Kafka's *observable* order by not
    moving the log end offset, the indexes or any counter until the CRC is known good,
    and truncating the file back when it is not (see ``LogSegment.append``).

    The hand-off is raw locks rather than a ``ThreadPoolExecutor``: a ``Future`` round
    trip costs ~40 us, which eats the gain below 256 KiB; a lock release costs a few.
    Whoever *claims* the job first computes it: the worker when it wakes, or the caller
    in :meth:`result` if the worker has not woken by then (the other core is busy with
    another process) -- so a loaded machine costs the hand-off, not a wait for the
    scheduler. One slot only: :meth:`start` returns False while a job is in flight
    (another thread's, or one the caller took back before the worker woke), and that
    caller computes its CRC inline first, as before; nobody waits for the slot. The
    thread is a daemon, so it never blocks interpreter exit, and a forked child
    (``loadgen``'s process executor) gets a fresh instance rather than one whose thread
    did not survive the fork.
    """

    __slots__ = (
        "_busy",
        "_go",
        "_claim",
        "_done",
        "_data",
        "_result",
        "_error",
        "_started",
        "_started_cpu",
        "_misses",
        "_skip",
    )

    #: Overlaps that did not happen in a row before the caller stops offering jobs ...
    MISSES_BEFORE_BACKOFF = 3
    #: ... for this many large appends; then one job probes whether a core is free again.
    BACKOFF_APPENDS = 64

    def __init__(self, *, start_thread: bool = True) -> None:
        self._busy = _thread.allocate_lock()  # the slot: held from start() to the job's end
        self._go = _thread.allocate_lock()  # released by start(): wakes the worker
        self._go.acquire()
        self._claim = _thread.allocate_lock()  # taken by whoever computes the job
        self._done = _thread.allocate_lock()  # released by the worker when it computed it
        self._done.acquire()
        self._data: bytes | bytearray | memoryview | None = None
        self._result = 0
        self._error: BaseException | None = None
        self._started = 0.0  # perf_counter() at start(): the write began
        self._started_cpu = 0.0  # the caller's thread_time() then
        self._misses = 0  # consecutive jobs that did not overlap
        self._skip = 0  # start() calls still to refuse (backing off)
        if start_thread:
            self.start_thread()

    def start_thread(self) -> None:
        """Start the worker (done by ``__init__`` unless ``start_thread=False``, for tests)."""
        threading.Thread(target=self._run, name="simkafka-crc32c", daemon=True).start()

    def _run(self) -> None:
        go, claim, done, busy = self._go, self._claim, self._done, self._busy
        compute = _crc32c.crc32c
        while True:
            go.acquire()
            if claim.acquire(False):
                try:
                    self._result = compute(self._data)
                except BaseException as e:  # handed to the caller by result()
                    self._error = e
                self._data = None  # drop the view so the caller's buffer can be resized
                done.release()
            else:
                # The caller took the job back and computed it: free the slot.
                claim.release()
                busy.release()

    @property
    def in_flight(self) -> bool:
        """A job holds the slot (:meth:`start` would return False)."""
        return self._busy.locked()

    def start(self, data: bytes | bytearray | memoryview) -> bool:
        """Begin the CRC of ``data``; False (nothing started) if the slot is taken.

        Also False while backing off (see :meth:`result`). After True the caller must
        call :meth:`result` exactly once and must not change ``data`` before it returns.
        """
        if self._skip:
            self._skip -= 1
            return False
        if not self._busy.acquire(False):
            return False
        self._data = data
        self._started = time.perf_counter()
        self._started_cpu = time.thread_time()
        self._go.release()
        return True

    def result(self) -> int:
        """The CRC begun by :meth:`start`: computed here if the worker has not claimed it.

        Also judges whether the overlap happened. It did not -- no core was free for
        the worker (other processes) -- when the job had to be taken back, when the
        caller lost more than a quarter of its time since :meth:`start` off the CPU
        (the worker ran *instead of* the write, time-sharing one core), or when it then
        waited for the worker longer than a quarter of that time. After
        ``MISSES_BEFORE_BACKOFF`` such jobs in a row, :meth:`start` refuses the next
        ``BACKOFF_APPENDS`` jobs, so a loaded machine mostly pays today's inline cost
        rather than the hand-off on every append. Only speed depends on this.
        """
        if self._claim.acquire(False):
            data, self._data = self._data, None
            self._record(True)
            return _crc32c.crc32c(data)  # the worker frees the slot when it wakes
        arrived = time.perf_counter()
        elapsed = arrived - self._started
        descheduled = elapsed - (time.thread_time() - self._started_cpu)
        done = self._done
        if done.acquire(False):
            self._record(descheduled * 4 > elapsed)
        else:
            done.acquire()
            waited = time.perf_counter() - arrived
            self._record(descheduled * 4 > elapsed or waited * 4 > elapsed)
        error, self._error = self._error, None
        result = self._result
        self._claim.release()
        self._busy.release()
        if error is not None:
            raise error
        return result

    def _record(self, missed: bool) -> None:
        if not missed:
            self._misses = 0
            return
        self._misses += 1
        if self._misses >= self.MISSES_BEFORE_BACKOFF:
            self._skip = self.BACKOFF_APPENDS
            self._misses = self.MISSES_BEFORE_BACKOFF - 1  # a failed probe backs off again

    def reset_backoff(self) -> None:
        """Forget past misses (tests and benchmarks that need the overlap to be tried)."""
        self._misses = 0
        self._skip = 0


_overlapped: OverlappedCrc32c | None = None
_overlapped_decided = False  # whether this process has decided on a worker (or none)
_overlapped_lock = threading.Lock()


def overlapped_crc32c() -> OverlappedCrc32c | None:
    """The process's CRC worker, created on first use; None on a single usable core.

    With one core the two tasks cannot overlap, so callers compute inline. The decision
    is made once per process (it costs a system call).
    """
    global _overlapped, _overlapped_decided
    if _overlapped_decided:
        return _overlapped
    with _overlapped_lock:
        if not _overlapped_decided:
            _overlapped = OverlappedCrc32c() if _usable_cpus() >= 2 else None
            _overlapped_decided = True
    return _overlapped


def _forget_overlapped_after_fork() -> None:
    # Only the forking thread survives a fork: the worker thread is gone and its locks
    # may be held. The child starts its own worker on first use.
    global _overlapped, _overlapped_decided, _overlapped_lock
    _overlapped = None
    _overlapped_decided = False
    _overlapped_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_overlapped_after_fork)


class TimestampType(IntEnum):
    """Attribute bit 3 (Kafka's ``TimestampType``)."""

    CREATE_TIME = 0
    LOG_APPEND_TIME = 1


# --- varints (ByteUtils) --------------------------------------------------------------


def write_unsigned_varint(value: int) -> bytes:
    """``ByteUtils.writeUnsignedVarint``: 7 bits per byte, low group first, of a 32-bit int."""
    value &= 0xFFFFFFFF
    out = bytearray()
    while value & ~0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def write_varint(value: int) -> bytes:
    """``ByteUtils.writeVarint``: zig-zag encode an int32, then unsigned varint."""
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise ValueError(f"varint value {value} does not fit in an int32")
    if 0 <= value < 64:  # the common case: one byte
        return _SMALL_VARINTS[value]
    return write_unsigned_varint((value << 1) ^ (value >> 31))


def write_varlong(value: int) -> bytes:
    """``ByteUtils.writeVarlong``: zig-zag encode an int64, then 7 bits per byte."""
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise ValueError(f"varlong value {value} does not fit in an int64")
    v = ((value << 1) ^ (value >> 63)) & 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while v & ~0x7F:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


_SMALL_VARINTS = tuple(bytes([v << 1]) for v in range(64))


def size_of_varint(value: int) -> int:
    """``ByteUtils.sizeOfVarint``."""
    return len(write_varint(value))


def size_of_varlong(value: int) -> int:
    """``ByteUtils.sizeOfVarlong``."""
    return len(write_varlong(value))


def read_varint(buf: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    """``ByteUtils.readVarint``: returns ``(value, next_position)``.

    Like Java, at most 5 bytes are read (a 6th continuation raises) and bits shifted
    past bit 31 by the 5th byte are dropped, as an ``int`` shift would drop them.
    """
    value = 0
    shift = 0
    try:
        while True:
            b = buf[pos]
            pos += 1
            if not b & 0x80:
                break
            value |= (b & 0x7F) << shift
            shift += 7
            if shift > 28:
                raise InvalidRecordError(
                    "Varint is too long, the most significant bit in the 5th byte is set"
                )
    except IndexError:
        raise InvalidRecordError("Incorrect declared batch size, premature EOF reached") from None
    value = (value | (b << shift)) & 0xFFFFFFFF
    return (value >> 1) ^ -(value & 1), pos


def read_varlong(buf: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    """``ByteUtils.readVarlong``: at most 10 bytes, bits past bit 63 dropped."""
    value = 0
    shift = 0
    try:
        while True:
            b = buf[pos]
            pos += 1
            if not b & 0x80:
                break
            value |= (b & 0x7F) << shift
            shift += 7
            if shift > 63:
                raise InvalidRecordError(
                    "Varlong is too long, most significant bit in the 10th byte is set"
                )
    except IndexError:
        raise InvalidRecordError("Incorrect declared batch size, premature EOF reached") from None
    value = (value | (b << shift)) & 0xFFFFFFFFFFFFFFFF
    return (value >> 1) ^ -(value & 1), pos


# --- records -------------------------------------------------------------------------------

Header = tuple[str, bytes | None]


@dataclass(frozen=True, slots=True)
class Record:
    """One record of a v2 batch, as stored: offset and timestamp are deltas from the batch.

    Header keys are strings (Kafka requires non-null UTF-8 keys); bytes that are not
    valid UTF-8 are kept through ``surrogateescape`` so re-encoding reproduces them.
    """

    offset_delta: int
    timestamp_delta: int = 0
    key: bytes | None = None
    value: bytes | None = None
    headers: tuple[Header, ...] = field(default=())
    attributes: int = 0

    def encode(self) -> bytes:
        """The record's bytes, including its leading length varint (``DefaultRecord.writeTo``)."""
        parts = [
            _INT8.pack(_to_int8(self.attributes)),
            write_varlong(self.timestamp_delta),
            write_varint(self.offset_delta),
        ]
        _append_bytes(parts, self.key)
        _append_bytes(parts, self.value)
        parts.append(write_varint(len(self.headers)))
        for hkey, hvalue in self.headers:
            if hkey is None:
                raise ValueError("Invalid null header key found in headers")
            _append_bytes(parts, hkey.encode("utf-8", "surrogateescape"))
            _append_bytes(parts, hvalue)
        body = b"".join(parts)
        return write_varint(len(body)) + body


def _to_int8(v: int) -> int:
    return v - 256 if v > 127 else v


def _append_bytes(parts: list[bytes], data: bytes | None) -> None:
    if data is None:
        parts.append(b"\x01")  # varint -1
    else:
        parts.append(write_varint(len(data)))
        parts.append(bytes(data))


def _read_nullable(buf: bytes, pos: int, end: int) -> tuple[bytes | None, int]:
    b = buf[pos] if pos < end else 0x80
    if b < 0x80:  # one-byte varint: the usual case for short keys
        size = (b >> 1) ^ -(b & 1)
        pos += 1
    else:
        size, pos = read_varint(buf, pos)
    if size < 0:  # Kafka treats any negative length as null
        return None, pos
    if pos + size > end:
        raise InvalidRecordError(
            "Found invalid record structure: length past the end of the record"
        )
    return buf[pos : pos + size], pos + size


def _decode_record(buf: bytes, pos: int) -> tuple[Record, int]:
    """``DefaultRecord.readFrom`` over an in-memory records section.

    Single-byte varints (small deltas, short keys) are decoded inline; everything else
    goes through :func:`read_varint` / :func:`read_varlong`, which apply Java's limits.
    """
    size, pos = read_varint(buf, pos)
    remaining = len(buf) - pos
    if size < 0 or remaining < size:
        raise InvalidRecordError(
            f"Invalid record size: expected {size} bytes in record payload, but instead the "
            f"buffer has only {remaining} remaining bytes."
        )
    if size < 6:
        # attributes + five varints (ts delta, offset delta, key, value, header count)
        # need at least 6 bytes; DefaultRecord.readFrom fails the same record later.
        raise InvalidRecordError(f"Found invalid record structure: record of {size} bytes")
    start = pos
    end = pos + size
    attributes = buf[pos]
    if attributes > 127:
        attributes -= 256
    b = buf[pos + 1]
    if b < 0x80:
        timestamp_delta = (b >> 1) ^ -(b & 1)
        pos += 2
    else:
        timestamp_delta, pos = read_varlong(buf, pos + 1)
    b = buf[pos] if pos < end else 0x80
    if b < 0x80:
        offset_delta = (b >> 1) ^ -(b & 1)
        pos += 1
    else:
        offset_delta, pos = read_varint(buf, pos)
    key, pos = _read_nullable(buf, pos, end)
    value, pos = _read_nullable(buf, pos, end)
    if pos < end and buf[pos] == 0:  # no headers: the usual case
        pos += 1
        headers: tuple[Header, ...] = ()
    else:
        headers, pos = _read_headers(buf, pos, end)
    if pos != end:
        raise InvalidRecordError(
            f"Invalid record size: expected to read {size} bytes in record payload, but "
            f"instead read {pos - start}"
        )
    return Record(offset_delta, timestamp_delta, key, value, headers, attributes), end


def _read_headers(buf: bytes, pos: int, end: int) -> tuple[tuple[Header, ...], int]:
    """``DefaultRecord.readHeaders`` with its count checks."""
    num_headers, pos = read_varint(buf, pos)
    if num_headers < 0:
        raise InvalidRecordError(f"Found invalid number of record headers {num_headers}")
    if num_headers > end - pos:
        raise InvalidRecordError(
            f"Found invalid number of record headers. {num_headers} is larger than the "
            "remaining size of the buffer"
        )
    headers: list[Header] = []
    for _ in range(num_headers):
        hkey_size, pos = read_varint(buf, pos)
        if hkey_size < 0:
            raise InvalidRecordError(f"Invalid negative header key size {hkey_size}")
        if pos + hkey_size > end:
            raise InvalidRecordError("Found invalid record structure: header key past the end")
        hkey = buf[pos : pos + hkey_size].decode("utf-8", "surrogateescape")
        pos += hkey_size
        hvalue, pos = _read_nullable(buf, pos, end)
        headers.append((hkey, hvalue))
    return tuple(headers), pos


# --- the batch view ----------------------------------------------------------------------


class BatchHeader(NamedTuple):
    """All 61 header bytes decoded at once (one ``struct`` call).

    A ``NamedTuple`` rather than a dataclass because it is built on every append and
    every recovered batch: ``_make`` over the ``struct`` result costs about a fifth of a
    frozen dataclass's ``__init__`` (see ``benchmarks/bench_log_append.py``).
    """

    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    records_count: int


_make_header = BatchHeader._make
_unpack_header = _HEADER.unpack_from


def unpack_header(buffer: bytes | bytearray | memoryview, position: int = 0) -> BatchHeader:
    """The 61-byte header at ``position`` (the caller ensures 61 bytes are there)."""
    return _make_header(_unpack_header(buffer, position))


def ensure_valid_header(
    buffer: bytes | bytearray | memoryview,
    position: int,
    header: BatchHeader,
    *,
    file: str | None = None,
) -> None:
    """``DefaultRecordBatch.ensureValid`` given the batch's already unpacked header.

    The same checks, in the same order, as :meth:`RecordBatch.ensure_valid` (which calls
    this): a plausible size that fits the buffer, magic 2, then the CRC-32C of
    ``attributes`` .. end against the stored one. Taking the header lets the append path
    validate from the one ``struct`` call it already made.
    """
    size = LOG_OVERHEAD + header.batch_length
    problem = None
    if size < RECORD_BATCH_OVERHEAD:
        problem = (
            f"Record batch is corrupt (the size {size} is smaller than the minimum "
            f"allowed overhead {RECORD_BATCH_OVERHEAD})"
        )
    else:
        available = len(buffer) - position
        if size > available:
            problem = (
                f"Record batch is corrupt (the size {size} exceeds the {available} bytes available)"
            )
        elif header.magic != MAGIC_VALUE_V2:
            problem = f"Invalid magic {header.magic} for a v2 record batch"
        else:
            computed = _crc32c.crc32c(
                memoryview(buffer)[position + ATTRIBUTES_OFFSET : position + size]
            )
            if computed != header.crc:
                problem = (
                    f"Record is corrupt (stored crc = {header.crc}, computed crc = {computed})"
                )
    if problem is not None:
        raise CorruptRecordError(problem, file=file, position=position)


def set_base_offset_and_leader_epoch(
    buffer: bytearray | memoryview, position: int, base_offset: int, epoch: int
) -> None:
    """The broker's two in-place rewrites on append (``setLastOffset`` and
    ``setPartitionLeaderEpoch``); both fields lie outside the CRC, which stays valid."""
    _INT64.pack_into(buffer, position + BASE_OFFSET_OFFSET, base_offset)
    _INT32.pack_into(buffer, position + PARTITION_LEADER_EPOCH_OFFSET, epoch)


class RecordBatch:
    """A view over one magic-2 batch in a buffer (Kafka's ``DefaultRecordBatch``).

    Properties read single header fields with ``struct`` and never touch the records,
    so walking a segment costs one small read per batch. The view holds ``buffer``
    from ``position`` to ``position + size_in_bytes``; pass a ``bytearray`` (or a
    writable ``memoryview``) to use the in-place setters.
    """

    __slots__ = ("_buf", "_pos")

    def __init__(self, buffer: bytes | bytearray | memoryview, position: int = 0) -> None:
        if len(buffer) - position < RECORD_BATCH_OVERHEAD:
            raise CorruptRecordError(
                f"Record batch is corrupt (the size {len(buffer) - position} is smaller than "
                f"the minimum allowed overhead {RECORD_BATCH_OVERHEAD})",
                position=position,
            )
        self._buf = buffer
        self._pos = position

    # -- header fields --------------------------------------------------------------
    def header(self) -> BatchHeader:
        return _make_header(_unpack_header(self._buf, self._pos))

    def _i64(self, off: int) -> int:
        return _INT64.unpack_from(self._buf, self._pos + off)[0]

    def _i32(self, off: int) -> int:
        return _INT32.unpack_from(self._buf, self._pos + off)[0]

    def _i16(self, off: int) -> int:
        return _INT16.unpack_from(self._buf, self._pos + off)[0]

    @property
    def base_offset(self) -> int:
        return self._i64(BASE_OFFSET_OFFSET)

    @property
    def batch_length(self) -> int:
        return self._i32(LENGTH_OFFSET)

    @property
    def size_in_bytes(self) -> int:
        """``LOG_OVERHEAD + batchLength``: the whole batch, as it occupies the file."""
        return LOG_OVERHEAD + self.batch_length

    @property
    def partition_leader_epoch(self) -> int:
        return self._i32(PARTITION_LEADER_EPOCH_OFFSET)

    @property
    def magic(self) -> int:
        return _INT8.unpack_from(self._buf, self._pos + MAGIC_OFFSET)[0]

    @property
    def crc(self) -> int:
        """The stored checksum (``checksum()``), unsigned."""
        return _UINT32.unpack_from(self._buf, self._pos + CRC_OFFSET)[0]

    @property
    def attributes(self) -> int:
        return self._i16(ATTRIBUTES_OFFSET)

    @property
    def last_offset_delta(self) -> int:
        return self._i32(LAST_OFFSET_DELTA_OFFSET)

    @property
    def base_timestamp(self) -> int:
        """``firstTimestamp``; holds the delete horizon when :attr:`has_delete_horizon`."""
        return self._i64(BASE_TIMESTAMP_OFFSET)

    @property
    def max_timestamp(self) -> int:
        return self._i64(MAX_TIMESTAMP_OFFSET)

    @property
    def producer_id(self) -> int:
        return self._i64(PRODUCER_ID_OFFSET)

    @property
    def producer_epoch(self) -> int:
        return self._i16(PRODUCER_EPOCH_OFFSET)

    @property
    def base_sequence(self) -> int:
        return self._i32(BASE_SEQUENCE_OFFSET)

    @property
    def records_count(self) -> int:
        return self._i32(RECORDS_COUNT_OFFSET)

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.last_offset + 1

    @property
    def last_sequence(self) -> int:
        """``lastSequence()``: sequences wrap at ``Integer.MAX_VALUE`` back to 0."""
        base = self.base_sequence
        if base == NO_SEQUENCE:
            return NO_SEQUENCE
        return _increment_sequence(base, self.last_offset_delta)

    @property
    def compression_type(self) -> CompressionType:
        return CompressionType.for_id(self.attributes & COMPRESSION_CODEC_MASK)

    @property
    def timestamp_type(self) -> TimestampType:
        return TimestampType((self.attributes & TIMESTAMP_TYPE_MASK) >> 3)

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & TRANSACTIONAL_FLAG_MASK)

    @property
    def is_control_batch(self) -> bool:
        return bool(self.attributes & CONTROL_FLAG_MASK)

    @property
    def has_delete_horizon(self) -> bool:
        return bool(self.attributes & DELETE_HORIZON_FLAG_MASK)

    @property
    def delete_horizon_ms(self) -> int | None:
        """KIP-534's ``deleteHorizonMs()``: the base timestamp when the flag is set."""
        return self.base_timestamp if self.has_delete_horizon else None

    # -- bytes and validation ----------------------------------------------------------
    def buffer(self) -> memoryview:
        """The batch's bytes (a view; clipped to the buffer if the batch is torn)."""
        end = min(self._pos + max(self.size_in_bytes, 0), len(self._buf))
        return memoryview(self._buf)[self._pos : end]

    def to_bytes(self) -> bytes:
        return bytes(self.buffer())

    def compute_checksum(self) -> int:
        """CRC-32C over attributes .. end of batch (``computeChecksum``)."""
        end = self._pos + self.size_in_bytes
        return crc32c(memoryview(self._buf)[self._pos + ATTRIBUTES_OFFSET : end])

    def _size_problem(self) -> str | None:
        size = self.size_in_bytes
        if size < RECORD_BATCH_OVERHEAD:
            return (
                f"Record batch is corrupt (the size {size} is smaller than the minimum "
                f"allowed overhead {RECORD_BATCH_OVERHEAD})"
            )
        available = len(self._buf) - self._pos
        if size > available:
            return (
                f"Record batch is corrupt (the size {size} exceeds the {available} bytes available)"
            )
        return None

    def is_valid(self) -> bool:
        """``isValid()``: the size is plausible, the magic is 2 and the CRC matches."""
        return (
            self._size_problem() is None
            and self.magic == MAGIC_VALUE_V2
            and self.crc == self.compute_checksum()
        )

    def ensure_valid(self, *, file: str | None = None) -> None:
        """``ensureValid()``: raise :class:`CorruptRecordError` unless :meth:`is_valid`."""
        ensure_valid_header(self._buf, self._pos, self.header(), file=file)

    # -- in-place rewrites (the broker's offset and epoch assignment) --------------------
    def set_base_offset(self, base_offset: int) -> None:
        """Rewrite ``baseOffset`` in place; the CRC does not cover it, so stays valid."""
        _INT64.pack_into(self._buf, self._pos + BASE_OFFSET_OFFSET, base_offset)

    def set_last_offset(self, last_offset: int) -> None:
        """``setLastOffset``: the broker assigns offsets so that the batch ends at ``last_offset``."""
        self.set_base_offset(last_offset - self.last_offset_delta)

    def set_partition_leader_epoch(self, epoch: int) -> None:
        """``setPartitionLeaderEpoch``: also outside the CRC."""
        _INT32.pack_into(self._buf, self._pos + PARTITION_LEADER_EPOCH_OFFSET, epoch)

    def set_max_timestamp(self, timestamp_type: TimestampType, max_timestamp: int) -> None:
        """``setMaxTimestamp``: used for ``LOG_APPEND_TIME``; recomputes the CRC only if changed."""
        if self.timestamp_type == timestamp_type and self.max_timestamp == max_timestamp:
            return
        attrs = self.attributes & ~TIMESTAMP_TYPE_MASK
        if timestamp_type == TimestampType.LOG_APPEND_TIME:
            attrs |= TIMESTAMP_TYPE_MASK
        _INT16.pack_into(self._buf, self._pos + ATTRIBUTES_OFFSET, attrs)
        _INT64.pack_into(self._buf, self._pos + MAX_TIMESTAMP_OFFSET, max_timestamp)
        _UINT32.pack_into(self._buf, self._pos + CRC_OFFSET, self.compute_checksum())

    def with_base_offset(self, base_offset: int) -> bytes:
        """A copy of the batch with a new ``baseOffset`` (and the same CRC)."""
        out = bytearray(self.buffer())
        _INT64.pack_into(out, BASE_OFFSET_OFFSET, base_offset)
        return bytes(out)

    # -- records -------------------------------------------------------------------------
    def records_section(
        self, max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    ) -> bytes:
        """The (decompressed) bytes of all records."""
        problem = self._size_problem()
        if problem is not None:
            raise CorruptRecordError(problem, position=self._pos)
        raw = memoryview(self._buf)[self._pos + RECORDS_OFFSET : self._pos + self.size_in_bytes]
        codec = self.compression_type
        if codec is CompressionType.NONE:
            return bytes(raw)
        try:
            return decompress(raw, codec, max_decompressed_bytes)
        except CorruptRecordError as e:
            raise e.at(position=self._pos) from None

    def records(
        self, max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    ) -> Iterator[Record]:
        """Decode the records (decompressing first if needed), checking ``recordsCount``.

        Like ``DefaultRecordBatch.RecordIterator``: a negative count is invalid, and after
        the declared number of records no bytes may remain.
        """
        count = self.records_count
        if count < 0:
            raise InvalidRecordError(
                f"Found invalid record count {count} in magic v{self.magic} batch"
            )
        if count == 0:
            return iter(())
        return self._iter_records(self.records_section(max_decompressed_bytes), count)

    @staticmethod
    def _iter_records(section: bytes, count: int) -> Iterator[Record]:
        pos = 0
        for _ in range(count):
            if pos >= len(section):
                raise InvalidRecordError("Incorrect declared batch size, premature EOF reached")
            record, pos = _decode_record(section, pos)
            yield record
        if pos != len(section):
            raise InvalidRecordError(
                "Incorrect declared batch size, records still remaining in file"
            )

    def offset_of(self, record: Record) -> int:
        return self.base_offset + record.offset_delta

    def timestamp_of(self, record: Record) -> int:
        """The record's timestamp: the batch's max timestamp under ``LOG_APPEND_TIME``."""
        if self.timestamp_type == TimestampType.LOG_APPEND_TIME:
            return self.max_timestamp
        return self.base_timestamp + record.timestamp_delta

    def __repr__(self) -> str:
        return (
            f"RecordBatch(magic={self.magic}, offsets=[{self.base_offset}, {self.last_offset}], "
            f"sequence=[{self.base_sequence}, {self.last_sequence}], "
            f"isTransactional={self.is_transactional}, isControlBatch={self.is_control_batch}, "
            f"compression={self.compression_type.config_name}, "
            f"timestampType={self.timestamp_type.name}, crc={self.crc})"
        )


def _increment_sequence(sequence: int, increment: int) -> int:
    """``DefaultRecordBatch.incrementSequence``."""
    if sequence > _INT32_MAX - increment:
        return increment - (_INT32_MAX - sequence) - 1
    return sequence + increment


# --- building batches (MemoryRecordsBuilder) ----------------------------------------------


def _attributes(
    compression: CompressionType,
    timestamp_type: TimestampType,
    is_transactional: bool,
    is_control: bool,
    has_delete_horizon: bool,
) -> int:
    """``DefaultRecordBatch.computeAttributes``."""
    attrs = int(compression) & COMPRESSION_CODEC_MASK
    if timestamp_type == TimestampType.LOG_APPEND_TIME:
        attrs |= TIMESTAMP_TYPE_MASK
    if is_transactional:
        attrs |= TRANSACTIONAL_FLAG_MASK
    if is_control:
        attrs |= CONTROL_FLAG_MASK
    if has_delete_horizon:
        attrs |= DELETE_HORIZON_FLAG_MASK
    return attrs


def _assemble(
    section: bytes,
    *,
    count: int,
    base_offset: int,
    last_offset_delta: int,
    base_timestamp: int,
    max_timestamp: int,
    attributes: int,
    compression: CompressionType,
    compression_level: int | None,
    producer_id: int,
    producer_epoch: int,
    base_sequence: int,
    partition_leader_epoch: int,
) -> bytes:
    """Compress the records section and write the header (``writeHeader``) in front."""
    if compression is not CompressionType.NONE:
        section = compress(section, compression, compression_level)
    size = RECORD_BATCH_OVERHEAD + len(section)
    # Everything the CRC covers: the header from attributes on, then the records. The
    # CRC is chained over the two pieces so the (possibly MiB-sized) section is copied
    # only once, into the final join.
    covered = _HEADER_AFTER_CRC.pack(
        attributes,
        last_offset_delta,
        base_timestamp,
        max_timestamp,
        producer_id,
        producer_epoch,
        base_sequence,
        count,
    )
    crc = _crc32c.crc32c(section, _crc32c.crc32c(covered))
    head = _HEADER_UP_TO_CRC.pack(
        base_offset, size - LOG_OVERHEAD, partition_leader_epoch, MAGIC_VALUE_V2, crc
    )
    return b"".join((head, covered, section))


def _check_header_args(base_timestamp: int, producer_epoch: int, base_sequence: int) -> None:
    if base_timestamp < 0 and base_timestamp != NO_TIMESTAMP:
        raise ValueError(f"Invalid message timestamp {base_timestamp}")
    if not -(1 << 15) <= producer_epoch < (1 << 15):
        raise ValueError(f"producer epoch {producer_epoch} does not fit in an int16")
    if not _INT32_MIN <= base_sequence <= _INT32_MAX:
        raise ValueError(f"base sequence {base_sequence} does not fit in an int32")


def build_batch(
    records: Sequence[Record],
    *,
    base_offset: int,
    base_timestamp: int,
    compression: CompressionType | int = CompressionType.NONE,
    timestamp_type: TimestampType = TimestampType.CREATE_TIME,
    log_append_time: int | None = None,
    producer_id: int = NO_PRODUCER_ID,
    producer_epoch: int = NO_PRODUCER_EPOCH,
    base_sequence: int = NO_SEQUENCE,
    partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
    is_transactional: bool = False,
    is_control: bool = False,
    has_delete_horizon: bool = False,
    compression_level: int | None = None,
) -> bytes:
    """Build one v2 batch, as ``MemoryRecordsBuilder.build()`` would write it.

    ``base_timestamp`` is the first record's timestamp (``firstTimestamp``), or the
    delete horizon when ``has_delete_horizon``; each record's ``timestamp_delta`` is
    relative to it. ``maxTimestamp`` is ``base_timestamp + max(delta)`` under
    ``CREATE_TIME`` and ``log_append_time`` under ``LOG_APPEND_TIME`` -- the records keep
    their create-time deltas either way, as the broker leaves them. Offset deltas must
    increase (``MemoryRecordsBuilder`` rejects out-of-order offsets);
    ``lastOffsetDelta`` is the last record's.
    """
    compression = CompressionType.for_id(int(compression))
    _check_header_args(base_timestamp, producer_epoch, base_sequence)
    previous = -1
    for r in records:
        if r.offset_delta <= previous:
            raise ValueError(
                f"Illegal offset delta {r.offset_delta} following previous delta {previous} "
                "(offsets must be increasing)"
            )
        previous = r.offset_delta
    if timestamp_type == TimestampType.LOG_APPEND_TIME:
        if log_append_time is None:
            raise ValueError("log_append_time is required for LOG_APPEND_TIME batches")
        max_timestamp = log_append_time
    elif records:
        max_timestamp = base_timestamp + max(r.timestamp_delta for r in records)
    else:
        max_timestamp = NO_TIMESTAMP
    section = b"".join(r.encode() for r in records)
    return _assemble(
        section,
        count=len(records),
        base_offset=base_offset,
        last_offset_delta=records[-1].offset_delta if records else 0,
        base_timestamp=base_timestamp,
        max_timestamp=max_timestamp,
        attributes=_attributes(
            compression, timestamp_type, is_transactional, is_control, has_delete_horizon
        ),
        compression=compression,
        compression_level=compression_level,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        base_sequence=base_sequence,
        partition_leader_epoch=partition_leader_epoch,
    )


@lru_cache(maxsize=16)
def _uniform_record_prefixes(key: bytes | None, value_size: int, count: int) -> tuple[bytes, ...]:
    """Per-record prefixes for :func:`build_uniform_batch`.

    Every record differs only in its ``offsetDelta`` varint, so the bytes before the
    value are ``length | attrs | tsDelta(0) | offsetDelta | key | valueLength``; they
    are precomputed once per (key, value size, count) and reused.
    """
    key_part = b"\x01" if key is None else write_varint(len(key)) + key
    tail = write_varint(value_size)
    prefixes = []
    for delta in range(count):
        body_before_value = b"\x00\x00" + write_varint(delta) + key_part + tail
        body_len = len(body_before_value) + value_size + 1  # + headerCount(0)
        prefixes.append(write_varint(body_len) + body_before_value)
    return tuple(prefixes)


def build_uniform_batch(
    count: int,
    value_size: int,
    *,
    base_offset: int,
    base_timestamp: int,
    payload: bytes | bytearray | memoryview | None = None,
    key: bytes | None = None,
    compression: CompressionType | int = CompressionType.NONE,
    timestamp_type: TimestampType = TimestampType.CREATE_TIME,
    log_append_time: int | None = None,
    producer_id: int = NO_PRODUCER_ID,
    producer_epoch: int = NO_PRODUCER_EPOCH,
    base_sequence: int = NO_SEQUENCE,
    partition_leader_epoch: int = NO_PARTITION_LEADER_EPOCH,
    compression_level: int | None = None,
) -> bytes:
    """Fast path for the load generator: ``count`` records of ``value_size`` bytes each.

    All records share one timestamp (delta 0), the same ``key`` and no headers, as a
    producer's batch filled within one millisecond would. Record ``i``'s value is
    ``payload[i*value_size:(i+1)*value_size]`` (zeros if ``payload`` is None), so the
    caller controls compressibility. The result is byte-identical to :func:`build_batch`
    with the equivalent :class:`Record` list, but the per-record work is one join of
    precomputed prefixes and value slices.
    """
    if count < 1:
        raise ValueError("count must be >= 1")
    if value_size < 0:
        raise ValueError("value_size must be >= 0")
    compression = CompressionType.for_id(int(compression))
    _check_header_args(base_timestamp, producer_epoch, base_sequence)
    if payload is None:
        payload = bytes(count * value_size)
    view = memoryview(payload)
    if len(view) < count * value_size:
        raise ValueError(f"payload has {len(view)} bytes, fewer than count * value_size")
    prefixes = _uniform_record_prefixes(None if key is None else bytes(key), value_size, count)
    parts: list[bytes | memoryview] = []
    append = parts.append
    for i, prefix in enumerate(prefixes):
        append(prefix)
        append(view[i * value_size : (i + 1) * value_size])
        append(b"\x00")
    section = b"".join(parts)
    if timestamp_type == TimestampType.LOG_APPEND_TIME:
        if log_append_time is None:
            raise ValueError("log_append_time is required for LOG_APPEND_TIME batches")
        max_timestamp = log_append_time
    else:
        max_timestamp = base_timestamp
    return _assemble(
        section,
        count=count,
        base_offset=base_offset,
        last_offset_delta=count - 1,
        base_timestamp=base_timestamp,
        max_timestamp=max_timestamp,
        attributes=_attributes(compression, timestamp_type, False, False, False),
        compression=compression,
        compression_level=compression_level,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        base_sequence=base_sequence,
        partition_leader_epoch=partition_leader_epoch,
    )


# --- control records (ControlRecordType / EndTransactionMarker) ----------------------------


class ControlRecordType(IntEnum):
    """The ``type`` in a control record's key (Kafka's ``ControlRecordType``)."""

    ABORT = 0
    COMMIT = 1


def end_txn_marker_record(marker: ControlRecordType, coordinator_epoch: int) -> Record:
    """The single record of a transaction marker batch (``EndTransactionMarker``, v0).

    Key: ``version int16 = 0, type int16``; value: ``version int16 = 0,
    coordinatorEpoch int32``. The batch carrying it must be built with
    ``is_control=True`` and ``is_transactional=True`` and the producer's id and epoch.
    """
    key = struct.pack(">hh", 0, int(marker))
    value = struct.pack(">hi", 0, coordinator_epoch)
    return Record(0, 0, key, value)


def parse_control_record(record: Record) -> tuple[ControlRecordType, int | None]:
    """``(type, coordinator_epoch)`` of a control record; the epoch only for end markers.

    Mirrors ``ControlRecordType.parse`` / ``EndTransactionMarker.deserialize``: a key
    shorter than 4 bytes is invalid.
    """
    if record.key is None or len(record.key) < 4:
        raise InvalidRecordError(
            f"Invalid control record with key size {0 if record.key is None else len(record.key)}"
        )
    _version, type_id = struct.unpack_from(">hh", record.key)
    try:
        kind = ControlRecordType(type_id)
    except ValueError:
        raise InvalidRecordError(f"Unknown control record type {type_id}") from None
    if record.value is None or len(record.value) < 6:
        return kind, None
    _vversion, coordinator_epoch = struct.unpack_from(">hi", record.value)
    return kind, coordinator_epoch


# --- walking a log buffer (FileLogInputStream) ----------------------------------------------


@dataclass(frozen=True, slots=True)
class TornTail:
    """Why batch iteration stopped before the end of the buffer."""

    position: int
    remaining_bytes: int
    reason: str


class BatchIterator(Iterator[tuple[int, RecordBatch]]):
    """Iterate ``(position, batch)`` over a ``.log`` buffer using batch headers only.

    Mirrors ``FileLogInputStream.nextBatch``: stop (without error) when fewer than
    ``HEADER_SIZE_UP_TO_MAGIC + 1`` bytes remain or when the declared batch extends past
    the end -- a torn write at the tail -- and record that in :attr:`tail`. A
    ``batchLength`` below ``RECORD_OVERHEAD_V0``, or above ``max_batch_size`` (the check
    ``ByteBufferLogInputStream`` makes against ``max.message.bytes``), is corruption,
    raised as :class:`CorruptRecordError` with its position; so is a magic other than 2
    (this engine reads only v2). CRCs are *not* checked here: call
    :meth:`RecordBatch.ensure_valid`, as ``LogSegment.recover`` does, when needed.
    """

    def __init__(
        self,
        buffer: bytes | bytearray | memoryview,
        start_position: int = 0,
        *,
        end: int | None = None,
        max_batch_size: int | None = None,
        file: str | None = None,
    ) -> None:
        self._buf = buffer
        self.position = start_position
        self._end = len(buffer) if end is None else min(end, len(buffer))
        self._max = max_batch_size
        self._file = file
        #: Set when iteration stops with bytes left over; ``None`` for a clean end.
        self.tail: TornTail | None = None

    def __iter__(self) -> BatchIterator:
        return self

    def __next__(self) -> tuple[int, RecordBatch]:
        pos = self.position
        remaining = self._end - pos
        if remaining <= HEADER_SIZE_UP_TO_MAGIC:
            if remaining > 0:
                self.tail = TornTail(
                    pos,
                    remaining,
                    f"only {remaining} bytes remain, not more than the "
                    f"{HEADER_SIZE_UP_TO_MAGIC}-byte header up to the magic",
                )
            raise StopIteration
        length = _INT32.unpack_from(self._buf, pos + LENGTH_OFFSET)[0]
        if length < RECORD_OVERHEAD_V0:
            raise CorruptRecordError(
                f"Found record size {length} smaller than minimum record overhead "
                f"({RECORD_OVERHEAD_V0})",
                file=self._file,
                position=pos,
            )
        if self._max is not None and length > self._max:
            raise CorruptRecordError(
                f"Record size {length} exceeds the largest allowable message size ({self._max})",
                file=self._file,
                position=pos,
            )
        size = LOG_OVERHEAD + length
        if size > remaining:
            self.tail = TornTail(
                pos,
                remaining,
                f"batch declares {size} bytes but only {remaining} bytes remain",
            )
            raise StopIteration
        magic = _INT8.unpack_from(self._buf, pos + MAGIC_OFFSET)[0]
        if magic != MAGIC_VALUE_V2:
            raise CorruptRecordError(
                f"Invalid magic {magic} (only record batch v2 is supported)",
                file=self._file,
                position=pos,
            )
        if size < RECORD_BATCH_OVERHEAD:
            raise CorruptRecordError(
                f"Record batch is corrupt (the size {size} is smaller than the minimum "
                f"allowed overhead {RECORD_BATCH_OVERHEAD})",
                file=self._file,
                position=pos,
            )
        self.position = pos + size
        return pos, RecordBatch(self._buf, pos)


def iter_batches(
    buffer: bytes | bytearray | memoryview,
    start_position: int = 0,
    *,
    max_batch_size: int | None = None,
    file: str | None = None,
) -> BatchIterator:
    """Walk a log buffer batch by batch; see :class:`BatchIterator` (check ``.tail`` after)."""
    return BatchIterator(buffer, start_position, max_batch_size=max_batch_size, file=file)


def decode_all(batches: Iterable[RecordBatch]) -> list[tuple[int, int, Record]]:
    """``(offset, timestamp, record)`` for every record of ``batches``; a test/debug helper."""
    out = []
    for batch in batches:
        for record in batch.records():
            out.append((batch.offset_of(record), batch.timestamp_of(record), record))
    return out
