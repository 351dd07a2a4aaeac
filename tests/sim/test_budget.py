"""The up-front run estimate (issue 9): memory, work and wall time from the scenario alone,
and the refusal of runs too big for the machine before anything is allocated."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from simkafka.cli.main import main
from simkafka.scenario import Scenario, parse_scenario
from simkafka.sim.budget import BASE_BYTES, GIB, estimate_run, refuse_if_too_big
from simkafka.sim.engine import simulate
from simkafka.sim.guards import RunRefused
from simkafka.sim.stepped import SteppedWorld

SCENARIO = """
name: sized
cluster: {{brokers: 3, racks: [a, b, c]}}
topics:
  - {{name: events, partitions: {partitions}, replication.factor: 3, min.insync.replicas: 2}}
producers:
  - {{topic: events, count: 4, rate: 20000 msg/s, message_size: 1KiB}}
consumer_groups:
  - {{group.id: readers, topics: [events], members: 4}}
run: {{duration: {duration}, engine: {engine}, sample_interval: 0.01s}}
"""


def _scenario(partitions: int, engine: str = "stepped", duration: str = "10s") -> Scenario:
    return parse_scenario(SCENARIO.format(partitions=partitions, engine=engine, duration=duration))


def test_estimate_grows_with_partitions_replicas_and_steps() -> None:
    small, large = estimate_run(_scenario(100)), estimate_run(_scenario(10_000))
    assert large.shape["replicas"] == 100 * small.shape["replicas"] == 30_000
    per_partition = (large.memory_bytes - small.memory_bytes) / 9_900
    assert 8 * 4096 < per_partition < 8 * 8192  # the creation curve dominates
    longer = estimate_run(_scenario(100, duration="100s"))
    assert longer.work == pytest.approx(10 * small.work, rel=0.01)
    assert longer.wall_seconds > 5 * small.wall_seconds
    events = estimate_run(_scenario(100, engine="events"))
    assert events.engine == "events" and events.shape["produce_requests"] > 0


def test_stepped_memory_estimate_matches_what_the_engine_allocates() -> None:
    scenario = _scenario(4000, duration="0.02s")
    estimate = estimate_run(scenario)
    tracemalloc.start()
    try:
        world = SteppedWorld(scenario)
        for _ in range(5):
            world.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert estimate.memory_bytes - BASE_BYTES == pytest.approx(peak, rel=0.5)


@pytest.mark.parametrize("engine", ["events", "stepped"])
def test_the_most_partitions_the_loader_takes_are_refused_before_allocating(engine: str) -> None:
    # before: the stepped engine allocated ~30 GiB for a million partitions (4096
    # creation-curve steps per partition) and the events engine built for minutes, with no
    # word of warning; the loader now stops at 200,000 partitions, still ~5-8 GiB here
    scenario = _scenario(200_000, engine=engine)
    started = time.perf_counter()
    with pytest.raises(RunRefused, match=r"would need about [\d.]+ GiB of memory, more than the 2 GiB allowed"):
        simulate(scenario, memory_limit=2 * GIB)
    assert time.perf_counter() - started < 5


def test_refusal_carries_the_estimate() -> None:
    scenario = _scenario(200_000)
    with pytest.raises(RunRefused) as refused:
        refuse_if_too_big(scenario, limit=GIB)
    assert str(estimate_run(scenario)) in str(refused.value)
    assert refuse_if_too_big(_scenario(6), limit=GIB).memory_bytes < GIB


def test_check_prints_the_estimate_and_check_and_run_refuse_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a 2 GiB machine: the largest scenario the loader accepts is then too big
    monkeypatch.setattr("simkafka.sim.budget.memory_limit", lambda: 1 * GIB)
    small = tmp_path / "small.yaml"
    small.write_text(SCENARIO.format(partitions=6, engine="stepped", duration="1s"))
    huge = tmp_path / "huge.yaml"
    huge.write_text(SCENARIO.format(partitions=200_000, engine="stepped", duration="60s"))
    runner = CliRunner()
    ok = runner.invoke(main, ["check", str(small)])
    assert ok.exit_code == 0 and "estimated run: stepped engine: ~" in ok.output
    for command in (["check", str(huge)], ["run", str(huge), "-o", str(tmp_path / "out")]):
        refused = runner.invoke(main, command)
        assert refused.exit_code == 2, refused.output
        assert "Traceback" not in refused.output
        assert f"{huge}: error: cannot simulate 'sized': the run would need about" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
