"""Kafka's sparse segment indexes: ``OffsetIndex`` (``.index``) and ``TimeIndex`` (``.timeindex``).

Mirrors ``org.apache.kafka.storage.internals.log.AbstractIndex`` and its two subclasses.
Each segment ``<base offset>.log`` has two index files next to it, both arrays of
fixed-size big-endian entries whose offsets are stored *relative* to the segment's base
offset (a 4-byte int, hence a segment spans at most ``2**31`` offsets):

* ``.index`` -- 8-byte entries ``relativeOffset int32 | position int32``: the byte
  position in the ``.log`` file of the batch holding that offset;
* ``.timeindex`` -- 12-byte entries ``timestamp int64 | relativeOffset int32``: "every
  record with a timestamp greater than *timestamp* comes after *offset*".

Like Kafka, a new index file is preallocated to ``max_index_size`` (``segment.index.bytes``)
rounded down to a whole number of entries and memory-mapped; entries are written straight
into the map (``struct.pack_into``) and the number of valid entries lives in memory. An
*existing* file is opened with its whole current size taken as valid entries -- Kafka
trims indexes to their valid size on close and on roll, so this is right after a clean
shutdown, and after a crash ``LogLoader`` rebuilds the indexes of unflushed segments
anyway (a preallocated tail of zeros reads as entries ``(base_offset, 0)``, which
``sanityCheck`` does not catch -- Kafka relies on recovery for that case too).

Lookups use Kafka's cache-friendly binary search (``AbstractIndex.indexSlotRangeFor``):
the last ``8192 // entry_size`` entries form a "warm" section searched on its own when the
target lies inside it, so that in-sync lookups touch the same few pages. For ``lookup``
(largest entry <= target) the answers are identical to a plain binary search over strictly
increasing keys. The smallest-upper-bound search behind ``fetch_upper_bound_offset`` keeps
one Kafka quirk: a target equal to the *first* entry is never matched (the search's first
probe is slot 1), so the second entry is returned -- still a valid upper bound.
"""

from __future__ import annotations

import mmap
import os
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, NamedTuple

from simkafka.log.errors import CorruptIndexError, InvalidOffsetError, LogError
from simkafka.log.records import NO_TIMESTAMP

__all__ = [
    "OffsetPosition",
    "TimestampOffset",
    "AbstractIndex",
    "OffsetIndex",
    "TimeIndex",
    "IndexFullError",
    "IndexOffsetOverflowError",
    "IndexStateError",
    "DEFAULT_MAX_INDEX_SIZE",
    "LOG_FILE_SUFFIX",
    "INDEX_FILE_SUFFIX",
    "TIME_INDEX_FILE_SUFFIX",
    "filename_prefix_from_offset",
    "offset_from_file_name",
    "log_file",
    "offset_index_file",
    "time_index_file",
]

#: ``segment.index.bytes`` default (``LogConfig.DEFAULT_SEGMENT_INDEX_BYTES``): 10 MiB.
DEFAULT_MAX_INDEX_SIZE = 10 * 1024 * 1024

LOG_FILE_SUFFIX = ".log"
INDEX_FILE_SUFFIX = ".index"
TIME_INDEX_FILE_SUFFIX = ".timeindex"

_INT32_MAX = 2**31 - 1
_OFFSET_ENTRY = struct.Struct(">ii")  # relative offset, physical position
_TIME_ENTRY = struct.Struct(">qi")  # timestamp, relative offset
_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")


class OffsetPosition(NamedTuple):
    """An ``.index`` entry: ``offset`` is stored in the batch at byte ``position``."""

    offset: int
    position: int


class TimestampOffset(NamedTuple):
    """A ``.timeindex`` entry: records with a larger timestamp come after ``offset``."""

    timestamp: int
    offset: int


class IndexFullError(LogError):
    """Append to an index with no free slot (Kafka's ``IllegalArgumentException``).

    ``LogSegment.shouldRoll`` rolls before this can happen; hitting it is a bug.
    """


class IndexOffsetOverflowError(LogError):
    """An offset outside ``[base_offset, base_offset + 2**31 - 1]`` (``IndexOffsetOverflowException``)."""


class IndexStateError(LogError):
    """A time-index timestamp going backwards (Kafka's ``IllegalStateException``)."""


