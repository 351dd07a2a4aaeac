"""What a bench-log run is asked to do: :class:`LoadgenConfig`, its checks and defaults.

Also the two errors a run raises: :class:`LoadgenConfigError` for an impossible option
(named as the CLI spells it) and :class:`LoadgenError` for a failed worker.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from simkafka.kafka_version import MODELLED_RELEASE, behaviour
from simkafka.log.diskbench import MB
from simkafka.log.log_config import LogConfig

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_FETCH_BYTES",
    "DEFAULT_RAW_BYTES",
    "DEFAULT_SEGMENT_BYTES",
    "Executor",
    "LoadgenConfig",
    "LoadgenConfigError",
    "LoadgenError",
    "ProgressCallback",
]

#: ``--compression`` choices (Kafka's ``compression.type`` names, ``none`` included).
COMPRESSIONS = ("none", "gzip", "snappy", "lz4", "zstd")
#: ``max.partition.fetch.bytes`` default: what one fetch returns per partition.
DEFAULT_FETCH_BYTES = 1024 * 1024
#: Kafka's ``batch.size`` default.
DEFAULT_BATCH_SIZE = 16384
#: ``log.segment.bytes`` default.
DEFAULT_SEGMENT_BYTES = 1024 * 1024 * 1024
#: Bytes of raw-disk baseline when the run is bounded by time.
DEFAULT_RAW_BYTES = 256 * MB
#: Smallest ``segment.bytes`` LogConfig accepts in the release simkafka models (1 MiB in
#: Kafka 4.1); smaller goes to ``internal.segment.bytes``.
_MIN_SEGMENT_BYTES = behaviour(MODELLED_RELEASE).topic_segment_bytes_minimum

Executor = Literal["process", "thread"]
#: ``progress(phase, done, total)``: ``total`` is None when unknown.
ProgressCallback = Callable[[str, float, float | None], None]


class LoadgenConfigError(ValueError):
    """An impossible option; the message names the option as the CLI spells it."""


class LoadgenError(RuntimeError):
    """A worker failed; the message carries its traceback."""


@dataclass(frozen=True)
class LoadgenConfig:
    """What to run. Bounded by exactly one of ``duration`` (seconds) or ``total_bytes``.

    ``batch_size`` is the bytes of record values per produced batch (the producer's
    ``batch.size``): each batch holds ``max(1, batch_size // message_size)`` records.
    ``flush_messages`` / ``flush_ms`` are the topic's ``flush.messages`` / ``flush.ms``
    (None: Kafka's default, never). ``segment_bytes`` below 1 MiB is applied through
    ``internal.segment.bytes`` as Kafka's own tests do. ``consumers=0`` skips reads.
    ``warmup_batches`` are appended to every partition before the timed window opens
    (they are in the log, verified and read back, but not in the append figures): the
    first appends of a log pay one-time costs -- the first store into each index's fresh
    memory map, about 2 ms a map on a virtual machine -- that a steady-state figure from
    a short run should not carry.
    """

    directory: str
    message_size: int = 1024
    batch_size: int = DEFAULT_BATCH_SIZE
    compression: str = "none"
    flush_messages: int | None = None
    flush_ms: int | None = None
    partitions: int = 4
    duration: float | None = None
    total_bytes: int | None = None
    producers: int = 1
    consumers: int = 1
    seed: int = 0
    segment_bytes: int = DEFAULT_SEGMENT_BYTES
    keep: bool = False
    executor: Executor = "process"
    tail_reads: bool = True
    cold_read: bool = True
    fetch_bytes: int = DEFAULT_FETCH_BYTES
    raw_bytes: int | None = None
    raw_disk: bool = True
    topic: str = "bench"
    pool_batches: int = 8
    warmup_batches: int = 0

    @property
    def records_per_batch(self) -> int:
        return max(1, self.batch_size // self.message_size)

    def validate(self) -> None:
        """Raise :class:`LoadgenConfigError` for the first impossible option."""

        def positive(value: object, option: str, allow_zero: bool = False) -> None:
            ok = isinstance(value, int) and not isinstance(value, bool)
            if not ok or value < (0 if allow_zero else 1):  # type: ignore[operator]
                need = "a non-negative" if allow_zero else "a positive"
                raise LoadgenConfigError(f"{option} must be {need} integer, got {value!r}")

        positive(self.message_size, "--message-size")
        positive(self.batch_size, "--batch-size")
        positive(self.partitions, "--partitions")
        positive(self.producers, "--producers")
        positive(self.consumers, "--consumers", allow_zero=True)
        positive(self.segment_bytes, "--segment-bytes")
        positive(self.fetch_bytes, "--fetch-bytes")
        positive(self.pool_batches, "pool_batches")
        positive(self.warmup_batches, "--warmup-batches", allow_zero=True)
        if self.compression not in COMPRESSIONS:
            raise LoadgenConfigError(
                f"--compression must be one of {', '.join(COMPRESSIONS)}, got {self.compression!r}"
            )
        if self.flush_messages is not None:
            positive(self.flush_messages, "--flush-messages")  # flush.messages: atLeast(1)
        if self.flush_ms is not None:
            positive(self.flush_ms, "--flush-ms", allow_zero=True)  # flush.ms: atLeast(0)
        if (self.duration is None) == (self.total_bytes is None):
            raise LoadgenConfigError("give exactly one of --duration and --bytes")
        if self.duration is not None and not (
            isinstance(self.duration, int | float)
            and math.isfinite(self.duration)
            and self.duration > 0
        ):
            raise LoadgenConfigError(
                f"--duration must be a positive number of seconds, got {self.duration!r}"
            )
        if self.total_bytes is not None:
            positive(self.total_bytes, "--bytes")
        if self.raw_bytes is not None:
            positive(self.raw_bytes, "--raw-bytes")
        if self.producers > self.partitions:
            raise LoadgenConfigError(
                f"--producers ({self.producers}) must not exceed --partitions ({self.partitions}): "
                "a partition's log has exactly one writer"
            )
        if self.consumers > self.partitions:
            raise LoadgenConfigError(
                f"--consumers ({self.consumers}) must not exceed --partitions ({self.partitions})"
            )
        if self.executor not in ("process", "thread"):
            raise LoadgenConfigError(f"--executor must be process or thread, got {self.executor!r}")
        if not self.topic or "/" in self.topic or self.topic in (".", ".."):
            raise LoadgenConfigError(f"invalid topic name {self.topic!r}")
        if not os.path.isdir(self.directory):
            raise LoadgenConfigError(f"DIR {self.directory!r} is not an existing directory")
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise LoadgenConfigError(f"DIR {self.directory!r} is not writable")

    def log_config(self, batch_bytes: int) -> LogConfig:
        """The topic config every partition's log gets (Kafka defaults otherwise)."""
        kw: dict[str, Any] = {}
        if self.segment_bytes >= _MIN_SEGMENT_BYTES:
            kw["segment_bytes"] = self.segment_bytes
        else:
            kw["internal_segment_bytes"] = self.segment_bytes
        if self.flush_messages is not None:
            kw["flush_messages"] = self.flush_messages
        if self.flush_ms is not None:
            kw["flush_ms"] = self.flush_ms
        # A broker carrying big batches raises max.message.bytes to fit them.
        kw["max_message_bytes"] = max(LogConfig().max_message_bytes, batch_bytes)
        return LogConfig(**kw)
