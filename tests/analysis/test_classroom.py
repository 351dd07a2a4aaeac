"""A case study cut down to classroom size keeps its shape at a fraction of the load."""

from pathlib import Path

import pytest

from simkafka import load_scenario
from simkafka.analysis.bounds import aws_sizing_bound, aws_sizing_brokers
from simkafka.analysis.classroom import scaled_down

ROOT = Path(__file__).parents[2]


def test_rates_and_throughput_target_scale_together_and_the_rest_stays():
    sc = load_scenario(ROOT / "scenarios" / "bank-cdc.yaml")
    small = scaled_down(sc, load=0.1, duration=3, warmup=1, plan={"min.insync.replicas": [1, 2]})
    for before, after in zip(sc.producers, small.producers, strict=True):
        assert after.rate.messages_per_second == pytest.approx(0.1 * before.rate.messages_per_second, rel=1e-3)
        assert (after.acks, after.linger, after.keys) == (before.acks, before.linger, before.keys)
    assert small.targets.produce_throughput.messages_per_second == pytest.approx(800, rel=1e-3)
    assert small.targets.p99_e2e_latency == sc.targets.p99_e2e_latency
    assert (small.run.duration, small.run.warmup, small.run.engine) == (3.0, 1.0, "stepped")
    assert not small.faults and sc.faults
    assert small.plan.max_simulations == 6 and small.plan.duration == 0.5
    assert small.plan.min_insync_replicas == (1, 2) and small.plan.headroom == sc.plan.headroom
    assert [t.partitions for t in small.topics] == [t.partitions for t in sc.topics]


def test_faults_are_kept_when_asked():
    sc = load_scenario(ROOT / "scenarios" / "bank-cdc.yaml")
    assert scaled_down(sc, load=0.5, duration=3, warmup=1, keep_faults=True).faults == sc.faults


@pytest.mark.parametrize("required", [1e6, 250e6, 1.7e9])
def test_aws_sizing_brokers_is_the_fewest_the_equation_allows(required):
    n = aws_sizing_brokers(required, 300e6, 1e9, 3, 2, 0.7)
    assert n >= 3 and aws_sizing_bound(n, 300e6, 1e9, 3, 2, 0.7) >= required
    assert n == 3 or aws_sizing_bound(n - 1, 300e6, 1e9, 3, 2, 0.7) < required
