"""Recovery time of the real log engine: a log with a torn tail, reopened from offset 0.

Writes ``--size`` bytes (default 1 GiB) of 1 MiB batches through ``UnifiedLog`` with
Kafka's default ``segment.bytes`` (1 GiB) and ``index.interval.bytes`` (4096), fsyncs,
tears the last batch in half (a crash mid-write), drops the page cache for the files
when possible (``posix_fadvise(DONTNEED)``; pass ``--warm`` to keep it), and times
``UnifiedLog(...)`` with no recovery-point checkpoint -- the worst case, where
``LogLoader`` re-validates every batch (header walk + CRC-32C) and rebuilds both indexes.

    python benchmarks/bench_recovery.py [--size 1GiB] [--batch 1MiB] [--dir PATH] [--warm]
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

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gib": 1024**3,
}


def parse_size(text: str) -> int:
    t = text.strip().lower().replace(" ", "")
    digits = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    return int(float(digits) * _UNITS[t[len(digits) :]])


def _drop_cache(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1GiB", help="log size, e.g. 1GiB, 256MiB")
    parser.add_argument("--batch", default="1MiB", help="record payload per batch")
    parser.add_argument("--dir", default=None, help="where to write (default: temp dir)")
    parser.add_argument("--warm", action="store_true", help="keep the page cache warm")
    args = parser.parse_args()
    size, batch_payload = parse_size(args.size), parse_size(args.batch)
    record = 1024
    count = max(1, batch_payload // record)
    batch = build_uniform_batch(
        count,
        record,
        base_offset=0,
        base_timestamp=int(time.time() * 1000),
        payload=os.urandom(count * record),
    )
    cfg = LogConfig(max_message_bytes=2 * len(batch), segment_bytes=1024**3 + 2 * len(batch))
    root = tempfile.mkdtemp(prefix="bench-recovery-", dir=args.dir)
    try:
        d = os.path.join(root, "bench-0")
        log = UnifiedLog(d, cfg, SystemClock())
        t0 = time.perf_counter()
        while log.size + len(batch) <= size:
            log.append_as_leader(batch, 0)
        log.flush()
        write_s = time.perf_counter() - t0
        n_batches, total = log.log_end_offset // count, log.size
        segments = [s.log_path for s in log.segments]
        log.close()
        # tear the last batch: the file now ends in the middle of it
        last = segments[-1]
        torn_size = os.path.getsize(last) - len(batch) // 2
        os.truncate(last, torn_size)
        if not args.warm:
            for name in os.listdir(d):
                _drop_cache(os.path.join(d, name))
        t1 = time.perf_counter()
        recovered = UnifiedLog(d, cfg, SystemClock(), recovery_point=0)
        recover_s = time.perf_counter() - t1
        assert recovered.log_end_offset == (n_batches - 1) * count
        recovered_size = recovered.size
        recovered.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"wrote {total / 1e6:.0f} MB ({n_batches} batches of {len(batch)} B) in {write_s:.2f} s; "
        f"recovery of {recovered_size / 1e6:.0f} MB with a torn tail "
        f"({'warm' if args.warm else 'cold'} cache): {recover_s:.2f} s = "
        f"{recovered_size / recover_s / 1e6:.0f} MB/s"
    )


if __name__ == "__main__":
    main()
