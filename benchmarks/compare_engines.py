"""The stepped and flow engines against the events engine: speed and how far apart the results are.

Runs each scenario once on the events engine (every request an event: the reference), on
the stepped engine at several steps and on the flow engine, and prints one table: simulated seconds per wall
second, produce throughput and request rate, produce and end-to-end latency percentiles,
each stepped figure with its difference from the events engine in percent.

    python benchmarks/compare_engines.py [--steps 1ms,2ms,4ms]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from simkafka.scenario import load_scenario
from simkafka.sim.engine import simulate
from simkafka.units import parse_duration

ROOT = Path(__file__).resolve().parents[1]
# (scenario, simulated duration, warm-up): the reference is short -- the events engine
# plays it at ~1/20 of real time
CASES = [
    (ROOT / "scenarios" / "quickstart.yaml", 6.0, 1.0),
    (ROOT / "benchmarks" / "scenarios" / "reference.yaml", 1.5, 0.5),
]
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


def run(path: Path, duration: float, warmup: float, engine: str, step: float):
    scenario = load_scenario(path)
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
    args = parser.parse_args()
    steps = [parse_duration(s) for s in args.steps.split(",")]
    header = ["scenario", "engine", "speed x"] + [name for name, _ in COLUMNS]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for path, duration, warmup in CASES:
        reference, speed = run(path, duration, warmup, "events", 0.001)
        base = [f(reference) for _, f in COLUMNS]
        cells = [path.stem, "events", f"{speed:.3f}"] + [f"{v:,.2f}" for v in base]
        print("| " + " | ".join(cells) + " |", flush=True)
        for step in [*steps, None]:
            engine = "flow" if step is None else "stepped"
            result, speed = run(path, duration, warmup, engine, step or 0.001)
            assert result.conservation["ok"], result.conservation
            label = "flow" if step is None else f"stepped {step * 1000:g} ms"
            cells = [path.stem, label, f"{speed:.3f}"]
            for (_, f), b in zip(COLUMNS, base, strict=True):
                v = f(result)
                cells.append(f"{v:,.2f} ({100 * (v - b) / b:+.0f}%)" if b else f"{v:,.2f}")
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
