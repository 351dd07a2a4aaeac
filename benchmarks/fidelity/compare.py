"""Predicted against published: the two Kafka measurements issue 11 allows to check with.

For each scenario in this directory the script prints the published figure, what each
engine predicts, and the one-line bottleneck formula -- the minimum over the producers'
NICs, the brokers' NICs (ingress / RF, egress / (RF - 1 + consumer groups)), the disks
(write / RF) and the consumers' NICs, in payload bytes (a NIC carries its line rate less
TCP/IP and Ethernet framing: 94 % at a 1500-byte MTU). A simulator is only worth running
where it beats that formula.

Only these two published results may be used to check the calibration (issue 11); every
other published benchmark is for judging the model, never for tuning it.

    python benchmarks/fidelity/compare.py [--engines events,stepped] [--duration 2s]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from simkafka.scenario import Scenario, load_scenario
from simkafka.sim.engine import simulate
from simkafka.sim.framing import goodput
from simkafka.units import parse_duration

HERE = Path(__file__).resolve().parent
# scenario file -> (published messages per second, where it comes from)
PUBLISHED = {
    "kreps-2014-single-producer.yaml": (
        821_557,
        "Kreps 2014, one producer thread, 6 partitions, no replication, acks=1, 100 B",
    ),
    "omb-2020-confluent.yaml": (
        618_991,
        "Confluent OMB 2020, 100 partitions, RF 3, acks=all, 4 producers, 1 KiB",
    ),
}


def formula_msgs_per_s(s: Scenario) -> float:
    """The bottleneck formula: min over NICs and disks, in messages of the payload size."""
    brokers = [s.cluster.hardware_of(b.id) for b in s.cluster.brokers]
    topic = s.topics[0]
    rf = topic.replication_factor
    groups = sum(1 for g in s.consumer_groups if topic.name in g.topics)
    payload = goodput(s.cluster.network.mtu)
    limits = {
        "producer NICs": sum(p.count for p in s.producers) * s.cluster.clients.nic * payload,
        "broker NICs in": sum(h.ingress for h in brokers) * payload / rf,
        "disks": sum(h.disk_write for h in brokers) / rf,
    }
    if rf - 1 + groups > 0:
        limits["broker NICs out"] = sum(h.egress for h in brokers) * payload / (rf - 1 + groups)
    for g in s.consumer_groups:
        limits[f"consumer NICs ({g.group_id})"] = g.members * s.cluster.clients.nic * payload
    size = s.producers[0].message_size.mean
    return min(limits.values()) / size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default="events,stepped")
    parser.add_argument("--duration", default=None, help="simulated time (default: the scenario's)")
    args = parser.parse_args()
    rows = []
    for name, (published, source) in PUBLISHED.items():
        scenario = load_scenario(HERE / name)
        if args.duration:
            d = parse_duration(args.duration)
            scenario = scenario.with_run(duration=d, warmup=min(scenario.run.warmup, d / 2))
        row = {"scenario": scenario.name, "published": published, "formula": formula_msgs_per_s(scenario)}
        for engine in args.engines.split(","):
            started = time.perf_counter()
            result = simulate(scenario.with_run(engine=engine))
            row[engine] = result.summary["produce_msgs_per_s"]
            row[f"{engine} bottleneck"] = result.summary.get("bottleneck", "-")
            row[f"{engine} sustainability"] = result.summary.get("sustainability", "-")
            row[f"{engine} wall s"] = time.perf_counter() - started
        rows.append((row, source))
    for row, source in rows:
        print(f"\n{row['scenario']}: {source}")
        print(f"  {'published':<22}{row['published']:>14,.0f} msg/s")
        print(f"  {'bottleneck formula':<22}{row['formula']:>14,.0f} msg/s  ({row['formula'] / row['published']:.2f}x published)")
        for engine in args.engines.split(","):
            value = row[engine]
            print(
                f"  {engine + ' engine':<22}{value:>14,.0f} msg/s  ({value / row['published']:.2f}x published; "
                f"{row[engine + ' wall s']:.0f} s wall)  bottleneck: {row[engine + ' bottleneck']}"
            )
            print(f"  {'':<22}{row[engine + ' sustainability']}")


if __name__ == "__main__":
    main()
