"""The growth test behind "not sustainable": on synthetic queues of known shape, then end
to end in both engines."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from simkafka.scenario import load_scenario, parse_scenario
from simkafka.sim.engine import simulate
from simkafka.sim.framing import goodput
from simkafka.sim.sustainability import can_judge, growing_queues, growth_rate

TIMES = np.arange(2.0, 20.0, 0.5)  # 36 samples after a 2 s warm-up


def noise(scale: float, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, scale, TIMES.size)


def test_a_flat_queue_does_not_grow():
    assert growth_rate(TIMES, np.full(TIMES.size, 500.0)) is None
    assert growth_rate(TIMES, np.zeros(TIMES.size)) is None


@pytest.mark.parametrize("seed", range(20))
def test_a_noisy_flat_queue_does_not_grow(seed):
    assert growth_rate(TIMES, 1000 + noise(100, seed)) is None
    # a queue that is mostly empty: a few messages now and then
    small = np.maximum(0.0, np.round(noise(2.0, seed)))
    assert growth_rate(TIMES, small) is None


@pytest.mark.parametrize("period", [0.75, 1.5, 3.0, 5.0, 6.0])
def test_a_saw_tooth_does_not_grow(period):
    # the accumulator: fills for a period, is drained, fills again
    tooth = 4e6 * ((TIMES % period) / period)
    assert growth_rate(TIMES, tooth) is None


@pytest.mark.parametrize("start", [0.0, 5e6])
def test_linear_growth_is_found_with_its_rate(start):
    rate = 12e6
    assert growth_rate(TIMES, start + rate * (TIMES - TIMES[0])) == pytest.approx(rate)


@pytest.mark.parametrize("seed", range(10))
def test_noisy_linear_growth_is_found(seed):
    values = 2000 * (TIMES - TIMES[0]) + noise(3000, seed)
    assert growth_rate(TIMES, values) == pytest.approx(2000, rel=0.15)


def test_growth_on_a_saw_tooth_is_found():
    values = 1e6 * (TIMES - TIMES[0]) + 4e6 * ((TIMES % 1.5) / 1.5)
    assert growth_rate(TIMES, values) == pytest.approx(1e6, rel=0.1)


@pytest.mark.parametrize("until", [0.25, 0.5])
def test_growth_then_plateau_is_sustainable(until):
    # dirty pages filling up to vm.dirty_ratio, then held there by throttling
    end = TIMES[0] + until * (TIMES[-1] - TIMES[0])
    values = 5e6 * (np.minimum(TIMES, end) - TIMES[0])
    assert growth_rate(TIMES, values) is None


def test_a_draining_queue_does_not_grow():
    assert growth_rate(TIMES, 1e6 * (TIMES[-1] - TIMES)) is None


def test_growth_below_the_floor_is_ignored():
    values = 3.0 * (TIMES - TIMES[0])
    assert growth_rate(TIMES, values) == pytest.approx(3.0)
    assert growth_rate(TIMES, values, min_rate=10.0) is None


def test_too_few_samples_cannot_be_judged():
    assert not can_judge(TIMES[:2])
    assert growth_rate(TIMES[:2], [0.0, 1e6]) is None
    assert can_judge(TIMES[:3])
    assert growth_rate(TIMES[:3], [0.0, 1e6, 2e6]) == pytest.approx(2e6)


def test_nan_samples_are_left_out():
    values = 1e6 * (TIMES - TIMES[0])
    values[5] = np.nan
    assert growth_rate(TIMES, values) == pytest.approx(1e6)


def test_growing_queues_names_only_the_growing_ones_with_their_floors():
    queues = {
        "flat": np.full(TIMES.size, 10.0),
        "grows": 100.0 * (TIMES - TIMES[0]),
        "creeps": 1.0 * (TIMES - TIMES[0]),
    }
    found = growing_queues(TIMES, queues, {"creeps": 5.0})
    assert list(found) == ["grows"]
    assert found["grows"] == pytest.approx(100.0)


# -- end to end: both engines flag a run whose followers fall behind ---------------------

FOLLOWERS = """
name: followers
cluster:
  brokers: 3
  hardware: {{nic: 400Mbps, disk_write: 1GB/s, page_cache: 8GiB}}
topics:
  - {{name: events, partitions: 6, replication.factor: 3, min.insync.replicas: 1}}
producers:
  - name: writers
    topic: events
    count: 2
    rate: {rate}
    message_size: 10KiB
    acks: "1"
    linger.ms: 5
    batch.size: 256KiB
run: {{duration: 8s, warmup: 2s, sample_interval: 0.5s, seed: 3, engine: {engine}}}
"""

ENGINES = pytest.mark.parametrize("engine", ["events", "stepped"])


def followers_run(engine: str, rate: str):
    text = textwrap.dedent(FOLLOWERS.format(engine=engine, rate=rate))
    return simulate(parse_scenario(text, "followers.yaml"))


@ENGINES
def test_followers_falling_behind_make_an_acks_1_run_unsustainable(engine):
    # 60 MB/s into RF 3 on 50 MB/s NICs (47 MB/s of payload after TCP/IP and Ethernet
    # framing): each broker takes 20 MB/s of produce and would take 40 MB/s of replica
    # fetches; fair sharing leaves the fetches 27, so the followers fall 13 MB/s behind
    # per broker. acks=1 producers are acknowledged at the full 60 MB/s, and 8 s is far
    # below replica.lag.time.max.ms (30 s): no ISR shrinks.
    behind = 3 * (40 - (50 * goodput(1500) - 20))
    r = followers_run(engine, "60MB/s")
    s = r.summary
    assert s["produce_payload_MB_per_s"] == pytest.approx(60 * 1.024, rel=0.05)
    assert s["max_under_replicated_partitions"] == 0
    assert s["sustainable"] is False
    assert s["growing_queues"]["replication_lag_MB"] == pytest.approx(behind, rel=0.15)
    assert s["replication_lag_growth_MB_per_s"] == pytest.approx(behind, rel=0.15)
    assert re.fullmatch(r"NOT SUSTAINABLE: replication lag grows \d+(\.\d)? MB/s", s["sustainability"])
    assert "NOT SUSTAINABLE: replication lag grows" in repr(r)
    table = r.summary_table()["value"]
    assert table["sustainability"] == s["sustainability"]


@ENGINES
def test_followers_that_keep_up_are_sustainable(engine):
    r = followers_run(engine, "30MB/s")
    assert r.summary["sustainable"] is True, r.summary["sustainability"]
    assert r.summary["growing_queues"] == {}
    assert "NOT SUSTAINABLE" not in repr(r)


@ENGINES
def test_the_quickstart_is_sustainable(engine):
    scenario = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "quickstart.yaml")
    run = scenario.run.model_copy(
        update={"duration": 8.0, "warmup": 2.0, "sample_interval": 0.5, "engine": engine}
    )
    r = simulate(scenario.model_copy(update={"run": run}))
    assert r.summary["sustainable"] is True, r.summary["sustainability"]


def test_a_window_too_short_to_judge_says_so():
    text = textwrap.dedent(FOLLOWERS.format(engine="stepped", rate="10MB/s")).replace(
        "duration: 8s, warmup: 2s", "duration: 2s, warmup: 1s"
    )
    r = simulate(parse_scenario(text, "short.yaml"))
    assert r.summary["sustainable"] is None
    assert r.summary["sustainability"].startswith("unknown")
