"""The events engine's control plane: the model's controller, driven in simulated time.

The controller itself is :mod:`simkafka.model.controller` (KRaft) or
:mod:`simkafka.model.controller_zk` (ZooKeeper mode): a pure state machine. This module
feeds it what happens in the world and applies what it decides:

* **heartbeats** -- every running broker sends one every ``broker.heartbeat.interval.ms``
  (its first one offset by its place in the broker list, so they do not all come at
  once); a crashed broker simply stops, and the controller fences it when its session
  (``broker.session.timeout.ms``, or ``zookeeper.session.timeout.ms``) runs out;
* **timers** -- a Tick at the controller's :meth:`next_deadline`;
* **AlterPartition** -- the leaders' ISR shrinks and expands (one in flight per
  partition, as Kafka's ``PendingShrinkIsr`` / ``PendingExpandIsr`` states allow);
* **faults** -- see :class:`~simkafka.sim.faults.FaultPlayer`;
* **decisions** are applied at their ``visible_at`` (the metadata log's propagation):
  a new leader takes over (:mod:`simkafka.sim.leadership`), ISRs change, a broker in
  controlled shutdown stops when the controller lets it.

Everything the control plane does is written to :attr:`timeline` (time, event, broker,
partition, detail), which the report marks on its figures.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simpy

from simkafka.kafka_version import behaviour
from simkafka.model.controller import (
    AlterPartitionRejected,
    AlterPartitionRequest,
    BrokerFenced,
    BrokerHeartbeat,
    BrokerRegistered,
    BrokerUnfenced,
    ControlledShutdownRequest,
    ControllerActivated,
    ControllerFailover,
    Decision,
    Event,
    KRaftController,
    PartitionChanged,
    ShutdownCompleted,
    Tick,
)
from simkafka.model.controller_zk import ZooKeeperController
from simkafka.model.types import TopicPartition
from simkafka.sim.timers import DeadlineTimer

if TYPE_CHECKING:
    from simkafka.sim.fault_cluster import FaultCluster


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One thing the control plane saw or did."""

    time: float
    event: str  # broker_crash, fenced, leader_elected, isr_shrink, ...
    broker: int = -1
    topic: str = ""
    partition: int = -1
    detail: str = ""


class ControlPlane:
    """The controller of one events-engine run and the processes that drive it."""

    def __init__(self, world: FaultCluster) -> None:
        self.world = world
        self.env = world.env
        scenario = world.scenario
        self.controller: KRaftController | ZooKeeperController
        if scenario.cluster.controller == "zookeeper":
            self.controller = ZooKeeperController.from_scenario(scenario, world.topology)
        else:  # a new 4.1 cluster tracks eligible leader replicas (KIP-966)
            elr = behaviour(scenario.cluster.kafka_version).eligible_leader_replicas
            self.controller = KRaftController.from_scenario(scenario, world.topology, elr_enabled=elr)
        self.timeline: list[TimelineEntry] = []
        self.isr_changes = 0
        self.leader_changes = 0
        self.alter_partition_rejected = 0
        self._pending_alter: set[TopicPartition] = set()
        # brokers whose process runs (a crashed or stopped one does not heartbeat)
        self.running = {b: b not in scenario.cluster.offline_brokers for b in world.brokers}
        # a restarted broker asks to stay fenced until its log recovery is done
        self.want_fence: dict[int, bool] = dict.fromkeys(world.brokers, False)
        self._timer = DeadlineTimer(
            self.env, self.controller.next_deadline, lambda now: self.submit(Tick(now))
        )
        interval = scenario.cluster.config.broker_heartbeat_interval
        ids = sorted(world.brokers)
        for i, broker_id in enumerate(ids):
            self.env.process(self._heartbeats(broker_id, interval * (i + 1) / len(ids), interval))
        self._timer.start()

    # -- feeding the controller ------------------------------------------------------------

    def submit(self, event: Event) -> list[Decision]:
        """Hand ``event`` to the controller now and schedule its decisions."""
        decisions = self.controller.handle(event)
        for decision in decisions:
            delay = max(0.0, decision.visible_at - self.env.now)
            self.env.timeout(delay).callbacks.append(lambda _, d=decision: self._apply(d))
        self._timer.rearm()  # the controller's next deadline may have moved
        return decisions

    def alter_isr(self, tp: TopicPartition, new_isr: list[int], reason: str) -> None:
        """The leader of ``tp`` sends an AlterPartition (one in flight per partition)."""
        if tp in self._pending_alter:
            return
        registration = self.world.partitions[tp]
        if tuple(new_isr) == registration.isr:
            return
        self._pending_alter.add(tp)
        self.submit(
            AlterPartitionRequest(
                self.env.now,
                tp,
                registration.leader,
                tuple(new_isr),
                registration.leader_epoch,
                registration.partition_epoch,
            )
        )

    def note(self, event: str, broker: int = -1, tp: TopicPartition | None = None, detail: str = "") -> None:
        topic, partition = (tp.topic, tp.partition) if tp is not None else ("", -1)
        self.timeline.append(TimelineEntry(self.env.now, event, broker, topic, partition, detail))

    def _heartbeats(self, broker_id: int, first: float, interval: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(first)
        while True:
            if self.running[broker_id] and self.world.reaches_controller(broker_id):
                self.submit(BrokerHeartbeat(self.env.now, broker_id, self.want_fence[broker_id]))
            yield self.env.timeout(interval)

    # -- applying decisions ------------------------------------------------------------------

    def _apply(self, decision: Decision) -> None:
        world = self.world
        if isinstance(decision, PartitionChanged):
            self._pending_alter.discard(decision.tp)
            world.apply_partition_change(decision.tp, decision.registration, decision.reason)
        elif isinstance(decision, BrokerFenced):
            self.note("fenced", decision.broker)
        elif isinstance(decision, BrokerUnfenced):
            self.note("unfenced", decision.broker)
            world.broker_unfenced(decision.broker)
        elif isinstance(decision, ShutdownCompleted):
            self.note("shutdown_completed", decision.broker)
            world.stop_broker(decision.broker, clean=True)
        elif isinstance(decision, AlterPartitionRejected):
            self._pending_alter.discard(decision.tp)
            self.alter_partition_rejected += 1
        elif isinstance(decision, ControllerActivated):
            self.note("controller_activated")

    # -- what the fault player asks of it ------------------------------------------------------

    def broker_registered(self, broker_id: int, *, clean_shutdown: bool = True) -> None:
        self.submit(BrokerRegistered(self.env.now, broker_id, clean_shutdown))

    def controlled_shutdown(self, broker_id: int) -> None:
        self.submit(ControlledShutdownRequest(self.env.now, broker_id))

    def controller_failover(self) -> None:
        self.submit(ControllerFailover(self.env.now))

    def __repr__(self) -> str:
        return f"<ControlPlane {self.controller!r}, {len(self.timeline)} timeline entries>"
