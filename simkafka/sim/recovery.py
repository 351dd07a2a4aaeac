"""How long a broker restarted after a crash spends loading its logs: Kafka's log recovery.

Kafka does not fsync on append by default (no ``flush.messages`` / ``flush.ms``). It
flushes a segment when it rolls -- ``UnifiedLog.roll`` schedules
``flushUptoOffsetExclusive(newSegment.baseOffset)`` -- which moves the log's *recovery
point* to the new active segment's base offset, and ``LogManager`` writes every log's
recovery point to ``recovery-point-offset-checkpoint`` every
``log.flush.offset.checkpoint.interval.ms`` (60 s).

On start, ``LogManager.loadLogs`` looks for ``.kafka_cleanshutdown`` in each log dir.
Present (a clean shutdown): every log is loaded and none recovered. Absent (a crash):
``LogLoader.recoverLog`` takes the segments from the one *containing* the recovery point
on (``LogSegments.values(recoveryPoint, Long.MAX_VALUE)`` uses ``floorKey``) and
``LogSegment.recover`` re-reads each from position 0: every batch's header and CRC-32C
checked, the offset and time indexes rebuilt, a torn tail cut. So the work is the whole
active segment, whatever fsyncs ``flush.messages`` / ``flush.ms`` did inside it, plus
any segment whose roll flush had not yet reached the checkpoint file.

Each log dir gets a fixed thread pool of ``num.recovery.threads.per.data.dir`` threads
(``Executors.newFixedThreadPool``); one job per log is submitted in the order the dir
lists them, the dirs' pools run side by side, and the broker waits for every job.

Read in apache/kafka: ``core/.../log/LogManager.scala`` (``loadLogs``),
``storage/.../log/LogLoader.java`` (``recoverLog``), ``LogSegments.java`` (``values``),
``LogSegment.java`` (``recover``), ``UnifiedLog`` (``roll``) and
``server-common/.../config/ServerLogConfigs.java`` (the thread default: 2 since 4.0,
KIP-1030; 1 before).

The functions here are pure arithmetic over bytes; the engines call them with their own
partition sizes, the cost profile's ``broker.recovery_byte_cpu`` and the log dirs' read
bandwidths.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

__all__ = ["recovery_seconds", "unflushed_bytes"]


def _check(name: str, value: float, *, positive: bool = False) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'}, not {value!r}")
    return float(value)


def unflushed_bytes(
    log_bytes: float, segment_bytes: float, flushed_to: float | None = None
) -> float:
    """Bytes of a log that recovery re-validates after a crash.

    ``log_bytes`` is the log's size (from its start, retention aside), ``segment_bytes``
    its ``segment.bytes``. The active segment holds what is past the last full segment:
    ``log_bytes mod segment_bytes``, or a whole segment when the log ends exactly on a
    boundary (Kafka rolls on the append that would overflow the segment, not when it
    fills), or all of the log when it is smaller than a segment.

    ``flushed_to`` is the recovery point as last checkpointed, in bytes from the log's
    start. ``None`` means Kafka's default: the flush at the last roll has reached the
    checkpoint, so the recovery point is the active segment's base and recovery
    re-validates exactly the active segment. ``flush.messages`` / ``flush.ms`` move the
    recovery point inside the active segment, but recovery still starts at the
    beginning of the segment holding it, so they do not shorten it; a checkpoint older
    than the last roll (a crash within ``log.flush.offset.checkpoint.interval.ms`` of it)
    lengthens it to every segment from the one holding ``flushed_to``. Time-based rolls
    (``segment.ms``) are not seen here: pass the size of the segments actually written.
    """
    log_bytes = _check("log_bytes", log_bytes)
    segment_bytes = _check("segment_bytes", segment_bytes, positive=True)
    if log_bytes == 0:
        return 0.0
    active = math.fmod(log_bytes, segment_bytes) or segment_bytes
    active_base = log_bytes - active
    if flushed_to is None:
        return active
    flushed_to = _check("flushed_to", flushed_to)
    if flushed_to > log_bytes:
        raise ValueError(f"flushed_to ({flushed_to!r}) is past the log's end ({log_bytes!r})")
    start = min(active_base, flushed_to - math.fmod(flushed_to, segment_bytes))
    return log_bytes - start


def recovery_seconds(
    unflushed_by_dir: Sequence[Sequence[float]],
    recovery_byte_cpu: float,
    disk_read_bandwidth: Sequence[float],
    recovery_threads: int,
    clean_shutdown: bool = False,
) -> float:
    """Seconds for a broker to recover its logs after a crash, before it can serve them.

    ``unflushed_by_dir[d]`` lists the bytes recovery re-validates for each log in log
    dir ``d`` (:func:`unflushed_bytes`), in the order Kafka would submit them (the dir's
    listing); ``disk_read_bandwidth[d]`` is that dir's disk (bytes/s);
    ``recovery_threads`` is ``num.recovery.threads.per.data.dir``; ``recovery_byte_cpu``
    the cost profile's ``broker.recovery_byte_cpu`` (seconds per byte, warm page cache).

    In each dir, the fixed pool takes the logs in order, each by the first free thread.
    A thread re-validates at most ``1 / recovery_byte_cpu`` bytes/s (one core each:
    the broker is assumed to have a core per recovery thread), and the threads that are
    busy share the disk's read bandwidth equally. The read overlaps the CRC work (the
    reads are sequential and the kernel reads ahead), so a byte costs the larger of the
    two, not their sum: one thread alone runs at ``min(1 / cpu, bandwidth)``. The dirs
    recover side by side; the broker is done when the slowest dir is.

    ``clean_shutdown`` (``.kafka_cleanshutdown`` present in every dir): no recovery, 0 s.
    Kafka still opens every segment of every log then (as it does after a crash too);
    that per-log cost is charged neither here nor after a crash: the log engine takes
    about 1 ms to open a one-segment log (``simkafka calibrate``'s reference row "loading
    a log after a clean shutdown"; Python, where the JVM is likely faster), which
    matters only at thousands of logs per recovery thread.
    """
    recovery_byte_cpu = _check("recovery_byte_cpu", recovery_byte_cpu)
    if (
        isinstance(recovery_threads, bool)
        or not isinstance(recovery_threads, numbers.Integral)
        or recovery_threads < 1
    ):
        raise ValueError(
            f"recovery_threads (num.recovery.threads.per.data.dir) must be an integer >= 1, "
            f"not {recovery_threads!r}"
        )
    if len(disk_read_bandwidth) != len(unflushed_by_dir):
        raise ValueError(
            f"{len(unflushed_by_dir)} log dirs but {len(disk_read_bandwidth)} disk read bandwidths"
        )
    dirs = []
    for d, (logs, bandwidth) in enumerate(zip(unflushed_by_dir, disk_read_bandwidth, strict=True)):
        bandwidth = _check(f"disk_read_bandwidth[{d}]", bandwidth, positive=True)
        dirs.append(
            ([_check(f"unflushed_by_dir[{d}][{i}]", b) for i, b in enumerate(logs)], bandwidth)
        )
    if clean_shutdown:
        return 0.0
    return max(
        (
            _dir_seconds(logs, recovery_byte_cpu, bandwidth, recovery_threads)
            for logs, bandwidth in dirs
        ),
        default=0.0,
    )


def _dir_seconds(logs: list[float], byte_cpu: float, bandwidth: float, threads: int) -> float:
    """One dir's pool: jobs in order to the first free thread, busy threads sharing the disk.

    Every busy thread runs at the same rate, ``min(1 / byte_cpu, bandwidth / busy)``, so
    the next event is always the end of the smallest remaining job.
    """
    thread_rate = math.inf if byte_cpu == 0 else 1.0 / byte_cpu
    pending = iter(logs)
    running: list[float] = []
    elapsed = 0.0
    while True:
        for job in pending:
            if job > 0:
                running.append(job)
                if len(running) == threads:
                    break
        if not running:
            return elapsed
        rate = min(thread_rate, bandwidth / len(running))
        shortest = min(running)
        elapsed += shortest / rate
        # a job of exactly `shortest` bytes ends at 0.0; every other one stays > 0
        running = [job - shortest for job in running if job != shortest]
