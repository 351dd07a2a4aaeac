"""The ZooKeeper-mode controller (``cluster.controller: zookeeper``) as a state machine.

Same inputs and decisions as :class:`simkafka.model.controller.KRaftController`; what
differs is what a user should see to understand why KRaft was built:

* a broker is lost when its ZooKeeper session expires, ``zookeeper.session.timeout.ms``
  (18 s in Kafka 3.x) after its last ping -- not the 9 s KRaft session;
* the controller is one event thread that writes every partition's new state to
  ZooKeeper, so elections happen **one partition at a time**, each
  ``election_seconds_per_partition`` after the previous one, and an event that arrives
  while the thread is busy waits for it;
* a new controller first reloads every partition's state from ZooKeeper,
  ``reload_seconds_per_partition`` per partition, before it can elect anything.

Both costs are figures from Jun Rao, "How to choose the number of topics/partitions in a
Kafka cluster?" (Confluent blog, 2015,
https://www.confluent.io/blog/how-to-choose-the-number-of-topicspartitions-in-a-kafka-cluster/):
"Suppose that it takes 5 ms to elect a new leader for a single partition. It will take up
to 5 seconds to elect the new leader for all 1000 partitions" and "if there are 10,000
partitions in the Kafka cluster and initializing the metadata from ZooKeeper takes 2 ms per
partition, this can add 20 more seconds to the unavailability window". They are the
author's worked example for synchronous ZooKeeper writes, not a benchmark of Kafka 3.x;
Kafka 1.1.0 made ZooKeeper writes asynchronous (Jun Rao, "Apache Kafka Supports 200K
Partitions Per Cluster", 2018: a controlled shutdown that took 6.5 minutes took 3 s), so on
a current ZooKeeper-mode cluster they are upper figures. Both are parameters.

Kafka's own ZooKeeper-mode rules followed here (``kafka.controller.KafkaController``):
elections first, then the removal of the lost broker from the other ISRs
(``onReplicasBecomeOffline``); every controller-made change bumps the leader epoch
(``LeaderAndIsr.newLeaderAndIsr``), even an ISR shrink; the auto leader rebalance first
runs 5 s after the controller becomes active and then every
``leader.imbalance.check.interval.seconds``, electing preferred leaders only for brokers
whose imbalance ratio exceeds ``leader.imbalance.per.broker.percentage``
(``checkAndTriggerAutoLeaderRebalance``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from simkafka.model.controller import (
    AlterPartitionRequest,
    BrokerFenced,
    BrokerHeartbeat,
    BrokerRegistered,
    BrokerUnfenced,
    ChangeReason,
    ControlledShutdownRequest,
    ControllerActivated,
    ControllerFailover,
    Decision,
    PartitionChanged,
    ShutdownCompleted,
    TopicPolicy,
    _ControlPlane,
)
from simkafka.model.election import (
    Election,
    PartitionRegistration,
    change_partition,
    fence_broker,
    leader_imbalance,
    unfence_broker,
)
from simkafka.model.topology import Topology
from simkafka.model.types import TopicPartition
from simkafka.scenario.cluster import BrokerConfig

ZK_ELECTION_SECONDS_PER_PARTITION = 0.005  # Jun Rao 2015: "5 ms to elect a new leader for a single partition"
ZK_RELOAD_SECONDS_PER_PARTITION = 0.002  # Jun Rao 2015: "initializing the metadata from ZooKeeper takes 2 ms per partition"

# The controller pushes new state to brokers in LeaderAndIsr / UpdateMetadata requests,
# with no log commit in between: one request in a data centre. An estimate, not a
# measurement: a network round trip plus the broker's handling, about 1 ms.
ZK_METADATA_DELAY = 0.001

# KafkaController.onControllerFailover: scheduleAutoLeaderRebalanceTask(delay = 5 s)
ZK_FIRST_REBALANCE_DELAY = 5.0


class ZooKeeperController(_ControlPlane):
    """``KafkaController`` of ZooKeeper mode: one event thread, per-partition ZooKeeper
    writes. Decisions are returned when the event is handled, each with the ``at`` the
    serial thread reaches it -- possibly later than the event."""

    def __init__(
        self,
        topology: Topology,
        *,
        topics: Mapping[str, TopicPolicy] | None = None,
        config: BrokerConfig | None = None,
        start: float = 0.0,
        fenced: Iterable[int] = (),
        metadata_delay: float = ZK_METADATA_DELAY,
        election_seconds_per_partition: float = ZK_ELECTION_SECONDS_PER_PARTITION,
        reload_seconds_per_partition: float = ZK_RELOAD_SECONDS_PER_PARTITION,
    ) -> None:
        for name, value in (
            ("metadata_delay", metadata_delay),
            ("election_seconds_per_partition", election_seconds_per_partition),
            ("reload_seconds_per_partition", reload_seconds_per_partition),
        ):
            if value < 0:
                raise ValueError(f"{name} must be >= 0 s (got {value})")
        super().__init__(**self._initial(topology, topics, config, start, fenced, metadata_delay))
        self.election_cost = election_seconds_per_partition
        self.reload_cost = reload_seconds_per_partition
        self.busy_until = start  # when the controller's event thread is free
        self._rebalance_at: float | None = (
            start + ZK_FIRST_REBALANCE_DELAY if self.config.auto_leader_rebalance_enable else None
        )

    def next_deadline(self) -> float | None:
        timeout = self.config.zookeeper_session_timeout
        times = [s.last_contact + timeout for s in self.brokers.values() if s.registered and not s.fenced]
        if self._rebalance_at is not None:
            times.append(self._rebalance_at)
        return min(times) if times else None

    # -- the serial event thread -------------------------------------------------------------

    def _start(self, at: float) -> float:
        """When the event thread can begin work that arrived at ``at``."""
        return max(at, self.busy_until)

    def _write(
        self, ordered: list[tuple[TopicPartition, PartitionRegistration]], reason: ChangeReason, start: float
    ) -> list[Decision]:
        """One ZooKeeper write per partition, in order; every change bumps the leader epoch."""
        out: list[Decision] = []
        at = start
        for tp, new in ordered:
            old = self.partitions[tp]
            if new.leader_epoch == old.leader_epoch:  # LeaderAndIsr.newLeaderAndIsr: epoch + 1
                new = replace(new, leader_epoch=old.leader_epoch + 1)
            at += self.election_cost
            self._set_partition(tp, new)
            out.append(PartitionChanged(tp, new, reason, at, at + self.metadata_delay))
        self.busy_until = at
        return out

    def _remove_broker(self, broker: int, start: float, reason: ChangeReason) -> list[Decision]:
        """``onReplicasBecomeOffline`` / ``doControlledShutdown``: elect where ``broker`` led,
        then take it out of the other ISRs."""
        changes = fence_broker(
            self.partitions, broker, self.active_brokers(), unclean_topics=self._unclean, min_isr=self._min_isr()
        )
        led = [tp for tp in sorted(changes) if self.partitions[tp].leader == broker]
        followed = [tp for tp in sorted(changes) if self.partitions[tp].leader != broker]
        return self._write([(tp, changes[tp]) for tp in led + followed], reason, start)

    def _run_timers(self, until: float, *, inclusive: bool = True) -> list[Decision]:
        out: list[Decision] = []
        timeout = self.config.zookeeper_session_timeout

        def reached(t: float) -> bool:
            return t <= until if inclusive else t < until

        while True:
            due = [
                (s.last_contact + timeout, b)
                for b, s in sorted(self.brokers.items())
                if s.registered and not s.fenced and reached(s.last_contact + timeout)
            ]
            if self._rebalance_at is not None and reached(self._rebalance_at):
                due.append((self._rebalance_at, -1))
            if not due:
                return out
            at, broker = min(due)
            if broker == -1:
                out += self._rebalance(at)
            else:
                out += self._session_expired(broker, at)

    def _session_expired(self, broker: int, at: float) -> list[Decision]:
        state = self.brokers[broker]
        state.fenced = True
        state.in_controlled_shutdown = False
        start = self._start(at)  # the BrokerChange event waits for the thread
        return [BrokerFenced(broker, start, start + self.metadata_delay), *self._remove_broker(broker, start, "fenced")]

    def _rebalance(self, at: float) -> list[Decision]:
        self._rebalance_at = at + self.config.leader_imbalance_check_interval
        threshold = self.config.leader_imbalance_per_broker_percentage / 100
        active = set(self.active_brokers())
        ordered: list[tuple[TopicPartition, PartitionRegistration]] = []
        for broker, ratio in leader_imbalance(self.partitions).items():
            if ratio <= threshold or broker not in active:
                continue
            for tp, partition in sorted(self.partitions.items()):
                if partition.preferred_leader != broker or partition.leader == broker or broker not in partition.isr:
                    continue
                new = change_partition(
                    partition, is_acceptable_leader=lambda r: r in active, election=Election.PREFERRED
                )
                if new is not None and new.leader == broker:
                    ordered.append((tp, new))
        return self._write(ordered, "preferred", self._start(at)) if ordered else []

    # -- inputs ------------------------------------------------------------------------------

    def _heartbeat(self, event: BrokerHeartbeat) -> list[Decision]:
        state = self._broker(event.broker)
        if state.registered and not state.fenced:
            state.last_contact = event.at
        return []  # a lost session is gone: the broker must register again

    def _registered(self, event: BrokerRegistered) -> list[Decision]:
        """The broker's znode appears (``onBrokerStartup``): it may lead again at once, and
        offline partitions it can lead elect (``triggerOnlinePartitionStateChange``).
        ``KafkaServer.startup`` registers the znode after its log recovery, so an engine
        sends this when recovery is done; ``want_fence`` has no meaning in this mode."""
        state = self._broker(event.broker)
        out: list[Decision] = []
        if state.registered and not state.fenced:
            out += self._session_expired(event.broker, event.at)  # the old session is replaced
        state.registered, state.fenced, state.in_controlled_shutdown = True, False, False
        state.last_contact = event.at
        start = self._start(event.at)
        changes = unfence_broker(self.partitions, event.broker, self.active_brokers(), unclean_topics=self._unclean)
        out.append(BrokerUnfenced(event.broker, start, start + self.metadata_delay))
        return out + self._write(sorted(changes.items()), "unfenced", start)

    def _controlled_shutdown(self, event: ControlledShutdownRequest) -> list[Decision]:
        state = self._broker(event.broker)
        if not self.config.controlled_shutdown_enable or state.fenced or not state.registered:
            return [ShutdownCompleted(event.broker, event.at, event.at)]
        state.in_controlled_shutdown = True
        out = self._remove_broker(event.broker, self._start(event.at), "controlled_shutdown")
        done = self.busy_until
        # the broker stops and closes its ZooKeeper session: its znode goes at once
        state.fenced = True
        state.in_controlled_shutdown = False
        return [
            *out,
            ShutdownCompleted(event.broker, done, done + self.metadata_delay),
            BrokerFenced(event.broker, done, done + self.metadata_delay),
        ]

    def _handle_alter_partition(self, event: AlterPartitionRequest) -> list[Decision]:
        # an AlterPartition (KIP-497) is one more event of the thread and one ZooKeeper write
        error_or_change = self._alter_partition(replace(event, at=self._start(event.at)))
        out: list[Decision] = []
        for d in error_or_change:
            if isinstance(d, PartitionChanged):
                at = d.at + self.election_cost
                self.busy_until = at
                d = replace(d, at=at, visible_at=at + self.metadata_delay)
            out.append(d)
        return out

    def _failover(self, event: ControllerFailover) -> list[Decision]:
        """The new controller reads every partition's state from ZooKeeper before it acts.

        Decisions already returned keep their times: this machine computes a batch when its
        event is handled, so a failover in the middle of a batch does not delay the rest of
        it (Kafka would redo the remainder after the reload) -- an engine that fails the
        controller over mid-batch sees the batch finish as if the old controller lived.
        """
        ready = event.at + self.reload_cost * len(self.partitions)
        self.busy_until = ready
        if self.config.auto_leader_rebalance_enable:
            self._rebalance_at = ready + ZK_FIRST_REBALANCE_DELAY
        return [ControllerActivated(ready, ready + self.metadata_delay)]

    def __repr__(self) -> str:
        return f"<ZooKeeperController {self._summary()} busy_until={self.busy_until:g}s>"
