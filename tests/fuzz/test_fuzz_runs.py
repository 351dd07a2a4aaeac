"""The fast slice of the run-level fuzzer (issue 9): short runs of accepted mutated scenarios
on both engines, in a bounded worker.

A run must finish (or be refused up front by the run-size estimate with a clear error),
balance its conservation accounting, and report no NaN, infinite or negative figure and
no utilisation above capacity. The long mode is ``benchmarks/fuzz_scenarios.py``.
"""

from __future__ import annotations

from fuzz.harness import RUN_FAILURES, Outcome, Worker, run_parallel
from fuzz.mutate import make_case

SEED = 20260904
RUNS = 6  # accepted cases, each run on both engines
DURATION = 0.5  # simulated seconds
RUN_TIMEOUT = 30.0


def _accepted_cases(count: int) -> list[int]:
    """The first ``count`` cases of ``SEED`` that ``simkafka check`` accepts."""
    chosen: list[int] = []
    with Worker() as worker:
        index = 0
        while len(chosen) < count and index < 40 * count:
            if worker.run("check_case", (SEED, index, False, False), 5.0).kind == "accepted":
                chosen.append(index)
            index += 1
    return chosen


def test_short_runs_of_accepted_mutations_keep_the_invariants() -> None:
    cases = _accepted_cases(RUNS)
    assert len(cases) == RUNS
    outcomes: dict[tuple[int, str], Outcome] = {}
    jobs = [
        ((i, engine), "run_case", (SEED, i, False, engine, DURATION), RUN_TIMEOUT)
        for i in cases
        for engine in ("events", "stepped")
    ]
    run_parallel(jobs, 2, lambda key, outcome: outcomes.__setitem__(key, outcome))  # type: ignore[arg-type]
    bad = {
        f"{make_case(SEED, i).mutations} on {engine}": f"{o.kind}: {o.detail}"
        for (i, engine), o in sorted(outcomes.items())
        if o.kind in RUN_FAILURES
    }
    assert not bad, bad
    # most mutations still describe a cluster that runs
    assert sum(o.kind == "ok" for o in outcomes.values()) >= len(jobs) // 2
