"""The group coordinator in simulated time: requests over the network, decisions back.

:class:`GroupDriver` owns the run's pure :class:`~simkafka.model.group_coordinator.GroupCoordinator`
(one :class:`~simkafka.model.classic_group.ClassicGroup` or KIP-848
:class:`~simkafka.model.consumer_group.ConsumerGroup` per consumer group). A member's
request travels to the group's coordinator broker (the leader of its
``__consumer_offsets`` partition) like any request -- network, request queue, a handler
thread -- and the coordinator handles it when it is read; each answer travels back to the
member. A Tick arrives at the coordinator's ``next_deadline`` for its timers.

Groups start formed: the members joined before the run (generation 1, or the KIP-848
group epoch 1, everyone reconciled), so a run's rebalances are the ones it causes.

It also keeps the run's record of who owned which partition when
(:class:`~simkafka.sim.group_outcome.AssignmentSpan`), and each group's position per
partition -- the next offset its members will process, whoever owns the partition now --
so lag counts partitions that are between owners.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

import simpy

from simkafka.model.assignors import server_assignor
from simkafka.model.classic_group import ClassicGroup
from simkafka.model.consumer_group import ConsumerGroup
from simkafka.model.group_coordinator import GroupCoordinator
from simkafka.model.group_protocol import (
    GroupDecision,
    GroupEvent,
    MemberRemoved,
    RebalanceCompleted,
    RebalanceRecord,
    Tick,
)
from simkafka.model.topology import topic_id
from simkafka.model.types import TopicPartition
from simkafka.sim.group_outcome import AssignmentSpan
from simkafka.sim.timers import DeadlineTimer

if TYPE_CHECKING:
    from simkafka.scenario import Scenario
    from simkafka.sim.broker import Broker

GROUP_REQUEST_BYTES = 200  # JoinGroup / SyncGroup / Heartbeat with a small subscription
GROUP_RESPONSE_BYTES = 200
COORDINATOR_RETRY_BACKOFF = 0.1  # retry.backoff.ms while the coordinator is unreachable


def build_coordinator(scenario: Scenario) -> GroupCoordinator:
    """The run's coordinator: a classic or KIP-848 state machine per group (both engines'),
    with the brokers' group settings and the topics' ids (the ``uniform`` assignor walks
    topics by id)."""
    config, release = scenario.cluster.config, scenario.cluster.kafka_version
    partitions = {t.name: t.partitions for t in scenario.topics}
    topic_ids = {t.name: topic_id(scenario.seed, t.name) for t in scenario.topics}
    machines: dict[str, ClassicGroup | ConsumerGroup] = {}
    for spec in scenario.consumer_groups:
        parts = {t: partitions[t] for t in spec.topics}
        if spec.group_protocol == "consumer":
            assignor = server_assignor(spec.group_remote_assignor, topic_ids, release)
            machines[spec.group_id] = ConsumerGroup(
                spec.group_id, parts, assignor,
                config.group_consumer_heartbeat_interval, config.group_consumer_session_timeout,
            )
        else:
            machines[spec.group_id] = ClassicGroup(spec.group_id, parts, config.group_initial_rebalance_delay)
    return GroupCoordinator(machines)


class GroupClient(Protocol):
    """What the driver needs of a member's client side (:mod:`simkafka.sim.group_member`)."""

    member_id: str
    host: str
    alive: bool

    def on_response(self, decision: GroupDecision) -> None: ...


class GroupCluster(Protocol):
    env: simpy.Environment
    brokers: dict[int, Broker]

    def group_coordinator(self, group_id: str) -> int: ...

    def reachable(self, a: str, b: str) -> bool: ...

    def request(
        self, src: str, broker: Broker, nbytes: int, cpu_bytes: int = 0, after: float = 0.0
    ) -> Generator[simpy.Event, Any, float]: ...

    def transfer(self, src: str, dst: str, nbytes: int) -> simpy.Event: ...


