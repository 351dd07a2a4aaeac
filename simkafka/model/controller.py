"""Kafka's control plane as a pure state machine: timestamped inputs in, decisions out.

The shape is dask's ``worker_state_machine``: the controller owns no clock and no
thread. An engine feeds it events (:class:`BrokerHeartbeat`, :class:`Tick`, ...), each
carrying the simulated time ``at`` in seconds, and applies the decisions it returns
(:class:`BrokerFenced`, :class:`PartitionChanged`, ...). :meth:`next_deadline` says when
the engine must call back with a :class:`Tick` for the controller's own timers (session
expiry, the leader-imbalance check). Both engines drive the same object, so they cannot
disagree about who leads what.

:class:`KRaftController` follows Kafka 3.7 - 4.1's ``QuorumController``,
``ReplicationControlManager`` and ``BrokerHeartbeatManager``; the elections themselves are
:mod:`simkafka.model.election` (``PartitionChangeBuilder``). The ZooKeeper-mode
controller, with its per-partition costs, is :mod:`simkafka.model.controller_zk`.

Every decision carries ``at``, when the controller commits it, and ``visible_at``, when
the brokers have applied it (``at + metadata_delay``): a client that asks a broker for
metadata before ``visible_at`` still sees the old leader.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Self

from simkafka.model.election import (
    NO_LEADER,
    LeaderRecoveryState,
    PartitionRegistration,
    alter_isr,
    elect_preferred_leaders,
    fence_broker,
    unclean_shutdown_broker,
    unfence_broker,
)
from simkafka.model.topology import Topology
from simkafka.model.types import TopicPartition
from simkafka.scenario import Scenario
from simkafka.scenario.cluster import BrokerConfig

# The active KRaft controller's Raft client lingers up to controller.quorum.append.linger.ms
# (QuorumConfig.DEFAULT_QUORUM_LINGER_MS = 25) before it writes a batch of records; brokers
# long-poll the metadata log, so they apply a committed record one fetch round trip later
# (sub-millisecond in a data centre). The linger dominates: 25 ms until brokers act on it.
KRAFT_METADATA_DELAY = 0.025

# QuorumController.MAX_ELECTIONS_PER_IMBALANCE: one leader-balancing pass elects at most
# this many preferred leaders, then runs again 10 ms later (ImbalanceSchedule.IMMEDIATELY).
MAX_ELECTIONS_PER_IMBALANCE = 1000
IMMEDIATE_REBALANCE_DELAY = 0.010

ChangeReason = Literal[
    "fenced", "controlled_shutdown", "alter_partition", "preferred", "unfenced", "unclean_shutdown"
]


# --- inputs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrokerHeartbeat:
    """A broker's heartbeat reached the controller (KRaft ``BrokerHeartbeatRequest``; in
    ZooKeeper mode the broker's ZooKeeper session ping). A registered, fenced broker is
    unfenced by a heartbeat with ``want_fence`` false: a restarting broker sends true
    until its log recovery is done and it has caught up with the metadata log
    (``BrokerLifecycleManager``'s ``readyToUnfence``)."""

    at: float
    broker: int
    want_fence: bool = False


@dataclass(frozen=True, slots=True)
class BrokerRegistered:
    """A (re)started broker registered with the controller: fenced until it heartbeats.
    A crash is never an input -- the controller only sees heartbeats stop -- but a broker
    that restarts after one registers without the clean-shutdown marker
    (``clean_shutdown`` false: its ``previousBrokerEpoch`` is not its last epoch)."""

    at: float
    broker: int
    clean_shutdown: bool = True


@dataclass(frozen=True, slots=True)
class ControlledShutdownRequest:
    """The broker got SIGTERM and asks to shut down (``wantShutDown`` in its heartbeat)."""

    at: float
    broker: int


@dataclass(frozen=True, slots=True)
class AlterPartitionRequest:
    """The leader ``broker`` asks to shrink or expand the ISR of ``tp``. ``partition_epoch``
    None skips the partition-epoch check (an engine that does not track it). A leader
    elected uncleanly (``RECOVERING``) reports ``RECOVERED`` once its log is recovered,
    with the ISR still just itself; only then may it add followers."""

    at: float
    tp: TopicPartition
    broker: int
    new_isr: tuple[int, ...]
    leader_epoch: int
    partition_epoch: int | None = None
    leader_recovery_state: LeaderRecoveryState = LeaderRecoveryState.RECOVERED


@dataclass(frozen=True, slots=True)
class ControllerFailover:
    """The active controller changed (its broker or controller node died)."""

    at: float


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed: run the timers due by ``at`` (see ``next_deadline``)."""

    at: float


Event = (
    BrokerHeartbeat | BrokerRegistered | ControlledShutdownRequest | AlterPartitionRequest
    | ControllerFailover | Tick
)


# --- decisions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartitionChanged:
    """A new ``PartitionRegistration`` for ``tp`` (a ``PartitionChangeRecord``)."""

    tp: TopicPartition
    registration: PartitionRegistration
    reason: ChangeReason
    at: float
    visible_at: float


@dataclass(frozen=True, slots=True)
class BrokerFenced:
    """The broker may no longer lead or be in an ISR (KRaft ``FENCE``; ZooKeeper mode: its
    znode under /brokers/ids is gone)."""

    broker: int
    at: float
    visible_at: float


@dataclass(frozen=True, slots=True)
class BrokerUnfenced:
    broker: int
    at: float
    visible_at: float


@dataclass(frozen=True, slots=True)
class ShutdownCompleted:
    """The controller lets the broker stop: it leads nothing and every broker has applied
    that (KRaft ``SHUTDOWN_NOW``; ZooKeeper mode the ``ControlledShutdownResponse``)."""

    broker: int
    at: float
    visible_at: float


@dataclass(frozen=True, slots=True)
class AlterPartitionRejected:
    """The AlterPartition failed with Kafka's error code name (``FENCED_LEADER_EPOCH``,
    ``INVALID_REQUEST``, ``INVALID_UPDATE_VERSION``, ``INELIGIBLE_REPLICA``, ``NOT_CONTROLLER``,
    ``UNKNOWN_TOPIC_OR_PARTITION``); ``visible_at`` is when the leader gets the response."""

    tp: TopicPartition
    broker: int
    error: str
    at: float
    visible_at: float


@dataclass(frozen=True, slots=True)
class ControllerActivated:
    """The new active controller can decide from ``at`` on."""

    at: float
    visible_at: float


Decision = (
    PartitionChanged | BrokerFenced | BrokerUnfenced | ShutdownCompleted | AlterPartitionRejected
    | ControllerActivated
)


def decision_order(decision: Decision) -> tuple[float, int, str, int, int]:
    """Decisions sort by time, then partition changes (topic, partition) before broker-level
    ones -- Kafka writes a fence's partition changes before the fence record itself."""
    if isinstance(decision, (PartitionChanged, AlterPartitionRejected)):
        return (decision.at, 0, decision.tp.topic, decision.tp.partition, 0)
    broker = getattr(decision, "broker", -1)
    return (decision.at, 1, "", 0, broker)


