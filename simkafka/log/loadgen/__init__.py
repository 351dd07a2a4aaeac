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

Modules, each importing only those above it:

* :mod:`~simkafka.log.loadgen.config` -- :class:`LoadgenConfig`, its checks, the errors;
* :mod:`~simkafka.log.loadgen.workload` -- the batch pool;
* :mod:`~simkafka.log.loadgen.measure` -- latency histogram, page-cache eviction, disk usage;
* :mod:`~simkafka.log.loadgen.result` -- :class:`PhaseStats`, :class:`LoadgenResult`
  (tables and JSON);
* :mod:`~simkafka.log.loadgen.workers` -- the producer, tail-reader and consumer workers;
* :mod:`~simkafka.log.loadgen.run` -- :func:`run_loadgen`: the phases, starting and
  gathering the workers.
"""

from simkafka.log.loadgen.config import (
    COMPRESSIONS,
    DEFAULT_BATCH_SIZE,
    DEFAULT_FETCH_BYTES,
    DEFAULT_RAW_BYTES,
    DEFAULT_SEGMENT_BYTES,
    LoadgenConfig,
    LoadgenConfigError,
    LoadgenError,
    ProgressCallback,
)
from simkafka.log.loadgen.measure import Eviction, LatencyHistogram, disk_usage, evict_and_check
from simkafka.log.loadgen.result import LoadgenResult, PhaseStats
from simkafka.log.loadgen.run import run_loadgen
from simkafka.log.loadgen.workload import build_batch_pool

__all__ = [
    "COMPRESSIONS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_FETCH_BYTES",
    "DEFAULT_RAW_BYTES",
    "DEFAULT_SEGMENT_BYTES",
    "Eviction",
    "LatencyHistogram",
    "LoadgenConfig",
    "LoadgenConfigError",
    "LoadgenError",
    "LoadgenResult",
    "PhaseStats",
    "ProgressCallback",
    "build_batch_pool",
    "disk_usage",
    "evict_and_check",
    "run_loadgen",
]
