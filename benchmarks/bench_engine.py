"""Speed of the simulation engines on the reference scenario (issue 3).

Reports simulated seconds per wall second, events (SimPy events for the events engine,
steps for the stepped engine) per wall second and peak memory (tracemalloc is off by
default: it slows the run; ``--memory`` turns it on, and the process's max RSS is always
printed). ``--profile`` prints where the time goes.

    python benchmarks/bench_engine.py [SCENARIO] [--duration 2s] [--engine stepped --step 4ms]
                                      [--profile] [--memory]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import time
import tracemalloc
from pathlib import Path

from simkafka.scenario import load_scenario
from simkafka.sim.engine import run_world, summarise
from simkafka.sim.probes import Probes
from simkafka.sim.world import World
from simkafka.units import parse_duration

REFERENCE = Path(__file__).parent / "scenarios" / "reference.yaml"


def simpy_timeouts_per_second(seconds: float = 1.0) -> float:
    """SimPy's raw speed on this machine, now: one process yielding bare timeouts.

    Printed beside the engine's figures so that runs on different (or differently loaded)
    machines can be compared by their ratio to it.
    """
    import simpy

    env = simpy.Environment()

    def ticker(env: simpy.Environment):
        while True:
            yield env.timeout(1)

    env.process(ticker(env))
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        env.run(until=env.now + 10_000)
        count += 10_000
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", nargs="?", default=str(REFERENCE))
    parser.add_argument(
        "--duration", default=None, help="simulated time, e.g. 2s (default: the scenario's)"
    )
    parser.add_argument("--engine", choices=["events", "stepped"], default=None)
    parser.add_argument("--step", default=None, help="stepped engine's step, e.g. 2ms")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--memory", action="store_true", help="trace Python allocations (slower)")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    if args.duration:
        duration = parse_duration(args.duration)
        scenario = scenario.with_run(duration=duration, warmup=min(scenario.run.warmup, duration / 2))
    overrides: dict = {}
    if args.engine:
        overrides["engine"] = args.engine
    if args.step:
        overrides["step"] = parse_duration(args.step)
    if overrides:
        scenario = scenario.with_run(**overrides)
    if args.memory:
        tracemalloc.start()
    started = time.perf_counter()
    if scenario.run.engine == "stepped":
        from simkafka.sim.stepped import SteppedWorld
        from simkafka.sim.stepped_run import SteppedProbes, build_result_for, run_stepped

        world = SteppedWorld(scenario)
        probes = SteppedProbes(world)
        play = lambda progress: run_stepped(world, probes, progress, slices=20)  # noqa: E731
        finish = lambda: build_result_for(world, probes)  # noqa: E731
        shape = f"{world.B} brokers, {world.P} partitions, stepped engine ({world.dt * 1000:g} ms steps)"
    else:
        world = World(scenario)
        probes = Probes(world, scenario.run.sample_interval)
        play = lambda progress: run_world(world, probes, progress, steps=20)  # noqa: E731
        finish = lambda: summarise(world, probes)  # noqa: E731
        shape = f"{len(world.brokers)} brokers, {len(world.partitions)} partitions, events engine"
    built = time.perf_counter()
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    play(
        lambda now, _: print(
            f"\r  {now:6.2f}s simulated in {time.perf_counter() - built:7.1f}s wall",
            end="",
            flush=True,
        )
    )
    print()
    if profiler:
        profiler.disable()
    ran = time.perf_counter() - built
    result = finish()
    latency = result.latency * 1e3
    print(f"scenario          {scenario.name}: {shape}")
    print(f"build             {built - started:.2f} s")
    print(f"simulated         {scenario.run.duration:g} s in {ran:.1f} s wall")
    print(f"speed             {scenario.run.duration / ran:.3f} simulated s per wall s")
    if scenario.run.engine == "stepped":
        print(f"steps             {world.steps:,} ({world.steps / ran:,.0f} per wall s)")
    else:
        events = next(world.env._eid)  # SimPy's event id counter: events scheduled so far
        print(f"events            {events:,} ({events / ran:,.0f} per wall s)")
    print(
        f"produce           {result.summary['produce_MB_per_s']:.1f} MB/s, "
        f"{result.summary['produce_requests_per_s']:,.0f} requests/s"
    )
    print(
        f"latency p50/p99   produce {latency.loc['produce', 'p50']:.2f}/{latency.loc['produce', 'p99']:.2f} ms, "
        f"end to end {latency.loc['end_to_end', 'p50']:.2f}/{latency.loc['end_to_end', 'p99']:.2f} ms"
    )
    print(f"conservation ok   {result.conservation['ok']}")
    raw = simpy_timeouts_per_second()
    print(f"SimPy raw         {raw:,.0f} timeouts per wall s (this process, after the run)")
    if scenario.run.engine != "stepped":
        print(f"events / raw      {events / ran / raw:.3f}")
    print(f"max RSS           {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if args.memory:
        _, peak = tracemalloc.get_traced_memory()
        print(f"peak traced       {peak / 2**20:.0f} MiB")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
