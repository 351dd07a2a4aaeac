"""The flow engine: its solver, its queues and their boundaries, its conservation.

The engine-behaviour tests of ``test_engine.py`` and every scenario's conservation test
also run on it; these pin what is particular to a fluid engine: the max-min solution,
the exact times at which queues reach their boundaries, and the pipelines that keep
counts conserved across rate changes.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from simkafka.scenario import parse_scenario
from simkafka.sim.broker import DIRTY_RATIO
from simkafka.sim.engine import simulate
from simkafka.sim.flow import FlowWorld, whole_parts, within
from simkafka.sim.flow_run import FlowProbes, run_flow
from simkafka.sim.flow_share import GroupMax, progressive_fill
from simkafka.sim.fluid import max_min_share


def scenario(text: str):
    return parse_scenario(textwrap.dedent(text), source="test.yaml")


SMALL = """
name: flow-test
cluster:
  brokers: {brokers}
  hardware: {{nic: {nic}, disk_write: {disk_write}, page_cache: {page_cache}}}
topics:
  - {{name: events, partitions: 6, replication.factor: {rf}, min.insync.replicas: 1}}
producers:
  - topic: events
    count: 2
    rate: {rate}
    message_size: 1KiB
    acks: "1"
    max.block.ms: {max_block}
    {profile}
consumer_groups:
  - group.id: readers
    topics: [events]
    members: {members}
    processing_time_per_record: {per_record}
