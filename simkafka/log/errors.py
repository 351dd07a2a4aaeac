"""Errors raised by the log engine, named after Kafka's own exceptions.

Kafka distinguishes *corruption* (bytes that fail a checksum or cannot be a record
batch at all: ``CorruptRecordException``) from *invalid* content (a batch whose CRC
is fine but whose records contradict its header: ``InvalidRecordException``) and
from *size* violations (``RecordTooLargeException``, ``RecordBatchTooLargeException``).
Log recovery treats the first two alike -- it truncates the segment at the first bad
batch -- but operators see the distinction in broker logs, so we keep it.

Every exception here derives from :class:`LogError`, so a caller that feeds arbitrary
bytes to the decoder only ever has to catch one type.
"""

from __future__ import annotations

__all__ = [
    "LogError",
    "CorruptRecordError",
    "InvalidRecordError",
    "RecordTooLargeError",
    "RecordBatchTooLargeError",
    "UnsupportedCompressionTypeError",
    "CorruptIndexError",
    "InvalidOffsetError",
]


class LogError(Exception):
    """Base class of every error the log engine raises."""


class CorruptRecordError(LogError):
    """Bytes that are not a valid record batch (Kafka's ``CorruptRecordException``).

    Raised on a CRC mismatch, a length field too small or too large, an unknown magic
    byte, or compressed data that cannot be decompressed. ``file`` and ``position``
    locate the bad batch when known (recovery reports them so an operator can inspect
    the segment with ``kafka-dump-log.sh``).
    """

    def __init__(
        self,
        reason: str,
        *,
        file: str | None = None,
        position: int | None = None,
    ) -> None:
        self.reason = reason
        self.file = file
        self.position = position
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.position is not None:
            where.append(f"position {self.position}")
        if where:
            return f"Corrupt record batch at {', '.join(where)}: {self.reason}"
        return f"Corrupt record batch: {self.reason}"

    def at(self, *, file: str | None = None, position: int | None = None) -> CorruptRecordError:
        """Return a copy of this error that also says where it happened."""
        return type(self)(
            self.reason,
            file=file if file is not None else self.file,
            position=position if position is not None else self.position,
        )


class InvalidRecordError(LogError):
    """A structurally wrong record inside a batch (Kafka's ``InvalidRecordException``).

    Kafka raises it from ``DefaultRecord.readFrom`` when a record's declared size does
    not match what was read, a header count is negative, or the batch holds more or fewer
    records than ``recordsCount`` says.
    """


class RecordTooLargeError(LogError):
    """A record or batch larger than allowed (Kafka's ``RecordTooLargeException``).

    Raised when building a batch that would not fit the caller's size limit. (A
    *stored* batch whose compressed section inflates past the decompression cap is
    reported as :class:`CorruptRecordError` instead: the bytes are hostile or broken,
    not merely big.)
    """


class RecordBatchTooLargeError(RecordTooLargeError):
    """A batch larger than ``max.message.bytes`` (Kafka's ``RecordBatchTooLargeException``)."""


class UnsupportedCompressionTypeError(LogError):
    """Compression codec id outside 0..4 (Kafka's ``UnsupportedCompressionTypeException``)."""


class CorruptIndexError(LogError):
    """An index file that fails ``sanityCheck`` (Kafka's ``CorruptIndexException``).

    ``LogLoader`` reacts by deleting the segment's indexes and rebuilding them from the
    ``.log`` file, so the message names the file and what was wrong with it.
    """


class InvalidOffsetError(LogError):
    """An offset that breaks an index's ordering (Kafka's ``InvalidOffsetException``).

    Raised by ``OffsetIndex.append`` for an offset not larger than the last one, and by
    ``TimeIndex.maybeAppend`` for an offset smaller than the last entry's.
    """
