"""Timing the log engine's own code paths: CRC32C, copies, codecs, fsync, log recovery,
and (without a JDK) the per-record and per-batch work.

Every CPU figure is the fastest of several timed rounds, each long enough (a few
milliseconds) for the clock's resolution not to matter, after one untimed round that
warms caches and lazily built state: the work is deterministic C code, so other
processes sharing the machine can only ever add time to a round, never take it away.
fsync, which the disk's own state makes vary, is the median of N, and so is log
recovery (:func:`recovery_cost`), too long a path for many rounds. The codecs, CRC32C and copies run in C (zlib,
cramjam's snappy, python-lz4, zstandard, the crc32c module, memcpy), the same native
algorithms the Java clients reach through JNI, so their per-byte figures stand for the
JVM's too; the per-record work in Python does not, and is only a fallback
(:func:`python_record_paths`).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from simkafka.log.compression import CompressionType, compress, decompress
from simkafka.log.records import Record, RecordBatch, build_batch, crc32c
from simkafka.log.unified_log import UnifiedLog
from simkafka.validate.calibration.payload import json_records, records_section

__all__ = [
    "CODEC_BATCH_BYTES",
    "LARGE_BATCH_BYTES",
    "COPY_BYTES",
    "RECOVERY_BATCH_BYTES",
    "RECOVERY_LOG_BYTES",
    "CodecFigures",
    "Effort",
    "RecoveryFigures",
    "codec_costs",
    "copy_per_byte",
    "crc32c_per_byte",
    "fsync_cost",
    "per_unit",
    "python_record_paths",
    "recovery_cost",
]

#: Uncompressed size of the batch each codec is timed on: the producer's default
#: ``batch.size`` (16 KiB).
CODEC_BATCH_BYTES = 16 * 1024
#: A large batch (``batch.size=1MiB``), timed for reference: gzip's per-byte cost grows
#: with the batch, as its match search finds more history to look through.
LARGE_BATCH_BYTES = 1024 * 1024
#: Size of the buffer CRC32C and copies are timed on: Kafka's largest default request
#: unit (1 MiB, ``max.request.size``), larger than the CPU's L2 cache, as a stream of
#: produce requests is.
COPY_BYTES = 1024 * 1024
#: The log whose recovery is timed: 64 MiB (``--quick``: 32 MiB) of 1 KiB records, in
#: one segment (Kafka's default ``segment.bytes``, 1 GiB), so that the fixed cost of
#: opening it is small beside the bytes re-validated.
RECOVERY_LOG_BYTES = 64 * 1024 * 1024
#: Its batches: 1 MiB (``batch.size=1MiB``, about ``max.message.bytes``), where the
#: per-byte work (CRC-32C, the read) outweighs the Python engine's per-batch work;
#: ``batch_bytes`` times another size for reference.
RECOVERY_BATCH_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Effort:
    """How long to time each path: ``quick`` for tests, the default for a profile."""

    # many short rounds: on a busy machine the fastest of them is the one no other
    # process interrupted
    seconds_per_figure: float = 0.8
    rounds: int = 81
    fsyncs: int = 40
    recoveries: int = 9
    recovery_log_bytes: int = RECOVERY_LOG_BYTES

    @classmethod
    def quick(cls) -> Effort:
        return cls(
            seconds_per_figure=0.06, rounds=9, fsyncs=8, recoveries=3,
            recovery_log_bytes=RECOVERY_LOG_BYTES // 2,
        )


def per_unit(work: Callable[[], object], units: float, effort: Effort) -> float:
    """Seconds per unit of ``work()`` (which does ``units`` units), the fastest round."""
    work()  # warm: caches, lazily built tables, the allocator
    start = time.perf_counter()
    work()
    once = max(time.perf_counter() - start, 1e-7)
    repeats = max(1, int(effort.seconds_per_figure / effort.rounds / once))
    samples = []
    for _ in range(effort.rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            work()
        samples.append((time.perf_counter() - start) / (repeats * units))
    return min(samples)


def crc32c_per_byte(effort: Effort) -> float:
    """The log engine's CRC32C (``simkafka.log.records.crc32c``) over 1 MiB of records."""
    data = records_section(COPY_BYTES)
    return per_unit(lambda: crc32c(data), len(data), effort)


