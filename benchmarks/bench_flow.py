"""Speed of the flow engine (issue 16): a day of the reference, an hour of a huge cluster.

Two cases, each played ``--repeat`` times from a fresh build (median and spread):

* **day**: the reference scenario (12 brokers, 144 partitions, RF 3, two groups of 12)
  for 24 simulated hours with a diurnal profile between 50 MB/s and 500 MB/s, sampled
  every minute. Target: under 10 s on one core (10,000x real time).
* **huge**: 1,000 brokers in 3 racks, 100 topics of 1,000 partitions (100,000 in all),
  RF 3, 100 producer groups of 10 on a daily cycle between 10 and 90 MB/s each (peak at
  6 h: the first hour is when the rate climbs fastest, ~5 GB/s in all at its middle), 100 groups
  of 50 members, one simulated hour, sampled every minute. Target: under a minute.

Beside each figure: rate solutions, simulated seconds per wall second, and SimPy's raw
timeouts per second measured in the same process (the flow engine runs no SimPy; the
ratio -- simulated seconds per wall second per million raw timeouts per second -- is
the speed index that divides the machine out, as ``bench_engine.py`` prints it).

    python benchmarks/bench_flow.py [--case day|huge|all] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

import yaml
from bench_engine import simpy_timeouts_per_second  # the same probe, beside this script

from simkafka import parse_scenario
from simkafka.sim.engine import simulate

REFERENCE = Path(__file__).parent / "scenarios" / "reference.yaml"


def day_scenario():
    data = yaml.safe_load(REFERENCE.read_text())
    data["producers"][0]["rate"] = "275MB/s"  # mean of 50 and 500 MB/s
    data["producers"][0]["profile"] = {"type": "diurnal", "amplitude": 225 / 275, "period": "1d"}
    data["run"] = {"engine": "flow", "duration": "24h", "warmup": "10m", "sample_interval": "1m", "seed": 1}
    data.pop("plan", None)
    return parse_scenario(yaml.safe_dump(data), source="bench_flow:day")


def huge_scenario():
    data = {
        "name": "huge",
        "cluster": {
            "brokers": 1000,
            "racks": ["az-a", "az-b", "az-c"],
            "hardware": {"nic": "25Gbps", "disk_write": "1GB/s", "disk_read": "2GB/s", "cpu_cores": 16,
                         "page_cache": "64GiB"},
        },
        "topics": [{"name": f"t{i}", "partitions": 1000, "replication.factor": 3, "min.insync.replicas": 2}
                   for i in range(100)],
        # each group's daily cycle between 10 and 90 MB/s; from t = 0 the rate climbs fastest
        "producers": [{"topic": f"t{i}", "count": 10, "message_size": "1KiB",
                       "rate": {"profile": "diurnal", "peak": "90MB/s", "trough": "10MB/s", "peak_at": "6h"}}
                      for i in range(100)],
        "consumer_groups": [{"group.id": f"g{i}", "topics": [f"t{i}"], "members": 50} for i in range(100)],
        "run": {"engine": "flow", "duration": "1h", "warmup": "1m", "sample_interval": "1m", "seed": 1},
    }
    return parse_scenario(yaml.safe_dump(data), source="bench_flow:huge")


CASES = {"day": day_scenario, "huge": huge_scenario}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", default="all", choices=["all", *CASES])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    raw = simpy_timeouts_per_second()
    print(f"SimPy raw timeouts/s on this machine now: {raw:,.0f}")
    for name, build in CASES.items():
        if args.case not in ("all", name):
            continue
        scenario = build()
        walls, result = [], None
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = simulate(scenario, memory_limit=16e9)
            walls.append(time.perf_counter() - started)
        assert result is not None
        median = statistics.median(walls)
        sim_per_wall = scenario.run.duration / median
        print(
            f"{name}: {scenario.run.duration / 3600:g} simulated h in {median:.2f} s wall (median of "
            f"{len(walls)}: {', '.join(f'{w:.2f}' for w in walls)}); {sim_per_wall:,.0f}x real time; "
            f"{result.summary['rate_solutions']} rate solutions; speed index "
            f"{sim_per_wall / (raw / 1e6):,.0f}; produce {result.summary['produce_MB_per_s']:.0f} MB/s mean; "
            f"conservation {'ok' if result.conservation['ok'] else 'BROKEN'}"
        )
    print(f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