# --- configuration -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicPolicy:
    """The topic configs elections read."""

    unclean_leader_election_enable: bool = False
    min_insync_replicas: int = 1


def topic_policies(scenario: Scenario) -> dict[str, TopicPolicy]:
    return {
        t.name: TopicPolicy(t.unclean_leader_election_enable, t.min_insync_replicas)
        for t in scenario.topics
    }


@dataclass(slots=True)
class BrokerState:
    """The controller's view of one broker."""

    registered: bool = True
    fenced: bool = False
    in_controlled_shutdown: bool = False
    last_contact: float = 0.0

    @property
    def active(self) -> bool:
        """May lead and join ISRs (``ClusterControlManager.isActive``)."""
        return self.registered and not self.fenced and not self.in_controlled_shutdown


@dataclass
class _ControlPlane:
    """What both controllers keep: partitions, brokers, topic policies, the clock check."""

    partitions: dict[TopicPartition, PartitionRegistration]
    brokers: dict[int, BrokerState]
    policies: dict[str, TopicPolicy]
    config: BrokerConfig
    metadata_delay: float
    now: float = 0.0
    _unclean: frozenset[str] = field(default=frozenset(), init=False)
    # ReplicationControlManager.imbalancedPartitions: not led by their preferred replica;
    # kept up to date so that a heartbeat costs O(1), not O(partitions)
    _imbalanced: set[TopicPartition] = field(default_factory=set, init=False)
    # eligible leader replicas (KIP-966): only a KRaft controller of a release that has
    # them turns them on; ZooKeeper mode never had them
    elr_enabled: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._unclean = frozenset(t for t, p in self.policies.items() if p.unclean_leader_election_enable)
        self._imbalanced = {tp for tp, p in self.partitions.items() if not p.has_preferred_leader()}

    @staticmethod
    def _initial(
        topology: Topology,
        topics: Mapping[str, TopicPolicy] | None,
        config: BrokerConfig | None,
        start: float,
        fenced: Iterable[int],
        metadata_delay: float,
    ) -> dict[str, object]:
        """The fields both controllers start from: every broker in contact at ``start``,
        ``fenced`` ones fenced (a ValueError for one not in the topology)."""
        down = set(fenced)
        brokers = {b.id: BrokerState(fenced=b.id in down, last_contact=start) for b in topology.brokers}
        unknown = sorted(down - set(brokers))
        if unknown:
            raise ValueError(f"fenced brokers {unknown} are not in the topology (brokers {sorted(brokers)})")
        return {"partitions": dict(topology.partitions), "brokers": brokers, "policies": dict(topics or {}),
                "config": config or BrokerConfig(), "metadata_delay": metadata_delay, "now": start}

    @classmethod
    def from_scenario(cls, scenario: Scenario, topology: Topology, **kwargs: Any) -> Self:
        """The controller of a run of ``scenario`` starting from ``topology`` (normally
        ``scenario_topology``): its topics' policies, its broker configs, and
        ``cluster.offline_brokers`` fenced from the start."""
        kwargs.setdefault("fenced", scenario.cluster.offline_brokers)
        return cls(topology, topics=topic_policies(scenario), config=scenario.cluster.config, **kwargs)

    def handle(self, event: Event) -> list[Decision]:
        """Apply ``event`` (after every timer due by then) and return the decisions, ordered
        by :func:`decision_order`. Events must come in non-decreasing ``at``."""
        self._advance(event.at)
        # Timers due strictly before the event fire first, each at its own deadline. One due
        # at the event's very instant waits for a Tick: BrokerHeartbeatManager.hasValidSession
        # holds while lastContact + timeout >= now, so a heartbeat at the deadline still counts
        # (and in ZooKeeper mode a failover at the instant a session expires comes first, so
        # the expiry is the new controller's work, after its reload).
        out = self._run_timers(event.at, inclusive=isinstance(event, Tick))
        if isinstance(event, BrokerHeartbeat):
            out += self._heartbeat(event)
        elif isinstance(event, BrokerRegistered):
            out += self._registered(event)
        elif isinstance(event, ControlledShutdownRequest):
            out += self._controlled_shutdown(event)
        elif isinstance(event, AlterPartitionRequest):
            out += self._handle_alter_partition(event)
        elif isinstance(event, ControllerFailover):
            out += self._failover(event)
        elif not isinstance(event, Tick):
            raise TypeError(f"not a controller event: {event!r}")
        self._after_event(event.at)
        return sorted(out, key=decision_order)

    def _handle_alter_partition(self, req: AlterPartitionRequest) -> list[Decision]:
        return self._alter_partition(req)

    def _after_event(self, at: float) -> None:
        """What a controller does after every event (KRaft: schedule the imbalance check)."""

    def _set_partition(self, tp: TopicPartition, registration: PartitionRegistration) -> None:
        self.partitions[tp] = registration
        if registration.has_preferred_leader():
            self._imbalanced.discard(tp)
        else:
            self._imbalanced.add(tp)

    def _advance(self, at: float) -> None:
        if at < self.now:
            raise ValueError(f"event at {at} s is earlier than the controller's time {self.now} s")
        self.now = at

    def _broker(self, broker: int) -> BrokerState:
        try:
            return self.brokers[broker]
        except KeyError:
            raise ValueError(f"broker {broker} is not in the cluster (brokers {sorted(self.brokers)})") from None

    def active_brokers(self) -> list[int]:
        return [b for b, s in sorted(self.brokers.items()) if s.active]

    def _min_isr(self) -> dict[str, int]:
        return {t: p.min_insync_replicas for t, p in self.policies.items()}

    def _changes(
        self, changes: Mapping[TopicPartition, PartitionRegistration], reason: ChangeReason, at: float
    ) -> list[Decision]:
        out: list[Decision] = []
        for tp in sorted(changes):
            self._set_partition(tp, changes[tp])
            out.append(PartitionChanged(tp, changes[tp], reason, at, at + self.metadata_delay))
        return out

    def _validate_alter_partition(self, req: AlterPartitionRequest) -> str | None:
        """``ReplicationControlManager.validateAlterPartitionData``: Kafka's checks, in order."""
        partition = self.partitions.get(req.tp)
        if partition is None:
            return "UNKNOWN_TOPIC_OR_PARTITION"
        if req.leader_epoch > partition.leader_epoch:
            return "NOT_CONTROLLER"  # the leader knows a newer epoch: this controller is stale
        if req.leader_epoch < partition.leader_epoch:
            return "FENCED_LEADER_EPOCH"
        if req.broker != partition.leader:
            return "INVALID_REQUEST"
        if req.partition_epoch is not None and req.partition_epoch < partition.partition_epoch:
            return "INVALID_UPDATE_VERSION"
        if len(set(req.new_isr)) != len(req.new_isr) or any(r not in partition.replicas for r in req.new_isr):
            return "INVALID_REQUEST"
        if partition.leader not in req.new_isr:
            return "INVALID_REQUEST"
        recovering = req.leader_recovery_state is LeaderRecoveryState.RECOVERING
        if recovering and len(req.new_isr) > 1:
            return "INVALID_REQUEST"  # no follower may join before the leader has recovered
        if recovering and partition.leader_recovery_state is LeaderRecoveryState.RECOVERED:
            return "INVALID_REQUEST"  # RECOVERED never goes back to RECOVERING
        for replica in req.new_isr:
            state = self.brokers.get(replica)
            if state is None or not state.active:  # not registered, shutting down or fenced
                return "INELIGIBLE_REPLICA"
        return None

    def _alter_partition(self, req: AlterPartitionRequest) -> list[Decision]:
        error = self._validate_alter_partition(req)
        if error is not None:
            return [AlterPartitionRejected(req.tp, req.broker, error, req.at, req.at)]
        old = self.partitions[req.tp]
        new = alter_isr(
            old, req.new_isr, min_insync_replicas=self._min_isr().get(req.tp.topic, 1),
            elr_enabled=self.elr_enabled,
        )
        if req.leader_recovery_state != old.leader_recovery_state:  # RECOVERING -> RECOVERED
            new = replace(new, leader_recovery_state=req.leader_recovery_state, partition_epoch=old.partition_epoch + 1)
        if new == old:
            return []  # PartitionChangeBuilder.build() is empty: no record, nothing to apply
        return self._changes({req.tp: new}, "alter_partition", req.at)

    def offline_partitions(self) -> list[TopicPartition]:
        return [tp for tp, p in sorted(self.partitions.items()) if p.leader == NO_LEADER]

    def _summary(self) -> str:
        fenced = sorted(b for b, s in self.brokers.items() if s.fenced or not s.registered)
        shutting = sorted(b for b, s in self.brokers.items() if s.in_controlled_shutdown)
        parts = [
            f"t={self.now:g}s",
            f"{len(self.brokers)} brokers",
            f"{len(self.partitions)} partitions",
            f"offline={len(self.offline_partitions())}",
        ]
        if fenced:
            parts.append(f"fenced={fenced}")
        if shutting:
            parts.append(f"shutting_down={shutting}")
        return " ".join(parts)


