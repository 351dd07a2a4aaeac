"""The load generator behind ``simkafka bench-log``: the real log engine, timed on this disk.

A run has four phases, all in one fresh directory ``<dir>/simkafka-bench-log-*`` that
holds a Kafka log directory (one ``<topic>-<partition>`` directory per partition):

1. **raw disk** (:mod:`simkafka.log.diskbench`): plain sequential write of the same
   bytes in the same chunk as one batch (page cache only, and with a final fsync), and
   -- just before phase 3, of a file written before phase 2 -- a cold sequential read
   in the consumer's fetch size.
   Every engine figure is also reported as a ratio of these, measured in the same run
   and directory.
2. **produce**: producer workers call ``UnifiedLog.append_as_leader`` with pre-built
   v2 batches, round-robin over their partitions, timing every append (one append =
   one batch = what a ProduceRequest costs the leader's log). Tail consumers fetch
   each new batch while it is produced (``UnifiedLog.read`` bounded by the high
   watermark, as a caught-up consumer's fetch is). Then every log is flushed once
   and closed; the log-directory checkpoint files and the ``.kafka_cleanshutdown``
   marker are written as ``LogManager.shutdown`` writes them.
3. **cold read**: consumer workers reopen the logs (``UnifiedLog.load``, the clean
   restart path: no recovery scan), evict every segment file from the page cache
   (``posix_fadvise(POSIX_FADV_DONTNEED)``) and *check* the eviction with
   ``preadv(..., RWF_NOWAIT)``, which fails with EAGAIN when a page is not cached.
   Then they fetch everything from the log start, ``max.partition.fetch.bytes`` at a
   time, as a consumer that has fallen far behind does.
4. **bookkeeping**: files and bytes on disk by type, and a check that every produced
   batch was read back, in order, by both the tail and the cold consumers.

What is measured is the log engine, not the producer: batches are built (and, with
``compression``, compressed) once before the timed loop into a small pool that is
appended over and over -- the broker never recompresses a batch whose codec matches
the topic's (``compression.type=producer``), so compression costs the broker only the
smaller bytes. Payloads are ``ProducerPerformance``'s: random upper-case letters
(``random.nextInt(26) + 65``), so codecs see realistic, not degenerate, input.

Concurrency. A partition's log has a single writer (the partition leader's request
handler under ``UnifiedLog``'s lock), so partitions are split between workers by a
fixed rule -- partition ``p`` belongs to producer ``p % producers`` and to consumer
``p % consumers`` -- and each worker owns its logs. Python threads share one GIL: the
append path is mostly Python (header walk, index update), so threads do not add
throughput. The default executor is therefore one *process* per worker
(``multiprocessing`` with ``spawn``); ``executor="thread"`` runs the same workers as
threads to show what the GIL costs. Each worker reports its CPU time: a worker busy
~100% of the wall time is limited by Python, not by the disk. Tail consumers run as a
thread inside their partitions' producer process (the log's in-memory state -- high
watermark, segment list -- lives with its writer, as in a broker) and take the same
per-log lock as appends, where Kafka's readers are lock-free.

Flush policy: ``flush.messages`` is checked by the log on every append
(``UnifiedLog.append``); ``flush.ms`` by the producer worker after every append, where
Kafka's ``LogManager`` checks every ``log.flush.scheduler.interval.ms``. Flushes are
counted and timed as Kafka's ``LogFlushStats.LogFlushRateAndTimeMs`` counts them: every
``UnifiedLog.flush`` that advanced the recovery point, including the inline flush of
the old segment on a roll (Kafka schedules that one asynchronously).

Units: MB is 2**20 bytes, as in Kafka's perf tools. Latencies are kept in a
log-bucketed histogram (:class:`LatencyHistogram`), not a list of samples.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import queue
import random
import shutil
import struct
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from simkafka.log.checkpoints import (
    LOG_START_OFFSET_CHECKPOINT,
    RECOVERY_POINT_OFFSET_CHECKPOINT,
    OffsetCheckpointFile,
)
from simkafka.log.clock import SystemClock
from simkafka.log.compression import CompressionType
from simkafka.log.diskbench import (
    MB,
    DiskMeasurement,
    measure_sequential_read,
    measure_sequential_write,
)
from simkafka.log.log_config import LogConfig
from simkafka.log.records import build_uniform_batch
from simkafka.log.unified_log import CLEAN_SHUTDOWN_FILE, FetchIsolation, UnifiedLog

__all__ = [
    "COMPRESSIONS",
    "LatencyHistogram",
    "LoadgenConfig",
    "LoadgenConfigError",
    "LoadgenError",
    "LoadgenResult",
    "PhaseStats",
    "ProgressCallback",
    "build_batch_pool",
    "disk_usage",
    "Eviction",
    "evict_and_check",
    "run_loadgen",
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
#: Smallest ``segment.bytes`` LogConfig accepts; smaller goes to ``internal.segment.bytes``.
_MIN_SEGMENT_BYTES = 1024 * 1024
_RUN_PREFIX = "simkafka-bench-log-"
_JSON_SCHEMA = "simkafka.bench-log/1"
#: Records.LOG_OVERHEAD: batches are written with their 12-byte offset+length prefix.
_LOG_OVERHEAD = 12
_BATCH_HEADER = struct.Struct(">qi")  # baseOffset, batchLength
_BASE_OFFSET = struct.Struct(">q")
_LAST_OFFSET_DELTA = struct.Struct(">i")  # at byte 23
_RECORDS_COUNT = struct.Struct(">i")  # at byte 57
_BATCH_MIN = 61  # RECORD_BATCH_OVERHEAD
_BARRIER_TIMEOUT_S = 300.0

Executor = Literal["process", "thread"]
#: ``progress(phase, done, total)``: ``total`` is None when unknown.
ProgressCallback = Callable[[str, float, float | None], None]


class LoadgenConfigError(ValueError):
    """An impossible option; the message names the option as the CLI spells it."""


class LoadgenError(RuntimeError):
    """A worker failed; the message carries its traceback."""


# --------------------------------------------------------------------- latency histogram


class LatencyHistogram:
    """Latencies in nanoseconds, in log-spaced buckets (``SUB_BUCKETS`` per power of two).

    Bucket ``i`` holds values in ``[2**(i/S), 2**((i+1)/S))`` with ``S = SUB_BUCKETS``;
    a percentile is reported as the bucket's geometric midpoint, clamped to the exact
    min and max, so it is within a factor ``2**(1/(2S))`` (1.1%) of the nearest-rank
    value. Count, sum, min and max are exact. Histograms from several workers merge by
    adding counts -- which is why we keep these and not per-sample lists.
    """

    SUB_BUCKETS = 32

    __slots__ = ("counts", "count", "total_ns", "min_ns", "max_ns")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.count = 0
        self.total_ns = 0
        self.min_ns: int | None = None
        self.max_ns: int | None = None

    def record(self, ns: int) -> None:
        ns = max(int(ns), 1)
        b = int(math.log2(ns) * self.SUB_BUCKETS) if ns > 1 else 0
        counts = self.counts
        counts[b] = counts.get(b, 0) + 1
        self.count += 1
        self.total_ns += ns
        if self.min_ns is None or ns < self.min_ns:
            self.min_ns = ns
        if self.max_ns is None or ns > self.max_ns:
            self.max_ns = ns

    def merge(self, other: LatencyHistogram) -> None:
        for b, c in other.counts.items():
            self.counts[b] = self.counts.get(b, 0) + c
        self.count += other.count
        self.total_ns += other.total_ns
        for attr, pick in (("min_ns", min), ("max_ns", max)):
            mine, theirs = getattr(self, attr), getattr(other, attr)
            if theirs is not None:
                setattr(self, attr, theirs if mine is None else pick(mine, theirs))

    def percentile_ns(self, p: float) -> float:
        """Nearest-rank percentile ``p`` in (0, 100], from the buckets."""
        if not self.count:
            raise ValueError("percentile of an empty histogram")
        if not 0 < p <= 100:
            raise ValueError(f"percentile {p} is outside (0, 100]")
        rank = max(math.ceil(p / 100 * self.count), 1)
        seen = 0
        for b in sorted(self.counts):
            seen += self.counts[b]
            if seen >= rank:
                mid = 2 ** ((b + 0.5) / self.SUB_BUCKETS)
                assert self.min_ns is not None and self.max_ns is not None
                return float(min(max(mid, self.min_ns), self.max_ns))
        raise AssertionError("counts do not add up")  # pragma: no cover

    @property
    def mean_ns(self) -> float:
        return self.total_ns / self.count if self.count else math.nan

    def summary_ms(self) -> dict[str, float | None]:
        """count, mean, p50, p90, p99, p99.9 and max in milliseconds (None when empty)."""
        if not self.count:
            return {k: None for k in ("mean", "p50", "p90", "p99", "p999", "max")} | {"count": 0}
        return {
            "count": self.count,
            "mean": self.mean_ns / 1e6,
            "p50": self.percentile_ns(50) / 1e6,
            "p90": self.percentile_ns(90) / 1e6,
            "p99": self.percentile_ns(99) / 1e6,
            "p999": self.percentile_ns(99.9) / 1e6,
            "max": (self.max_ns or 0) / 1e6,
        }

    def __getstate__(self) -> tuple:
        return (self.counts, self.count, self.total_ns, self.min_ns, self.max_ns)

    def __setstate__(self, state: tuple) -> None:
        self.counts, self.count, self.total_ns, self.min_ns, self.max_ns = state


# ----------------------------------------------------------------------------- config


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


# ------------------------------------------------------------------------ batch pool


def _derive_seed(seed: int, name: str) -> int:
    """A stable 64-bit seed per name (hashlib, never ``hash()``)."""
    digest = hashlib.blake2b(f"{seed}\x00{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _letters_fast(rng: random.Random, n: int) -> bytes:
    # randbytes then a 256-entry translation table: uniform over 26 letters except a
    # slight bias (256 % 26 != 0) that does not matter for compressibility.
    table = bytes(65 + (i % 26) for i in range(256))
    return rng.randbytes(n).translate(table)


def build_batch_pool(config: LoadgenConfig) -> list[bytes]:
    """``pool_batches`` distinct v2 batches, compressed as asked, built once per run.

    Deterministic for a seed: batch ``i``'s payload comes from its own named stream.
    """
    count = config.records_per_batch
    codec = CompressionType.for_name(config.compression)
    pool = []
    for i in range(config.pool_batches):
        rng = random.Random(_derive_seed(config.seed, f"loadgen.pool.{i}"))
        payload = _letters_fast(rng, count * config.message_size)
        pool.append(
            build_uniform_batch(
                count,
                config.message_size,
                base_offset=0,
                base_timestamp=0,
                payload=payload,
                compression=codec,
            )
        )
    return pool


# ---------------------------------------------------------------------------- results


@dataclass
class PhaseStats:
    """One phase's totals over all its workers (bytes are on-disk batch bytes)."""

    bytes: int = 0
    records: int = 0
    batches: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    workers: int = 0
    latency_ms: dict[str, float | None] = field(default_factory=dict)
    requests: int = 0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / MB if self.seconds > 0 else math.nan

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else math.nan

    @property
    def cpu_busy(self) -> float:
        """Mean fraction of the wall time each worker spent on CPU (1.0 = CPU-bound)."""
        if self.seconds <= 0 or not self.workers:
            return math.nan
        return self.cpu_seconds / self.workers / self.seconds

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(mb_per_s=self.mb_per_s, records_per_s=self.records_per_s, cpu_busy=self.cpu_busy)
        return d


