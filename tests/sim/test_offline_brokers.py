"""``cluster.offline_brokers``: both engines run the steady state after losing brokers.

The run starts from the controller's decisions after fencing the lost brokers
(``model.topology.topology_after_failures``); a lost broker carries nothing, its replicas
neither fetch nor rejoin the ISR, and a partition with no surviving replica is offline.
"""

from __future__ import annotations

import math
import textwrap

import pytest

from simkafka.model.election import NO_LEADER
from simkafka.model.topology import initial_topology, topology_after_failures
from simkafka.scenario import parse_scenario
from simkafka.sim.engine import run_world, summarise
from simkafka.sim.probes import Probes
from simkafka.sim.stepped import SteppedWorld
from simkafka.sim.stepped_run import SteppedProbes, build_result_for, run_stepped
from simkafka.sim.world import World

ENGINES = ("events", "stepped")
OFFERED_MB = 10.0  # MB/s: far below what three brokers take
LOST = 1


def _scenario(engine: str, rf: int = 3, keys: str = "", offline: str = f"[{LOST}]"):
    text = f"""
    name: lost-broker
    cluster: {{brokers: 4, offline_brokers: {offline}}}
    topics:
      - {{name: t, partitions: 8, replication.factor: {rf}, min.insync.replicas: 1}}
    producers:
      - {{topic: t, rate: {OFFERED_MB}MB/s, message_size: 1KiB, acks: all, linger.ms: 5{keys}}}
    consumer_groups:
      - {{group.id: g, topics: [t], members: 2}}
    run: {{duration: 2s, warmup: 0.5s, sample_interval: 0.25s, engine: {engine}, seed: 7}}
    """
    return parse_scenario(textwrap.dedent(text), "lost.yaml")


def _run(scenario):
    """The run's result and the leaders the engine served from, per partition."""
    if scenario.run.engine == "events":
        world = World(scenario)
        probes = Probes(world, scenario.run.sample_interval)
        run_world(world, probes)
        leaders = {tp: world.leader_of(tp) for tp in world.partitions}
        return summarise(world, probes), leaders
    stepped = SteppedWorld(scenario)
    stepped_probes = SteppedProbes(stepped)
    run_stepped(stepped, stepped_probes)
    leaders = {
        tp: stepped.broker_ids[int(stepped.leader[p])] if stepped.has_leader[p] else NO_LEADER
        for p, tp in enumerate(stepped.tps)
    }
    return build_result_for(stepped, stepped_probes), leaders


@pytest.fixture(scope="module")
def rf3_runs():
    return {engine: _run(_scenario(engine)) for engine in ENGINES}


@pytest.fixture(scope="module")
def rf1_keyed_runs():
    keys = ", keys: {distribution: uniform, count: 1000}"
    return {engine: _run(_scenario(engine, rf=1, keys=keys)) for engine in ENGINES}


def _expected(scenario):
    return topology_after_failures(initial_topology(scenario), [LOST])


def _steady(result, scenario):
    ts = result.timeseries
    return ts[ts.index > scenario.run.warmup + 1e-9]


@pytest.mark.parametrize("engine", ENGINES)
def test_leaders_are_the_controllers_after_fencing_the_lost_broker(rf3_runs, engine):
    _, leaders = rf3_runs[engine]
    expected = _expected(_scenario(engine))
    assert leaders == {tp: reg.leader for tp, reg in expected.partitions.items()}
    # broker 1 held replicas (RF 3 on 4 brokers) and now leads none of them
    assert LOST not in leaders.values()
    assert all(leader != NO_LEADER for leader in leaders.values())


@pytest.mark.parametrize("engine", ENGINES)
def test_the_lost_broker_is_idle_and_the_offered_load_is_met(rf3_runs, engine):
    result, _ = rf3_runs[engine]
    scenario = _scenario(engine)
    ts = _steady(result, scenario)
    lost = [c for c in ts.columns if c.startswith(f"b{LOST}.") and (c.endswith("_util") or "MB_per_s" in c)]
    assert {f"b{LOST}.nic_in_util", f"b{LOST}.nic_out_util", f"b{LOST}.cpu_util"} <= set(lost)
    assert (ts[lost] == 0).all().all(), ts[lost].max().to_dict()
    # the survivors carry the traffic: every one of them receives the replicas' fetches
    for b in (0, 2, 3):
        assert ts[f"b{b}.nic_in_MB_per_s"].mean() > 0.5 * OFFERED_MB
    assert result.summary["produce_payload_MB_per_s"] == pytest.approx(OFFERED_MB * 1.024, rel=0.03)
    assert result.summary["offline_brokers"] == 1
    assert result.conservation["ok"], result.conservation
    assert result.conservation["failed"] == {}


@pytest.mark.parametrize("engine", ENGINES)
def test_partitions_with_a_replica_on_the_lost_broker_are_under_replicated(rf3_runs, engine):
    result, _ = rf3_runs[engine]
    expected = _expected(_scenario(engine))
    on_lost = sum(1 for reg in expected.partitions.values() if LOST in reg.replicas)
    assert 0 < on_lost < 8
    assert (result.timeseries["under_replicated_partitions"] == on_lost).all()
    assert (result.timeseries["offline_partitions"] == 0).all()
    assert (result.timeseries["min_isr_size"] == 2).all()


