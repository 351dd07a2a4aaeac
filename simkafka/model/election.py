"""Leader election and ISR changes, as the KRaft controller decides them.

This mirrors ``org.apache.kafka.controller.PartitionChangeBuilder`` (Kafka 3.7 - 4.1) and
the callers in ``ReplicationControlManager``: a change proposes a *target ISR*, then an
election picks the leader from it, and the result is a new ``PartitionRegistration``
(or ``None`` when nothing changes, as ``build()`` returns ``Optional.empty()``).

The rules a Kafka operator relies on:

* **Clean (ONLINE) election** -- keep the current leader if it is still in the target ISR
  and acceptable (registered, unfenced, not shutting down); otherwise the *first replica in
  assignment order* that is in the target ISR and acceptable.
* **Unclean election** (``unclean.leader.election.enable``) -- only when no clean leader
  exists: the first acceptable replica in assignment order, ISR forced to just it, leader
  recovery state ``RECOVERING``. Data past its log end is lost.
* **Preferred election** -- the first replica of the assignment if it is in the ISR and
  acceptable, else the current leader if it still qualifies, else any clean leader.
* **Fencing / controlled shutdown** remove the broker from the ISR, except that the ISR
  never becomes empty (without ELR): the last member stays and the partition goes
  leaderless (``Leader: none``) until that broker returns. ZooKeeper mode's
  ``offlinePartitionLeaderElection`` / ``removeReplicasFromIsr`` give the same outcome.
* The leader epoch increases only when the leader changes (metadata version >= 3.6 no
  longer bumps it on an ISR shrink, KAFKA-15021); the partition epoch on every change.

Eligible leader replicas (KIP-966) are supported when ``elr_enabled`` is set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from simkafka.model.types import TopicPartition

NO_LEADER = -1


class Election(Enum):
    """``PartitionChangeBuilder.Election``."""

    PREFERRED = "preferred"
    ONLINE = "online"
    UNCLEAN = "unclean"


class LeaderRecoveryState(Enum):
    RECOVERED = 0
    RECOVERING = 1


@dataclass(frozen=True, slots=True)
class PartitionRegistration:
    """The controller's record of one partition (``PartitionRegistration``)."""

    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    leader: int = NO_LEADER
    leader_epoch: int = 0
    partition_epoch: int = 0
    elr: tuple[int, ...] = ()
    last_known_elr: tuple[int, ...] = ()
    leader_recovery_state: LeaderRecoveryState = LeaderRecoveryState.RECOVERED

    @classmethod
    def created(cls, replicas: Sequence[int]) -> PartitionRegistration:
        """A new partition: preferred leader, full ISR, epochs zero (``createTopic``)."""
        return cls(replicas=tuple(replicas), isr=tuple(replicas), leader=replicas[0])

    @property
    def preferred_leader(self) -> int:
        return self.replicas[0]

    @property
    def has_leader(self) -> bool:
        return self.leader != NO_LEADER

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)

    def under_min_isr(self, min_insync_replicas: int) -> bool:
        return len(self.isr) < min_insync_replicas

    def has_preferred_leader(self) -> bool:
        return self.leader == self.replicas[0]

    def __repr__(self) -> str:
        leader = "none" if self.leader == NO_LEADER else str(self.leader)
        return (
            f"<Partition leader={leader} epoch={self.leader_epoch} replicas={list(self.replicas)} "
            f"isr={list(self.isr)}>"
        )


@dataclass(frozen=True, slots=True)
class ElectionResult:
    node: int
    unclean: bool