@dataclass
class LoadgenResult:
    """Everything a run measured. ``as_table()`` for people, ``to_json()`` for machines."""

    config: LoadgenConfig
    environment: dict[str, Any]
    run_directory: str
    kept: bool
    batch_bytes: int
    batch_pool_build_seconds: float
    raw_write: DiskMeasurement | None
    raw_write_synced: DiskMeasurement | None
    raw_read: DiskMeasurement | None
    append: PhaseStats
    append_with_flush_seconds: float
    flush_count: int
    flush_seconds: float
    final_flush_seconds: float
    tail_read: PhaseStats | None
    cold_read: PhaseStats | None
    evicted: bool | None
    eviction_note: str
    disk: dict[str, dict[str, int]]
    partitions: dict[int, dict[str, int]]
    verify_errors: list[str]

    # -- derived figures ---------------------------------------------------------
    @property
    def append_with_flush_mb_per_s(self) -> float:
        s = self.append_with_flush_seconds
        return self.append.bytes / s / MB if s > 0 else math.nan

    def ratios(self) -> dict[str, float | None]:
        """Engine figures as fractions of the raw disk figures of the same run."""

        def r(raw: DiskMeasurement | None, mb_s: float | None) -> float | None:
            if raw is None or mb_s is None or math.isnan(mb_s):
                return None
            return raw.ratio(mb_s * MB)

        return {
            "append_vs_raw_write": r(self.raw_write, self.append.mb_per_s),
            "append_with_flush_vs_raw_write_synced": r(
                self.raw_write_synced, self.append_with_flush_mb_per_s
            ),
            "tail_read_vs_raw_read": r(
                self.raw_read, self.tail_read.mb_per_s if self.tail_read else None
            ),
            "cold_read_vs_raw_read": r(
                self.raw_read, self.cold_read.mb_per_s if self.cold_read else None
            ),
        }

    @property
    def verified(self) -> bool:
        return not self.verify_errors

    # -- tables --------------------------------------------------------------------
    def as_table(self) -> Any:
        """One row per measurement: MB/s, records/s, per-batch latency, ratio to raw disk."""
        import pandas as pd

        ratios = self.ratios()
        rows: list[dict[str, Any]] = []

        def raw_row(name: str, m: DiskMeasurement | None, note: str) -> None:
            if m is not None:
                rows.append({"test": name, "MB/s": m.mb_per_s, "note": note})

        raw_row(
            "raw write",
            self.raw_write,
            f"{_human(self.raw_write.chunk_bytes) if self.raw_write else ''} chunks, page cache",
        )
        raw_row("raw write+fsync", self.raw_write_synced, "one fsync at the end")
        raw_row(
            "raw read",
            self.raw_read,
            "cold" if self.raw_read and self.raw_read.cold else "warm (page cache)",
        )

        def phase_row(name: str, p: PhaseStats, ratio: float | None, note: str) -> None:
            lat = p.latency_ms
            rows.append(
                {
                    "test": name,
                    "MB/s": p.mb_per_s,
                    "records/s": p.records_per_s,
                    "p50 ms": lat.get("p50"),
                    "p99 ms": lat.get("p99"),
                    "p99.9 ms": lat.get("p999"),
                    "max ms": lat.get("max"),
                    "vs raw": ratio,
                    "cpu busy": p.cpu_busy,
                    "note": note,
                }
            )

        phase_row(
            "append",
            self.append,
            ratios["append_vs_raw_write"],
            f"{self.append.batches} batches of {self.batch_bytes} B",
        )
        rows.append(
            {
                "test": "append + final flush",
                "MB/s": self.append_with_flush_mb_per_s,
                "vs raw": ratios["append_with_flush_vs_raw_write_synced"],
                "note": f"final flush {self.final_flush_seconds:.3f} s, vs raw write+fsync",
            }
        )
        if self.tail_read is not None:
            phase_row(
                "tail read",
                self.tail_read,
                ratios["tail_read_vs_raw_read"],
                "while producing (bounded by the producers)",
            )
        if self.cold_read is not None:
            phase_row(
                "cold read",
                self.cold_read,
                ratios["cold_read_vs_raw_read"],
                "evicted" if self.evicted else f"NOT evicted: {self.eviction_note}",
            )
        rows.append(
            {
                "test": "log flushes",
                "note": f"{self.flush_count} flushes, {self.flush_seconds:.3f} s total"
                + (
                    f", {1e3 * self.flush_seconds / self.flush_count:.3f} ms each"
                    if self.flush_count
                    else ""
                ),
            }
        )
        columns = [
            "test",
            "MB/s",
            "records/s",
            "p50 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
            "vs raw",
            "cpu busy",
            "note",
        ]
        return pd.DataFrame(rows, columns=columns).set_index("test")

    def disk_table(self) -> Any:
        """Files and bytes on disk by type (``.log``, ``.index``, ``.timeindex``, checkpoints)."""
        import pandas as pd

        frame = pd.DataFrame.from_dict(
            self.disk, orient="index", columns=["files", "bytes", "allocated"]
        )
        frame.index.name = "type"
        return frame

    # -- JSON ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def raw(m: DiskMeasurement | None) -> dict[str, Any] | None:
            if m is None:
                return None
            d = asdict(m)
            d["mb_per_s"] = m.mb_per_s
            return d

        return {
            "schema": _JSON_SCHEMA,
            "config": asdict(self.config),
            "environment": self.environment,
            "run_directory": self.run_directory,
            "kept": self.kept,
            "batch_bytes": self.batch_bytes,
            "batch_pool_build_seconds": self.batch_pool_build_seconds,
            "raw_disk": {
                "write": raw(self.raw_write),
                "write_synced": raw(self.raw_write_synced),
                "read": raw(self.raw_read),
            },
            "append": self.append.to_dict()
            | {
                "with_final_flush_seconds": self.append_with_flush_seconds,
                "with_final_flush_mb_per_s": self.append_with_flush_mb_per_s,
            },
            "flush": {
                "count": self.flush_count,
                "seconds": self.flush_seconds,
                "final_flush_seconds": self.final_flush_seconds,
            },
            "tail_read": self.tail_read.to_dict() if self.tail_read else None,
            "cold_read": (
                self.cold_read.to_dict()
                | {"evicted": self.evicted, "eviction_note": self.eviction_note}
                if self.cold_read
                else None
            ),
            "ratios": self.ratios(),
            "disk_usage": self.disk,
            "partitions": {str(p): v for p, v in sorted(self.partitions.items())},
            "verification": {"ok": self.verified, "errors": self.verify_errors},
        }

    def to_json(self) -> str:
        """JSON text; NaN/inf become null so any JSON reader accepts it."""
        return json.dumps(_finite(self.to_dict()), indent=2, sort_keys=False)

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_json` atomically: temp file in the same directory, fsync, rename."""
        target = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(target))
        fd, tmp = tempfile.mkstemp(prefix=".bench-log-", suffix=".json.tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(self.to_json() + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def _human(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} B"


# ------------------------------------------------------------------ page cache eviction

_MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs", "devtmpfs", "hugetlbfs"})


def _page_cached(fd: int, size: int) -> bool | None:
    """True if any probed page of the file is in the page cache, None if we cannot tell.

    ``preadv2(RWF_NOWAIT)`` reads only cached data: EAGAIN means "not in the page
    cache". Probes the first, middle and last page (reading one pulls in no
    readahead, since NOWAIT never starts I/O).
    """
    flag = getattr(os, "RWF_NOWAIT", None)
    if flag is None or not hasattr(os, "preadv") or size <= 0:
        return None
    buf = bytearray(1)
    page = 4096
    for pos in sorted({0, (size // 2) // page * page, (size - 1) // page * page}):
        try:
            os.preadv(fd, [buf], pos, flag)
            return True
        except BlockingIOError:
            continue
        except OSError:  # EOPNOTSUPP on filesystems without NOWAIT support
            return None
    return False


@dataclass(frozen=True)
class Eviction:
    """What :func:`evict_and_check` achieved on a set of files."""

    files: int
    still_cached: tuple[str, ...] = ()
    unchecked: int = 0
    supported: bool = True

    @property
    def evicted(self) -> bool | None:
        """True: every file checked and gone; False: some stayed; None: could not tell."""
        if not self.supported:
            return None
        if self.still_cached:
            return False
        return None if self.unchecked else True

    def merge(self, other: Eviction) -> Eviction:
        return Eviction(
            self.files + other.files,
            self.still_cached + other.still_cached,
            self.unchecked + other.unchecked,
            self.supported and other.supported,
        )

    @property
    def note(self) -> str:
        if not self.supported:
            return "posix_fadvise is not available on this platform: reads are warm"
        if self.still_cached:
            shown = ", ".join(self.still_cached[:3]) + (
                " ..." if len(self.still_cached) > 3 else ""
            )
            return (
                f"{len(self.still_cached)} of {self.files} segment files still in the page "
                f"cache after POSIX_FADV_DONTNEED ({shown})"
            )
        if self.unchecked:
            return "POSIX_FADV_DONTNEED issued, but RWF_NOWAIT cannot check the page cache here"
        return f"{self.files} segment files evicted (checked with RWF_NOWAIT)"


def evict_and_check(paths: Sequence[str], attempts: int = 3) -> Eviction:
    """fsync + ``POSIX_FADV_DONTNEED`` each file, then check nothing is still cached.

    A file whose pages are still cached gets up to ``attempts`` tries: readahead that
    opening the log started (``readNextOffset`` reads the last batch) can complete
    after the first DONTNEED and bring pages back. Pages stay for good on tmpfs, when
    mapped, or when the kernel ignores the hint -- then the cold read is really warm,
    and the result says so.
    """
    if not hasattr(os, "posix_fadvise"):
        return Eviction(len(paths), supported=False)
    still: list[str] = []
    unchecked = 0
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            os.fsync(fd)  # dirty pages are not dropped by DONTNEED
            for attempt in range(attempts):
                if attempt:
                    time.sleep(0.01)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                cached = _page_cached(fd, size)
                if not cached:
                    break
        finally:
            os.close(fd)
        if cached is None:
            unchecked += 1
        elif cached:
            still.append(os.path.basename(path))
    return Eviction(len(paths), tuple(still), unchecked)


# ------------------------------------------------------------------------ disk usage


def _file_kind(name: str) -> str:
    for suffix in (".log", ".index", ".timeindex"):
        if name.endswith(suffix):
            return suffix
    if name.endswith("checkpoint") or name == CLEAN_SHUTDOWN_FILE:
        return "checkpoints"
    return "other"


def disk_usage(root: str) -> dict[str, dict[str, int]]:
    """Files, apparent bytes and allocated bytes under ``root`` by type.

    Types: ``.log``, ``.index``, ``.timeindex``, ``checkpoints`` (the log directory's
    recovery-point / log-start checkpoints, each partition's leader-epoch-checkpoint,
    the clean-shutdown marker) and ``other``.
    """
    out = {
        k: {"files": 0, "bytes": 0, "allocated": 0}
        for k in (".log", ".index", ".timeindex", "checkpoints", "other")
    }
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            st = os.stat(os.path.join(dirpath, name))
            entry = out[_file_kind(name)]
            entry["files"] += 1
            entry["bytes"] += st.st_size
            entry["allocated"] += getattr(st, "st_blocks", 0) * 512
    out["total"] = {k: sum(v[k] for v in out.values()) for k in ("files", "bytes", "allocated")}
    return out


# --------------------------------------------------------------------------- workers


@dataclass
class _WorkerSpec:
    kind: Literal["producer", "consumer"]
    index: int
    log_dir: str
    topic: str
    partitions: list[int]
    config: LoadgenConfig
    pool: list[bytes]
    log_config: LogConfig
    deadline_s: float | None
    byte_budget: int | None


@dataclass
class _PartitionTally:
    batches: int = 0
    records: int = 0
    bytes: int = 0
    next_offset: int = 0


@dataclass
class _WorkerReport:
    kind: str
    index: int
    start_ns: int = 0
    end_ns: int = 0
    flushed_ns: int = 0
    cpu_s: float = 0.0
    bytes: int = 0
    warmup_bytes: int = 0
    records: int = 0
    batches: int = 0
    requests: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    flush_count: int = 0
    flush_s: float = 0.0
    final_flush_s: float = 0.0
    produced: dict[int, _PartitionTally] = field(default_factory=dict)
    checkpoints: dict[int, tuple[int, int]] = field(default_factory=dict)
    tail: _WorkerReport | None = None
    read: dict[int, _PartitionTally] = field(default_factory=dict)
    eviction: Eviction | None = None
    errors: list[str] = field(default_factory=list)


def _partition_dir(log_dir: str, topic: str, partition: int) -> str:
    return os.path.join(log_dir, f"{topic}-{partition}")


def _consume_batches(
    data: bytes, expected: int, tally: _PartitionTally, partition: int, errors: list[str]
) -> int:
    """Walk the complete batches of a fetch response; check offsets are contiguous.

    Only batch headers are read (``baseOffset``, ``lastOffsetDelta``, ``recordsCount``),
    as a consumer's ``ByteBufferLogInputStream`` does before decoding; returns the next
    fetch offset. A trailing partial batch (the fetch was cut at ``max_bytes``) is left
    for the next fetch, as the consumer does.
    """
    pos, end = 0, len(data)
    while end - pos >= _BATCH_MIN:
        base, length = _BATCH_HEADER.unpack_from(data, pos)
        size = _LOG_OVERHEAD + length
        if pos + size > end:
            break
        last = base + _LAST_OFFSET_DELTA.unpack_from(data, pos + 23)[0]
        count = _RECORDS_COUNT.unpack_from(data, pos + 57)[0]
        if base != expected and len(errors) < 20:
            errors.append(f"partition {partition}: batch at offset {base}, expected {expected}")
        tally.batches += 1
        tally.records += count
        tally.bytes += size
        expected = last + 1
        pos += size
    tally.next_offset = expected
    return expected


class _TailReader(threading.Thread):
    """A caught-up consumer inside the producer's process: fetch whatever is new."""

    def __init__(
        self,
        logs: dict[int, UnifiedLog],
        locks: dict[int, threading.Lock],
        fetch_bytes: int,
        index: int,
    ) -> None:
        super().__init__(name=f"tail-reader-{index}", daemon=True)
        self.logs, self.locks, self.fetch_bytes = logs, locks, fetch_bytes
        self.producer_done = threading.Event()
        self.report = _WorkerReport(kind="tail", index=index)
        self.failure: str | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException:
            self.failure = traceback.format_exc()

    def _run(self) -> None:
        rep = self.report
        positions = dict.fromkeys(self.logs, 0)
        tallies = {p: _PartitionTally() for p in self.logs}
        rep.read = tallies
        rep.start_ns = time.monotonic_ns()
        cpu0 = time.thread_time()
        perf = time.perf_counter_ns
        while True:
            progressed = False
            for p, log in self.logs.items():
                with self.locks[p]:
                    if positions[p] >= log.high_watermark:
                        continue
                    t0 = perf()
                    info = log.read(positions[p], self.fetch_bytes, FetchIsolation.HIGH_WATERMARK)
                    rep.latency.record(perf() - t0)
                rep.requests += 1
                before = tallies[p].batches
                positions[p] = _consume_batches(
                    info.records, positions[p], tallies[p], p, rep.errors
                )
                progressed = progressed or tallies[p].batches > before
            if not progressed:
                if self.producer_done.is_set() and all(
                    positions[p] >= log.log_end_offset for p, log in self.logs.items()
                ):
                    break
                time.sleep(0.0002)  # fetch.max.wait.ms, scaled down: nothing new yet
        rep.end_ns = time.monotonic_ns()
        rep.cpu_s = time.thread_time() - cpu0
        rep.batches = sum(t.batches for t in tallies.values())
        rep.records = sum(t.records for t in tallies.values())
        rep.bytes = sum(t.bytes for t in tallies.values())


def _count_flushes(log: UnifiedLog, report: _WorkerReport) -> None:
    """Count and time every ``UnifiedLog.flush`` that advances the recovery point.

    That is what Kafka's ``LogFlushStats.LogFlushRateAndTimeMs`` measures. The
    wrapper shadows the method on this instance only, so the log's own calls (the
    ``flush.messages`` check in append, the inline flush on roll) go through it.
    """
    original = log.flush
    perf = time.perf_counter

    def flush(offset: int | None = None) -> None:
        before = log.recovery_point
        t0 = perf()
        original(offset)
        if log.recovery_point != before:
            report.flush_count += 1
            report.flush_s += perf() - t0

    log.flush = flush  # type: ignore[method-assign]


def _run_producer(spec: _WorkerSpec, barrier: Any, counters: Any) -> _WorkerReport:
    cfg = spec.config
    rep = _WorkerReport(kind="producer", index=spec.index)
    logs: dict[int, UnifiedLog] = {}
    for p in spec.partitions:
        log = UnifiedLog(
            _partition_dir(spec.log_dir, spec.topic, p),
            spec.log_config,
            SystemClock(),
            jitter_rng=random.Random(_derive_seed(cfg.seed, f"loadgen.jitter.{p}")),
        )
        # becoming leader (Partition.makeLeader) records the epoch's start offset
        log.maybe_assign_epoch_start_offset(0, log.log_end_offset)
        _count_flushes(log, rep)
        logs[p] = log
    locks = {p: threading.Lock() for p in spec.partitions}
    tallies = {p: _PartitionTally() for p in spec.partitions}
    rep.produced = tallies
    tail = None
    if cfg.tail_reads and cfg.consumers > 0:
        tail = _TailReader(logs, locks, cfg.fetch_bytes, spec.index)
    # The request buffer: append_as_leader rewrites baseOffset and partitionLeaderEpoch
    # of a bytearray in place (outside the CRC), as Kafka rewrites the request's
    # ByteBuffer, so no copy is made. Each reuse resets baseOffset to 0, as a fresh
    # produce request from a client carries it. One private copy per worker.
    pool = [bytearray(b) for b in spec.pool]
    zero_base = _BASE_OFFSET.pack_into
    sizes = [len(b) for b in pool]
    count = cfg.records_per_batch
    flush_ms = cfg.flush_ms is not None
    parts = list(spec.partitions)
    budget = spec.byte_budget
    perf = time.perf_counter_ns
    hist = rep.latency
    n_pool = len(pool)
    k = 0
    for _ in range(cfg.warmup_batches):  # untimed; see LoadgenConfig
        for p in parts:
            j = k % n_pool
            k += 1
            log = logs[p]
            zero_base(pool[j], 0, 0)
            log.append_as_leader(pool[j], 0)
            log.update_high_watermark(log.log_end_offset)
            t = tallies[p]
            t.batches += 1
            t.records += count
            t.bytes += sizes[j]
            rep.warmup_bytes += sizes[j]
    barrier.wait(_BARRIER_TIMEOUT_S)
    if tail is not None:
        tail.start()
    rep.start_ns = time.monotonic_ns()
    cpu0 = time.thread_time()
    deadline_ns = None if spec.deadline_s is None else rep.start_ns + int(spec.deadline_s * 1e9)
    written = 0
    idx = spec.index
    try:
        while True:
            if budget is not None:
                if written >= budget:
                    break
            elif time.monotonic_ns() >= deadline_ns:  # type: ignore[operator]
                break
            p = parts[k % len(parts)]
            j = k % n_pool
            k += 1
            log = logs[p]
            batch = pool[j]
            zero_base(batch, 0, 0)
            with locks[p]:
                t0 = perf()
                log.append_as_leader(batch, 0)
                # Partition.maybeIncrementLeaderHW: with the leader alone in the ISR
                # (replication factor 1) the high watermark follows the log end offset.
                log.update_high_watermark(log.log_end_offset)
                if flush_ms:
                    log.maybe_flush()
                hist.record(perf() - t0)
            t = tallies[p]
            t.batches += 1
            t.records += count
            t.bytes += sizes[j]
            written += sizes[j]
            counters[idx] = written
        rep.end_ns = time.monotonic_ns()
        rep.cpu_s = time.thread_time() - cpu0
        t0f = time.perf_counter()
        flushes_before = (rep.flush_count, rep.flush_s)
        for p in parts:
            with locks[p]:
                logs[p].flush()
        rep.final_flush_s = time.perf_counter() - t0f
        rep.flush_count, rep.flush_s = flushes_before  # the final flush is reported apart
        rep.flushed_ns = time.monotonic_ns()
    finally:
        if tail is not None:
            tail.producer_done.set()
            tail.join()
    if tail is not None:
        if tail.failure:
            raise LoadgenError(f"tail reader {spec.index} failed:\n{tail.failure}")
        rep.tail = tail.report
    for p in parts:
        log = logs[p]
        tallies[p].next_offset = log.log_end_offset
        rep.checkpoints[p] = (log.recovery_point, log.log_start_offset)
        log.close()
    rep.bytes = written
    warmup = cfg.warmup_batches * len(parts)
    rep.batches = sum(t.batches for t in tallies.values()) - warmup
    rep.records = sum(t.records for t in tallies.values()) - warmup * count
    rep.requests = rep.batches
    return rep


def _run_consumer(spec: _WorkerSpec, barrier: Any, counters: Any) -> _WorkerReport:
    cfg = spec.config
    rep = _WorkerReport(kind="consumer", index=spec.index)
    logs = {
        p: UnifiedLog.load(
            _partition_dir(spec.log_dir, spec.topic, p), spec.log_config, SystemClock()
        )
        for p in spec.partitions
    }
    for log in logs.values():
        # The restarted leader's HW: Kafka restores it from replication-offset-checkpoint;
        # with replication factor 1 it is the log end offset.
        log.update_high_watermark(log.log_end_offset)
    try:
        segment_files = [
            path for log in logs.values() for s in log.segments for path in (s.log_path,)
        ]
        rep.eviction = evict_and_check(segment_files)
        tallies = {p: _PartitionTally() for p in logs}
        rep.read = tallies
        positions = {p: log.log_start_offset for p, log in logs.items()}
        ends = {p: log.high_watermark for p, log in logs.items()}
        pending = [p for p in logs if positions[p] < ends[p]]
        perf = time.perf_counter_ns
        hist = rep.latency
        fetch = cfg.fetch_bytes
        barrier.wait(_BARRIER_TIMEOUT_S)
        rep.start_ns = time.monotonic_ns()
        cpu0 = time.thread_time()
        done_bytes = 0
        while pending:
            still = []
            for p in pending:  # one fetch per partition per round, as a fetch request does
                t0 = perf()
                info = logs[p].read(positions[p], fetch, FetchIsolation.HIGH_WATERMARK)
                hist.record(perf() - t0)
                rep.requests += 1
                before = tallies[p].bytes
                positions[p] = _consume_batches(
                    info.records, positions[p], tallies[p], p, rep.errors
                )
                done_bytes += tallies[p].bytes - before
                if positions[p] < ends[p]:
                    still.append(p)
            pending = still
            counters[spec.index] = done_bytes
        rep.end_ns = time.monotonic_ns()
        rep.cpu_s = time.thread_time() - cpu0
    finally:
        for log in logs.values():
            log.close()
    rep.batches = sum(t.batches for t in tallies.values())
    rep.records = sum(t.records for t in tallies.values())
    rep.bytes = sum(t.bytes for t in tallies.values())
    return rep


def _worker_entry(spec: _WorkerSpec, barrier: Any, counters: Any, results: Any) -> None:
    """Run one worker and put ``(index, report | None, traceback | None)`` on ``results``."""
    run = _run_producer if spec.kind == "producer" else _run_consumer
    try:
        report = run(spec, barrier, counters)
    except BaseException:
        results.put((spec.index, None, traceback.format_exc()))
        try:
            barrier.abort()
        except Exception:  # pragma: no cover - a broken barrier is already broken
            pass
        return
    results.put((spec.index, report, None))


# ------------------------------------------------------------------------ orchestration


def _split(partitions: int, workers: int) -> list[list[int]]:
    """Partition ``p`` goes to worker ``p % workers`` (a fixed, documented split)."""
    return [[p for p in range(partitions) if p % workers == w] for w in range(workers)]


def _run_phase(
    specs: list[_WorkerSpec],
    executor: Executor,
    progress: Callable[[float], None] | None,
) -> list[_WorkerReport]:
    """Start one worker per spec, release them together, poll progress, gather reports."""
    n = len(specs)
    procs: list[Any] = []
    if executor == "process":
        ctx = multiprocessing.get_context("spawn")
        barrier: Any = ctx.Barrier(n + 1)
        counters: Any = ctx.Array("q", n, lock=False)
        results: Any = ctx.Queue()
        for spec in specs:
            procs.append(
                ctx.Process(
                    target=_worker_entry, args=(spec, barrier, counters, results), daemon=True
                )
            )
    else:
        barrier = threading.Barrier(n + 1)
        counters = [0] * n
        results = queue.Queue()
        for spec in specs:
            procs.append(
                threading.Thread(
                    target=_worker_entry, args=(spec, barrier, counters, results), daemon=True
                )
            )
    reports: dict[int, _WorkerReport] = {}
    failures: list[str] = []

    def drain(block_s: float) -> None:
        try:
            index, report, failure = results.get(timeout=block_s)
        except queue.Empty:
            return
        if failure is not None:
            failures.append(failure)
        else:
            reports[index] = report

    try:
        for proc in procs:
            proc.start()
        try:
            barrier.wait(_BARRIER_TIMEOUT_S)
        except threading.BrokenBarrierError:
            pass  # a worker failed while setting up; its traceback is on the queue
        while len(reports) + len(failures) < n:
            drain(0.1)
            if progress is not None:
                progress(float(sum(counters[i] for i in range(n))))
            if failures:
                break
            if executor == "process" and not any(p.is_alive() for p in procs):
                drain(1.0)
                if len(reports) + len(failures) < n:
                    failures.append("a worker process exited without a report")
                break
    finally:
        for proc in procs:
            if executor == "process" and failures and proc.is_alive():
                proc.terminate()
            proc.join(timeout=30)
    if failures:
        raise LoadgenError("worker failed:\n" + failures[0])
    return [reports[i] for i in range(n)]


def _merge(reports: Sequence[_WorkerReport], end_attr: str = "end_ns") -> PhaseStats:
    hist = LatencyHistogram()
    for r in reports:
        hist.merge(r.latency)
    start = min(r.start_ns for r in reports)
    end = max(getattr(r, end_attr) for r in reports)
    return PhaseStats(
        bytes=sum(r.bytes for r in reports),
        records=sum(r.records for r in reports),
        batches=sum(r.batches for r in reports),
        seconds=(end - start) / 1e9,
        cpu_seconds=sum(r.cpu_s for r in reports),
        workers=len(reports),
        latency_ms=hist.summary_ms(),
        requests=sum(r.requests for r in reports),
    )


def _environment(config: LoadgenConfig, log_dir: str) -> dict[str, Any]:
    from simkafka.log.diskbench import _filesystem_type  # same package: the mount lookup

    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    return {
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "cpus": os.cpu_count(),
        "gil": "enabled" if gil else "disabled",
        "executor": config.executor,
        "filesystem": _filesystem_type(log_dir),
    }


def _check_space(config: LoadgenConfig, raw_bytes: int) -> None:
    free = shutil.disk_usage(config.directory).free
    warmup = config.warmup_batches * config.partitions * config.batch_size
    need = raw_bytes + (config.total_bytes or 0) + warmup + 64 * MB
    if need > free:
        raise LoadgenConfigError(
            f"the run needs about {need} bytes but only {free} are free in {config.directory!r}"
        )


def _verify(
    produced: dict[int, _PartitionTally], read: dict[int, _PartitionTally], who: str
) -> list[str]:
    errors = []
    for p, want in sorted(produced.items()):
        got = read.get(p, _PartitionTally())
        if (got.batches, got.records, got.bytes, got.next_offset) != (
            want.batches,
            want.records,
            want.bytes,
            want.next_offset,
        ):
            errors.append(
                f"{who} partition {p}: read {got.batches} batches / {got.records} records / "
                f"{got.bytes} B up to offset {got.next_offset}, produced {want.batches} / "
                f"{want.records} / {want.bytes} B up to {want.next_offset}"
            )
    return errors


def _specs(
    kind: Literal["producer", "consumer"],
    config: LoadgenConfig,
    log_dir: str,
    log_config: LogConfig,
    pool: list[bytes],
    workers: int,
) -> list[_WorkerSpec]:
    """One spec per worker; a byte budget is shared out by the partitions a producer owns."""
    specs = []
    for i, parts in enumerate(_split(config.partitions, workers)):
        budget = None
        if kind == "producer" and config.total_bytes is not None:
            budget = math.ceil(config.total_bytes * len(parts) / config.partitions)
        specs.append(
            _WorkerSpec(
                kind=kind,
                index=i,
                log_dir=log_dir,
                topic=config.topic,
                partitions=parts,
                config=config,
                pool=pool,
                log_config=log_config,
                deadline_s=config.duration if kind == "producer" else None,
                byte_budget=budget,
            )
        )
    return specs


def _mark_clean_shutdown(log_dir: str, topic: str, checkpoints: dict[int, tuple[int, int]]) -> None:
    """``LogManager.shutdown`` for the log directory: checkpoint every partition's
    recovery point and (when above its first segment) log start offset, then write the
    ``.kafka_cleanshutdown`` marker so the consumers' ``UnifiedLog.load`` skips recovery."""
    OffsetCheckpointFile(os.path.join(log_dir, RECOVERY_POINT_OFFSET_CHECKPOINT)).write(
        {(topic, p): rp for p, (rp, _ls) in checkpoints.items()}
    )
    OffsetCheckpointFile(os.path.join(log_dir, LOG_START_OFFSET_CHECKPOINT)).write(
        {(topic, p): ls for p, (_rp, ls) in checkpoints.items() if ls > 0}
    )
    with open(os.path.join(log_dir, CLEAN_SHUTDOWN_FILE), "wb") as f:
        os.fsync(f.fileno())


def _prime_page_cache(directory: str, size: int, chunk_bytes: int) -> None:
    """Write ``size`` bytes to a scratch file and delete it, untimed, right before a timed
    write phase, so that the raw write and the engine's appends both get page-cache pages
    the kernel has handed out before. On a virtual machine the first touch of a guest page
    costs the host a fault: here the first 256 MiB written after boot went at 330 MB/s, the
    same file written again at 5 GB/s -- whichever phase ran first on fresh memory lost."""
    fd, path = tempfile.mkstemp(prefix="prime-", dir=directory)
    try:
        _write_repeated(fd, bytes(min(chunk_bytes, size)), size)
    finally:
        os.close(fd)
        os.unlink(path)  # its dirty pages are dropped, not written back


def _write_repeated(fd: int, chunk: bytes, size: int) -> None:
    """Write ``size`` bytes to ``fd``, ``chunk`` over and over (short writes continue)."""
    view = memoryview(chunk)
    remaining = size
    while remaining:
        remaining -= os.write(fd, view[: min(len(view), remaining)])


def _write_file(path: str, size: int, chunk_bytes: int) -> None:
    """An fsync'd file of ``size`` incompressible bytes for the raw read (not timed)."""
    chunk = random.Random(size).randbytes(min(chunk_bytes, size))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        _write_repeated(fd, chunk, size)
        os.fsync(fd)
    finally:
        os.close(fd)


def run_loadgen(config: LoadgenConfig, progress: ProgressCallback | None = None) -> LoadgenResult:
    """Run the benchmark described by ``config``; see the module docstring for the phases."""
    config.validate()
    t0 = time.perf_counter()
    pool = build_batch_pool(config)
    pool_s = time.perf_counter() - t0
    batch_bytes = max(len(b) for b in pool)
    if batch_bytes > config.segment_bytes:
        raise LoadgenConfigError(
            f"--segment-bytes ({config.segment_bytes}) is smaller than one batch ({batch_bytes} B)"
        )
    log_config = config.log_config(batch_bytes)
    raw_bytes = config.raw_bytes or min(config.total_bytes or DEFAULT_RAW_BYTES, DEFAULT_RAW_BYTES)
    raw_bytes = max(raw_bytes, batch_bytes)
    _check_space(config, raw_bytes if config.raw_disk else 0)

    def report(phase: str, done: float, total: float | None) -> None:
        if progress is not None:
            progress(phase, done, total)

    run_dir = tempfile.mkdtemp(prefix=_RUN_PREFIX, dir=config.directory)
    log_dir = os.path.join(run_dir, "kafka-logs")
    os.makedirs(log_dir)
    try:
        # Each raw figure is taken right before the engine phase it is compared with
        # (writes before producing, the read before the cold read), and the file the raw
        # read reads is written *before* producing, like the log: on a virtual or shared
        # disk, how long ago data was written changes what a "cold" read costs.
        raw_write = raw_synced = raw_read = None
        raw_file = os.path.join(run_dir, "raw-read.bin")
        prime_bytes = min(raw_bytes, config.total_bytes or raw_bytes)
        if config.raw_disk:
            report("raw write", 0, 2)
            _prime_page_cache(run_dir, prime_bytes, batch_bytes)
            raw_write = measure_sequential_write(run_dir, raw_bytes, batch_bytes, "none")
            report("raw write+fsync", 1, 2)
            raw_synced = measure_sequential_write(run_dir, raw_bytes, batch_bytes, "end")
            report("raw write+fsync", 2, 2)
            _write_file(raw_file, raw_bytes, batch_bytes)

        # -- produce --
        _prime_page_cache(run_dir, prime_bytes, batch_bytes)
        total = float(config.total_bytes) if config.total_bytes else None
        specs = _specs("producer", config, log_dir, log_config, pool, config.producers)
        started = time.monotonic()

        def produce_progress(done: float) -> None:
            if total is not None:
                report("produce", done, total)
            else:
                report(
                    "produce",
                    min(time.monotonic() - started, config.duration or 0),
                    config.duration,
                )

        producers = _run_phase(specs, config.executor, produce_progress)
        append = _merge(producers)
        with_flush_s = (
            max(r.flushed_ns for r in producers) - min(r.start_ns for r in producers)
        ) / 1e9
        produced: dict[int, _PartitionTally] = {}
        checkpoints: dict[int, tuple[int, int]] = {}
        for r in producers:
            produced.update(r.produced)
            checkpoints.update(r.checkpoints)
        _mark_clean_shutdown(log_dir, config.topic, checkpoints)

        errors: list[str] = []
        tail_stats = None
        if config.consumers > 0 and config.tail_reads:
            tails = [r.tail for r in producers if r.tail is not None]
            tail_stats = _merge(tails)
            tail_read: dict[int, _PartitionTally] = {}
            for r in tails:
                tail_read.update(r.read)
                errors += r.errors
            errors += _verify(produced, tail_read, "tail read")

        if config.raw_disk:
            report("raw read", 0, 1)
            raw_read = measure_sequential_read(raw_file, min(config.fetch_bytes, raw_bytes))
            os.unlink(raw_file)
            report("raw read", 1, 1)

        # -- cold read --
        cold_stats, evicted, note = None, None, "no cold read"
        if config.consumers > 0 and config.cold_read:
            cspecs = _specs("consumer", config, log_dir, log_config, [], config.consumers)
            read_total = float(append.bytes)
            consumers = _run_phase(
                cspecs, config.executor, lambda done: report("cold read", done, read_total)
            )
            cold_stats = _merge(consumers)
            cold: dict[int, _PartitionTally] = {}
            eviction = Eviction(0)
            for r in consumers:
                cold.update(r.read)
                errors += r.errors
                assert r.eviction is not None
                eviction = eviction.merge(r.eviction)
            evicted, note = eviction.evicted, eviction.note
            errors += _verify(produced, cold, "cold read")

        disk = disk_usage(log_dir)
        log_bytes = disk[".log"]["bytes"]
        warmup_bytes = sum(r.warmup_bytes for r in producers)
        if log_bytes != append.bytes + warmup_bytes:
            errors.append(
                f"{log_bytes} bytes in .log files but {append.bytes} bytes appended "
                f"(and {warmup_bytes} in the warm-up)"
            )
        return LoadgenResult(
            config=config,
            environment=_environment(config, log_dir),
            run_directory=run_dir,
            kept=config.keep,
            batch_bytes=batch_bytes,
            batch_pool_build_seconds=pool_s,
            raw_write=raw_write,
            raw_write_synced=raw_synced,
            raw_read=raw_read,
            append=append,
            append_with_flush_seconds=with_flush_s,
            flush_count=sum(r.flush_count for r in producers),
            flush_seconds=sum(r.flush_s for r in producers),
            final_flush_seconds=max(r.final_flush_s for r in producers),
            tail_read=tail_stats,
            cold_read=cold_stats,
            evicted=evicted,
            eviction_note=note,
            disk=disk,
            partitions={
                p: {
                    "batches": t.batches,
                    "records": t.records,
                    "bytes": t.bytes,
                    "log_end_offset": t.next_offset,
                }
                for p, t in sorted(produced.items())
            },
            verify_errors=errors,
        )
    finally:
        if not config.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
