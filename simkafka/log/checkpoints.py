"""Kafka's text checkpoint files, read and written byte-for-byte as the broker does.

A broker keeps small text files next to its logs so that a restart does not have to
rescan everything: per log directory ``recovery-point-offset-checkpoint`` (where
recovery may start, ``LogManager``), ``log-start-offset-checkpoint`` (``LogManager``),
``replication-offset-checkpoint`` (high watermarks, ``ReplicaManager``) and
``cleaner-offset-checkpoint`` (``LogCleanerManager``); and per partition directory
``leader-epoch-checkpoint`` (``LeaderEpochCheckpointFile``). All share one layout,
``org.apache.kafka.server.common.CheckpointFile``::

    0            <- version (always 0 for these files)
    2            <- number of entries
    foo 1 5      <- one entry per line: "topic partition offset"
    bar 2 10        (or "epoch startOffset" in leader-epoch-checkpoint)

Writing follows ``CheckpointFile.write``: the entries go to ``<name>.tmp``, which is
flushed and fsynced, then renamed over ``<name>`` (``Utils.atomicMoveWithFallback``)
and the parent directory is fsynced so the rename itself survives a crash. A reader
therefore sees either the old or the new file, never a mixture.

Reading follows ``CheckpointFile.CheckpointReadBuffer.read`` exactly, including its
lenient corners: an empty file, or a file holding only the version line, reads as no
entries; lines are split on runs of whitespace the way ``String.split("\\\\s+")`` does
(so a leading blank makes an extra empty field and the line malformed, a trailing blank
is ignored); every line is parsed before the entry count is compared. Where Kafka
throws (``IOException`` "Malformed line in checkpoint file", "Unrecognised version",
"Expected [n] entries ... but found only [m]", a ``NumberFormatException`` from
``Integer.parseInt``/``Long.parseLong``, an ``IllegalArgumentException`` for a negative
count) we raise :class:`CheckpointFormatError` naming the file, the 1-based line
number and what was wrong.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from simkafka.log.errors import LogError

__all__ = [
    "CURRENT_VERSION",
    "RECOVERY_POINT_OFFSET_CHECKPOINT",
    "LOG_START_OFFSET_CHECKPOINT",
    "REPLICATION_OFFSET_CHECKPOINT",
    "CLEANER_OFFSET_CHECKPOINT",
    "LEADER_EPOCH_CHECKPOINT",
    "CheckpointFormatError",
    "EntryFormatter",
    "CheckpointFile",
    "OffsetCheckpointFile",
    "EpochEntry",
    "LeaderEpochCheckpointFile",
]

#: ``OffsetCheckpointFile.CURRENT_VERSION`` and ``LeaderEpochCheckpointFile.CURRENT_VERSION``.
CURRENT_VERSION = 0

#: ``LogManager.RecoveryPointCheckpointFile``: per log dir, offset up to which each log is flushed.
RECOVERY_POINT_OFFSET_CHECKPOINT = "recovery-point-offset-checkpoint"
#: ``LogManager.LogStartOffsetCheckpointFile``: per log dir, each log's start offset.
LOG_START_OFFSET_CHECKPOINT = "log-start-offset-checkpoint"
#: ``ReplicaManager.HighWatermarkFilename``: per log dir, each partition's high watermark.
REPLICATION_OFFSET_CHECKPOINT = "replication-offset-checkpoint"
#: ``LogCleanerManager.offsetCheckpointFile``: per log dir, how far compaction has cleaned.
CLEANER_OFFSET_CHECKPOINT = "cleaner-offset-checkpoint"
#: ``LeaderEpochCheckpointFile.LEADER_EPOCH_CHECKPOINT_FILENAME``: per partition dir.
LEADER_EPOCH_CHECKPOINT = "leader-epoch-checkpoint"

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# Java's ``\s`` (no UNICODE_CHARACTER_CLASS flag) is [ \t\n\x0B\f\r]; a line from
# BufferedReader.readLine() never holds \n or \r, so these four are all that can occur.
_JAVA_WS = re.compile(r"[ \t\x0b\x0c]+")
# BufferedReader.readLine() ends a line at "\n", "\r" or "\r\n".
_JAVA_EOL = re.compile(r"\r\n|\r|\n")
_JAVA_INT = re.compile(r"[+-]?[0-9]+")

T = TypeVar("T")


class CheckpointFormatError(LogError):
    """A checkpoint file that Kafka would refuse to load.

    Kafka turns these into a ``KafkaStorageException`` and takes the whole log
    directory offline (``LogDirFailureChannel.maybeAddOfflineLogDir``), so the message
    has to let an operator find and fix the line by hand.
    """

    def __init__(self, file: str, line_number: int | None, reason: str) -> None:
        self.file = file
        self.line_number = line_number
        self.reason = reason
        where = f"{file}, line {line_number}" if line_number is not None else file
        super().__init__(f"Malformed checkpoint file {where}: {reason}")


class _BadEntry(Exception):
    """Raised by a formatter; the reader adds the file name and line number."""


def java_split_whitespace(line: str) -> list[str]:
    """``line.split("\\\\s+")`` as Java computes it (``OffsetCheckpointFile.Formatter``).

    A leading run of blanks yields a leading empty field; trailing empty fields are
    dropped; a line with no blank at all is returned whole (even when empty).
    """
    if not _JAVA_WS.search(line):
        return [line]
    parts = _JAVA_WS.split(line)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _parse_java_int(text: str, what: str, lo: int, hi: int) -> int:
    """``Integer.parseInt`` / ``Long.parseLong``: optional sign, decimal digits, in range.

    Unlike Python's ``int()`` this refuses blanks, underscores and out-of-range values,
    as Java does. (Java also accepts non-ASCII Unicode digits; we accept ASCII only --
    Kafka never writes anything else.)
    """
    if not _JAVA_INT.fullmatch(text):
        raise _BadEntry(f"{what} {text!r} is not a decimal integer")
    value = int(text)
    if not lo <= value <= hi:
        kind = "int32" if hi == _INT32_MAX else "int64"
        raise _BadEntry(f"{what} {text} is out of {kind} range")
    return value


@dataclass(frozen=True)
class EntryFormatter(Generic[T]):
    """Kafka's ``CheckpointFile.EntryFormatter``: one entry <-> one line.

    ``from_string`` raises ``_BadEntry`` (a private signal) with the reason; the
    reader turns it into a :class:`CheckpointFormatError` with file and line.
    """

    to_string: Callable[[T], str]
    from_string: Callable[[str], T]


def _read_java_lines(data: bytes, file: str) -> list[str]:
    """Decode strictly as UTF-8 (Kafka's reader throws ``MalformedInputException``)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line_number = data.count(b"\n", 0, e.start) + 1
        raise CheckpointFormatError(file, line_number, f"not valid UTF-8 ({e.reason})") from e
    if text == "":
        return []
    lines = _JAVA_EOL.split(text)
    if lines[-1] == "":  # a terminator at the very end does not start another line
        lines.pop()
    return lines


class CheckpointFile(Generic[T]):
    """``org.apache.kafka.server.common.CheckpointFile`` for one file on disk.

    Like Kafka's constructor, this creates the file (empty) if it does not exist, so a
    fresh broker reads an empty checkpoint rather than failing; the parent directory
    must exist. A file deleted after construction also reads as empty.
    """

    def __init__(
        self, path: str | os.PathLike[str], version: int, formatter: EntryFormatter[T]
    ) -> None:
        self.path = os.path.abspath(os.fspath(path))
        self.temp_path = self.path + ".tmp"
        self.version = version
        self.formatter = formatter
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            pass
        else:
            os.close(fd)

    # ----------------------------------------------------------------- writing
    def write(self, entries: Iterable[T], sync: bool = True) -> None:
        """Replace the file's content atomically (``CheckpointFile.write``).

        ``sync=False`` skips both fsyncs, as Kafka's ``write(entries, false)`` does.
        """
        entries = list(entries)
        lines = [str(self.version), str(len(entries))]
        lines.extend(self.formatter.to_string(e) for e in entries)
        # BufferedWriter.newLine() writes System.lineSeparator(): "\n" on the
        # platforms Kafka brokers run on.
        payload = ("\n".join(lines) + "\n").encode("utf-8")
        fd = os.open(self.temp_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            try:
                view = memoryview(payload)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            # Utils.atomicMoveWithFallback: Files.move(ATOMIC_MOVE), i.e. rename(2),
            # which replaces the target atomically on POSIX.
            os.replace(self.temp_path, self.path)
        except BaseException:
            # Kafka leaves a stale .tmp behind on failure; we tidy it up -- the next
            # write would truncate it anyway, and nothing ever reads it.
            try:
                os.unlink(self.temp_path)
            except OSError:
                pass
            raise
        if sync:
            _fsync_directory(os.path.dirname(self.path))

    def write_if_dir_exists(self, entries: Iterable[T], sync: bool = True) -> bool:
        """``CheckpointFileWithFailureHandler.writeIfDirExists``.

        Used by the leader-epoch cache's deferred flush: if the partition directory
        was deleted (or renamed for deletion) in the meantime, Kafka only logs a
        warning. Returns False when the directory was gone.
        """
        try:
            self.write(entries, sync)
        except FileNotFoundError:
            return False
        return True

    # ----------------------------------------------------------------- reading
    def read(self) -> list[T]:
        """Parse the file as ``CheckpointFile.CheckpointReadBuffer.read`` does."""
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        lines = _read_java_lines(data, self.path)
        if not lines:
            return []
        version = self._header_int(lines[0], 1, "version")
        if version != self.version:
            raise CheckpointFormatError(
                self.path, 1, f"unrecognised version {version}, expected {self.version}"
            )
        if len(lines) < 2:
            return []  # Kafka: a missing count line reads as no entries
        expected = self._header_int(lines[1], 2, "entry count")
        if expected < 0:
            # Kafka: new ArrayList<>(expectedSize) -> IllegalArgumentException.
            raise CheckpointFormatError(self.path, 2, f"negative entry count {expected}")
        entries: list[T] = []
        for index, line in enumerate(lines[2:], start=3):
            try:
                entries.append(self.formatter.from_string(line))
            except _BadEntry as e:
                raise CheckpointFormatError(self.path, index, f"{e} in line {line!r}") from None
        if len(entries) != expected:
            raise CheckpointFormatError(
                self.path,
                None,
                f"expected {expected} entries (line 2) but found {len(entries)}",
            )
        return entries

    def _header_int(self, line: str, line_number: int, what: str) -> int:
        try:
            return _parse_java_int(line, what, _INT32_MIN, _INT32_MAX)
        except _BadEntry as e:
            raise CheckpointFormatError(self.path, line_number, str(e)) from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r}, version={self.version})"


