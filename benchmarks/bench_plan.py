"""Wall time of ``simkafka plan`` over the reference workload's 1,056 candidates
(``benchmarks/scenarios/reference.yaml``: 16 AWS instance types x broker counts 3..24 x
three partition counts, RF 3, ``survive: broker``), on a 2-worker process pool, the
median of ``--repeats`` plans, no cache; with the stages' own times (enumeration and
bounds in this process, then simulations) and SimPy's raw timeouts per second measured
in the same process, so figures from other machines compare.

    python benchmarks/bench_plan.py [--repeats 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from simkafka import load_scenario
from simkafka.analysis.planner import plan

sys.path.insert(0, str(Path(__file__).parent))
from bench_engine import simpy_timeouts_per_second  # noqa: E402

REFERENCE = Path(__file__).parent / "scenarios" / "reference.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    scenario = load_scenario(REFERENCE)
    walls = []
    for repeat in range(args.repeats):
        stages: dict[str, float] = {}
        start = time.perf_counter()
        last = [start, "enumerating candidates and their bounds"]

        def progress(stage: str, done: int, total: int) -> None:
            now = time.perf_counter()
            if stage != last[1]:
                stages[last[1]] = stages.get(last[1], 0.0) + now - last[0]
                last[0], last[1] = now, stage

        result = plan(scenario, executor="pool", workers=args.workers, progress=progress)
        wall = time.perf_counter() - start
        stages[last[1]] = stages.get(last[1], 0.0) + time.perf_counter() - last[0]
        walls.append(wall)
        rec = result.recommendation
        print(f"run {repeat + 1}: {wall:.1f} s -- {len(result.candidates)} candidates, "
              f"{sum(1 for c in result.candidates if not c.bound_ok)} pruned by the bounds, "
              f"{result.simulations} simulations; recommended: {rec.key if rec else None} "
              f"(${rec.monthly_usd:,.0f}/month)" if rec else result.reason)
        for stage, seconds in stages.items():
            print(f"    {stage:<45} {seconds:6.1f} s")
    print(f"median wall time: {statistics.median(walls):.1f} s over {len(walls)} run(s), "
          f"{args.workers} pool workers")
    print(f"SimPy raw: {simpy_timeouts_per_second():,.0f} timeouts per wall s (this process)")


if __name__ == "__main__":
    main()
