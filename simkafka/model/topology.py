"""The cluster's partition layout at creation time: replicas, leaders and ISRs of every partition.

Topics are created in scenario order, each with the placer of the scenario's controller
mode -- KRaft's ``StripedReplicaPlacer`` or ZooKeeper-era ``AdminUtils`` -- unless it
carries an explicit ``replica.assignment``. Every random start is drawn from a
``java.util.Random`` seeded from the named stream ``placement.<topic>``, so the layout is
a pure function of the scenario and its seed.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from simkafka.model.election import NO_LEADER, PartitionRegistration, fence_broker
from simkafka.model.java_random import JavaRandom
from simkafka.model.placement import assign_replicas_to_brokers, place_replicas_striped
from simkafka.model.types import BrokerInfo, TopicPartition
from simkafka.random_streams import derive_seed
from simkafka.scenario import Scenario, Topic


@dataclass(frozen=True)
class Topology:
    """Partition states of every topic, in topic then partition order."""

    brokers: tuple[BrokerInfo, ...]
    partitions: dict[TopicPartition, PartitionRegistration] = field(default_factory=dict)
    topic_ids: dict[str, str] = field(default_factory=dict)

    def topic_partitions(
        self, topic: str
    ) -> Iterator[tuple[TopicPartition, PartitionRegistration]]:
        for tp, state in self.partitions.items():
            if tp.topic == topic:
                yield tp, state

    def leader_counts(self) -> dict[int, int]:
        counts = {b.id: 0 for b in self.brokers}
        for state in self.partitions.values():
            if state.leader != NO_LEADER:
                counts[state.leader] += 1
        return counts

    def replica_counts(self) -> dict[int, int]:
        counts = {b.id: 0 for b in self.brokers}
        for state in self.partitions.values():
            for broker in state.replicas:
                counts[broker] += 1
        return counts

    def __repr__(self) -> str:
        topics = len(self.topic_ids)
        return f"<Topology: {len(self.brokers)} brokers, {topics} topic(s), {len(self.partitions)} partitions>"


def brokers_of(scenario: Scenario) -> tuple[BrokerInfo, ...]:
    return tuple(BrokerInfo(b.id, b.rack) for b in scenario.cluster.brokers)


def topic_id(seed: int, topic: str) -> str:
    """A stable stand-in for Kafka's random topic Uuid, printed the way Kafka prints one.

    Like ``Uuid.randomUuid()`` it never gives an id whose text starts with ``-`` (Kafka
    draws again, so the id cannot be mistaken for a command-line option), nor the zero
    or metadata-topic ids.
    """
    attempt = 0
    while True:
        salt = f"\x00{attempt}" if attempt else ""
        raw = hashlib.blake2b(f"{seed}\x00topic-id\x00{topic}{salt}".encode(), digest_size=16).digest()
        text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        if not text.startswith("-") and raw not in (bytes(16), bytes(15) + b"\x01"):
            return text
        attempt += 1


def place_topic(scenario: Scenario, topic: Topic) -> list[list[int]]:
    """Replica lists for ``topic`` as the scenario's controller would create them."""
    if topic.replica_assignment is not None:
        return [list(replicas) for replicas in topic.replica_assignment]
    brokers = list(brokers_of(scenario))
    rng = JavaRandom(derive_seed(scenario.seed, f"placement.{topic.name}") & ((1 << 63) - 1))
    if scenario.cluster.controller == "kraft":
        return place_replicas_striped(brokers, topic.partitions, topic.replication_factor, rng)
    assignment = assign_replicas_to_brokers(
        brokers, topic.partitions, topic.replication_factor, rng=rng
    )
    return [assignment[p] for p in range(topic.partitions)]


def initial_topology(scenario: Scenario) -> Topology:
    """Every partition led by its preferred replica with a full ISR, as right after creation."""
    partitions: dict[TopicPartition, PartitionRegistration] = {}
    topic_ids: dict[str, str] = {}
    for topic in scenario.topics:
        topic_ids[topic.name] = topic_id(scenario.seed, topic.name)
        for partition, replicas in enumerate(place_topic(scenario, topic)):
            partitions[TopicPartition(topic.name, partition)] = PartitionRegistration.created(
                replicas
            )
    return Topology(brokers_of(scenario), partitions, topic_ids)


