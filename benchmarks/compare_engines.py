"""The stepped and flow engines against the events engine: speed and how far apart the results are.

Runs each scenario once on the events engine (every request an event: the reference), on
the stepped engine at several steps and on the flow engine, and prints one table: simulated seconds per wall
second, produce throughput and request rate, produce and end-to-end latency percentiles,
each stepped and flow figure with its difference from the events engine in percent.
It ends with the flow engine's tolerance: per case, its largest difference from the
events engine in request rate and in the produce and end-to-end percentiles (the
figures :mod:`simkafka.sim.flow_latency` documents).

    python benchmarks/compare_engines.py [--steps 1ms,2ms,4ms] [--only quickstart]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import yaml

from simkafka.scenario import parse_scenario
from simkafka.sim.engine import simulate
from simkafka.units import parse_duration

ROOT = Path(__file__).resolve().parents[1]
# (label, scenario, producer settings changed, simulated duration, warm-up): the reference
# is short -- the events engine plays it at ~1/30 of real time. Quickstart's producers
# are keyed (a request per linger cycle carries a batch of each partition); the
# reference's are not (the sticky partitioner's full batches make the requests).
CASES = [
    ("quickstart", ROOT / "scenarios" / "quickstart.yaml", {}, 6.0, 1.0),
    ("quickstart acks=1 linger 20ms", ROOT / "scenarios" / "quickstart.yaml",
     {"acks": "1", "linger.ms": 20}, 6.0, 1.0),
    ("reference", ROOT / "benchmarks" / "scenarios" / "reference.yaml", {}, 1.5, 0.5),
]
# the figures the flow engine's tolerance is stated for
TOLERANCE = ["req/s", "produce p50 ms", "produce p99 ms", "e2e p50 ms", "e2e p99 ms"]
COLUMNS = [
    ("MB/s", lambda r: r.summary["produce_MB_per_s"]),
    ("req/s", lambda r: r.summary["produce_requests_per_s"]),
    ("produce p50 ms", lambda r: 1e3 * r.latency.loc["produce", "p50"]),
    ("produce p99 ms", lambda r: 1e3 * r.latency.loc["produce", "p99"]),
    ("e2e p50 ms", lambda r: 1e3 * r.latency.loc["end_to_end", "p50"]),
    ("e2e p99 ms", lambda r: 1e3 * r.latency.loc["end_to_end", "p99"]),
    ("broker CPU %", lambda r: 100 * _mean_cpu(r)),
]


def _mean_cpu(result) -> float:
    """Mean handler-thread utilisation over brokers and samples: per-request CPU makes it
    follow the request rates (fetches included), not only the bytes."""
    columns = [c for c in result.timeseries.columns if c.endswith(".cpu_util")]
    return float(result.timeseries[columns].to_numpy().mean())


def run(path: Path, producer: dict, duration: float, warmup: float, engine: str, step: float):
    data = yaml.safe_load(path.read_text())
    for spec in data["producers"]:
        spec.update(producer)
    scenario = parse_scenario(yaml.safe_dump(data, sort_keys=False), source=str(path))
    update = {"duration": duration, "warmup": warmup, "engine": engine, "step": step}
    scenario = scenario.with_run(**update)
    started = time.perf_counter()
    result = simulate(scenario)
    return result, duration / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", default="1ms,2ms,4ms")
    parser.add_argument("--only", default=None, help="run the cases whose label contains this")
    args = parser.parse_args()
    steps = [parse_duration(s) for s in args.steps.split(",")]
    header = ["scenario", "engine", "speed x"] + [name for name, _ in COLUMNS]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    tolerance: list[tuple[str, dict[str, float]]] = []
    for label, path, producer, duration, warmup in CASES:
        if args.only and args.only not in label:
            continue
        reference, speed = run(path, producer, duration, warmup, "events", 0.001)
        base = [f(reference) for _, f in COLUMNS]
        cells = [label, "events", f"{speed:.3f}"] + [f"{v:,.2f}" for v in base]
        print("| " + " | ".join(cells) + " |", flush=True)
        for step in [*steps, None]:
            engine = "flow" if step is None else "stepped"
            result, speed = run(path, producer, duration, warmup, engine, step or 0.001)
            assert result.conservation["ok"], result.conservation
            name = "flow" if step is None else f"stepped {step * 1000:g} ms"
            cells = [label, name, f"{speed:.3f}"]
            differences = {}
            for (column, f), b in zip(COLUMNS, base, strict=True):
                v = f(result)
                differences[column] = 100 * (v - b) / b if b else 0.0
                cells.append(f"{v:,.2f} ({differences[column]:+.0f}%)" if b else f"{v:,.2f}")
            print("| " + " | ".join(cells) + " |", flush=True)
            if step is None:
                tolerance.append((label, differences))
    print()
    print("flow engine against the events engine, difference in % per figure:")
    print("| case | " + " | ".join(TOLERANCE) + " |")
    print("|" + "---|" * (len(TOLERANCE) + 1))
    for label, differences in tolerance:
        print(f"| {label} | " + " | ".join(f"{differences[c]:+.0f}" for c in TOLERANCE) + " |")
    if tolerance:
        worst = [max(abs(d[c]) for _, d in tolerance) for c in TOLERANCE]
        print("| largest | " + " | ".join(f"{w:.0f}" for w in worst) + " |")

if __name__ == "__main__":
    main()
