"""The layout after brokers are lost: Kafka's fencing, applied to the creation-time layout."""

from __future__ import annotations

import textwrap

import pytest

from simkafka.model.election import NO_LEADER, PartitionRegistration
from simkafka.model.topology import (
    Topology,
    initial_topology,
    scenario_topology,
    topology_after_failures,
)
from simkafka.model.types import BrokerInfo, TopicPartition


def _topology(assignment: dict[str, list[list[int]]], brokers: int) -> Topology:
    partitions = {
        TopicPartition(topic, p): PartitionRegistration.created(replicas)
        for topic, rows in assignment.items()
        for p, replicas in enumerate(rows)
    }
    return Topology(tuple(BrokerInfo(b, None) for b in range(brokers)), partitions)


def test_rf3_on_3_brokers_broker_0_lost_each_partition_led_by_its_first_survivor():
    rows = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1]]
    after = topology_after_failures(_topology({"t": rows}, 3), [0])
    got = [after.partitions[TopicPartition("t", p)] for p in range(4)]
    assert [r.leader for r in got] == [1, 1, 2, 2]
    assert [r.isr for r in got] == [(1, 2), (1, 2), (2, 1), (2, 1)]
    # the assignment is untouched (no reassignment) and only a leader change bumps the epoch
    assert [r.replicas for r in got] == [tuple(r) for r in rows]
    assert [r.leader_epoch for r in got] == [1, 0, 0, 1]
    assert all(r.partition_epoch == 1 for r in got)


def test_rf1_partition_on_the_lost_broker_goes_offline_and_keeps_its_last_isr_member():
    after = topology_after_failures(_topology({"t": [[0], [1]]}, 2), [0])
    dead, alive = after.partitions[TopicPartition("t", 0)], after.partitions[TopicPartition("t", 1)]
    assert dead.leader == NO_LEADER and dead.isr == (0,)
    assert alive.leader == 1 and alive.isr == (1,) and alive.partition_epoch == 0


def test_two_brokers_lost_are_fenced_in_id_order():
    rows = [[0, 1, 2], [1, 0, 2], [0, 1, 3]]
    after = topology_after_failures(_topology({"t": rows}, 4), [1, 0])
    got = [after.partitions[TopicPartition("t", p)] for p in range(3)]
    assert [r.leader for r in got] == [2, 2, 3]
    assert [r.isr for r in got] == [(2,), (2,), (3,)]
    # every replica of a partition lost: offline, whichever order the ids came in
    gone = topology_after_failures(_topology({"t": [[0, 1]]}, 3), [1, 0])
    assert gone.partitions[TopicPartition("t", 0)].leader == NO_LEADER
    assert gone.partitions[TopicPartition("t", 0)].isr == (1,)


def test_unclean_election_needs_a_surviving_replica_out_of_the_isr():
    # broker 2 dropped out of the ISR earlier; 0 and 1 are lost: only an unclean
    # election lets 2 lead, with the ISR forced to it
    start = _topology({"t": [[0, 1, 2]]}, 3)
    tp = TopicPartition("t", 0)
    start.partitions[tp] = PartitionRegistration(replicas=(0, 1, 2), isr=(0, 1), leader=0)
    clean = topology_after_failures(start, [0, 1])
    assert clean.partitions[tp].leader == NO_LEADER and clean.partitions[tp].isr == (1,)
    unclean = topology_after_failures(start, [0, 1], unclean_topics=frozenset({"t"}))
    assert unclean.partitions[tp].leader == 2 and unclean.partitions[tp].isr == (2,)


def test_nothing_offline_is_the_same_topology_and_the_input_is_not_changed():
    start = _topology({"t": [[0, 1], [1, 0]]}, 2)
    before = dict(start.partitions)
    assert topology_after_failures(start, []).partitions == before
    topology_after_failures(start, [0])
    assert start.partitions == before


def test_an_unknown_broker_is_refused():
    with pytest.raises(ValueError, match=r"brokers \[7\] are not in the topology"):
        topology_after_failures(_topology({"t": [[0]]}, 2), [7])


def test_the_scenario_topology_fences_the_scenarios_offline_brokers():
    from simkafka.scenario import parse_scenario

    text = """
    name: t
    cluster: {brokers: 4, offline_brokers: [1]}
    topics:
      - {name: orders, partitions: 8, replication.factor: 3}
    """
    s = parse_scenario(textwrap.dedent(text), "t.yaml")
    initial, after = initial_topology(s), scenario_topology(s)
    for tp, created in initial.partitions.items():
        state = after.partitions[tp]
        survivors = [r for r in created.replicas if r != 1]
        assert state.leader == survivors[0]
        assert list(state.isr) == survivors
        assert state.replicas == created.replicas
    assert after.leader_counts()[1] == 0
