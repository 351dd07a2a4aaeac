"""Append throughput of the real log engine (``UnifiedLog.append_as_leader``), in MB/s.

Appends pre-built v2 batches -- 1 MiB and 16 KiB of record payload -- to a fresh log in a
temporary directory with Kafka's default segment and index settings (``max.message.bytes``
raised to 2 MiB so the 1 MiB batch is accepted, as brokers carrying such batches do).
Each append does what a leader does: header walk, CRC-32C of the whole batch, in-place
offset and epoch assignment, one ``os.write``, sparse index update, roll checks. Batch
*building* (the producer's work) is excluded and reported separately. A final fsync is
timed on its own. From ``OVERLAPPED_CRC_MIN_BYTES`` (256 KiB) on, the CRC runs on a
worker thread while the batch is written (``simkafka.log.records.OverlappedCrc32c``);
``--sizes`` measures the request-buffer append across batch sizes with and without that
overlap, which is how the threshold was chosen.

Two ways to hand the batch over, one row each:

* ``request buffer``: a ``bytearray`` whose ``baseOffset`` is reset to 0 before each
  append, as a broker receives a fresh produce request and rewrites that buffer in place
  (what ``simkafka bench-log``'s producers do) -- the one-pass append path;
* ``bytes``: an immutable ``bytes`` object, which the log must copy before rewriting
  the offsets -- the general path plus one copy of the batch.

    python benchmarks/bench_log_append.py [--total-mib 256] [--dir /path/on/the/disk]
    python benchmarks/bench_log_append.py --sizes [--total-mib 128]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import tempfile
import time

import simkafka.log.unified_log as unified_log_module
from simkafka.log.clock import SystemClock
from simkafka.log.log_config import LogConfig
from simkafka.log.records import build_uniform_batch
from simkafka.log.unified_log import UnifiedLog

MIB = 1024 * 1024
_BASE_OFFSET = struct.Struct(">q")  # DefaultRecordBatch.baseOffset, bytes 0-7


def bench(
    batch_payload: int, record_size: int, total_bytes: int, root: str, *, request_buffer: bool
) -> dict[str, float]:
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
        log.maybe_assign_epoch_start_offset(0, 0)  # becoming leader (Partition.makeLeader)
        append = log.append_as_leader
        if request_buffer:
            buf = bytearray(batch)
            reset = _BASE_OFFSET.pack_into
            start = time.perf_counter()
            for _ in range(n):
                reset(buf, 0, 0)  # a client's request carries baseOffset 0
                append(buf, 0)
        else:
            start = time.perf_counter()
            for _ in range(n):
                append(batch, 0)
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


def sizes(total_mib: int, root: str, rounds: int = 3) -> None:
    """Request-buffer append per batch size, CRC inline vs overlapped with the write.

    The two variants alternate, ``rounds`` times each, and the median is printed: the
    VM's noise drifts over seconds, so back-to-back pairs compare better than two
    long runs.
    """
    threshold = unified_log_module.OVERLAPPED_CRC_MIN_BYTES
    print(f"OVERLAPPED_CRC_MIN_BYTES = {threshold}; us per append (median of {rounds})")
    try:
        for payload in (16 * 1024, 32 * 1024, 64 * 1024, 128 * 1024, 256 * 1024, MIB):
            runs: dict[str, list[float]] = {"inline": [], "overlapped": []}
            for _ in range(rounds):
                for label, limit in (("inline", 1 << 62), ("overlapped", 0)):
                    unified_log_module.OVERLAPPED_CRC_MIN_BYTES = limit
                    r = bench(payload, 1024, total_mib * MIB, root, request_buffer=True)
                    runs[label].append(r["us_per_append"])
            inline = statistics.median(runs["inline"])
            overlapped = statistics.median(runs["overlapped"])
            print(
                f"{payload // 1024:>6} KiB: inline {inline:8.1f}  overlapped {overlapped:8.1f}  "
                f"({(overlapped / inline - 1) * 100:+.0f}%)"
            )
    finally:
        unified_log_module.OVERLAPPED_CRC_MIN_BYTES = threshold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-mib", type=int, default=256, help="bytes appended per case")
    parser.add_argument("--dir", default=None, help="where to write (default: temp dir)")
    parser.add_argument(
        "--sizes", action="store_true", help="batch sizes, CRC inline vs overlapped"
    )
    args = parser.parse_args()
    root = args.dir or tempfile.gettempdir()
    if args.sizes:
        sizes(args.total_mib, root)
        return
    for label, payload, record, request_buffer in (
        ("1 MiB, request buffer", MIB, 1024, True),
        ("1 MiB, bytes", MIB, 1024, False),
        ("16 KiB, request buffer", 16 * 1024, 1024, True),
        ("16 KiB, bytes", 16 * 1024, 1024, False),
    ):
        r = bench(payload, record, args.total_mib * MIB, root, request_buffer=request_buffer)
        print(
            f"{label:>22}: {r['append_mb_s']:8.1f} MB/s append ({r['appends_per_s']:9.0f} appends/s, "
            f"{r['us_per_append']:7.1f} us each), {r['append_with_fsync_mb_s']:8.1f} MB/s incl. "
            f"final fsync of {r['fsync_s']:.2f} s; {r['batches']} x {r['batch_bytes']} B, "
            f"{r['records_per_batch']} records/batch; building one batch {r['build_us_per_batch']:.0f} us"
        )


if __name__ == "__main__":
    main()