def elect_leader(
    partition: PartitionRegistration,
    target_isr: Sequence[int],
    is_acceptable_leader: Callable[[int], bool],
    election: Election = Election.ONLINE,
    *,
    target_elr: Sequence[int] = (),
    last_known_leader_enabled: bool = False,
) -> ElectionResult:
    """``PartitionChangeBuilder.electLeader``: who leads given the target ISR."""

    def valid(replica: int) -> bool:
        in_isr = replica in target_isr or (not target_isr and replica in target_elr)
        return in_isr and is_acceptable_leader(replica)

    def last_known_leader() -> ElectionResult | None:
        if (
            last_known_leader_enabled
            and not target_elr
            and not target_isr
            and len(partition.last_known_elr) == 1
        ):
            return ElectionResult(partition.last_known_elr[0], True)
        return None

    replicas = partition.replicas
    if election is Election.PREFERRED:
        candidates: Iterable[int] = replicas[1:]
        if valid(replicas[0]):
            return ElectionResult(replicas[0], False)
        if partition.leader != NO_LEADER and valid(partition.leader):
            return ElectionResult(partition.leader, False)
    else:
        candidates = replicas
        if partition.leader != NO_LEADER and valid(partition.leader):
            return ElectionResult(partition.leader, False)
    for replica in candidates:
        if valid(replica):
            return ElectionResult(replica, False)
    fallback = last_known_leader()
    if fallback is not None:
        return fallback
    if election is Election.UNCLEAN:
        for replica in replicas:
            if is_acceptable_leader(replica):
                return ElectionResult(replica, True)
    return ElectionResult(NO_LEADER, False)


def change_partition(
    partition: PartitionRegistration,
    *,
    is_acceptable_leader: Callable[[int], bool],
    target_isr: Sequence[int] | None = None,
    election: Election = Election.ONLINE,
    min_insync_replicas: int = 1,
    elr_enabled: bool = False,
    unclean_shutdown_replicas: Sequence[int] = (),
) -> PartitionRegistration | None:
    """``PartitionChangeBuilder.build`` without reassignment: the new registration, or None.

    ``target_isr`` defaults to the current ISR (a pure election, e.g. after a broker is
    unfenced or for a preferred-leader election).
    """
    isr = list(partition.isr if target_isr is None else target_isr)
    elr = list(partition.elr)
    if elr_enabled:  # maybePopulateTargetElr: replicas that left the ISR while it was < min
        if len(isr) >= min_insync_replicas:
            elr = []
        else:
            elr = [
                r
                for r in _ordered_union(elr, partition.isr)
                if r not in isr and r not in unclean_shutdown_replicas
            ]

    result = elect_leader(
        partition,
        isr,
        is_acceptable_leader,
        election,
        target_elr=elr,
        last_known_leader_enabled=elr_enabled,
    )
    leader = partition.leader
    new_isr: list[int] | None = None
    recovery = partition.leader_recovery_state
    if result.node != partition.leader:
        leader = result.node
        if result.node in elr:
            isr = [result.node]
            elr = [r for r in elr if r != result.node]
        if result.unclean:
            # Forcing the ISR to the new leader is what loses data in an unclean election.
            new_isr = [result.node]
            recovery = LeaderRecoveryState.RECOVERING
    if new_isr is not None or not elr_enabled:  # maybeUpdateRecordElr
        elr = []
    # Without ELR the ISR never becomes empty: its last member stays, leaderless.
    if new_isr is None and (isr or elr_enabled) and tuple(isr) != partition.isr:
        new_isr = isr
    last_known_elr = partition.last_known_elr
    if elr_enabled:  # maybeUpdateLastKnownLeader (balanced recovery keeps the last leader)
        if new_isr is not None and not new_isr and last_known_elr != (partition.leader,):
            last_known_elr = (partition.leader,)
        elif leader != NO_LEADER and last_known_elr:
            last_known_elr = ()

    final_isr = tuple(new_isr) if new_isr is not None else partition.isr
    leader_changed = leader != partition.leader
    changed = (
        leader_changed
        or final_isr != partition.isr
        or tuple(elr) != partition.elr
        or last_known_elr != partition.last_known_elr
        or recovery != partition.leader_recovery_state
    )
    if not changed:
        return None
    return replace(
        partition,
        leader=leader,
        isr=final_isr,
        elr=tuple(elr),
        last_known_elr=last_known_elr,
        leader_recovery_state=recovery,
        leader_epoch=partition.leader_epoch + (1 if leader_changed else 0),
        partition_epoch=partition.partition_epoch + 1,
    )


def _ordered_union(first: Iterable[int], second: Iterable[int]) -> list[int]:
    out: list[int] = []
    for replica in (*first, *second):
        if replica not in out:
            out.append(replica)
    return out


