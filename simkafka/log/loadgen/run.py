"""Orchestration of a bench-log run: the four phases, the workers' start and gathering.

See the package docstring (:mod:`simkafka.log.loadgen`) for what each phase measures.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

from simkafka.log.checkpoints import (
    LOG_START_OFFSET_CHECKPOINT,
    RECOVERY_POINT_OFFSET_CHECKPOINT,
    OffsetCheckpointFile,
)
from simkafka.log.diskbench import MB, measure_sequential_read, measure_sequential_write
from simkafka.log.loadgen.config import (
    DEFAULT_RAW_BYTES,
    Executor,
    LoadgenConfig,
    LoadgenConfigError,
    LoadgenError,
    ProgressCallback,
)
from simkafka.log.loadgen.measure import Eviction, LatencyHistogram, disk_usage
from simkafka.log.loadgen.result import LoadgenResult, PhaseStats
from simkafka.log.loadgen.workers import (
    BARRIER_TIMEOUT_S,
    PartitionTally,
    WorkerReport,
    WorkerSpec,
    worker_entry,
)
from simkafka.log.loadgen.workload import build_batch_pool
from simkafka.log.log_config import LogConfig
from simkafka.log.unified_log import CLEAN_SHUTDOWN_FILE

__all__ = ["run_loadgen"]

_RUN_PREFIX = "simkafka-bench-log-"


def _split(partitions: int, workers: int) -> list[list[int]]:
    """Partition ``p`` goes to worker ``p % workers`` (a fixed, documented split)."""
    return [[p for p in range(partitions) if p % workers == w] for w in range(workers)]


def _run_phase(
    specs: list[WorkerSpec],
    executor: Executor,
    progress: Callable[[float], None] | None,
) -> list[WorkerReport]:
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
                    target=worker_entry, args=(spec, barrier, counters, results), daemon=True
                )
            )
    else:
        barrier = threading.Barrier(n + 1)
        counters = [0] * n
        results = queue.Queue()
        for spec in specs:
            procs.append(
                threading.Thread(
                    target=worker_entry, args=(spec, barrier, counters, results), daemon=True
                )
            )
    reports: dict[int, WorkerReport] = {}
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
            barrier.wait(BARRIER_TIMEOUT_S)
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


def _merge(reports: Sequence[WorkerReport], end_attr: str = "end_ns") -> PhaseStats:
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
    from simkafka.log.diskbench import _filesystem_type  # the log engine's own mount lookup

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
    produced: dict[int, PartitionTally], read: dict[int, PartitionTally], who: str
) -> list[str]:
    errors = []
    for p, want in sorted(produced.items()):
        got = read.get(p, PartitionTally())
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
) -> list[WorkerSpec]:
    """One spec per worker; a byte budget is shared out by the partitions a producer owns."""
    specs = []
    for i, parts in enumerate(_split(config.partitions, workers)):
        budget = None
        if kind == "producer" and config.total_bytes is not None:
            budget = math.ceil(config.total_bytes * len(parts) / config.partitions)
        specs.append(
            WorkerSpec(
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
        produced: dict[int, PartitionTally] = {}
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
            tail_read: dict[int, PartitionTally] = {}
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
            cold: dict[int, PartitionTally] = {}
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
