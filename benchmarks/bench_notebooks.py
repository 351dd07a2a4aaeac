"""How long each notebook of the course takes to run top to bottom on a fresh kernel.

The course's budget (issue 15): every notebook well under 60 s on the CI machine, since
CI executes all of them on every push. Each notebook runs ``--repeat`` times (kernel
start included); the table gives the median and the spread. SimPy's raw timeouts per
second, measured in this process, let figures from different machines be compared.

    .venv/bin/python benchmarks/bench_notebooks.py [--repeat 3] [-k case-]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import nbclient
import nbformat

sys.path.insert(0, str(Path(__file__).parent))
from bench_engine import simpy_timeouts_per_second  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def run_once(path: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    # the kernel's own log (a plain-TCP-on-127.0.0.1 notice, its shutdown) is not a figure
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                                     resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    client.execute()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("-k", default="", help="only notebooks whose name contains this")
    args = parser.parse_args()
    paths = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if args.k in p.stem]
    print(f"{'notebook':42} {'median s':>9} {'min s':>7} {'max s':>7}")
    medians = []
    for path in paths:
        times = [run_once(path) for _ in range(args.repeat)]
        medians.append(statistics.median(times))
        print(f"{path.stem:42} {medians[-1]:9.1f} {min(times):7.1f} {max(times):7.1f}", flush=True)
    print(f"{'all notebooks (sum of medians)':42} {sum(medians):9.1f}")
    print(f"SimPy raw {simpy_timeouts_per_second():,.0f} timeouts per wall s (this process)")


if __name__ == "__main__":
    main()
