"""The raw-disk baseline that every log-engine benchmark is compared against (issue 4).

A log-engine figure on its own ("180 MB/s appends") says little: the same code gives
very different numbers on NVMe, a cloud volume or tmpfs. So the benchmarks measure,
in the same run and the same directory, what plain file I/O of the same bytes
achieves, and report each engine figure also as a ratio of it. What is measured here
is deliberately the cheapest possible path -- ``os.write`` of one preallocated chunk
in a loop, ``readinto`` one preallocated buffer -- so the ratio isolates the engine's
own overhead (record batch encoding, index maintenance, segment rolls).

Kafka's own durability model explains the three knobs:

* ``fsync='none'`` is what a Kafka broker does by default: it appends to the page
  cache and leaves flushing to the OS (``log.flush.interval.messages`` defaults to
  Long.MAX_VALUE) -- durability comes from replication, not fsync.
* ``fsync='end'`` (one fsync after all writes) is the sustained device bandwidth.
* ``fsync='every'`` is a log configured with ``flush.messages=1``.

Reads evict the file from the page cache first (``posix_fadvise(POSIX_FADV_DONTNEED)``
after fsync, since dirty pages cannot be dropped), because a consumer that has fallen
behind the cached tail reads from the device; whether eviction was possible is
reported as ``cold`` -- on tmpfs/ramfs the page cache *is* the storage.

Every function writes only its own temporary file (``simkafka-diskbench-*``), never
more than the requested bytes, refuses sizes that do not fit the free space, and
removes the file on every exit path. Times come from an injectable monotonic
``timer`` (``time.perf_counter``), never the wall clock.

Units: ``mb_per_s`` counts MB as 2**20 bytes, as Kafka's ``ProducerPerformance`` and
``ConsumerPerformance`` tools do when they print "MB/sec".
"""

from __future__ import annotations

import math
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "MB",
    "DiskMeasurement",
    "FsyncLatency",
    "measure_sequential_write",
    "measure_sequential_read",
    "measure_fsync_latency",
    "percentile",
]

#: One "MB" as Kafka's perf tools count it.
MB = 1024 * 1024
#: Largest chunk we allocate (a benchmark buffer, not a cache).
MAX_CHUNK_BYTES = 256 * MB
#: Free space left untouched when checking that a file fits.
FREE_SPACE_MARGIN = 64 * MB

FsyncMode = Literal["end", "every", "none"]
_FSYNC_MODES = ("end", "every", "none")
_TEMP_PREFIX = "simkafka-diskbench-"
# Filesystems whose pages cannot be evicted: the page cache is the storage itself.
_MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs", "devtmpfs", "hugetlbfs"})

Timer = Callable[[], float]


@dataclass(frozen=True)
class DiskMeasurement:
    """One sequential pass over a file: how many bytes, how long, how it was synced.

    ``seconds`` covers the whole pass including any fsync (``fsync_seconds`` is the
    part of it spent in fsync). ``cold`` is set for reads only: True when the file
    was evicted from the page cache first, False when that was impossible or not
    asked for (then the figure is page-cache bandwidth, not the device's).
    """

    kind: Literal["write", "read"]
    bytes: int
    seconds: float
    chunk_bytes: int
    fsync: FsyncMode | None = None
    fsync_seconds: float = 0.0
    fsync_count: int = 0
    cold: bool | None = None
    directory: str = ""

    @property
    def bytes_per_s(self) -> float:
        return self.bytes / self.seconds if self.seconds > 0 else math.inf

    @property
    def mb_per_s(self) -> float:
        """Throughput in MB/s with MB = 2**20 bytes (Kafka's perf tools' unit)."""
        return self.bytes_per_s / MB

    def ratio(self, bytes_per_s: float) -> float:
        """``bytes_per_s`` (say, the log engine's) as a fraction of this raw figure."""
        return bytes_per_s / self.bytes_per_s

    def as_row(self) -> dict[str, object]:
        """A flat dict for tables (one row per measurement)."""
        return {
            "test": f"raw {self.kind}",
            "chunk": _human(self.chunk_bytes),
            "bytes": self.bytes,
            "seconds": round(self.seconds, 6),
            "MB/s": round(self.mb_per_s, 1),
            "fsync": self.fsync if self.fsync is not None else "-",
            "fsyncs": self.fsync_count,
            "fsync s": round(self.fsync_seconds, 6),
            "cold": "-" if self.cold is None else ("yes" if self.cold else "no"),
        }

    def __repr__(self) -> str:
        extra = []
        if self.fsync is not None:
            extra.append(f"fsync={self.fsync} x{self.fsync_count} {self.fsync_seconds:.4f}s")
        if self.cold is not None:
            extra.append("cold" if self.cold else "warm (page cache)")
        tail = f", {', '.join(extra)}" if extra else ""
        return (
            f"<raw {self.kind} {_human(self.bytes)} in {_human(self.chunk_bytes)} chunks: "
            f"{self.mb_per_s:.1f} MB/s ({self.seconds:.4f}s){tail}>"
        )