def balanced_topology(scenario: Scenario) -> Topology:
    """Every topic laid out as ``AdminUtils.assignReplicasToBrokers`` does with a fixed start
    index of 0: leaders round-robin over the brokers (rack-alternated when there are racks),
    so each broker leads ``floor`` or ``ceil`` of ``partitions / brokers`` -- the layout an
    operator can always get with ``--replica-assignment`` or ``kafka-reassign-partitions``.

    The KRaft controller's ``StripedReplicaPlacer`` spreads leaders evenly over racks but
    not over the brokers of a rack (KAFKA-15354), so the layout a topic is created with may
    load one broker more than this; the planner's bounds use this one so that they never
    rule out a cluster only for the luck of its placement.
    """
    brokers = list(brokers_of(scenario))
    partitions: dict[TopicPartition, PartitionRegistration] = {}
    topic_ids: dict[str, str] = {}
    for topic in scenario.topics:
        topic_ids[topic.name] = topic_id(scenario.seed, topic.name)
        if topic.replica_assignment is not None:
            layout = [list(r) for r in topic.replica_assignment]
        else:
            assignment = assign_replicas_to_brokers(
                brokers, topic.partitions, topic.replication_factor, fixed_start_index=0
            )
            layout = [assignment[p] for p in range(topic.partitions)]
        for partition, replicas in enumerate(layout):
            partitions[TopicPartition(topic.name, partition)] = PartitionRegistration.created(replicas)
    return Topology(tuple(brokers), partitions, topic_ids)


def topology_after_failures(
    topology: Topology,
    offline: Iterable[int],
    *,
    unclean_topics: frozenset[str] = frozenset(),
    min_isr: Mapping[str, int] | None = None,
) -> Topology:
    """``topology`` once the controller has fenced every broker of ``offline``.

    Each broker is fenced in id order (``ReplicationControlManager.handleBrokerFenced``),
    the active set being the brokers still up: it leaves every ISR, and a partition it led
    elects the first replica of its assignment that is in the remaining ISR and up. A
    partition whose ISR holds nothing else keeps its last member and has no leader
    (``NO_LEADER``, an offline partition) -- unless its topic is in ``unclean_topics``,
    where a surviving out-of-sync replica takes over with the ISR set to it alone. The
    assignment is untouched: nothing is reassigned. ``min_isr`` is each topic's
    ``min.insync.replicas`` (used only with eligible leader replicas, which this does
    not enable).
    """
    down = sorted(set(offline))
    known = {b.id for b in topology.brokers}
    unknown = [b for b in down if b not in known]
    if unknown:
        raise ValueError(f"brokers {unknown} are not in the topology (brokers {sorted(known)})")
    partitions = dict(topology.partitions)
    fenced: set[int] = set()
    for broker in down:
        fenced.add(broker)
        active = [b.id for b in topology.brokers if b.id not in fenced]
        partitions.update(
            fence_broker(partitions, broker, active, unclean_topics=unclean_topics, min_isr=min_isr)
        )
    return replace(topology, partitions=partitions)


def scenario_topology(scenario: Scenario) -> Topology:
    """The topology a run starts from: :func:`initial_topology`, then -- with
    ``cluster.offline_brokers`` -- :func:`topology_after_failures` with the topics'
    ``unclean.leader.election.enable`` and ``min.insync.replicas``."""
    topology = initial_topology(scenario)
    offline = scenario.cluster.offline_brokers
    if not offline:
        return topology
    return topology_after_failures(
        topology,
        offline,
        unclean_topics=frozenset(t.name for t in scenario.topics if t.unclean_leader_election_enable),
        min_isr={t.name: t.min_insync_replicas for t in scenario.topics},
    )
