"""Recovery time of the real log engine: a log with a torn tail, reopened from offset 0.

Writes ``--size`` bytes (default 1 GiB) of 1 KiB JSON records in ``--batch`` batches
(default 1 MiB) through ``UnifiedLog`` with Kafka's default ``segment.bytes`` (1 GiB) and
``index.interval.bytes`` (4096) and fsyncs. Each of ``--runs`` runs (after one untimed)
tears the last batch in half (a crash mid-write), drops the page cache for the files
when possible (``posix_fadvise(DONTNEED)``; pass ``--warm`` to keep it), and times
``UnifiedLog(...)`` with no recovery-point checkpoint -- the worst case, where
``LogLoader`` re-validates every batch (header walk + CRC-32C) and rebuilds both indexes
-- and then a load of the same log after a clean shutdown.

It prints the median recovery time and, per byte net of the clean load, the figure
``simkafka calibrate`` writes as ``broker.recovery_byte_cpu`` (which it measures with
``--warm --size 64MiB``, this same code: ``simkafka.validate.calibration.measure``).

    python benchmarks/bench_recovery.py [--size 1GiB] [--batch 1MiB] [--runs 5] [--dir PATH] [--warm]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile

from simkafka.scenario.costs import default_costs
from simkafka.units import parse_bytes
from simkafka.validate.calibration import format_cost
from simkafka.validate.calibration.measure import Effort, recovery_cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1GiB", help="log size, e.g. 1GiB, 256MiB")
    parser.add_argument("--batch", default="1MiB", help="record payload per batch")
    parser.add_argument("--runs", type=int, default=5, help="timed recoveries (median)")
    parser.add_argument("--dir", default=None, help="where to write (default: temp dir)")
    parser.add_argument("--warm", action="store_true", help="keep the page cache warm")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    effort = dataclasses.replace(Effort(), recoveries=args.runs)
    figures = recovery_cost(
        args.dir or tempfile.gettempdir(),
        effort,
        batch_bytes=parse_bytes(args.batch),
        log_bytes=parse_bytes(args.size),
        cold=not args.warm,
    )
    seconds = statistics.median(figures.recovery)
    size = statistics.median(figures.recovered_bytes)
    per_byte = figures.per_byte
    print(
        f"recovery of {size / 1e6:.0f} MB ({figures.batch_bytes} B batches) with a torn tail "
        f"({'warm' if args.warm else 'cold'} cache), median of {len(per_byte)}: {seconds:.3f} s "
        f"= {size / seconds / 1e6:.0f} MB/s; loading it after a clean shutdown: "
        f"{format_cost(statistics.median(figures.clean_load))}"
    )
    print(
        f"per byte, net of the clean load: {format_cost(figures.median_per_byte)} "
        f"(runs {format_cost(min(per_byte))} to {format_cost(max(per_byte))}); "
        f"the shipped profile's broker.recovery_byte_cpu: "
        f"{format_cost(default_costs().broker.recovery_byte_cpu)} (warm, 64 MiB, 1 MiB batches)"
    )


if __name__ == "__main__":
    main()