def copy_per_byte(effort: Effort) -> float:
    """One memory copy (memcpy through a bytearray slice) of 1 MiB of records."""
    data = records_section(COPY_BYTES)
    target = bytearray(len(data))

    def copy() -> None:
        target[:] = data

    return per_unit(copy, len(data), effort)


@dataclass(frozen=True)
class CodecFigures:
    codec: str
    compress_per_byte: float
    decompress_per_byte: float
    uncompressed_bytes: int
    compressed_bytes: int

    @property
    def ratio(self) -> float:
        return self.compressed_bytes / self.uncompressed_bytes


def codec_costs(codec: str, effort: Effort, *, batch_bytes: int = CODEC_BATCH_BYTES) -> CodecFigures:
    """``simkafka.log.compression`` compressing and decompressing one batch's records
    section (16 KiB by default), per uncompressed byte, at Kafka's default level."""
    kind = CompressionType.for_name(codec)
    section = records_section(batch_bytes)
    packed = compress(section, kind)
    if decompress(packed, kind, max_output=2 * len(section)) != section:
        raise RuntimeError(f"{codec} does not round-trip the calibration payload")
    return CodecFigures(
        codec,
        per_unit(lambda: compress(section, kind), len(section), effort),
        per_unit(lambda: decompress(packed, kind, max_output=2 * len(section)), len(section), effort),
        len(section),
        len(packed),
    )


def fsync_cost(directory: str, effort: Effort) -> list[float]:
    """Seconds per ``UnifiedLog.flush`` (``LogSegment.flush``: fsync of the segment and
    its two indexes) after appending one small batch, ``effort.fsyncs`` times, in a new
    partition directory under ``directory`` that is removed afterwards."""
    import shutil
    import tempfile

    parent = tempfile.mkdtemp(prefix="simkafka-calibrate-", dir=directory)
    try:
        log = UnifiedLog(os.path.join(parent, "calibrate-0"))
        batch = build_batch(
            [Record(0, value=b"x" * 100)], base_offset=0, base_timestamp=int(time.time() * 1000)
        )
        log.append_as_leader(batch, 0)
        log.flush()  # the first flush also makes the new files' directory entries durable
        samples = []
        for _ in range(effort.fsyncs):
            log.append_as_leader(batch, 0)
            start = time.perf_counter()
            log.flush()
            samples.append(time.perf_counter() - start)
        for segment in log.segments:
            segment.close()
        return samples
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def python_record_paths(directory: str, effort: Effort) -> dict[str, float]:
    """The per-record and per-batch paths, timed in the log engine (Python): used only
    when no JDK is found, as an upper bound on what the JVM takes. Seconds per unit, keyed
    as :mod:`simkafka.validate.calibration.jvm` keys the Java probe's figures."""
    import shutil
    import tempfile

    value = json_records(1)[0][:100]  # 100-byte values, as the Java probe's
    records = [Record(offset_delta=i, value=value) for i in range(100)]
    batch = RecordBatch(build_batch(records, base_offset=0, base_timestamp=1_700_000_000_000))

    def encode_records() -> None:
        for record in records:
            record.encode()

    def decode_records() -> None:
        for _ in batch.records():
            pass

    one = build_batch(records[:1], base_offset=0, base_timestamp=1_700_000_000_000)
    parent = tempfile.mkdtemp(prefix="simkafka-calibrate-", dir=directory)
    try:
        log = UnifiedLog(os.path.join(parent, "calibrate-0"))
        append = per_unit(lambda: log.append_as_leader(one, 0), 1, effort)
        for segment in log.segments:
            segment.close()
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    decode = per_unit(decode_records, len(records), effort)
    return {
        "producer_record": per_unit(encode_records, len(records), effort),
        "producer_batch": per_unit(
            lambda: build_batch(records[:1], base_offset=0, base_timestamp=1_700_000_000_000), 1, effort
        ),
        "broker_record": decode,
        "broker_batch": append,
        "consumer_record": decode,
    }



@dataclass(frozen=True)
class RecoveryFigures:
    """What :func:`recovery_cost` timed, run by run."""

    per_byte: list[float]  # seconds per byte recovered, net of a clean load of the same log
    clean_load: list[float]  # seconds to load the same log after a clean shutdown
    recovery: list[float]  # seconds of each recovery, all of it
    recovered_bytes: list[int]  # bytes each recovery kept
    log_bytes: int  # bytes written (each run tears half a batch off, and recovery the rest)
    batch_bytes: int  # size of one batch on disk

    @property
    def median_per_byte(self) -> float:
        return statistics.median(self.per_byte)


