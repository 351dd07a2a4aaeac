"""The fault scenarios of scenarios/ show what their headers say.

Each file is run whole (they are kept to a few simulated seconds of modest load) and its
headline outcome asserted: what is lost and what is not, which partitions lose their
leader or fall under ``min.insync.replicas`` and for how long, and ZooKeeper mode's
failover against KRaft's, from the controller's own costs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from simkafka.model.controller import KRAFT_METADATA_DELAY
from simkafka.model.controller_zk import (
    ZK_ELECTION_SECONDS_PER_PARTITION,
    ZK_METADATA_DELAY,
    ZK_RELOAD_SECONDS_PER_PARTITION,
)
from simkafka.model.election import NO_LEADER
from simkafka.model.types import TopicPartition
from simkafka.scenario import load_scenario
from simkafka.sim.engine import run_world, summarise
from simkafka.sim.probes import Probes
from simkafka.sim.world import World

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SESSION = 9.0  # broker.session.timeout.ms, KRaft's default
HEARTBEAT = 2.0  # broker.heartbeat.interval.ms


def _play(scenario):
    world = World(scenario)
    probes = Probes(world, scenario.run.sample_interval)
    run_world(world, probes)
    return world, summarise(world, probes)


@cache
def _run(name: str):
    return _play(load_scenario(SCENARIOS / f"{name}.yaml"))


def _events(world, kind: str, broker: int | None = None):
    return [e for e in world.control.timeline if e.event == kind and (broker is None or e.broker == broker)]


def _fault_time(world, kind: str, broker: int) -> float:
    return next(f.at for f in world.scenario.faults if f.type == kind and getattr(f, "broker", None) == broker)


def test_broker_crash_under_acks_all_loses_nothing_and_the_broker_rejoins_and_leads_again():
    world, result = _run("broker-crash-acks-all")
    crashed_at = _fault_time(world, "broker_crash", 1)
    restarted_at = _fault_time(world, "broker_restart", 1)
    led = {tp for tp, r in world.topology.partitions.items() if r.leader == 1}
    assert led
    # fenced one session after its last heartbeat (at most one interval before the crash)
    (fenced,) = _events(world, "fenced", 1)
    assert SESSION - HEARTBEAT <= fenced.time - crashed_at <= SESSION + KRAFT_METADATA_DELAY
    moved = {TopicPartition(e.topic, e.partition) for e in _events(world, "leader_elected") if e.time == fenced.time}
    assert moved == led
    assert result.summary["failover_s"] == pytest.approx(fenced.time - crashed_at)
    # back in every ISR after the restart, and the preferred-leader check gave its leaders back
    (rejoined,) = _events(world, "rejoined_isr", 1)
    assert rejoined.time > restarted_at
    assert all(1 in registration.isr for registration in world.partitions.values())
    assert all(r.leader == r.replicas[0] for r in world.partitions.values())
    # nothing acknowledged lost, nothing duplicated, nothing failed; never under min ISR
    assert result.summary["delivery_ok"] is True
    assert result.summary["acknowledged_lost"] == 0 and result.summary["written_twice"] == 0
    assert result.summary["failed_messages"] == 0
    assert result.summary["under_min_isr_partition_s"] == 0
    assert result.conservation["ok"] is True


def test_the_partition_history_holds_every_registration_the_brokers_applied():
    world, result = _run("broker-crash-acks-all")
    history = result.partition_history
    start = history[history["reason"] == "initial"]
    assert (start["time"] == 0).all()
    assert {
        TopicPartition(r.topic, r.partition): (r.replicas, r.isr, r.leader) for r in start.itertuples()
    } == {tp: (r.replicas, r.isr, r.leader) for tp, r in world.topology.partitions.items()}
    # its last row per partition is what the brokers hold at the end; times never go back
    last = history.groupby(["topic", "partition"]).tail(1)
    assert {
        TopicPartition(r.topic, r.partition): (r.replicas, r.isr, r.leader, r.leader_epoch, r.partition_epoch)
        for r in last.itertuples()
    } == {
        tp: (r.replicas, r.isr, r.leader, r.leader_epoch, r.partition_epoch) for tp, r in world.partitions.items()
    }
    assert history["time"].is_monotonic_increasing
    # one row per change: every election and ISR change of the run
    changes = history[history["reason"] != "initial"]
    summary = result.summary
    assert len(changes) == summary["leader_elections"] + summary["isr_changes"]
    (fenced,) = _events(world, "fenced", 1)
    assert set(changes[changes["time"] == fenced.time]["reason"]) == {"fenced"}


def test_unclean_election_elects_a_stale_replica_and_loses_acknowledged_messages():
    world, result = _run("unclean-election")
    (fenced,) = _events(world, "fenced", 1)  # broker 1, the last in-sync replica
    stale = [e for e in _events(world, "leader_elected", 2) if e.time == fenced.time]
    assert len(stale) == len(world.partitions)
    for election in stale:
        tp = TopicPartition(election.topic, election.partition)
        assert world.partitions[tp].leader == 2 and world.partitions[tp].isr == (2,), tp
        # broker 2 took over with the log it had when it crashed; broker 1's was longer
        kept = int(election.detail.split("log end ")[1])
        assert world.brokers[1].logs[tp].log_end_offset > kept
    lost = result.summary["acknowledged_lost"]
    # what the producer sent in the 13 s between the followers' crash and the leader's (and
    # the few records broker 2 had not fetched yet when it died)
    rate = world.scenario.producers[0].rate.messages_per_second
    window = _fault_time(world, "broker_crash", 1) - _fault_time(world, "broker_crash", 0)
    assert 0.9 * rate * window < lost < rate * (window + 0.1)
    assert result.delivery.loc["clicks", "lost"] == lost
    assert result.summary["delivery_ok"] is False


def test_without_unclean_election_the_same_faults_lose_nothing_and_leave_the_partitions_offline():
    scenario = load_scenario(SCENARIOS / "unclean-election.yaml")
    topics = tuple(t.model_copy(update={"unclean_leader_election_enable": False}) for t in scenario.topics)
    world, result = _play(scenario.model_copy(update={"topics": topics}))
    assert all(r.leader == NO_LEADER for r in world.partitions.values())
    assert result.summary["acknowledged_lost"] == 0
    assert int(result.timeseries["offline_partitions"].iloc[-1]) == len(world.partitions)


def test_rack_outage_keeps_rf3_writable_and_refuses_rf2_writes_with_min_isr_2():
    world, result = _run("rack-outage")
    lost_rack = {b.id for b in world.scenario.cluster.brokers if b.rack == "az-c"}
    availability = result.availability
    led_by_lost = {tp for tp, r in world.topology.partitions.items() if r.leader in lost_rack}
    for tp in world.partitions:
        no_leader, under_min = availability.loc[(tp.topic, tp.partition)]
        # only the partitions the zone led were ever leaderless, until the fence moved them
        assert (no_leader > 0) == (tp in led_by_lost), tp
        if tp.topic == "payments":
            assert under_min == 0, tp  # two of three replicas stay in sync
        elif tp in led_by_lost:
            assert under_min > 0, tp  # RF 2: one replica left, below min.insync.replicas 2
    audit = next(p for p in world.producers if p.name.startswith("audit-writer"))
    assert audit.errors["NOT_ENOUGH_REPLICAS"] > 0
    # both zones' brokers came back and caught up; nothing acknowledged was lost
    assert {e.broker for e in _events(world, "rejoined_isr")} == lost_rack
    assert result.summary["acknowledged_lost"] == 0 and result.summary["written_twice"] == 0
    assert result.summary["failed_messages"] == 0


def test_rolling_restart_never_leaves_a_partition_without_a_leader():
    world, result = _run("rolling-restart")
    assert result.summary["no_leader_partition_s"] == 0
    assert int(result.timeseries["offline_partitions"].max()) == 0
    assert result.summary["under_min_isr_partition_s"] == 0
    assert result.summary["acknowledged_lost"] == 0 and result.summary["failed_messages"] == 0
    for broker in sorted(world.brokers):
        (stopped,) = _events(world, "shutdown_completed", broker)
        # its leaders moved before it stopped
        moved = [e for e in _events(world, "leader_elected") if "(controlled_shutdown)" in e.detail
                 and f"was {broker}," in e.detail]
        assert moved and all(e.time <= stopped.time for e in moved)
        # it rejoined, and got its preferred leaders back after that
        (rejoined,) = _events(world, "rejoined_isr", broker)
        back = [e for e in _events(world, "leader_elected", broker) if "(preferred)" in e.detail]
        assert back and all(e.time > rejoined.time for e in back)
    assert all(r.leader == r.replicas[0] for r in world.partitions.values())


def test_zookeeper_failover_is_the_session_the_reload_and_one_write_per_partition_and_kraft_is_faster():
    zk_world, zk = _run("failover-zookeeper")
    kraft_world, kraft = _run("failover-kraft")
    assert zk_world.scenario.cluster.controller == "zookeeper"
    assert kraft_world.scenario.cluster.controller == "kraft"
    crashed_at = _fault_time(zk_world, "broker_crash", 0)
    failover_at = next(f.at for f in zk_world.scenario.faults if f.type == "controller_failover")
    led = sum(1 for r in zk_world.topology.partitions.values() if r.leader == 0)
    partitions = len(zk_world.partitions)
    # the new controller reloads every partition, then elects the lost broker's one by one
    expected = (
        failover_at - crashed_at
        + partitions * ZK_RELOAD_SECONDS_PER_PARTITION
        + led * ZK_ELECTION_SECONDS_PER_PARTITION
        + ZK_METADATA_DELAY
    )
    assert zk.summary["failover_s"] == pytest.approx(expected, abs=0.002)
    # KRaft: one session after the last heartbeat, every election in one batch
    assert SESSION - HEARTBEAT <= kraft.summary["failover_s"] <= SESSION + KRAFT_METADATA_DELAY
    assert zk.summary["failover_s"] > 2 * kraft.summary["failover_s"]
    assert zk.summary["no_leader_partition_s"] > 2 * kraft.summary["no_leader_partition_s"]
    for result in (zk, kraft):
        assert result.summary["leader_elections"] == led
        assert result.summary["acknowledged_lost"] == 0