class KRaftController(_ControlPlane):
    """The active KRaft controller (``QuorumController``) as a state machine.

    * **Sessions** (``BrokerHeartbeatManager``): an unfenced broker whose last heartbeat
      is ``broker.session.timeout.ms`` old is fenced -- by the Tick at ``last + timeout``
      (a heartbeat at that very instant still keeps the session); stale
      brokers are fenced one at a time, the longest silent first (``findOneStaleBroker``).
      Fencing runs ``handleBrokerFenced``: out of every ISR, new leaders from the ISR
      (unclean only where the topic allows it). Fenced brokers have no session to expire.
    * **Unfencing**: a registered, fenced broker is unfenced by its next heartbeat and
      leaderless partitions it can lead elect again (``handleBrokerUnfenced``). It rejoins
      ISRs only through its leaders' ``AlterPartition`` once caught up.
    * **Controlled shutdown** (``controlled.shutdown.enable``): the broker leaves every ISR
      and every partition it leads elects another ISR member at once
      (``handleBrokerInControlledShutdown``); it may stop (``SHUTDOWN_NOW``, then fenced)
      when it leads nothing and every broker has applied those records -- the
      ``controlledShutdownOffset <= lowestActiveOffset`` check, here ``metadata_delay`` later.
      With the option off the broker stops at once and is fenced at the session timeout.
    * **Preferred leaders** (``auto.leader.rebalance.enable``): after any controller write,
      if some partition is not led by its preferred replica and no check is pending, one is
      scheduled ``leader.imbalance.check.interval.seconds`` later
      (``QuorumController.maybeScheduleNextBalancePartitionLeaders``). It runs a PREFERRED
      election on every imbalanced partition, which moves the leader only where the
      preferred replica is in the ISR and active, at most ``MAX_ELECTIONS_PER_IMBALANCE``
      per pass (``ReplicationControlManager.maybeBalancePartitionLeaders``).
      ``leader.imbalance.per.broker.percentage`` is not read: in KRaft (3.x and 4.x) no
      per-broker ratio is computed -- only ZooKeeper mode's
      ``KafkaController.checkAndTriggerAutoLeaderRebalance`` compared it.
    * **AlterPartition**: validated as ``validateAlterPartitionData`` (stale leader epoch:
      ``FENCED_LEADER_EPOCH``; fenced or shutting-down replicas: ``INELIGIBLE_REPLICA``).
    * **Failover**: a standby controller has the metadata log in memory, so it is active
      at once; like ``ClusterControlManager.activate`` it gives every unfenced broker a
      fresh session.
    """

    def __init__(
        self,
        topology: Topology,
        *,
        topics: Mapping[str, TopicPolicy] | None = None,
        config: BrokerConfig | None = None,
        start: float = 0.0,
        fenced: Iterable[int] = (),
        metadata_delay: float = KRAFT_METADATA_DELAY,
        elr_enabled: bool = False,
    ) -> None:
        if metadata_delay < 0:
            raise ValueError(f"metadata_delay must be >= 0 s (got {metadata_delay})")
        super().__init__(**self._initial(topology, topics, config, start, fenced, metadata_delay))
        self.elr_enabled = elr_enabled
        self._balance_at: float | None = None  # ImbalanceSchedule.SCHEDULED when not None
        self._balance_immediately = False
        self._shutdown_at: dict[int, float] = {}  # brokers waiting for SHUTDOWN_NOW
        self._maybe_schedule_balance(start)

    # -- the interface the engines drive: handle() (in _ControlPlane), next_deadline() --------

    def _after_event(self, at: float) -> None:
        self._maybe_schedule_balance(at)  # every controller write event does this

    def next_deadline(self) -> float | None:
        """The earliest time a :class:`Tick` would produce something: a session expiry, a
        pending shutdown grant or the next leader-imbalance check."""
        times = [s.last_contact + self.config.broker_session_timeout for s in self._sessions()]
        times += self._shutdown_at.values()
        if self._balance_at is not None:
            times.append(self._balance_at)
        return min(times) if times else None

    # -- timers -----------------------------------------------------------------------------

    def _sessions(self) -> list[BrokerState]:
        """Brokers the heartbeat manager watches: registered and unfenced."""
        return [s for s in self.brokers.values() if s.registered and not s.fenced]

    def _run_timers(self, until: float, *, inclusive: bool) -> list[Decision]:
        """Fire every timer due by ``until``, each at its own deadline, earliest first."""
        out: list[Decision] = []
        timeout = self.config.broker_session_timeout

        def reached(t: float) -> bool:
            return t <= until if inclusive else t < until

        while True:
            due: list[tuple[float, int, str]] = [
                (s.last_contact + timeout, b, "expire")
                for b, s in sorted(self.brokers.items())
                if s.registered and not s.fenced and reached(s.last_contact + timeout)
            ]
            due += [(t, b, "shutdown") for b, t in sorted(self._shutdown_at.items()) if reached(t)]
            if self._balance_at is not None and reached(self._balance_at):
                due.append((self._balance_at, -1, "balance"))
            if not due:
                return out
            at, broker, kind = min(due)
            if kind == "expire":
                out += self._fence(broker, at, "fenced")
            elif kind == "shutdown":
                del self._shutdown_at[broker]
                out.append(ShutdownCompleted(broker, at, at + self.metadata_delay))
                out += self._fence(broker, at, "fenced")  # SHUTDOWN_NOW -> handleBrokerFenced
            else:
                out += self._balance(at)
            self._maybe_schedule_balance(at)

    def _fence(self, broker: int, at: float, reason: ChangeReason) -> list[Decision]:
        state = self.brokers[broker]
        state.fenced = True
        state.in_controlled_shutdown = False
        changes = fence_broker(
            self.partitions,
            broker,
            self.active_brokers(),
            unclean_topics=self._unclean,
            min_isr=self._min_isr(),
            elr_enabled=self.elr_enabled,
        )
        return [*self._changes(changes, reason, at), BrokerFenced(broker, at, at + self.metadata_delay)]

    def _maybe_schedule_balance(self, now: float) -> None:
        if not self.config.auto_leader_rebalance_enable or self._balance_at is not None:
            return
        if not self._imbalanced:
            return
        delay = IMMEDIATE_REBALANCE_DELAY if self._balance_immediately else self.config.leader_imbalance_check_interval
        self._balance_at = now + delay

    def _balance(self, at: float) -> list[Decision]:
        self._balance_at = None
        imbalanced = {tp: self.partitions[tp] for tp in sorted(self._imbalanced)}
        changes = elect_preferred_leaders(
            imbalanced, self.active_brokers(), min_isr=self._min_isr(), elr_enabled=self.elr_enabled
        )
        chosen = sorted(changes)[:MAX_ELECTIONS_PER_IMBALANCE]
        self._balance_immediately = len(changes) > MAX_ELECTIONS_PER_IMBALANCE
        return self._changes({tp: changes[tp] for tp in chosen}, "preferred", at)

    # -- inputs ------------------------------------------------------------------------------

    def _heartbeat(self, event: BrokerHeartbeat) -> list[Decision]:
        state = self._broker(event.broker)
        if not state.registered:
            return []  # an unregistered broker's heartbeat fails (BROKER_ID_NOT_REGISTERED)
        state.last_contact = event.at
        if not state.fenced or event.want_fence or event.broker in self._shutdown_at:
            return []
        state.fenced = False
        changes = unfence_broker(
            self.partitions, event.broker, self.active_brokers(), unclean_topics=self._unclean,
            min_isr=self._min_isr(), elr_enabled=self.elr_enabled,
        )
        return [
            BrokerUnfenced(event.broker, event.at, event.at + self.metadata_delay),
            *self._changes(changes, "unfenced", event.at),
        ]

    def _registered(self, event: BrokerRegistered) -> list[Decision]:
        state = self._broker(event.broker)
        out: list[Decision] = []
        if state.registered and not state.fenced:
            # a new incarnation replaces a registration whose session had not yet expired:
            # the old one is fenced first, so nothing stays led by a process that is gone
            out += self._fence(event.broker, event.at, "fenced")
        self._shutdown_at.pop(event.broker, None)
        was_registered = state.registered
        state.registered, state.fenced, state.in_controlled_shutdown = True, True, False
        state.last_contact = event.at
        if self.elr_enabled and was_registered and not event.clean_shutdown:
            # ClusterControlManager.registerBroker -> handleBrokerUncleanShutdown: a replica
            # that may have lost unflushed records is no longer eligible to lead
            changes = unclean_shutdown_broker(
                self.partitions, event.broker, self.active_brokers(),
                unclean_topics=self._unclean, min_isr=self._min_isr(),
            )
            out += self._changes(changes, "unclean_shutdown", event.at)
        return out

    def _controlled_shutdown(self, event: ControlledShutdownRequest) -> list[Decision]:
        state = self._broker(event.broker)
        at = event.at
        if not self.config.controlled_shutdown_enable or state.fenced or not state.registered:
            # nothing to hand over (or the broker does not ask): it stops now; an unfenced
            # broker that did not ask is fenced when its session times out
            return [ShutdownCompleted(event.broker, at, at)]
        if event.broker in self._shutdown_at:
            return []
        state.in_controlled_shutdown = True
        changes = fence_broker(
            self.partitions,
            event.broker,
            self.active_brokers(),
            unclean_topics=self._unclean,
            min_isr=self._min_isr(),
            elr_enabled=self.elr_enabled,
        )
        self._shutdown_at[event.broker] = at + self.metadata_delay
        return self._changes(changes, "controlled_shutdown", at)

    def _failover(self, event: ControllerFailover) -> list[Decision]:
        for state in self._sessions():
            state.last_contact = event.at
        self._balance_at = None  # the new controller starts DEFERRED
        self._balance_immediately = False
        return [ControllerActivated(event.at, event.at)]

    def __repr__(self) -> str:
        balance = "" if self._balance_at is None else f" balance_at={self._balance_at:g}s"
        return f"<KRaftController {self._summary()}{balance}>"
