"""Append throughput of the real log engine (``UnifiedLog.append_as_leader``), in MB/s.

Appends pre-built v2 batches -- 1 MiB and 16 KiB of record payload -- to a fresh log in a
temporary directory with Kafka's default segment and index settings (``max.message.bytes``
raised to 2 MiB so the 1 MiB batch is accepted, as brokers carrying such batches do).
Each append does what a leader does: header walk, CRC-32C of the whole batch, in-place
offset and epoch assignment, one ``os.write``, sparse index update, roll checks. Batch
*building* (the producer's work) is excluded and reported separately. A final fsync is
timed on its own.

    python benchmarks/bench_log_append.py [--total-mib 512] [--dir /path/on/the/disk]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

from simkafka.log.clock import SystemClock
from simkafka.log.log_config import LogConfig
from simkafka.log.records import build_uniform_batch
from simkafka.log.unified_log import UnifiedLog

MIB = 1024 * 1024


def bench(batch_payload: int, record_size: int, total_bytes: int, root: str) -> dict[str, float]:
    count = max(1, batch_payload // record_size)
    payload = os.urandom(count * record_size)
    t0 = time.perf_counter()
    batch = build_uniform_batch(
        count, record_size, base_offset=0, base_timestamp=0, payload=payload
    )
    build_s = time.perf_counter() - t0
    n = max(1, total_bytes // len(batch))
    cfg = LogConfig(max_message_bytes=2 * MIB)
    d = tempfile.mkdtemp(prefix="bench-append-", dir=root)
    try:
        log = UnifiedLog(os.path.join(d, "bench-0"), cfg, SystemClock())
        start = time.perf_counter()
        for _ in range(n):
            log.append_as_leader(batch, 0)
        append_s = time.perf_counter() - start
        f0 = time.perf_counter()
        log.flush()
        flush_s = time.perf_counter() - f0
        written = n * len(batch)
        assert log.size == written and log.log_end_offset == n * count
        log.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return {
        "batch_bytes": len(batch),
        "batches": n,
        "records_per_batch": count,
        "append_mb_s": written / append_s / 1e6,
        "append_with_fsync_mb_s": written / (append_s + flush_s) / 1e6,
        "appends_per_s": n / append_s,
        "us_per_append": append_s / n * 1e6,
        "build_us_per_batch": build_s * 1e6,
        "fsync_s": flush_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-mib", type=int, default=512, help="bytes appended per case")
    parser.add_argument("--dir", default=None, help="where to write (default: temp dir)")
    args = parser.parse_args()
    root = args.dir or tempfile.gettempdir()
    for label, payload, record in (
        ("1 MiB batches", MIB, 1024),
        ("16 KiB batches", 16 * 1024, 1024),
    ):
        r = bench(payload, record, args.total_mib * MIB, root)
        print(
            f"{label:>15}: {r['append_mb_s']:8.1f} MB/s append ({r['appends_per_s']:9.0f} appends/s, "
            f"{r['us_per_append']:7.1f} us each), {r['append_with_fsync_mb_s']:8.1f} MB/s incl. "
            f"final fsync of {r['fsync_s']:.2f} s; {r['batches']} x {r['batch_bytes']} B, "
            f"{r['records_per_batch']} records/batch; building one batch {r['build_us_per_batch']:.0f} us"
        )


if __name__ == "__main__":
    main()
