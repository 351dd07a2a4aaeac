"""Raw disk baseline: sequential write and cold read MB/s, and write+fsync latency.

The figures the log engine's benchmarks are divided by (issue 4). Each chunk size is
measured in the given directory (default: a fresh temp dir) with plain ``os.write`` /
``readinto`` of the same bytes; MB = 2**20 bytes, as Kafka's perf tools print it.
Nothing is left behind in the directory.

    python benchmarks/bench_disk.py [DIRECTORY] [--size 256MiB] [--fsync-samples 200]
"""

from __future__ import annotations

import argparse
import tempfile

from simkafka.log.diskbench import (
    measure_fsync_latency,
    measure_sequential_read,
    measure_sequential_write,
)
from simkafka.units import parse_bytes

CHUNKS = (1024 * 1024, 16 * 1024)


def _table(rows: list[dict[str, object]]) -> str:
    """Plain fixed-width table (no dependency, pipes cleanly into files)."""
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys}
    lines = ["  ".join(k.rjust(widths[k]) for k in keys)]
    lines += ["  ".join(str(r.get(k, "")).rjust(widths[k]) for k in keys) for r in rows]
    return "\n".join(lines)


def run(directory: str, size: int, fsync_samples: int) -> None:
    rows = []
    for chunk in CHUNKS:
        for mode in ("end", "none"):
            rows.append(measure_sequential_write(directory, size, chunk, fsync=mode).as_row())
        rows.append(measure_sequential_read(directory, chunk, total_bytes=size).as_row())
    print(f"raw disk baseline in {directory}, {size} bytes per pass")
    print(_table(rows))
    if fsync_samples > 0:
        print()
        print(_table([measure_fsync_latency(directory, fsync_samples, 4096).as_row()]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", help="directory to measure (default: a temp dir)")
    parser.add_argument("--size", default="256MiB", help="bytes per pass, e.g. 64MiB, 1GiB")
    parser.add_argument(
        "--fsync-samples", type=int, default=200, help="4 KiB write+fsync rounds (0: skip)"
    )
    args = parser.parse_args()
    try:
        size = parse_bytes(args.size)
        if args.directory is not None:
            run(args.directory, size, args.fsync_samples)
        else:
            with tempfile.TemporaryDirectory(prefix="simkafka-bench-disk-") as d:
                run(d, size, args.fsync_samples)
    except ValueError as e:  # bad size or directory: a usage error, not a traceback
        parser.error(str(e))


if __name__ == "__main__":
    main()