def test_the_engines_agree_on_throughput(rf3_runs, rf1_keyed_runs):
    for runs in (rf3_runs, rf1_keyed_runs):
        events, stepped = (runs[e][0].summary["produce_MB_per_s"] for e in ENGINES)
        assert stepped == pytest.approx(events, rel=0.05)


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_same_summary(rf3_runs, engine):
    again, _ = _run(_scenario(engine))
    first = rf3_runs[engine][0].summary
    assert again.summary.keys() == first.keys()
    for key, value in first.items():
        other = again.summary[key]
        same = (isinstance(value, float) and math.isnan(value) and math.isnan(other)) or value == other
        assert same, (key, value, other)


@pytest.mark.parametrize("engine", ENGINES)
def test_an_rf1_partition_on_the_lost_broker_is_offline_and_its_records_wait(rf1_keyed_runs, engine):
    result, leaders = rf1_keyed_runs[engine]
    scenario = _scenario(engine, rf=1)
    expected = _expected(scenario)
    offline = [tp for tp, reg in expected.partitions.items() if reg.leader == NO_LEADER]
    assert offline and all(expected.partitions[tp].replicas == (LOST,) for tp in offline)
    assert [tp for tp, leader in leaders.items() if leader == NO_LEADER] == offline
    assert (result.timeseries["offline_partitions"] == len(offline)).all()
    assert (result.timeseries["under_replicated_partitions"] == 0).all()
    # keyed records for an offline partition wait in the accumulator (no leader to send
    # them to), and the accounting says so: about the offline partitions' share of keys
    c = result.conservation
    assert c["ok"], c
    share = len(offline) / 8
    assert c["in_accumulator"] == pytest.approx(share * c["created"], rel=0.25)
    assert c["acknowledged"] + c["in_accumulator"] + c["in_flight"] == c["created"]
    # every appended record is acknowledged or on its way back; none reached a dead log
    assert c["acknowledged"] <= c["appended_to_leaders"] <= c["acknowledged"] + c["in_flight"]
    assert result.summary["produce_MB_per_s"] < (1 - share / 2) * OFFERED_MB * 1.1


@pytest.mark.parametrize("engine", ENGINES)
def test_unkeyed_records_avoid_an_offline_partition(engine):
    result, _ = _run(_scenario(engine, rf=1))
    c = result.conservation
    assert c["ok"], c
    # the sticky partitioner picks among partitions with a leader: nothing waits for one
    assert c["in_accumulator"] < 0.01 * c["created"]
    assert result.summary["produce_payload_MB_per_s"] == pytest.approx(OFFERED_MB * 1.024, rel=0.03)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("reset", ["earliest", "latest"])
def test_an_offline_partitions_prefill_stays_on_its_replica_unread(engine, reset):
    text = f"""
    name: lost-prefill
    cluster: {{brokers: 3, offline_brokers: [2]}}
    topics:
      - {{name: t, partitions: 6, replication.factor: 1, prefill: 6MB}}
    producers:
      - {{topic: t, rate: 1MB/s, message_size: 1KiB}}
    consumer_groups:
      - {{group.id: g, topics: [t], members: 2, auto.offset.reset: {reset}}}
    run: {{duration: 1s, warmup: 0.2s, engine: {engine}, seed: 1}}
    """
    scenario = parse_scenario(textwrap.dedent(text), "prefill.yaml")
    result, leaders = _run(scenario)
    c = result.conservation
    assert c["ok"], c
    offline = sum(1 for leader in leaders.values() if leader == NO_LEADER)
    assert offline == 2  # RF 1 over 3 brokers: a third of the partitions were on broker 2
    unread = offline * (c["prefilled"] // 6)
    # the lost broker's logs hold their prefill (and nothing new: unkeyed records avoid
    # them), below no high watermark a leader reports
    produced = c["appended_to_leaders"] - c["prefilled"]
    assert 0 < produced <= c["acknowledged"] + c["in_flight"]
    assert c["appended_to_leaders"] - c["below_high_watermark"] >= unread
    g = c["groups"]["g"]
    if reset == "earliest":
        assert g["skipped_at_start"] == 0
        assert g["consumed"] + g["lag_not_fetched"] + g["fetch_in_transit"] + g["fetched_not_polled"] \
            <= c["appended_to_leaders"] - unread
        assert g["consumed"] >= c["prefilled"] - unread
    else:
        assert g["skipped_at_start"] == c["prefilled"] - unread


def test_records_for_an_offline_partition_fail_after_delivery_timeout():
    """``RecordAccumulator.expiredBatches``: nothing sends them, so after
    ``delivery.timeout.ms`` they fail; what is younger still waits. Both engines alike."""
    keys = ", keys: {distribution: uniform, count: 1000}, delivery.timeout.ms: 500, request.timeout.ms: 400"
    failed = {}
    for engine in ENGINES:
        scenario = _scenario(engine, rf=1, keys=keys)
        result, _ = _run(scenario)
        c = result.conservation
        assert c["ok"], c
        assert set(c["failed"]) == {"DELIVERY_TIMEOUT"}
        # the offline partitions' records of the last 0.5 s wait; the rest failed
        stranded = c["failed"]["DELIVERY_TIMEOUT"] + c["in_accumulator"]
        assert c["in_accumulator"] == pytest.approx(stranded * 0.5 / 2.0, rel=0.1)
        failed[engine] = c["failed"]["DELIVERY_TIMEOUT"]
    assert failed["stepped"] == pytest.approx(failed["events"], rel=0.02)
