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
    assert small.run.sample_interval == 0.1
    assert not small.faults and sc.faults
    assert small.plan.max_simulations == len(sc.topics) + 2 and small.plan.duration == 0.5
    assert small.plan.min_insync_replicas == (1, 2) and small.plan.headroom == sc.plan.headroom
    assert [t.partitions for t in small.topics] == [t.partitions for t in sc.topics]


def test_key_counts_are_capped_and_the_distribution_kept():
    sc = load_scenario(ROOT / "scenarios" / "social-media-feed.yaml")
    small = scaled_down(sc, load=0.1, duration=2, warmup=0.5, max_keys=100_000)
    assert [p.keys.count for p in small.producers] == [min(p.keys.count, 100_000) for p in sc.producers]
    assert [p.keys.distribution for p in small.producers] == [p.keys.distribution for p in sc.producers]


def test_faults_are_kept_or_replaced_when_asked():
    sc = load_scenario(ROOT / "scenarios" / "bank-cdc.yaml")
    assert scaled_down(sc, load=0.5, duration=3, warmup=1, keep_faults=True).faults == sc.faults
    moved = scaled_down(sc, load=0.5, duration=3, warmup=1, faults=[
        {"type": "broker_shutdown", "at": "1s", "broker": 4}, {"type": "broker_restart", "at": "2s", "broker": 4}])
    assert [(f.type, f.at) for f in moved.faults] == [("broker_shutdown", 1.0), ("broker_restart", 2.0)]


@pytest.mark.parametrize("required", [1e6, 250e6, 1.7e9])
def test_aws_sizing_brokers_is_the_fewest_the_equation_allows(required):
    n = aws_sizing_brokers(required, 300e6, 1e9, 3, 2, 0.7)
    assert n >= 3 and aws_sizing_bound(n, 300e6, 1e9, 3, 2, 0.7) >= required
    assert n == 3 or aws_sizing_bound(n - 1, 300e6, 1e9, 3, 2, 0.7) < required


def test_a_plan_without_what_ifs_answers_the_same_with_fewer_runs(tmp_path):
    from simkafka.analysis.planner import plan

    small = scaled_down(load_scenario(ROOT / "scenarios" / "quickstart.yaml"), load=0.5, duration=1, warmup=0.25,
                        plan={"brokers": [3], "instance_types": ["m7g.xlarge"], "survive": "none"})
    full = plan(small, cache=tmp_path / "cache")
    quick = plan(small, cache=tmp_path / "cache", what_ifs=False)
    assert full.recommendation is not None and full.what_ifs
    assert quick.recommendation.key == full.recommendation.key and quick.what_ifs == ()
    assert quick.simulations == full.simulations - len(full.what_ifs)
