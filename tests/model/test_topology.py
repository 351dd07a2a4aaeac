"""The creation-time layout: the scenario's placer, its seed, and explicit assignments."""

from __future__ import annotations

import textwrap

from simkafka.model.election import NO_LEADER
from simkafka.model.java_random import JavaRandom
from simkafka.model.placement import assign_replicas_to_brokers, place_replicas_striped
from simkafka.model.topology import brokers_of, initial_topology, topic_id
from simkafka.model.types import TopicPartition
from simkafka.random_streams import derive_seed
from simkafka.scenario import parse_scenario


def scenario(controller: str = "kraft", seed: int = 1, extra: str = ""):
    text = f"""
    name: t
    cluster: {{brokers: 6, racks: [a, b, c], controller: {controller}}}
    topics:
      - {{name: orders, partitions: 12, replication.factor: 3}}
      - {{name: audit, partitions: 2, replication.factor: 2{extra}}}
    run: {{seed: {seed}}}
    """
    return parse_scenario(textwrap.dedent(text), "t.yaml")


def test_kraft_layout_is_the_striped_placer_with_the_topics_seeded_random():
    s = scenario()
    rng = JavaRandom(derive_seed(1, "placement.orders") & ((1 << 63) - 1))
    expected = place_replicas_striped(list(brokers_of(s)), 12, 3, rng)
    topology = initial_topology(s)
    got = [state.replicas for tp, state in topology.topic_partitions("orders")]
    assert [list(r) for r in got] == expected


def test_zookeeper_layout_is_admin_utils():
    s = scenario(controller="zookeeper")
    rng = JavaRandom(derive_seed(1, "placement.orders") & ((1 << 63) - 1))
    expected = assign_replicas_to_brokers(list(brokers_of(s)), 12, 3, rng=rng)
    topology = initial_topology(s)
    for p in range(12):
        assert list(topology.partitions[TopicPartition("orders", p)].replicas) == expected[p]


def test_new_partitions_are_led_by_the_preferred_replica_with_a_full_isr():
    topology = initial_topology(scenario())
    for state in topology.partitions.values():
        assert state.leader == state.replicas[0] != NO_LEADER
        assert list(state.isr) == list(state.replicas)
        assert len(set(state.replicas)) == len(state.replicas)
    assert sum(topology.replica_counts().values()) == 12 * 3 + 2 * 2
    assert sum(topology.leader_counts().values()) == 14


def test_explicit_assignment_is_kept_verbatim():
    topology = initial_topology(scenario(extra=', replica.assignment: "5:0,4:1"'))
    assert list(topology.partitions[TopicPartition("audit", 0)].replicas) == [5, 0]
    assert list(topology.partitions[TopicPartition("audit", 1)].replicas) == [4, 1]
    assert topology.partitions[TopicPartition("audit", 1)].leader == 4


def test_same_seed_same_layout_other_seed_other_layout():
    a, b, c = (
        initial_topology(scenario(seed=1)),
        initial_topology(scenario(seed=1)),
        initial_topology(scenario(seed=2)),
    )
    assert a.partitions == b.partitions and a.topic_ids == b.topic_ids
    assert a.partitions != c.partitions
    assert topic_id(1, "orders") != topic_id(2, "orders") and len(topic_id(1, "orders")) == 22


def test_topic_ids_never_start_with_a_dash() -> None:
    # Uuid.randomUuid() draws again when the text would start with "-" (it would read as a
    # command-line option); about one name in 64 hits that on the first draw.
    ids = [topic_id(7, f"topic-{i}") for i in range(1000)]
    assert not [i for i in ids if i.startswith("-")]
    assert len(set(ids)) == 1000 and all(len(i) == 22 for i in ids)
    import base64
    import hashlib

    first_draws = [
        base64.urlsafe_b64encode(
            hashlib.blake2b(f"7\x00topic-id\x00topic-{i}".encode(), digest_size=16).digest()
        ).decode()
        for i in range(1000)
    ]
    assert any(d.startswith("-") for d in first_draws)  # the rule was exercised