# --- the controller's callers, over many partitions ------------------------------------


def _acceptor(
    active_brokers: Iterable[int], *, removed: int = NO_LEADER, added: int = NO_LEADER
) -> Callable[[int], bool]:
    """``generateLeaderAndIsrUpdates``' isAcceptableLeader predicate."""
    active = frozenset(active_brokers)
    return lambda r: r != removed and (r == added or r in active)


def _remove_broker(
    partitions: Mapping[TopicPartition, PartitionRegistration],
    broker: int,
    active_brokers: Iterable[int],
    *,
    unclean_topics: frozenset[str],
    min_isr: Mapping[str, int] | None,
    elr_enabled: bool,
    unclean_shutdown: bool,
) -> dict[TopicPartition, PartitionRegistration]:
    """``generateLeaderAndIsrUpdates`` with ``brokerToRemove`` (or, for an unclean
    shutdown, ``brokerWithUncleanShutdown``): ``broker`` leaves the ISR -- and with an
    unclean shutdown the ELR too -- of every partition that lists it, and may lead none."""
    accept = _acceptor(active_brokers, removed=broker)
    changes: dict[TopicPartition, PartitionRegistration] = {}
    for tp, partition in partitions.items():
        if broker not in partition.isr and not (unclean_shutdown and broker in partition.elr):
            continue
        election = Election.UNCLEAN if tp.topic in unclean_topics else Election.ONLINE
        new = change_partition(
            partition,
            is_acceptable_leader=accept,
            target_isr=[r for r in partition.isr if r != broker],
            election=election,
            min_insync_replicas=(min_isr or {}).get(tp.topic, 1),
            elr_enabled=elr_enabled,
            unclean_shutdown_replicas=(broker,) if unclean_shutdown else (),
        )
        if new is not None:
            changes[tp] = new
    return changes


def fence_broker(
    partitions: Mapping[TopicPartition, PartitionRegistration],
    broker: int,
    active_brokers: Iterable[int],
    *,
    unclean_topics: frozenset[str] = frozenset(),
    min_isr: Mapping[str, int] | None = None,
    elr_enabled: bool = False,
) -> dict[TopicPartition, PartitionRegistration]:
    """``handleBrokerFenced`` / ``handleBrokerInControlledShutdown``: drop ``broker`` from
    every ISR it is in and re-elect where it led. Returns only the partitions that changed.

    ``active_brokers`` are the brokers that may lead (registered, unfenced, not in
    controlled shutdown); ``unclean_topics`` those with unclean election enabled.
    """
    return _remove_broker(partitions, broker, active_brokers, unclean_topics=unclean_topics, min_isr=min_isr,
                          elr_enabled=elr_enabled, unclean_shutdown=False)


def unclean_shutdown_broker(
    partitions: Mapping[TopicPartition, PartitionRegistration],
    broker: int,
    active_brokers: Iterable[int],
    *,
    unclean_topics: frozenset[str] = frozenset(),
    min_isr: Mapping[str, int] | None = None,
) -> dict[TopicPartition, PartitionRegistration]:
    """``handleBrokerUncleanShutdown`` (KIP-966): ``broker`` registered again without the
    clean-shutdown marker (its ``previousBrokerEpoch`` is not the epoch it last held), so
    it may have lost records it never flushed. Every partition that still lists it in its
    ISR or its ELR drops it from both, and it may not lead any of them. Only with eligible
    leader replicas: without them a fenced broker is in no ISR and there is no ELR."""
    return _remove_broker(partitions, broker, active_brokers, unclean_topics=unclean_topics, min_isr=min_isr,
                          elr_enabled=True, unclean_shutdown=True)