@dataclass(frozen=True)
class FsyncLatency:
    """Latency of ``write(write_bytes)`` + ``fsync`` pairs, percentiles in seconds.

    The cost an ``acks=all`` produce would pay per batch on a log with
    ``flush.messages=1`` -- and the cost Kafka avoids by default.
    """

    count: int
    write_bytes: int
    mean: float
    p50: float
    p90: float
    p99: float
    p999: float
    max: float
    directory: str = ""

    def as_row(self) -> dict[str, object]:
        ms = 1e3
        return {
            "test": "write+fsync",
            "write": _human(self.write_bytes),
            "n": self.count,
            "mean ms": round(self.mean * ms, 3),
            "p50 ms": round(self.p50 * ms, 3),
            "p90 ms": round(self.p90 * ms, 3),
            "p99 ms": round(self.p99 * ms, 3),
            "p99.9 ms": round(self.p999 * ms, 3),
            "max ms": round(self.max * ms, 3),
        }

    def __repr__(self) -> str:
        return (
            f"<fsync latency of {self.count} x {_human(self.write_bytes)} writes: "
            f"p50 {self.p50 * 1e3:.3f} ms, p99 {self.p99 * 1e3:.3f} ms, "
            f"max {self.max * 1e3:.3f} ms>"
        )


# --------------------------------------------------------------------- helpers


def _human(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} B"


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values (``p`` in (0, 100])."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p} is outside (0, 100]")
    rank = math.ceil(p / 100 * len(sorted_values))
    return sorted_values[max(rank, 1) - 1]


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _check_directory(directory: str | os.PathLike[str]) -> str:
    path = os.fspath(directory)
    if not os.path.isdir(path):
        raise ValueError(f"{path!r} is not an existing directory")
    return path


def _check_free_space(directory: str, needed: int) -> None:
    free = shutil.disk_usage(directory).free
    if needed + FREE_SPACE_MARGIN > free:
        raise ValueError(
            f"{needed} bytes (+{FREE_SPACE_MARGIN} margin) do not fit the "
            f"{free} bytes free in {directory!r}"
        )


def _chunk(chunk_bytes: int) -> memoryview:
    """Preallocated, incompressible, deterministic bytes (compressing filesystems
    such as btrfs or ZFS would otherwise flatter a buffer of zeros)."""
    return memoryview(random.Random(chunk_bytes).randbytes(chunk_bytes))


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]