def recovery_cost(
    directory: str,
    effort: Effort,
    *,
    batch_bytes: int = RECOVERY_BATCH_BYTES,
    log_bytes: int | None = None,
    cold: bool = False,
) -> RecoveryFigures:
    """Seconds per byte that the log engine's ``LogLoader`` recovery spends re-validating a
    log: ``LogSegment.recover``'s header walk, CRC-32C of every batch and rebuild of the
    offset and time indexes, reading from the page cache (warm, unless ``cold``: then
    each file is dropped from the cache first, where the OS allows it).

    Writes ``log_bytes`` (default ``effort.recovery_log_bytes``) of 1 KiB JSON records
    in batches of about ``batch_bytes`` through ``UnifiedLog`` into a new partition
    directory under ``directory`` (removed afterwards) and flushes it. Each of
    ``effort.recoveries`` runs (after one untimed) tears the last batch in half, as a
    crash mid-write does, and reopens the log with no recovery-point checkpoint and no
    clean-shutdown marker, the case where every batch is re-validated; then it loads the
    same log as after a clean shutdown, which opens its files and recovers nothing. A
    run's figure is the difference over the bytes recovered, so the cost of opening a
    log (its files, checkpoints, leader-epoch cache), which a clean load pays too, is
    kept out of the per-byte cost. What remains still holds a few milliseconds a log
    that do not grow with its bytes (resizing the indexes, the truncation's fsync, the
    first reads into new buffers): on a smaller log the per-byte figure is higher.
    """
    import shutil
    import tempfile

    from simkafka.log.clock import SystemClock
    from simkafka.log.log_config import LogConfig
    from simkafka.validate.calibration.payload import RECORD_BYTES, records_batch

    batch = records_batch(max(1, batch_bytes // RECORD_BYTES))
    config = LogConfig(max_message_bytes=2 * len(batch))
    target = effort.recovery_log_bytes if log_bytes is None else log_bytes
    parent = tempfile.mkdtemp(prefix="simkafka-calibrate-", dir=directory)
    try:
        path = os.path.join(parent, "recovery-0")
        log = UnifiedLog(path, config, SystemClock())
        while log.size + len(batch) <= target or log.size < 2 * len(batch):
            log.append_as_leader(batch, 0)
        log.flush()
        written = log.size
        log.close()
        per_byte: list[float] = []
        clean_load: list[float] = []
        recovery: list[float] = []
        recovered_bytes: list[int] = []
        for run in range(effort.recoveries + 1):
            _tear_last_batch(path, len(batch))
            if cold:
                _drop_from_page_cache(path)
            start = time.perf_counter()
            recovered = UnifiedLog(path, config, SystemClock(), recovery_point=0)
            recovering = time.perf_counter() - start
            if not any(event.kind == "truncated" for event in recovered.recovery_report):
                raise RuntimeError(f"recovery of {path} did not cut the torn batch")
            end, size = recovered.log_end_offset, recovered.size
            recovered.close()
            start = time.perf_counter()
            UnifiedLog(path, config, SystemClock(), recovery_point=end, had_clean_shutdown=True).close()
            loading = time.perf_counter() - start
            if run > 0:  # the first run warms caches and lazily built state
                per_byte.append((recovering - loading) / size)
                clean_load.append(loading)
                recovery.append(recovering)
                recovered_bytes.append(size)
        return RecoveryFigures(per_byte, clean_load, recovery, recovered_bytes, written, len(batch))
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def _tear_last_batch(path: str, batch_bytes: int) -> None:
    """Cut the newest segment in the middle of its last batch."""
    logs = sorted(name for name in os.listdir(path) if name.endswith(".log"))
    segment = os.path.join(path, logs[-1])
    os.truncate(segment, os.path.getsize(segment) - batch_bytes // 2)


def _drop_from_page_cache(path: str) -> None:
    if not hasattr(os, "posix_fadvise"):
        return
    for name in os.listdir(path):
        fd = os.open(os.path.join(path, name), os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