def unfence_broker(
    partitions: Mapping[TopicPartition, PartitionRegistration],
    broker: int,
    active_brokers: Iterable[int],
    *,
    unclean_topics: frozenset[str] = frozenset(),
    min_isr: Mapping[str, int] | None = None,
    elr_enabled: bool = False,
) -> dict[TopicPartition, PartitionRegistration]:
    """``handleBrokerUnfenced``: leaderless partitions that ``broker`` may now lead elect
    again. The broker rejoins ISRs only later, when its fetches catch up (AlterPartition).
    With eligible leader replicas a leaderless partition whose ISR is empty elects from
    its ELR, and keeps the ELR it has otherwise.
    """
    accept = _acceptor(active_brokers, added=broker)
    changes: dict[TopicPartition, PartitionRegistration] = {}
    for tp, partition in partitions.items():
        if partition.leader != NO_LEADER or broker not in partition.replicas:
            continue
        election = Election.UNCLEAN if tp.topic in unclean_topics else Election.ONLINE
        new = change_partition(
            partition,
            is_acceptable_leader=accept,
            election=election,
            min_insync_replicas=(min_isr or {}).get(tp.topic, 1),
            elr_enabled=elr_enabled,
        )
        if new is not None:
            changes[tp] = new
    return changes


def elect_preferred_leaders(
    partitions: Mapping[TopicPartition, PartitionRegistration],
    active_brokers: Iterable[int],
    *,
    min_isr: Mapping[str, int] | None = None,
    elr_enabled: bool = False,
) -> dict[TopicPartition, PartitionRegistration]:
    """``kafka-leader-election.sh --election-type PREFERRED`` (and the auto leader
    rebalance, which in KRaft elects every imbalanced partition whose preferred replica
    can lead)."""
    accept = _acceptor(active_brokers)
    changes: dict[TopicPartition, PartitionRegistration] = {}
    for tp, partition in partitions.items():
        if partition.has_preferred_leader():
            continue
        new = change_partition(
            partition,
            is_acceptable_leader=accept,
            election=Election.PREFERRED,
            min_insync_replicas=(min_isr or {}).get(tp.topic, 1),
            elr_enabled=elr_enabled,
        )
        if new is not None:
            changes[tp] = new
    return changes


def alter_isr(
    partition: PartitionRegistration,
    new_isr: Sequence[int],
    *,
    min_insync_replicas: int = 1,
    elr_enabled: bool = False,
) -> PartitionRegistration:
    """An ``AlterPartition`` from the leader shrinking or expanding the ISR.

    The leader never removes itself and only adds replicas of the assignment; the leader
    and leader epoch are unchanged, the partition epoch increases. With eligible leader
    replicas the change goes through ``maybePopulateTargetElr`` as every other: an ISR
    back at ``min.insync.replicas`` clears the ELR, one that shrinks below it keeps the
    replicas it dropped as eligible.
    """
    if partition.leader == NO_LEADER or partition.leader not in new_isr:
        raise ValueError(f"the ISR {list(new_isr)} must contain the leader {partition.leader}")
    unknown = [r for r in new_isr if r not in partition.replicas]
    if unknown:
        raise ValueError(f"replicas {unknown} are not in the assignment {list(partition.replicas)}")
    if tuple(new_isr) == partition.isr:
        return partition
    elr, last_known_elr = partition.elr, partition.last_known_elr
    if elr_enabled:
        if len(new_isr) >= min_insync_replicas:
            elr, last_known_elr = (), ()
        else:
            elr = tuple(r for r in _ordered_union(partition.elr, partition.isr) if r not in new_isr)
    return replace(
        partition,
        isr=tuple(new_isr),
        elr=elr,
        last_known_elr=last_known_elr,
        partition_epoch=partition.partition_epoch + 1,
    )


def leader_imbalance(
    partitions: Mapping[TopicPartition, PartitionRegistration],
) -> dict[int, float]:
    """Per preferred broker, the share of its partitions led by someone else -- what
    ``leader.imbalance.per.broker.percentage`` is compared with in ZooKeeper mode."""
    preferred: dict[int, int] = {}
    not_led: dict[int, int] = {}
    for partition in partitions.values():
        broker = partition.preferred_leader
        preferred[broker] = preferred.get(broker, 0) + 1
        if partition.leader != broker:
            not_led[broker] = not_led.get(broker, 0) + 1
    return {b: not_led.get(b, 0) / n for b, n in sorted(preferred.items())}