def _fsync_directory(directory: str) -> None:
    """``Utils.flushDir``: make a rename in ``directory`` durable.

    Kafka skips this on Windows, where a directory cannot be opened; so do we.
    """
    if os.name == "nt":  # pragma: no cover - not a platform the tests run on
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ------------------------------------------------------------------ offsets


def _offset_to_string(entry: tuple[tuple[str, int], int]) -> str:
    (topic, partition), offset = entry
    return f"{topic} {partition} {offset}"


def _offset_from_string(line: str) -> tuple[tuple[str, int], int]:
    parts = java_split_whitespace(line)
    if len(parts) != 3:
        raise _BadEntry(f"expected 3 fields 'topic partition offset', found {len(parts)}")
    topic, partition, offset = parts
    # Kafka checks only that the numbers parse: TopicPartition accepts a negative
    # partition and the reader accepts a negative offset, so do we.
    return (
        (topic, _parse_java_int(partition, "partition", _INT32_MIN, _INT32_MAX)),
        _parse_java_int(offset, "offset", _INT64_MIN, _INT64_MAX),
    )


class OffsetCheckpointFile:
    """``OffsetCheckpointFile``: a map ``(topic, partition) -> offset`` in one file.

    The four per-log-directory checkpoints use it. Entries are written in the
    mapping's iteration order (Kafka writes its HashMap's order, which carries no
    meaning); a file naming a partition twice reads as the last value, as Kafka's
    ``HashMap.put`` loop does.
    """

    FORMATTER: EntryFormatter[tuple[tuple[str, int], int]] = EntryFormatter(
        _offset_to_string, _offset_from_string
    )

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.checkpoint = CheckpointFile(path, CURRENT_VERSION, self.FORMATTER)

    @property
    def path(self) -> str:
        return self.checkpoint.path

    def write(self, offsets: Mapping[tuple[str, int], int], sync: bool = True) -> None:
        """Persist ``offsets`` atomically; rejects what could not be read back."""
        for (topic, partition), offset in offsets.items():
            # Kafka's topic names are [a-zA-Z0-9._-]+ (Topic.validate), so the file
            # format never has to escape a blank; refuse names that would corrupt it.
            if not topic or java_split_whitespace(topic) != [topic] or _JAVA_EOL.search(topic):
                raise ValueError(f"topic name {topic!r} cannot be written to a checkpoint")
            if not _INT32_MIN <= partition <= _INT32_MAX:
                raise ValueError(f"partition {partition} is out of int32 range")
            if not _INT64_MIN <= offset <= _INT64_MAX:
                raise ValueError(f"offset {offset} is out of int64 range")
        self.checkpoint.write(list(offsets.items()), sync)

    def read(self) -> dict[tuple[str, int], int]:
        return dict(self.checkpoint.read())

    def __repr__(self) -> str:
        return f"OffsetCheckpointFile({self.path!r})"