def filename_prefix_from_offset(offset: int) -> str:
    """``LogFileUtils.filenamePrefixFromOffset``: the offset zero-padded to 20 digits."""
    return f"{offset:020d}"


def offset_from_file_name(name: str) -> int:
    """``LogFileUtils.offsetFromFileName``: the base offset a segment file name encodes."""
    return int(Path(name).name.split(".", 1)[0])


def log_file(dir: str | os.PathLike[str], base_offset: int, suffix: str = "") -> Path:
    """``LogFileUtils.logFile``: ``<dir>/<20-digit offset>.log<suffix>``."""
    return Path(dir) / (filename_prefix_from_offset(base_offset) + LOG_FILE_SUFFIX + suffix)


def offset_index_file(dir: str | os.PathLike[str], base_offset: int, suffix: str = "") -> Path:
    """``LogFileUtils.offsetIndexFile``: ``<dir>/<20-digit offset>.index<suffix>``."""
    return Path(dir) / (filename_prefix_from_offset(base_offset) + INDEX_FILE_SUFFIX + suffix)


def time_index_file(dir: str | os.PathLike[str], base_offset: int, suffix: str = "") -> Path:
    """``LogFileUtils.timeIndexFile``: ``<dir>/<20-digit offset>.timeindex<suffix>``."""
    return Path(dir) / (filename_prefix_from_offset(base_offset) + TIME_INDEX_FILE_SUFFIX + suffix)