def _make_temp(directory: str) -> tuple[int, str]:
    return tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".bin", dir=directory)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _filesystem_type(path: str) -> str | None:
    """The filesystem type of ``path`` from /proc/self/mounts (Linux), else None."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            mounts = [line.split() for line in f]
    except OSError:
        return None
    real = os.path.realpath(path)
    best, best_type = "", None
    for fields in mounts:
        if len(fields) < 3:
            continue
        mount_point = fields[1].replace("\\040", " ")
        inside = real == mount_point or real.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, fields[2]
    return best_type


def _evict(fd: int, path: str) -> bool:
    """fsync then ``POSIX_FADV_DONTNEED``; True only if the pages can really go."""
    os.fsync(fd)  # dirty pages are not dropped by DONTNEED
    if not hasattr(os, "posix_fadvise"):
        return False
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        return False
    return _filesystem_type(path) not in _MEMORY_FILESYSTEMS


# ------------------------------------------------------------------- measurements


def _timed_write(
    fd: int, total_bytes: int, chunk_bytes: int, fsync: FsyncMode, timer: Timer
) -> tuple[float, float, int]:
    chunk = _chunk(min(chunk_bytes, total_bytes))
    fsync_seconds, fsync_count = 0.0, 0
    remaining = total_bytes
    start = timer()
    while remaining:
        n = min(len(chunk), remaining)
        _write_all(fd, chunk[:n])
        remaining -= n
        if fsync == "every":
            t = timer()
            os.fsync(fd)
            fsync_seconds += timer() - t
            fsync_count += 1
    if fsync == "end":
        t = timer()
        os.fsync(fd)
        fsync_seconds += timer() - t
        fsync_count += 1
    return timer() - start, fsync_seconds, fsync_count


def measure_sequential_write(
    directory: str | os.PathLike[str],
    total_bytes: int,
    chunk_bytes: int,
    fsync: FsyncMode = "end",
    *,
    timer: Timer = time.perf_counter,
) -> DiskMeasurement:
    """Write ``total_bytes`` to a new temp file in ``directory``, ``chunk_bytes`` per call.

    The last call is shorter when ``chunk_bytes`` does not divide ``total_bytes``,
    so exactly ``total_bytes`` reach the file. The file is removed afterwards.
    """
    total_bytes = _positive_int(total_bytes, "total_bytes")
    chunk_bytes = _positive_int(chunk_bytes, "chunk_bytes")
    if chunk_bytes > MAX_CHUNK_BYTES:
        raise ValueError(f"chunk_bytes {chunk_bytes} exceeds {MAX_CHUNK_BYTES}")
    if fsync not in _FSYNC_MODES:
        raise ValueError(f"fsync must be one of {_FSYNC_MODES}, got {fsync!r}")
    path = _check_directory(directory)
    _check_free_space(path, total_bytes)
    fd, name = _make_temp(path)
    try:
        seconds, fsync_seconds, fsync_count = _timed_write(
            fd, total_bytes, chunk_bytes, fsync, timer
        )
        written = os.fstat(fd).st_size
    finally:
        os.close(fd)
        _unlink_quietly(name)
    return DiskMeasurement(
        kind="write",
        bytes=written,
        seconds=seconds,
        chunk_bytes=chunk_bytes,
        fsync=fsync,
        fsync_seconds=fsync_seconds,
        fsync_count=fsync_count,
        directory=path,
    )


def _timed_read(
    path: str, chunk_bytes: int, drop_cache: bool, timer: Timer
) -> tuple[int, float, bool]:
    buf = memoryview(bytearray(chunk_bytes))
    with open(path, "rb", buffering=0) as f:
        cold = _evict(f.fileno(), path) if drop_cache else False
        total = 0
        start = timer()
        while n := f.readinto(buf):
            total += n
        seconds = timer() - start
    return total, seconds, cold


def measure_sequential_read(
    path: str | os.PathLike[str],
    chunk_bytes: int,
    drop_cache: bool = True,
    *,
    total_bytes: int | None = None,
    timer: Timer = time.perf_counter,
) -> DiskMeasurement:
    """Read a file front to back into one preallocated ``chunk_bytes`` buffer.

    ``path`` is either an existing file (read as is, left in place -- e.g. a log
    segment the engine just wrote) or a directory, in which case a temp file of
    ``total_bytes`` is written first (fsync'd, not timed) and removed afterwards.
    With ``drop_cache`` the file is evicted from the page cache before the timed
    pass; the result's ``cold`` says whether that was possible.
    """
    chunk_bytes = _positive_int(chunk_bytes, "chunk_bytes")
    if chunk_bytes > MAX_CHUNK_BYTES:
        raise ValueError(f"chunk_bytes {chunk_bytes} exceeds {MAX_CHUNK_BYTES}")
    target = os.fspath(path)
    if os.path.isfile(target):
        if total_bytes is not None:
            raise ValueError("total_bytes is only for a directory; a file is read whole")
        total, seconds, cold = _timed_read(target, chunk_bytes, drop_cache, timer)
        directory = os.path.dirname(os.path.abspath(target))
    else:
        directory = _check_directory(target)
        if total_bytes is None:
            raise ValueError("reading a directory needs total_bytes for the temp file")
        total_bytes = _positive_int(total_bytes, "total_bytes")
        _check_free_space(directory, total_bytes)
        fd, name = _make_temp(directory)
        try:
            try:
                _write_all_chunks(fd, total_bytes, min(chunk_bytes, total_bytes))
                os.fsync(fd)
            finally:
                os.close(fd)
            total, seconds, cold = _timed_read(name, chunk_bytes, drop_cache, timer)
        finally:
            _unlink_quietly(name)
    return DiskMeasurement(
        kind="read",
        bytes=total,
        seconds=seconds,
        chunk_bytes=chunk_bytes,
        cold=cold,
        directory=directory,
    )


def _write_all_chunks(fd: int, total_bytes: int, chunk_bytes: int) -> None:
    chunk = _chunk(chunk_bytes)
    remaining = total_bytes
    while remaining:
        n = min(len(chunk), remaining)
        _write_all(fd, chunk[:n])
        remaining -= n


def measure_fsync_latency(
    directory: str | os.PathLike[str],
    n: int,
    write_bytes: int,
    *,
    timer: Timer = time.perf_counter,
) -> FsyncLatency:
    """Time ``n`` rounds of append ``write_bytes`` then fsync, in one temp file.

    Each sample covers the write and the fsync (what a ``flush.messages=1`` append
    costs). The file grows to ``n * write_bytes`` and is removed afterwards.
    """
    n = _positive_int(n, "n")
    write_bytes = _positive_int(write_bytes, "write_bytes")
    if write_bytes > MAX_CHUNK_BYTES:
        raise ValueError(f"write_bytes {write_bytes} exceeds {MAX_CHUNK_BYTES}")
    path = _check_directory(directory)
    _check_free_space(path, n * write_bytes)
    chunk = _chunk(write_bytes)
    samples: list[float] = []
    fd, name = _make_temp(path)
    try:
        for _ in range(n):
            t = timer()
            _write_all(fd, chunk)
            os.fsync(fd)
            samples.append(timer() - t)
    finally:
        os.close(fd)
        _unlink_quietly(name)
    samples.sort()
    return FsyncLatency(
        count=n,
        write_bytes=write_bytes,
        mean=sum(samples) / n,
        p50=percentile(samples, 50),
        p90=percentile(samples, 90),
        p99=percentile(samples, 99),
        p999=percentile(samples, 99.9),
        max=samples[-1],
        directory=path,
    )
