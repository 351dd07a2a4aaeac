"""The producer and consumer workers of a bench-log run, one per process (or thread).

A worker owns its partitions' logs (partition ``p`` belongs to producer
``p % producers`` and consumer ``p % consumers``): producers append the batch pool with
``UnifiedLog.append_as_leader``, with an optional tail reader thread fetching what is
new; consumers reopen the logs, evict them from the page cache and fetch everything
from the log start. Each worker reports a :class:`WorkerReport`.
"""

from __future__ import annotations

import os
import random
import struct
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Literal

from simkafka.log.clock import SystemClock
from simkafka.log.loadgen.config import LoadgenConfig, LoadgenError
from simkafka.log.loadgen.measure import Eviction, LatencyHistogram, evict_and_check
from simkafka.log.loadgen.workload import derive_seed
from simkafka.log.log_config import LogConfig
from simkafka.log.unified_log import FetchIsolation, UnifiedLog

__all__ = ["BARRIER_TIMEOUT_S", "PartitionTally", "WorkerReport", "WorkerSpec", "worker_entry"]

#: Records.LOG_OVERHEAD: batches are written with their 12-byte offset+length prefix.
_LOG_OVERHEAD = 12
_BATCH_HEADER = struct.Struct(">qi")  # baseOffset, batchLength
_BASE_OFFSET = struct.Struct(">q")
_LAST_OFFSET_DELTA = struct.Struct(">i")  # at byte 23
_RECORDS_COUNT = struct.Struct(">i")  # at byte 57
_BATCH_MIN = 61  # RECORD_BATCH_OVERHEAD
#: How long a worker (and the run) waits for all the others to be ready.
BARRIER_TIMEOUT_S = 300.0


@dataclass
class WorkerSpec:
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
class PartitionTally:
    batches: int = 0
    records: int = 0
    bytes: int = 0
    next_offset: int = 0


@dataclass
class WorkerReport:
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
    produced: dict[int, PartitionTally] = field(default_factory=dict)
    checkpoints: dict[int, tuple[int, int]] = field(default_factory=dict)
    tail: WorkerReport | None = None
    read: dict[int, PartitionTally] = field(default_factory=dict)
    eviction: Eviction | None = None
    errors: list[str] = field(default_factory=list)


def _partition_dir(log_dir: str, topic: str, partition: int) -> str:
    return os.path.join(log_dir, f"{topic}-{partition}")


def _consume_batches(
    data: bytes, expected: int, tally: PartitionTally, partition: int, errors: list[str]
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
        self.report = WorkerReport(kind="tail", index=index)
        self.failure: str | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException:
            self.failure = traceback.format_exc()

    def _run(self) -> None:
        rep = self.report
        positions = dict.fromkeys(self.logs, 0)
        tallies = {p: PartitionTally() for p in self.logs}
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


def _count_flushes(log: UnifiedLog, report: WorkerReport) -> None:
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


def _run_producer(spec: WorkerSpec, barrier: Any, counters: Any) -> WorkerReport:
    cfg = spec.config
    rep = WorkerReport(kind="producer", index=spec.index)
    logs: dict[int, UnifiedLog] = {}
    for p in spec.partitions:
        log = UnifiedLog(
            _partition_dir(spec.log_dir, spec.topic, p),
            spec.log_config,
            SystemClock(),
            jitter_rng=random.Random(derive_seed(cfg.seed, f"loadgen.jitter.{p}")),
        )
        # becoming leader (Partition.makeLeader) records the epoch's start offset
        log.maybe_assign_epoch_start_offset(0, log.log_end_offset)
        _count_flushes(log, rep)
        logs[p] = log
    locks = {p: threading.Lock() for p in spec.partitions}
    tallies = {p: PartitionTally() for p in spec.partitions}
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
    barrier.wait(BARRIER_TIMEOUT_S)
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


def _run_consumer(spec: WorkerSpec, barrier: Any, counters: Any) -> WorkerReport:
    cfg = spec.config
    rep = WorkerReport(kind="consumer", index=spec.index)
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
        tallies = {p: PartitionTally() for p in logs}
        rep.read = tallies
        positions = {p: log.log_start_offset for p, log in logs.items()}
        ends = {p: log.high_watermark for p, log in logs.items()}
        pending = [p for p in logs if positions[p] < ends[p]]
        perf = time.perf_counter_ns
        hist = rep.latency
        fetch = cfg.fetch_bytes
        barrier.wait(BARRIER_TIMEOUT_S)
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


def worker_entry(spec: WorkerSpec, barrier: Any, counters: Any, results: Any) -> None:
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
