"""Log compaction throughput of the real log engine (``LogCleaner.run_once``), in MB/s.

Writes a compacted log of ``--total-mib`` MiB: batches of ``--batch`` records with keys
drawn uniformly (seeded) from ``--keys`` distinct keys and ``--value-bytes`` values, in
``--segment-mib`` segments; then runs one cleaning pass with Kafka's cleaner defaults
(128 MiB dedupe buffer, load factor 0.9, 512 KiB I/O buffers) and reports what Kafka's
``LogCleaner.recordStats`` logs: MB read and written, index (offset map) time vs copy
time, buffer utilisation and size reduction. The log is written with the system clock,
so the cleaning runs with timestamps it considers past ``min.compaction.lag.ms`` (0).

    python benchmarks/bench_cleaner.py [--total-mib 64] [--keys 10000] [--dir /path]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time

from simkafka.log.cleaner import CleanerConfig, LogCleaner
from simkafka.log.clock import SystemClock
from simkafka.log.compression import CompressionType
from simkafka.log.log_config import LogConfig
from simkafka.log.records import Record, build_batch
from simkafka.log.unified_log import UnifiedLog

MIB = 1024 * 1024


def bench(args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(args.seed)
    clock = SystemClock()
    cfg = LogConfig(
        cleanup_policy=("compact",),
        segment_bytes=max(args.segment_mib * MIB, MIB),
        max_message_bytes=8 * MIB,
    )
    root = tempfile.mkdtemp(prefix="bench-cleaner-", dir=args.dir)
    try:
        log = UnifiedLog(os.path.join(root, "bench-0"), cfg, clock)
        value = os.urandom(args.value_bytes)
        codec = CompressionType.for_name(args.compression)
        t0 = time.perf_counter()
        while log.size < args.total_mib * MIB:
            recs = [
                Record(i, 0, b"key-%d" % rng.randrange(args.keys), value) for i in range(args.batch)
            ]
            batch = build_batch(
                recs, base_offset=0, base_timestamp=clock.now_ms(), compression=codec
            )
            log.append_as_leader(batch, 0)
        log.roll()
        log.high_watermark = log.log_end_offset
        write_s = time.perf_counter() - t0
        before = log.size
        cleaner = LogCleaner(CleanerConfig(), clock)
        t1 = time.perf_counter()
        stats = cleaner.run_once([log])
        clean_s = time.perf_counter() - t1
        assert stats is not None, "the log was not due for cleaning"
        log.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "log_mib": before / MIB,
        "write_s": write_s,
        "clean_s": clean_s,
        "clean_mb_s": stats.bytes_read / clean_s / 1e6,
        "index_s": stats.elapsed_index_secs,
        "messages_read": stats.messages_read,
        "messages_written": stats.messages_written,
        "size_reduction_pct": 100.0 * (1 - stats.bytes_written / stats.bytes_read),
        "buffer_utilization_pct": 100.0 * stats.buffer_utilization,
        "stats": stats,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--total-mib", type=int, default=64)
    p.add_argument("--segment-mib", type=int, default=16)
    p.add_argument("--keys", type=int, default=10_000)
    p.add_argument("--value-bytes", type=int, default=512)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--compression", default="none", choices=["none", "gzip", "lz4", "zstd"])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dir", default=None, help="directory on the disk to measure")
    args = p.parse_args()
    r = bench(args)
    print(
        f"log {r['log_mib']:.1f} MiB written in {r['write_s']:.2f} s; cleaned in "
        f"{r['clean_s']:.2f} s = {r['clean_mb_s']:.1f} MB/s (offset map {r['index_s']:.2f} s)"
    )
    print(
        f"messages {r['messages_read']} -> {r['messages_written']}, "
        f"{r['size_reduction_pct']:.1f}% smaller, dedupe buffer "
        f"{r['buffer_utilization_pct']:.1f}% used"
    )
    print(r["stats"])


if __name__ == "__main__":
    main()