def _round_down(number: int, factor: int) -> int:
    """``roundDownToExactMultiple``: e.g. ``_round_down(67, 8) == 64``."""
    return factor * (number // factor)


class AbstractIndex(ABC):
    """The entry-format-agnostic part of both indexes (Kafka's ``AbstractIndex``).

    Subclasses set ``ENTRY_SIZE`` and implement ``_key(n)`` / ``_value(n)`` (the two
    columns a search can run on: ``IndexSearchType.KEY`` / ``VALUE``) and ``_parse(n)``.
    """

    ENTRY_SIZE: ClassVar[int] = 0
    #: What the file holds, for error messages ("index" / "time index").
    _KIND: ClassVar[str] = "index"

    def __init__(
        self,
        path: str | os.PathLike[str],
        base_offset: int,
        max_index_size: int = DEFAULT_MAX_INDEX_SIZE,
        writable: bool = True,
    ) -> None:
        self._path = Path(path)
        self.base_offset = base_offset
        self._max_index_size = max_index_size
        self._writable = writable
        self._warm_entries = 8192 // self.ENTRY_SIZE  # AbstractIndex.warmEntries
        self._mmap: mmap.mmap | bytearray | None = None
        self._length = 0
        self._max_entries = 0
        self._entries = 0
        self._create_and_assign_mmap()

    # -- file handling ---------------------------------------------------------------
    def _create_and_assign_mmap(self) -> None:
        """``createAndAssignMmap``: create + preallocate a new file, or map an existing one."""
        es = self.ENTRY_SIZE
        try:
            # File.createNewFile: atomic "create if absent", tells us whether it is new.
            fd = os.open(self._path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
            newly_created = True
        except FileExistsError:
            fd = os.open(self._path, os.O_RDWR if self._writable else os.O_RDONLY)
            newly_created = False
        try:
            if newly_created:
                if self._max_index_size < es:
                    os.close(fd)
                    fd = -1
                    self._path.unlink()
                    raise ValueError(f"Invalid max index size: {self._max_index_size}")
                os.ftruncate(fd, _round_down(self._max_index_size, es))
            length = os.fstat(fd).st_size
            self._map(fd, length)
        finally:
            if fd >= 0:
                os.close(fd)  # the mapping keeps its own reference, as with RandomAccessFile
        self._length = length
        self._max_entries = length // es
        # A pre-existing index is assumed valid up to its last whole entry.
        self._entries = 0 if newly_created else _round_down(length, es) // es

    def _map(self, fd: int, length: int) -> None:
        if length == 0:
            # Java maps zero bytes happily; Python's mmap cannot, and nothing is read anyway.
            self._mmap = bytearray()
        else:
            access = mmap.ACCESS_WRITE if self._writable else mmap.ACCESS_READ
            self._mmap = mmap.mmap(fd, length, access=access)

    def _unmap(self) -> None:
        if isinstance(self._mmap, mmap.mmap):
            self._mmap.close()
        self._mmap = None

    def _require_open(self) -> mmap.mmap | bytearray:
        buf = self._mmap
        if buf is None:
            raise LogError(f"{self._KIND} {self._path} is closed")
        return buf

    # -- sizes -----------------------------------------------------------------------
    @property
    def file(self) -> Path:
        return self._path

    path = file

    @property
    def entries(self) -> int:
        """Number of valid entries (``entries()``)."""
        return self._entries

    @property
    def max_entries(self) -> int:
        """Slots in the mapped file (``maxEntries()``)."""
        return self._max_entries

    @property
    def max_index_size(self) -> int:
        return self._max_index_size

    @property
    def length(self) -> int:
        """Current size of the file in bytes, preallocation included (``length()``)."""
        return self._length

    @property
    def size_in_bytes(self) -> int:
        """Bytes holding valid entries (``sizeInBytes()``)."""
        return self.ENTRY_SIZE * self._entries

    @property
    def is_full(self) -> bool:
        """No slot left (``isFull()``); ``TimeIndex`` keeps one slot back for the roll."""
        return self._entries >= self._max_entries

    @property
    def is_closed(self) -> bool:
        return self._mmap is None

    # -- relative offsets ------------------------------------------------------------
    def relative_offset(self, offset: int) -> int:
        """``relativeOffset``: ``offset - base_offset`` if it fits an int32, else raise."""
        rel = offset - self.base_offset
        if rel < 0 or rel > _INT32_MAX:
            raise IndexOffsetOverflowError(f"Integer overflow for offset: {offset} ({self._path})")
        return rel

    def can_append_offset(self, offset: int) -> bool:
        """``canAppendOffset``: would ``offset`` fit this index's relative encoding?"""
        return 0 <= offset - self.base_offset <= _INT32_MAX

    # -- search ----------------------------------------------------------------------
    @abstractmethod
    def _key(self, n: int) -> int:
        """Implemented by each index kind (entry layout)."""

    @abstractmethod
    def _value(self, n: int) -> int:
        """Implemented by each index kind (entry layout)."""

    def _largest_lower_bound_slot_for(self, target: int, by_value: bool = False) -> int:
        """Slot of the largest entry ``<= target``, or -1 (``largestLowerBoundSlotFor``)."""
        return self._index_slot_range_for(target, by_value, smallest_upper=False)

    def _smallest_upper_bound_slot_for(self, target: int, by_value: bool = False) -> int:
        """Slot of the smallest entry ``>= target``, or -1 (``smallestUpperBoundSlotFor``)."""
        return self._index_slot_range_for(target, by_value, smallest_upper=True)

    def _index_slot_range_for(self, target: int, by_value: bool, smallest_upper: bool) -> int:
        """``indexSlotRangeFor``: search the warm tail first, then the cold head."""
        entries = self._entries
        if entries == 0:
            return -1
        self._require_open()
        read = self._value if by_value else self._key
        first_hot = max(0, entries - 1 - self._warm_entries)
        if read(first_hot) < target:
            return self._binary_search(read, target, smallest_upper, first_hot, entries - 1)
        if read(0) > target:
            return 0 if smallest_upper else -1
        return self._binary_search(read, target, smallest_upper, 0, first_hot)

    def _binary_search(
        self, read: Callable[[int], int], target: int, smallest_upper: bool, lo: int, hi: int
    ) -> int:
        """``AbstractIndex.binarySearch``: upper-mid bisection, early exit on equality."""
        while lo < hi:
            mid = (lo + hi + 1) >> 1
            found = read(mid)
            if found > target:
                hi = mid - 1
            elif found < target:
                lo = mid
            else:
                return mid
        if not smallest_upper:
            return lo
        return -1 if lo == self._entries - 1 else lo + 1

    # -- truncation and resizing -----------------------------------------------------
    def _truncate_to_entries(self, entries: int) -> None:
        """``truncateToEntries``: forget every entry from slot ``entries`` on."""
        self._entries = entries
        self._after_entries_changed()

    @abstractmethod
    def _after_entries_changed(self) -> None:
        """Refresh the cached last entry (subclasses)."""

    def truncate(self) -> None:
        """Remove all entries (``truncate()``); the file keeps its size."""
        self._truncate_to_entries(0)

    def _truncate_to_search(self, offset: int, by_value: bool) -> None:
        """``truncateTo``'s three cases, searching the offset column."""
        slot = self._largest_lower_bound_slot_for(offset, by_value)
        if slot < 0:
            new_entries = 0  # no entry <= offset: delete everything
        elif self._entry_offset(slot) == offset:
            new_entries = slot  # an entry for exactly this offset: drop it and the rest
        else:
            new_entries = slot + 1  # keep the largest entry below offset
        self._truncate_to_entries(new_entries)

    @abstractmethod
    def _entry_offset(self, n: int) -> int:
        """Implemented by each index kind (entry layout)."""

    def resize(self, new_size: int) -> bool:
        """``resize``: set the file and the map to ``new_size`` rounded down to whole entries.

        Used to trim on close/roll and to grow back to ``max_index_size`` when a segment
        becomes active again. Returns whether anything changed. Unlike Java (which fails
        only after truncating the file) shrinking below the valid entries is refused
        up front.
        """
        self._require_open()
        es = self.ENTRY_SIZE
        rounded = _round_down(new_size, es)
        if self._length == rounded:
            return False
        if rounded < self._entries * es:
            raise ValueError(
                f"Cannot resize {self._KIND} {self._path} to {rounded} bytes: it holds "
                f"{self._entries} entries ({self._entries * es} bytes)"
            )
        self._unmap()
        fd = os.open(self._path, os.O_RDWR)
        try:
            os.ftruncate(fd, rounded)
            self._map(fd, rounded)
        finally:
            os.close(fd)
        self._length = rounded
        self._max_entries = rounded // es
        return True

    def trim_to_valid_size(self) -> None:
        """``trimToValidSize``: drop the preallocated tail (on roll and close)."""
        if self._mmap is not None:
            self.resize(self.ENTRY_SIZE * self._entries)

    def reset(self) -> None:
        """``reset``: remove all entries and grow back to ``max_index_size``."""
        self.truncate()
        self.resize(self._max_index_size)

    # -- durability and lifecycle ----------------------------------------------------
    def flush(self) -> None:
        """``flush``: force the mapped pages to disk (``MappedByteBuffer.force``)."""
        buf = self._require_open()
        if isinstance(buf, mmap.mmap) and self._writable:
            buf.flush()

    def close_handler(self) -> None:
        """``closeHandler``: unmap without trimming (before delete or rename)."""
        self._unmap()

    def close(self) -> None:
        """``close``: trim to the valid entries, then unmap. Closing twice is harmless."""
        if self._mmap is None:
            return
        if self._writable:
            self.trim_to_valid_size()
        self._unmap()

    def delete_if_exists(self) -> bool:
        """``deleteIfExists``: unmap and unlink; ``False`` if there was no file."""
        self.close_handler()
        try:
            self._path.unlink()
        except FileNotFoundError:
            return False
        return True

    delete = delete_if_exists

    def rename_to(self, path: str | os.PathLike[str]) -> None:
        """``renameTo``: move the file (the mapping stays valid), e.g. to ``.deleted``."""
        new_path = Path(path)
        try:
            os.replace(self._path, new_path)
        finally:
            self._path = new_path

    def update_parent_dir(self, parent_dir: str | os.PathLike[str]) -> None:
        """``updateParentDir``: the directory was renamed under us (partition move)."""
        self._path = Path(parent_dir) / self._path.name

    # -- checks ----------------------------------------------------------------------
    def _check_length(self, label: str) -> None:
        if self._length % self.ENTRY_SIZE != 0:
            raise CorruptIndexError(
                f"{label} {self._path} is corrupt, found {self._length} bytes which is "
                f"neither positive nor a multiple of {self.ENTRY_SIZE}"
            )

    def _valid_bytes(self) -> bytes:
        buf = self._require_open()
        return bytes(buf[: self._entries * self.ENTRY_SIZE])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(file={str(self._path)!r}, base_offset={self.base_offset}, "
            f"entries={self._entries}, max_entries={self._max_entries})"
        )


class OffsetIndex(AbstractIndex):
    """Offset -> position in the ``.log`` file (Kafka's ``OffsetIndex``), 8-byte entries."""

    ENTRY_SIZE: ClassVar[int] = 8
    _KIND: ClassVar[str] = "index"

    def __init__(
        self,
        path: str | os.PathLike[str],
        base_offset: int,
        max_index_size: int = DEFAULT_MAX_INDEX_SIZE,
        writable: bool = True,
    ) -> None:
        super().__init__(path, base_offset, max_index_size, writable)
        self._last_offset = self.last_entry.offset

    def _key(self, n: int) -> int:
        return self.base_offset + _INT32.unpack_from(self._mmap, n * 8)[0]  # type: ignore[arg-type]

    _entry_offset = _key

    def _value(self, n: int) -> int:
        return _INT32.unpack_from(self._mmap, n * 8 + 4)[0]  # type: ignore[arg-type]

    def _parse(self, n: int) -> OffsetPosition:
        rel, position = _OFFSET_ENTRY.unpack_from(self._mmap, n * 8)  # type: ignore[arg-type]
        return OffsetPosition(self.base_offset + rel, position)

    def _after_entries_changed(self) -> None:
        self._last_offset = self.last_entry.offset

    @property
    def last_entry(self) -> OffsetPosition:
        """The last entry, or ``(base_offset, 0)`` when empty (``lastEntry()``)."""
        if self._entries == 0:
            return OffsetPosition(self.base_offset, 0)
        self._require_open()
        return self._parse(self._entries - 1)

    @property
    def last_offset(self) -> int:
        """Offset of the last entry, ``base_offset`` when empty (``lastOffset()``)."""
        return self._last_offset

    def append(self, offset: int, position: int) -> None:
        """``append``: add ``offset -> position``; offsets must strictly increase.

        Raises :class:`IndexFullError` when no slot is left, :class:`InvalidOffsetError`
        for an offset not larger than the last one, :class:`IndexOffsetOverflowError` when
        ``offset - base_offset`` does not fit an int32.
        """
        entries = self._entries
        if entries >= self._max_entries:
            raise IndexFullError(f"Attempt to append to a full index (size = {entries}).")
        if entries != 0 and offset <= self._last_offset:
            raise InvalidOffsetError(
                f"Attempt to append an offset {offset} to position {entries} no larger than "
                f"the last offset appended ({self._last_offset}) to {self._path}"
            )
        rel = offset - self.base_offset
        if rel < 0 or rel > _INT32_MAX:
            raise IndexOffsetOverflowError(f"Integer overflow for offset: {offset} ({self._path})")
        try:
            _OFFSET_ENTRY.pack_into(self._mmap, entries * 8, rel, position)  # type: ignore[arg-type]
        except struct.error as e:
            raise ValueError(f"Invalid index position {position}: {e}") from None
        except TypeError:
            raise LogError(f"index {self._path} is closed or read-only") from None
        self._entries = entries + 1
        self._last_offset = offset

    def lookup(self, target_offset: int) -> OffsetPosition:
        """Largest entry with offset ``<= target_offset``, else ``(base_offset, 0)``."""
        slot = self._largest_lower_bound_slot_for(target_offset)
        if slot == -1:
            return OffsetPosition(self.base_offset, 0)
        return self._parse(slot)

    def fetch_upper_bound_offset(
        self, fetch_offset: OffsetPosition, fetch_size: int
    ) -> OffsetPosition | None:
        """``fetchUpperBoundOffset``: first entry at or past ``position + fetch_size``, if any."""
        slot = self._smallest_upper_bound_slot_for(
            fetch_offset.position + fetch_size, by_value=True
        )
        if slot == -1:
            return None
        return self._parse(slot)

    def entry(self, n: int) -> OffsetPosition:
        """The ``n``-th entry (``entry(n)``)."""
        if n >= self._entries or n < 0:
            raise ValueError(
                f"Attempt to fetch the {n}th entry from index {self._path}, "
                f"which has size {self._entries}"
            )
        self._require_open()
        return self._parse(n)

    def all_entries(self) -> list[OffsetPosition]:
        """Every valid entry, oldest first (for tests and tools, not the hot path)."""
        base = self.base_offset
        return [
            OffsetPosition(base + rel, pos)
            for rel, pos in _OFFSET_ENTRY.iter_unpack(self._valid_bytes())
        ]

    def truncate_to(self, offset: int) -> None:
        """``truncateTo``: remove every entry with offset ``>= offset``."""
        self._truncate_to_search(offset, by_value=False)

    def sanity_check(self, *, check_all_entries: bool = False) -> None:
        """``OffsetIndex.sanityCheck``, plus an optional full scan.

        Kafka's check is O(1): the last offset must not be below the base offset and the
        file length must be a whole number of entries. ``check_all_entries=True`` (not in
        Kafka) also walks every entry and requires strictly increasing offsets and
        non-negative positions, which catches garbage Kafka would only notice as wrong
        lookups.
        """
        if self._entries != 0 and self._last_offset < self.base_offset:
            raise CorruptIndexError(
                f"Corrupt index found, index file {self._path} has non-zero size but the "
                f"last offset is {self._last_offset} which is less than the base offset "
                f"{self.base_offset}"
            )
        self._check_length("Index file")
        if check_all_entries:
            prev = -1
            for n, (rel, pos) in enumerate(_OFFSET_ENTRY.iter_unpack(self._valid_bytes())):
                if rel <= prev or pos < 0:
                    raise CorruptIndexError(
                        f"Corrupt index found, index file {self._path} has entry {n} "
                        f"(offset {self.base_offset + rel}, position {pos}) after offset "
                        f"{self.base_offset + prev}: offsets must strictly increase and "
                        "positions be non-negative"
                    )
                prev = rel


class TimeIndex(AbstractIndex):
    """Timestamp -> offset (Kafka's ``TimeIndex``), 12-byte entries.

    Timestamps in the file strictly increase: :meth:`maybe_append` only writes when the
    timestamp is larger than the last entry's, and ``is_full`` keeps the last slot free
    for the entry ``LogSegment.onBecomeInactiveSegment`` adds on roll.
    """

    ENTRY_SIZE: ClassVar[int] = 12
    _KIND: ClassVar[str] = "time index"

    def __init__(
        self,
        path: str | os.PathLike[str],
        base_offset: int,
        max_index_size: int = DEFAULT_MAX_INDEX_SIZE,
        writable: bool = True,
    ) -> None:
        super().__init__(path, base_offset, max_index_size, writable)
        self._last_entry = self._last_entry_from_index_file()

    def _key(self, n: int) -> int:
        return _INT64.unpack_from(self._mmap, n * 12)[0]  # type: ignore[arg-type]

    def _value(self, n: int) -> int:
        return self.base_offset + _INT32.unpack_from(self._mmap, n * 12 + 8)[0]  # type: ignore[arg-type]

    _entry_offset = _value

    def _parse(self, n: int) -> TimestampOffset:
        ts, rel = _TIME_ENTRY.unpack_from(self._mmap, n * 12)  # type: ignore[arg-type]
        return TimestampOffset(ts, self.base_offset + rel)

    def _last_entry_from_index_file(self) -> TimestampOffset:
        if self._entries == 0:
            return TimestampOffset(NO_TIMESTAMP, self.base_offset)
        self._require_open()
        return self._parse(self._entries - 1)

    def _after_entries_changed(self) -> None:
        self._last_entry = self._last_entry_from_index_file()

    @property
    def is_full(self) -> bool:
        """``TimeIndex.isFull``: one slot is reserved for the entry written on roll."""
        return self._entries >= self._max_entries - 1

    @property
    def last_entry(self) -> TimestampOffset:
        """The last entry, or ``(-1, base_offset)`` when empty (``lastEntry()``)."""
        return self._last_entry

    @property
    def last_offset(self) -> int:
        """Offset of the last entry, ``base_offset`` when empty."""
        return self._last_entry.offset

    def maybe_append(self, timestamp: int, offset: int, skip_full_check: bool = False) -> None:
        """``maybeAppend``: add ``timestamp -> offset`` if ``timestamp`` beats the last entry.

        An equal timestamp is silently ignored (a segment closed or rolled twice appends
        the same final entry again); an offset below the last entry's raises
        :class:`InvalidOffsetError` and a smaller timestamp :class:`IndexStateError`.
        ``skip_full_check`` is for the roll/close entry that may use the reserved slot.
        """
        entries = self._entries
        if not skip_full_check and entries >= self._max_entries - 1:
            raise IndexFullError(f"Attempt to append to a full time index (size = {entries}).")
        last = self._last_entry
        if entries != 0 and offset < last.offset:
            raise InvalidOffsetError(
                f"Attempt to append an offset ({offset}) to slot {entries} no larger than "
                f"the last offset appended ({last.offset}) to {self._path}"
            )
        if entries != 0 and timestamp < last.timestamp:
            raise IndexStateError(
                f"Attempt to append a timestamp ({timestamp}) to slot {entries} no larger "
                f"than the last timestamp appended ({last.timestamp}) to {self._path}"
            )
        if timestamp > last.timestamp:
            if entries >= self._max_entries:  # Java: BufferOverflowException
                raise IndexFullError(f"Attempt to append to a full time index (size = {entries}).")
            rel = offset - self.base_offset
            if rel < 0 or rel > _INT32_MAX:
                raise IndexOffsetOverflowError(
                    f"Integer overflow for offset: {offset} ({self._path})"
                )
            try:
                _TIME_ENTRY.pack_into(self._mmap, entries * 12, timestamp, rel)  # type: ignore[arg-type]
            except TypeError:
                raise LogError(f"time index {self._path} is closed or read-only") from None
            self._entries = entries + 1
            self._last_entry = TimestampOffset(timestamp, offset)

    def lookup(self, target_timestamp: int) -> TimestampOffset:
        """Largest entry with timestamp ``<= target``, else ``(-1, base_offset)``."""
        slot = self._largest_lower_bound_slot_for(target_timestamp)
        if slot == -1:
            return TimestampOffset(NO_TIMESTAMP, self.base_offset)
        return self._parse(slot)

    def entry(self, n: int) -> TimestampOffset:
        """The ``n``-th entry (``entry(n)``)."""
        if n >= self._entries or n < 0:
            raise ValueError(
                f"Attempt to fetch the {n}th entry from time index {self._path} "
                f"which has size {self._entries}"
            )
        self._require_open()
        return self._parse(n)

    def all_entries(self) -> list[TimestampOffset]:
        """Every valid entry, oldest first (for tests and tools, not the hot path)."""
        base = self.base_offset
        return [
            TimestampOffset(ts, base + rel)
            for ts, rel in _TIME_ENTRY.iter_unpack(self._valid_bytes())
        ]

    def truncate_to(self, offset: int) -> None:
        """``truncateTo``: remove every entry with offset ``>= offset`` (searching offsets)."""
        self._truncate_to_search(offset, by_value=True)

    def resize(self, new_size: int) -> bool:
        changed = super().resize(new_size)
        if changed:
            self._last_entry = self._last_entry_from_index_file()
        return changed

    def sanity_check(self, *, check_all_entries: bool = False) -> None:
        """``TimeIndex.sanityCheck``, plus an optional full scan.

        Kafka checks that the last timestamp is not below the first, the last offset not
        below the base offset, and the length is whole entries. ``check_all_entries=True``
        (not in Kafka) also requires strictly increasing timestamps and non-decreasing
        offsets >= base offset across every entry.
        """
        if self._entries != 0:
            first_ts = self._key(0)
            last = self._last_entry
            if last.timestamp < first_ts:
                raise CorruptIndexError(
                    f"Corrupt time index found, time index file ({self._path}) has non-zero "
                    f"size but the last timestamp is {last.timestamp} which is less than the "
                    f"first timestamp {first_ts}"
                )
            if last.offset < self.base_offset:
                raise CorruptIndexError(
                    f"Corrupt time index found, time index file ({self._path}) has non-zero "
                    f"size but the last offset is {last.offset} which is less than the first "
                    f"offset {self.base_offset}"
                )
        self._check_length("Time index file")
        if check_all_entries:
            prev_ts, prev_rel = None, 0
            for n, (ts, rel) in enumerate(_TIME_ENTRY.iter_unpack(self._valid_bytes())):
                if rel < prev_rel or (prev_ts is not None and ts <= prev_ts):
                    raise CorruptIndexError(
                        f"Corrupt time index found, time index file ({self._path}) has entry "
                        f"{n} (timestamp {ts}, offset {self.base_offset + rel}) after "
                        f"(timestamp {prev_ts}, offset {self.base_offset + prev_rel}): "
                        "timestamps must strictly increase and offsets never decrease"
                    )
                prev_ts, prev_rel = ts, rel