# ------------------------------------------------------------- leader epochs


# The entry type lives with the file that stores it, as Kafka's LeaderEpochCheckpointFile
# does not depend on the cache: epoch_cache imports this module, never the other way.
@dataclass(frozen=True, slots=True)
class EpochEntry:
    """``EpochEntry``: leader ``epoch`` started at ``start_offset``."""

    epoch: int
    start_offset: int

    def __repr__(self) -> str:
        return f"EpochEntry(epoch={self.epoch}, start_offset={self.start_offset})"


def _epoch_to_string(entry: EpochEntry) -> str:
    return f"{entry.epoch} {entry.start_offset}"


def _epoch_from_string(line: str) -> EpochEntry:
    parts = java_split_whitespace(line)
    if len(parts) != 2:
        raise _BadEntry(f"expected 2 fields 'epoch startOffset', found {len(parts)}")
    epoch = _parse_java_int(parts[0], "leader epoch", _INT32_MIN, _INT32_MAX)
    start_offset = _parse_java_int(parts[1], "start offset", _INT64_MIN, _INT64_MAX)
    # The file reader itself accepts negatives, but its only consumer,
    # LeaderEpochFileCache's constructor, feeds every entry to assign(), which throws
    # IllegalArgumentException("Received invalid partition leader epoch entry") for a
    # negative epoch or start offset. We reject them here so the error has a line.
    if epoch < 0:
        raise _BadEntry(f"negative leader epoch {epoch}")
    if start_offset < 0:
        raise _BadEntry(f"negative start offset {start_offset}")
    return EpochEntry(epoch, start_offset)


class LeaderEpochCheckpointFile:
    """``LeaderEpochCheckpointFile``: the ``epoch startOffset`` lines of one partition."""

    FORMATTER: EntryFormatter[EpochEntry] = EntryFormatter(_epoch_to_string, _epoch_from_string)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.checkpoint = CheckpointFile(path, CURRENT_VERSION, self.FORMATTER)

    @classmethod
    def in_directory(cls, partition_dir: str | os.PathLike[str]) -> LeaderEpochCheckpointFile:
        """``LeaderEpochCheckpointFile.newFile(dir)``: the file inside a partition dir."""
        return cls(os.path.join(os.fspath(partition_dir), LEADER_EPOCH_CHECKPOINT))

    @property
    def path(self) -> str:
        return self.checkpoint.path

    def write(self, epochs: Iterable[EpochEntry], sync: bool = True) -> None:
        self.checkpoint.write(epochs, sync)

    def write_if_dir_exists(self, epochs: Iterable[EpochEntry], sync: bool = True) -> bool:
        return self.checkpoint.write_if_dir_exists(epochs, sync)

    def read(self) -> list[EpochEntry]:
        return self.checkpoint.read()

    def __repr__(self) -> str:
        return f"LeaderEpochCheckpointFile({self.path!r})"
