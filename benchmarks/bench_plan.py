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


class StageTimer:
    """Wall seconds per planner stage, from the planner's progress callback."""

    def __init__(self, first: str) -> None:
        self.start = self.since = time.perf_counter()
        self.stage = first
        self.stages: dict[str, float] = {}

    def progress(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self._close()
            self.stage = stage

    def _close(self) -> None:
        now = time.perf_counter()
        self.stages[self.stage] = self.stages.get(self.stage, 0.0) + now - self.since
        self.since = now

    def stop(self) -> float:
        self._close()
        return time.perf_counter() - self.start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    scenario = load_scenario(REFERENCE)
    walls = []
    for repeat in range(args.repeats):
        timer = StageTimer("enumerating candidates and their bounds")
        result = plan(scenario, executor="pool", workers=args.workers, progress=timer.progress)
        wall = timer.stop()
        walls.append(wall)
        rec = result.recommendation
        outcome = (f"recommended: {rec.key} (${rec.monthly_usd:,.0f}/month)" if rec else result.reason)
        print(f"run {repeat + 1}: {wall:.1f} s -- {len(result.candidates)} candidates, "
              f"{sum(1 for c in result.candidates if not c.bound_ok)} pruned by the bounds, "
              f"{result.simulations} simulations; {outcome}")
        for stage, seconds in timer.stages.items():
            print(f"    {stage:<45} {seconds:6.1f} s")
    print(f"median wall time: {statistics.median(walls):.1f} s over {len(walls)} run(s), "
          f"{args.workers} pool workers")
    print(f"SimPy raw: {simpy_timeouts_per_second():,.0f} timeouts per wall s (this process)")


if __name__ == "__main__":
    main()
