"""Speed of the simulation engines on the reference scenario (issue 3).

Reports simulated seconds per wall second, events (SimPy events for the events engine,
steps for the stepped engine) per wall second and peak memory (tracemalloc is off by
default: it slows the run; ``--memory`` turns it on, and the process's max RSS is always
printed). For the events engine it also prints SimPy events per simulated second and per
ProduceRequest: the lever of its speed. ``--profile`` prints where the time goes (by own
time and by cumulative time).

``--repeat N`` plays the scenario N times (each from a fresh build) and reports the
median and the spread. SimPy's raw timeout rate is measured in the same process, and the
**speed index** -- simulated seconds per wall second for every million raw SimPy timeouts
per wall second -- divides the machine out, so figures from different machines compare.

    python benchmarks/bench_engine.py [SCENARIO] [--duration 2s] [--engine stepped --step 4ms]
                                      [--repeat 3] [--profile] [--memory]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import statistics
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


def _play_once(scenario, profile: bool, *, quiet: bool) -> dict:
    """Build and play ``scenario`` once: wall seconds to build and to play, the events
    (or steps) it took, its result, and the profiler of the run when ``profile``."""
    started = time.perf_counter()
    if scenario.run.engine == "stepped":
        from simkafka.sim.stepped import SteppedWorld
        from simkafka.sim.stepped_run import SteppedProbes, build_result_for, run_stepped

        world = SteppedWorld(scenario)
        probes = SteppedProbes(world)
        play = lambda progress: run_stepped(world, probes, progress, slices=20)  # noqa: E731
        finish = lambda: build_result_for(world, probes)  # noqa: E731
        kernels = "numba kernels" if world.compiled else "numpy"
        shape = (
            f"{world.B} brokers, {world.P} partitions, stepped engine "
            f"({world.dt * 1000:g} ms steps, {kernels})"
        )
    else:
        world = World(scenario)
        probes = Probes(world, scenario.run.sample_interval)
        play = lambda progress: run_world(world, probes, progress, steps=20)  # noqa: E731
        finish = lambda: summarise(world, probes)  # noqa: E731
        shape = f"{len(world.brokers)} brokers, {len(world.partitions)} partitions, events engine"
    built = time.perf_counter()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    play(
        lambda now, _: quiet or print(
            f"\r  {now:6.2f}s simulated in {time.perf_counter() - built:7.1f}s wall",
            end="",
            flush=True,
        )
    )
    if not quiet:
        print()
    if profiler:
        profiler.disable()
    ran = time.perf_counter() - built
    # SimPy's event id counter: events scheduled so far; the stepped engine counts steps
    count = world.steps if scenario.run.engine == "stepped" else next(world.env._eid)
    # ProduceRequests sent over the whole run (warm-up included, as the event count is)
    requests = None if scenario.run.engine == "stepped" else sum(p.requests for p in world.producers)
    return {"build": built - started, "ran": ran, "count": count, "result": finish(), "shape": shape,
            "profiler": profiler, "requests": requests}


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
    parser.add_argument("--repeat", type=int, default=1, help="runs to take the median of")
    parser.add_argument("--profile", action="store_true", help="profile the first run")
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
    runs = [_play_once(scenario, args.profile and k == 0, quiet=k > 0) for k in range(args.repeat)]
    ran = statistics.median(r["ran"] for r in runs)
    first = runs[0]
    result = first["result"]
    latency = result.latency * 1e3
    print(f"scenario          {scenario.name}: {first['shape']}")
    print(f"build             {statistics.median(r['build'] for r in runs):.2f} s (median)")
    walls = sorted(r["ran"] for r in runs)
    spread = f" (median of {len(runs)}: {', '.join(f'{w:.1f}' for w in walls)} s)" if len(runs) > 1 else ""
    print(f"simulated         {scenario.run.duration:g} s in {ran:.1f} s wall{spread}")
    speed = scenario.run.duration / ran
    print(f"speed             {speed:.3f} simulated s per wall s")
    counted = first["count"]
    unit = "steps" if scenario.run.engine == "stepped" else "events"
    print(f"{unit:<17} {counted:,} ({counted / ran:,.0f} per wall s)")
    if scenario.run.engine != "stepped":
        # the lever of the events engine's speed: SimPy events per unit of simulated work
        print(
            f"events per        {counted / scenario.run.duration:,.0f} per simulated s, "
            f"{counted / max(first['requests'], 1):.1f} per produce request "
            f"({first['requests']:,} requests)"
        )
    print(
        f"produce           {result.summary['produce_MB_per_s']:.1f} MB/s, "
        f"{result.summary['produce_requests_per_s']:,.0f} requests/s"
    )
    print(
        f"latency p50/p99   produce {latency.loc['produce', 'p50']:.2f}/{latency.loc['produce', 'p99']:.2f} ms, "
        f"end to end {latency.loc['end_to_end', 'p50']:.2f}/{latency.loc['end_to_end', 'p99']:.2f} ms"
    )
    print(f"conservation ok   {result.conservation['ok']}")
    if len({repr(r["result"].summary) for r in runs}) > 1:
        print("WARNING           the repeats' summaries differ: the run is not deterministic")
    raw = simpy_timeouts_per_second()
    print(f"SimPy raw         {raw:,.0f} timeouts per wall s (this process, after the run)")
    print(f"speed index       {speed / (raw / 1e6):.4f} simulated s per wall s per million raw timeouts/s")
    if scenario.run.engine != "stepped":
        print(f"events / raw      {counted / ran / raw:.3f}")
    print(f"max RSS           {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if args.memory:
        _, peak = tracemalloc.get_traced_memory()
        print(f"peak traced       {peak / 2**20:.0f} MiB")
    if first["profiler"]:
        stats = pstats.Stats(first["profiler"])
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