def answers(
    decisions: list[GroupDecision], clients: dict[str, Any], removals: list[MemberRemoved]
) -> list[tuple[Any, GroupDecision]]:
    """The coordinator's decisions that are answers to a member, with the member's client;
    removals are kept in ``removals`` (a member learns of its own from its next answer),
    completed rebalances are in the coordinator's records."""
    out = []
    for decision in decisions:
        if isinstance(decision, RebalanceCompleted):
            continue
        if isinstance(decision, MemberRemoved):
            removals.append(decision)
            continue
        client = clients.get(decision.member)
        if client is not None:
            out.append((client, decision))
    return out


class GroupDriver:
    """Feeds the group coordinator in simulated time and routes its answers."""

    def __init__(self, cluster: GroupCluster, scenario: Scenario) -> None:
        self.cluster = cluster
        self.env = cluster.env
        # KIP-848 members heartbeat at the coordinator's interval (each response repeats it)
        self.consumer_heartbeat_interval = scenario.cluster.config.group_consumer_heartbeat_interval
        self.coordinator = build_coordinator(scenario)
        self.clients: dict[str, GroupClient] = {}
        self.removals: list[MemberRemoved] = []
        self.spans: list[AssignmentSpan] = []
        self._open: dict[tuple[str, TopicPartition], AssignmentSpan] = {}
        self.position: dict[tuple[str, TopicPartition], int] = {}
        self._timer = DeadlineTimer(
            self.env, self.coordinator.next_deadline, lambda now: self.submit(Tick(now))
        )
        self._timer.start()

    @property
    def now(self) -> float:
        return self.env.now

    # -- requests ----------------------------------------------------------------------------

    def send(self, client: GroupClient, request: GroupEvent) -> simpy.Process:
        """Send ``request`` (built now, with its content as of now) from ``client`` to its
        group's coordinator, which handles it when it arrives; returns the process."""
        return self.env.process(self._send(client, request))

    def _send(self, client: GroupClient, request: GroupEvent) -> Generator[simpy.Event, Any, list[GroupDecision]]:
        group_id = request.group  # type: ignore[union-attr]
        cluster = self.cluster
        while True:
            broker = cluster.brokers[cluster.group_coordinator(group_id)]
            if broker.alive and cluster.reachable(client.host, broker.host):
                break
            yield self.env.timeout(COORDINATOR_RETRY_BACKOFF)  # FindCoordinator again
            if not client.alive:
                return []
        yield from cluster.request(client.host, broker, GROUP_REQUEST_BYTES)
        return self.submit(replace(request, at=self.env.now))

    def submit(self, event: GroupEvent, over_network: bool = True) -> list[GroupDecision]:
        """Hand ``event`` to the coordinator now; answers go back over the network from
        the group's coordinator broker (or at once: the formation before the run)."""
        decisions = self.coordinator.handle(event)
        for client, decision in answers(decisions, self.clients, self.removals):
            if not over_network:
                client.on_response(decision)
            else:
                broker = self.cluster.brokers[self.cluster.group_coordinator(decision.group)]
                self.env.process(self._respond(broker, client, decision))
        self._timer.rearm()
        return decisions

    def _respond(
        self, broker: Broker, client: GroupClient, decision: GroupDecision
    ) -> Generator[simpy.Event, Any, None]:
        yield self.cluster.transfer(broker.host, client.host, GROUP_RESPONSE_BYTES)
        if client.alive:  # a process that died meanwhile never reads it
            client.on_response(decision)

    # -- ownership -----------------------------------------------------------------------------

    def owned(self, group: str, member: str, tp: TopicPartition, generation: int) -> None:
        self._open[(member, tp)] = AssignmentSpan(group, member, tp, generation, self.env.now, None)

    def released(self, member: str, tp: TopicPartition) -> None:
        span = self._open.pop((member, tp), None)
        if span is not None:
            self.spans.append(
                AssignmentSpan(span.group, span.member, span.tp, span.generation, span.start, self.env.now)
            )

    def all_spans(self) -> list[AssignmentSpan]:
        """Every ownership, the open ones with ``end`` None, in start order."""
        return sorted(
            [*self.spans, *self._open.values()],
            key=lambda s: (s.start, s.group, s.member, s.tp),
        )

    def records(self) -> list[RebalanceRecord]:
        return self.coordinator.records()

    def __repr__(self) -> str:
        return f"<GroupDriver {self.coordinator!r}, {len(self.clients)} clients>"