run: {{duration: {duration}, warmup: 1s, sample_interval: {interval}, engine: flow}}
"""
DEFAULTS = dict(
    brokers=3, nic="10Gbps", disk_write="1GB/s", page_cache="8GiB", rf=3, rate="10000 msg/s",
    max_block="60s", profile="", members=3, per_record="0s", duration="10s", interval="1s",
)


def small(**overrides):
    return scenario(SMALL.format(**(DEFAULTS | overrides)))


# -- the solver ----------------------------------------------------------------------------


def test_progressive_fill_gives_two_link_flows_their_max_min_fair_rates():
    # the definition: no link over capacity, and every flow short of its demand crosses
    # a full link on which no flow has more (its bottleneck)
    rng = np.random.default_rng(3)
    for _ in range(50):
        links, flows = 6, 20
        src = rng.integers(0, links, flows)
        dst = rng.integers(0, links, flows)
        demand = np.where(rng.random(flows) < 0.3, np.inf, rng.uniform(1, 50, flows))
        capacity = rng.uniform(10, 100, links)
        flow = np.concatenate([np.arange(flows), np.arange(flows)])
        resource = np.concatenate([src, dst])
        rate, full = progressive_fill(demand, np.ones(flows), flow, resource, np.ones(2 * flows), capacity)
        used = np.bincount(resource, weights=rate[flow], minlength=links)
        assert (used <= capacity * (1 + 1e-9)).all()
        for k in np.flatnonzero(rate < demand - 1e-9):
            bottlenecks = [
                link for link in {int(src[k]), int(dst[k])}
                if full[link] and rate[k] >= rate[(src == link) | (dst == link)].max() - 1e-9
            ]
            assert bottlenecks, k


def test_with_one_shared_link_the_fill_is_the_stepped_engines_share():
    demand = np.array([1.0, 4.0, np.inf, np.inf])
    src, dst = np.zeros(4, dtype=np.int64), np.arange(1, 5)
    capacity = np.array([12.0, 100, 100, 100, 100])
    flow = np.concatenate([np.arange(4), np.arange(4)])
    rate, _ = progressive_fill(demand, np.ones(4), flow, np.concatenate([src, dst]), np.ones(8), capacity)
    expected = max_min_share(np.array([1.0, 4.0, 1e12, 1e12]), src, dst, capacity)
    np.testing.assert_allclose(rate, expected)
    np.testing.assert_allclose(rate, [1.0, 11 / 3, 11 / 3, 11 / 3])


def test_progressive_fill_respects_costs_and_stops_flows_only_at_a_full_resource():
    rng = np.random.default_rng(5)
    flows, resources = 40, 8
    entries = 120
    flow = rng.integers(0, flows, entries)
    resource = rng.integers(0, resources, entries)
    cost = rng.uniform(0.1, 3.0, entries)
    demand = np.where(rng.random(flows) < 0.5, np.inf, rng.uniform(0.5, 5, flows))
    pace = rng.uniform(0.5, 2.0, flows)
    capacity = rng.uniform(5, 30, resources)
    rate, full = progressive_fill(demand, pace, flow, resource, cost, capacity)
    used = np.bincount(resource, weights=cost * rate[flow], minlength=resources)
    assert (used <= capacity * (1 + 1e-9)).all()
    np.testing.assert_allclose(used[full], capacity[full], rtol=1e-9)
    # a flow short of its demand uses a full resource
    uses = set(zip(flow.tolist(), resource.tolist(), strict=True))
    for k in np.flatnonzero(rate < demand - 1e-9):
        assert any(full[r] for f, r in uses if f == k), k


def test_group_max_is_the_largest_value_per_group():
    groups = np.array([3, 1, 3, 0, 1, 3])
    values = np.array([1.0, 5.0, 7.0, 2.0, 4.0, 6.0])
    np.testing.assert_array_equal(GroupMax(groups, 5)(values), [2.0, 5.0, 0.0, 7.0, 0.0])


def test_whole_parts_add_up_and_an_imbalance_stays_visible():
    total, parts = whole_parts(10.0, [3.4, 3.3, 3.3])
    assert total == 10 and sum(parts) == 10 and parts == [4, 3, 3]
    total, parts = whole_parts(10.0, [3.0, 3.0, 3.0])  # a message missing: not hidden
    assert sum(parts) == 9


def test_a_fluid_equal_to_its_bound_rounds_as_the_bound_and_an_excess_stays_visible():
    # 4,882,812.5 created, appended a few ulps above: one message apart if rounded alone
    created = 4882812.4999999995
    appended = 4882812.5000000005
    assert round(appended) - round(created) == 1
    assert within(appended, created, round(created)) == round(created)
    assert within(created + 2.0, created, round(created)) == round(created) + 2


def test_the_reference_conserves_every_message_over_ten_seconds():
    # the fluids' rounding once put one message more in the logs than was created
    from simkafka.scenario import load_scenario

    scenario = load_scenario("benchmarks/scenarios/reference.yaml").with_run(engine="flow", duration=10.0)
    result = simulate(scenario)
    assert result.summary["conservation_ok"] is True, result.conservation


# -- queues and their boundaries -----------------------------------------------------------


def test_a_slow_group_falls_behind_at_the_rate_its_members_cannot_process():
    s = small(members=3, per_record="1ms", rate="6000 msg/s", duration="20s")
    world = FlowWorld(s)
    probes = FlowProbes(world)
    run_flow(world, probes)
    ts = probes.frame()
    per_record = float(world.poll_seconds_per_record()[0])
    capacity = 3 / per_record  # three members, each one record per per_record seconds
    growth = ts["lag.readers"].diff().loc[5:].mean()  # one-second samples
    assert growth == pytest.approx(6000 - capacity, rel=1e-6)
    assert ts["consume_msgs_per_s.readers"].loc[5:].mean() == pytest.approx(capacity, rel=1e-6)


def test_dirty_pages_reach_the_limit_exactly_when_writes_outrun_the_disk():
    # 20 MB/s of 1 KiB records (wire ~1.03 KB) to one broker without replicas, a 5 MB/s
    # disk: the dirty pages grow at the difference until vm.dirty_ratio, then writes are
    # held to the disk's pace
    s = small(brokers=1, rf=1, rate="20MB/s", disk_write="5MB/s", page_cache="1GiB", duration="60s",
              members=1, interval="0.5s")
    world = FlowWorld(s)
    probes = FlowProbes(world)
    run_flow(world, probes)
    ts = probes.frame()
    limit = DIRTY_RATIO * 1024**3
    written_rate = ts["b0.disk_write_MB_per_s"].iloc[2] * 1e6  # before the limit: the disk's
    assert written_rate == pytest.approx(5e6, rel=1e-6)
    growth = ts["b0.dirty_MB"].diff().iloc[3] * 1e6 / 0.5
    reached = limit / growth
    before, after = ts.loc[: reached - 1, "b0.dirty_MB"], ts.loc[reached + 1 :, "b0.dirty_MB"]
    assert (before * 1e6 < limit).all()
    np.testing.assert_allclose(after * 1e6, limit, rtol=1e-9)
    # throttled: what is produced is what the disk writes back
    throttled = ts.loc[reached + 2 :]
    assert throttled["produce_MB_per_s"].mean() == pytest.approx(5.0, rel=1e-3)


def test_a_full_buffer_blocks_send_and_fails_calls_after_max_block_ms():
    # 40 MB/s offered to a 100 Mbps NIC: buffer.memory (32 MiB per producer) fills, the
    # blocked calls queue for max.block.ms (2 s), then every further call fails
    s = small(brokers=1, rf=1, nic="100Mbps", rate="40MB/s", max_block="2s", duration="30s", members=1)
    result = simulate(s)
    c = result.conservation
    assert c["ok"], c
    ts = result.timeseries
    failed = c["failed"]["MAX_BLOCK_MS_EXCEEDED"]
    produced = ts["produce_msgs_per_s"].iloc[-1]
    offered = 40e6 / 1024
    # steady state: the queue holds max.block.ms of the excess, the rest has failed
    assert c["blocked_in_send"] == pytest.approx((offered - produced) * 2.0, rel=1e-3)
    assert failed > 0 and ts["blocked_in_send"].iloc[-1] == ts["blocked_in_send"].iloc[-5]


def test_a_rate_step_moves_the_pipeline_without_losing_or_double_counting_a_message():
    profile = "profile: {type: step, steps: [{at: 4s, factor: 3.0}, {at: 8s, factor: 0.5}]}"
    s = small(profile=profile, duration="12s", interval="0.25s")
    result = simulate(s)
    assert result.conservation["ok"], result.conservation
    ts = result.timeseries
    assert (ts["produce_msgs_per_s"] >= 0).all()
    assert ts["produce_msgs_per_s"].loc[5:7.5].mean() == pytest.approx(30000, rel=1e-6)
    assert ts["produce_msgs_per_s"].loc[9:].mean() == pytest.approx(5000, rel=1e-6)
    assert ts["consume_msgs_per_s.readers"].loc[9:].mean() == pytest.approx(5000, rel=1e-6)


def test_a_diurnal_day_follows_its_profile_in_seconds_of_wall_time():
    profile = "profile: {type: diurnal, amplitude: 0.8, period: 1d, peak_at: 12h}"
    s = small(profile=profile, duration="1d", interval="10m")
    result = simulate(s)
    ts = result.timeseries
    assert result.conservation["ok"]
    peak = ts["produce_msgs_per_s"].idxmax()
    assert abs(peak - 12 * 3600) <= 3600
    assert ts["produce_msgs_per_s"].max() == pytest.approx(10000 * 1.8, rel=0.02)
    assert ts["produce_msgs_per_s"].min() == pytest.approx(10000 * 0.2, rel=0.05)
    assert result.summary["rate_solutions"] < 5000  # a few hundred changes, not 86 million steps


def test_same_scenario_same_result():
    a, b = simulate(small()), simulate(small())
    assert a.timeseries.equals(b.timeseries)
    assert a.summary == b.summary


def test_the_world_says_what_it_is():
    world = FlowWorld(small())
    assert repr(world).startswith("FlowWorld('flow-test', t=0.000s, brokers=3, partitions=6")


def test_a_day_written_as_peak_and_trough_peaks_and_bottoms_out_there():
    s = small(rate="{profile: diurnal, peak: 20000 msg/s, trough: 2000 msg/s, peak_at: 6h}",
              duration="1d", interval="5m")
    ts = simulate(s).timeseries["produce_msgs_per_s"]
    assert ts.max() == pytest.approx(20000, rel=0.01)
    assert ts.min() == pytest.approx(2000, rel=0.02)
    assert abs(ts.idxmax() - 6 * 3600) <= 600


def test_retention_holds_each_replica_near_its_retention_times_its_rate():
    # 1 MB/s into each of 6 partitions, RF 3 on 3 brokers: each broker holds 6 replicas;
    # retention.ms 1h, 64 MiB segments, checks every 5 minutes: once the first hour has
    # passed, a replica holds its last hour, plus at most its active segment and what
    # came in since the last check
    text = SMALL.format(**(DEFAULTS | dict(rate="6MB/s", duration="4h", interval="1m")))
    text = text.replace("min.insync.replicas: 1}", "min.insync.replicas: 1, retention.ms: 1h, segment.bytes: 64MiB}")
    result = simulate(scenario(text))
    ts = result.timeseries
    per_replica = 6e6 / 6 * (1 + 61 / 1024) / 1.0  # payload plus the record and batch overhead, roughly
    used = ts["b0.disk_used_GB"] * 1e9 / 6
    late = used.loc[2 * 3600 :]
    assert late.min() >= per_replica * 3600 * 0.95
    assert late.max() <= per_replica * (3600 + 300) + 64 * 2**20 * 1.05
    # and it stopped growing: retention deletes what is appended
    assert late.iloc[-1] < used.loc[3600 * 1.5] * 1.2


def test_a_trickle_over_thousands_of_partitions_still_has_its_latency_recorded():
    # 20 msg/s over 2,000 partitions: a hundredth of a record per partition a second --
    # every flow takes its turn, not all of them 100 s from now
    from simkafka.scenario import load_scenario

    scenario = load_scenario("scenarios/failover-kraft.yaml").with_run(engine="flow", duration=2.0)
    result = simulate(scenario)
    p50, p99 = result.summary["p50_produce_latency_s"], result.summary["p99_produce_latency_s"]
    linger = scenario.producers[0].linger
    assert 0.0 < p50 <= p99 <= linger + 0.01
    assert result.summary["conservation_ok"] is True
