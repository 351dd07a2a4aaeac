"""The scenario fuzzer's long mode (issue 9): mutated scenarios through ``check``, then
short runs of the accepted ones on both engines.

    python benchmarks/fuzz_scenarios.py [--cases 10000] [--runs 200] [--seed 1]
        [--workers 2] [--check-timeout 10] [--run-timeout 60] [--duration 2]
        [--failures fuzz-failures/]

Prints progress lines while it runs and a table of counts per class at the end; every
failing input is written to ``--failures`` (``<level>-<class>/<case>.yaml`` with a
``.txt`` beside it saying which seed file, which mutations and what happened), so that
``simkafka check FILE`` or ``simkafka run FILE`` reproduces it. The mutations and the
classes are in ``tests/fuzz/mutate.py`` and ``tests/fuzz/harness.py``; the CI slice of
the same fuzzer is ``tests/fuzz/``.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz.harness import (  # noqa: E402
    INPUT_CLASSES,
    INPUT_FAILURES,
    RUN_CLASSES,
    RUN_FAILURES,
    Outcome,
    run_parallel,
)
from fuzz.mutate import Case, make_case  # noqa: E402

ENGINES = ("events", "stepped")


class Progress:
    """A plain-text progress line every ``every`` seconds (works in pipes and CI logs)."""

    def __init__(self, label: str, total: int, every: float = 10.0) -> None:
        self.label, self.total, self.every = label, total, every
        self.done = 0
        self.start = self.last = time.monotonic()

    def tick(self, counts: collections.Counter) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.last >= self.every or self.done == self.total:
            self.last = now
            elapsed = now - self.start
            eta = elapsed / self.done * (self.total - self.done)
            shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            print(
                f"[{self.label}] {self.done}/{self.total} in {elapsed:.0f}s, ETA {eta:.0f}s: {shown}",
                file=sys.stderr,
                flush=True,
            )


def save_failure(directory: Path, level: str, case: Case, outcome: Outcome, suffix: str = "") -> None:
    folder = directory / f"{level}-{outcome.kind}"
    folder.mkdir(parents=True, exist_ok=True)
    stem = case.name + suffix
    (folder / f"{stem}.yaml").write_bytes(case.data)
    (folder / f"{stem}.txt").write_text(
        f"seed file: {case.base}\nmutations:\n"
        + "".join(f"  - {m}\n" for m in case.mutations)
        + f"outcome: {outcome.kind}\n{outcome.detail}\n",
        encoding="utf-8",
    )


def table(title: str, classes: tuple[str, ...], counts: dict[str, collections.Counter]) -> str:
    columns = list(counts)
    width = max(len(c) for c in classes) + 2
    lines = [title, " " * width + "".join(f"{c:>12}" for c in columns)]
    for kind in classes:
        lines.append(f"{kind:<{width}}" + "".join(f"{counts[c][kind]:>12}" for c in columns))
    lines.append(f"{'total':<{width}}" + "".join(f"{sum(counts[c].values()):>12}" for c in columns))
    return "\n".join(lines)


def signatures(outcomes: dict[str, collections.Counter], failures: tuple[str, ...]) -> str:
    """Failures grouped by signature, numbers folded (``at byte 448`` -> ``at byte N``)."""
    lines = []
    for label, counter in outcomes.items():
        folded: collections.Counter = collections.Counter()
        for (kind, signature), n in counter.items():
            folded[(kind, re.sub(r"\d+", "N", signature))] += n
        for (kind, signature), n in folded.most_common():
            if kind in failures:
                lines.append(f"  {n:5d}  {label:<8} {kind:<16} {signature}")
    return "\n".join(lines) if lines else "  none"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=200, help="accepted cases run on each engine")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--check-timeout", type=float, default=10.0)
    parser.add_argument("--run-timeout", type=float, default=60.0)
    parser.add_argument("--duration", type=float, default=2.0, help="simulated seconds per run")
    parser.add_argument("--failures", type=Path, default=Path("fuzz-failures"))
    args = parser.parse_args()

    def case(index: int) -> Case:
        return make_case(args.seed, index, rare=True)

    input_counts: dict[str, collections.Counter] = {
        "check": collections.Counter(),
        "--resolved": collections.Counter(),
    }
    input_signatures: dict[str, collections.Counter] = {"check": collections.Counter()}
    accepted: list[int] = []
    progress = Progress("check", args.cases)
    all_inputs: collections.Counter = collections.Counter()

    def input_done(key: object, outcome: Outcome) -> None:
        index, resolved = key  # type: ignore[misc]
        label = "--resolved" if resolved else "check"
        input_counts[label][outcome.kind] += 1
        input_signatures["check"][(outcome.kind, f"{label}: {outcome.signature}")] += 1
        if outcome.kind == "accepted" and not resolved:
            accepted.append(index)
        if outcome.kind in INPUT_FAILURES:
            save_failure(args.failures, "check", case(index), outcome, "-resolved" if resolved else "")
        all_inputs[outcome.kind] += 1
        progress.tick(all_inputs)

    # every case through `check`; one in four also through `check --resolved`
    jobs = [
        ((i, resolved), "check_case", (args.seed, i, True, resolved), args.check_timeout)
        for i in range(args.cases)
        for resolved in ((False, True) if i % 4 == 0 else (False,))
    ]
    progress.total = len(jobs)
    started = time.monotonic()
    run_parallel(jobs, args.workers, input_done)
    input_seconds = time.monotonic() - started

    chosen = sorted(accepted)[: args.runs]
    run_counts = {engine: collections.Counter() for engine in ENGINES}
    run_signatures = {engine: collections.Counter() for engine in ENGINES}
    run_progress = Progress("run", len(chosen) * len(ENGINES))
    all_runs: collections.Counter = collections.Counter()

    def run_done(key: object, outcome: Outcome) -> None:
        index, engine = key  # type: ignore[misc]
        run_counts[engine][outcome.kind] += 1
        run_signatures[engine][(outcome.kind, outcome.signature)] += 1
        if outcome.kind in RUN_FAILURES:
            save_failure(args.failures, f"run-{engine}", case(index), outcome)
        all_runs[outcome.kind] += 1
        run_progress.tick(all_runs)

    run_jobs = [
        ((i, engine), "run_case", (args.seed, i, True, engine, args.duration), args.run_timeout)
        for i in chosen
        for engine in ENGINES
    ]
    started = time.monotonic()
    run_parallel(run_jobs, args.workers, run_done)
    run_seconds = time.monotonic() - started

    print(f"\nseed {args.seed}: {args.cases} cases, {input_seconds:.0f}s; "
          f"{len(chosen)} accepted cases run for {args.duration:g}s on both engines, {run_seconds:.0f}s")
    print(table("input level (simkafka check)", INPUT_CLASSES, input_counts))
    print(table(f"\nrun level ({args.duration:g} simulated s)", RUN_CLASSES, run_counts))
    print("\ninput failures by signature:")
    print(signatures(input_signatures, INPUT_FAILURES))
    print("\nrun failures by signature:")
    print(signatures(run_signatures, RUN_FAILURES))
    print(f"\nfailing inputs: {args.failures}/")


if __name__ == "__main__":
    main()
