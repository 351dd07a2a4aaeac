"""Timing the log engine's own code paths: CRC32C, copies, codecs, fsync, and (without a
JDK) the per-record and per-batch work.

Every CPU figure is the fastest of several timed rounds, each long enough (a few
milliseconds) for the clock's resolution not to matter, after one untimed round that
warms caches and lazily built state: the work is deterministic C code, so other
processes sharing the machine can only ever add time to a round, never take it away.
fsync, which the disk's own state makes vary, is the median of N. The codecs, CRC32C and copies run in C (zlib,
cramjam's snappy, python-lz4, zstandard, the crc32c module, memcpy), the same native
algorithms the Java clients reach through JNI, so their per-byte figures stand for the
JVM's too; the per-record work in Python does not, and is only a fallback
(:func:`python_record_paths`).
"""

from __future__ import annotations

import os
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
    "CodecFigures",
    "Effort",
    "codec_costs",
    "copy_per_byte",
    "crc32c_per_byte",
    "fsync_cost",
    "per_unit",
    "python_record_paths",
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


@dataclass(frozen=True)
class Effort:
    """How long to time each path: ``quick`` for tests, the default for a profile."""

    # many short rounds: on a busy machine the fastest of them is the one no other
    # process interrupted
    seconds_per_figure: float = 0.8
    rounds: int = 81
    fsyncs: int = 40

    @classmethod
    def quick(cls) -> Effort:
        return cls(seconds_per_figure=0.06, rounds=9, fsyncs=8)


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

