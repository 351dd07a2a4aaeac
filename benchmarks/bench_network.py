"""Throughput of the flow-level network: transfers and SimPy events per wall-clock second.

A cluster-shaped load: 12 brokers in 3 racks and 12 client hosts, all with 10 Gb/s NICs.
``--concurrency`` workers each loop: pick a random (src, dst) pair -- broker to broker
(replication), client to broker (produce) or broker to client (fetch) -- and send a
random 1 KiB .. 1 MiB transfer, until ``--transfers`` have completed. With 50 workers
there are ~50 concurrent flows, nearly always one connected component, so every start
and drain re-shares all of them: the worst case for the component optimisation.

    python benchmarks/bench_network.py [--transfers 100000] [--concurrency 50] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import time

import simpy

from simkafka.sim.network import Network

GBPS10 = 10e9 / 8  # bytes/s


def build(env: simpy.Environment) -> tuple[Network, list[str], list[str]]:
    net = Network(env, rack_latency=50e-6, cross_rack_latency=300e-6, client_latency=500e-6)
    brokers = [f"broker-{i}" for i in range(12)]
    clients = [f"client-{i}" for i in range(12)]
    for i, b in enumerate(brokers):
        net.add_host(b, f"rack-{i % 3}", GBPS10, GBPS10)
    for i, c in enumerate(clients):
        net.add_host(c, f"rack-{i % 3}", GBPS10, GBPS10, client=True)
    return net, brokers, clients


def run(transfers: int, concurrency: int, seed: int) -> dict[str, float]:
    env = simpy.Environment()
    net, brokers, clients = build(env)
    rng = random.Random(seed)
    left = [transfers]

    def worker():
        while left[0] > 0:
            left[0] -= 1
            kind = rng.random()
            if kind < 0.4:  # produce
                src, dst = rng.choice(clients), rng.choice(brokers)
            elif kind < 0.7:  # replica fetch
                src, dst = rng.sample(brokers, 2)
            else:  # consumer fetch
                src, dst = rng.choice(brokers), rng.choice(clients)
            yield net.transfer(src, dst, rng.randint(1024, 1 << 20))

    for _ in range(concurrency):
        env.process(worker())
    events = 0
    t0 = time.perf_counter()
    while True:
        try:
            env.step()
        except simpy.core.EmptySchedule:
            break
        events += 1
    wall = time.perf_counter() - t0
    assert net.transfers_completed == transfers
    return {
        "wall_s": wall,
        "transfers_per_s": transfers / wall,
        "events_per_s": events / wall,
        "events": events,
        "sim_time_s": env.now,
        "reshares": net.reshares,
        "mean_component_flows": net.reshared_flows / max(1, net.reshares),
        "cross_rack_GB": net.cross_rack_bytes / 1e9,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="print the cProfile top 20")
    args = parser.parse_args()
    if args.profile:
        prof = cProfile.Profile()
        result = prof.runcall(run, args.transfers, args.concurrency, args.seed)
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
    else:
        result = run(args.transfers, args.concurrency, args.seed)
    for key, value in result.items():
        print(f"{key:>22}: {value:,.3f}" if isinstance(value, float) else f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
