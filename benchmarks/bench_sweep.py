"""Wall time of a 200-point stepped sweep on 1 and 2 local workers and a 2-worker Dask
LocalCluster (127.0.0.1), the median of ``--repeats`` runs each; no cache, so every
point is simulated every time.

The grid: 10 broker counts x 20 producer rates of a small scenario (one topic, one
producer group, one consumer group), each point a short stepped run, so the figure is
the executors' own cost and scaling as much as the engine's.

    python benchmarks/bench_sweep.py [--repeats 3] [--duration 0.5s]
"""

from __future__ import annotations

import argparse
import statistics
import time

from simkafka.analysis import sweep
from simkafka.scenario import parse_scenario

SCENARIO = """\
name: bench-sweep
cluster:
  brokers: 3
  racks: [a, b, c]
topics:
  - name: events
    partitions: 12
    replication.factor: 1
producers:
  - name: writers
    topic: events
    rate: 2MB/s
    message_size: 1KiB
consumer_groups:
  - group.id: readers
    topics: [events]
    members: 2
run:
  duration: {duration}
  warmup: 0.1s
  engine: stepped
  step: 1ms
  sample_interval: 0.1s
  seed: 1
"""

GRID = [
    "cluster.brokers=3..12",
    "producers.writers.rate=" + ",".join(f"{mb}MB/s" for mb in range(1, 21)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", default="0.5s")
    args = parser.parse_args()
    scenario = parse_scenario(SCENARIO.format(duration=args.duration), "bench-sweep")
    cases = [("pool, 1 worker", "pool", 1), ("pool, 2 workers", "pool", 2), ("dask LocalCluster, 2 workers", "dask", 2)]
    reference = None
    medians = {}
    for label, executor, workers in cases:
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            frame = sweep(scenario, GRID, executor=executor, workers=workers)
            times.append(time.perf_counter() - start)
        if reference is None:
            reference = frame
        # every executor must give the same results, or its speed means nothing
        assert frame.equals(reference), f"{label}: results differ from the first executor's"
        medians[label] = statistics.median(times)
        print(
            f"{label:30s} {len(frame)} points: median {medians[label]:6.2f} s "
            f"({len(frame) / medians[label]:5.1f} points/s; runs: "
            + ", ".join(f"{t:.2f}" for t in times) + ")",
            flush=True,
        )
    one = medians["pool, 1 worker"]
    for label in list(medians)[1:]:
        print(f"speed-up over 1 worker, {label}: {one / medians[label]:.2f}x")


if __name__ == "__main__":
    main()
