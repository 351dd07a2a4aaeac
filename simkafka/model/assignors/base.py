"""What every consumer-partition assignor takes and returns.

Classic (client-side) assignors and the KIP-848 server-side assignors see the same
inputs here: the partition count of every subscribed topic and, per member, its
subscription. Members are always processed in a deterministic order defined by each
assignor (Kafka sorts member ids, or group.instance.ids for static members), never in
dict or set iteration order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from simkafka.model.types import TopicPartition


@dataclass(frozen=True, slots=True)
class MemberSubscription:
    """One member's subscription, as the leader (classic) or coordinator (KIP-848) sees it.

    ``owned_partitions`` and ``generation`` matter only to the sticky assignors
    (``ConsumerProtocolSubscription`` v1+ carries them); ``group_instance_id`` is set
    for static members; ``rack`` is ``client.rack`` (KIP-881).
    """

    member_id: str
    topics: tuple[str, ...]
    owned_partitions: tuple[TopicPartition, ...] = ()
    generation: int = -1
    group_instance_id: str | None = None
    rack: str | None = None


# member id -> partitions assigned to it, each list sorted (topic, partition)
Assignment = dict[str, list[TopicPartition]]


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """Everything an assignor is given: topic sizes and member subscriptions."""

    partitions_per_topic: Mapping[str, int]
    subscriptions: Mapping[str, MemberSubscription]
    # Optional replica racks per partition for rack-aware assignment (KIP-881/KIP-848).
    partition_racks: Mapping[TopicPartition, frozenset[str]] = field(default_factory=dict)


class Assignor(Protocol):
    """A consumer partition assignor. ``name`` is Kafka's protocol name ("range", ...)."""

    name: str

    def assign(self, spec: GroupSpec) -> Assignment: ...


def assign_until_stable(assignor: Assignor, spec: GroupSpec, max_rounds: int = 10) -> Assignment:
    """What a group whose members rejoin until nothing changes settles on: ``assignor``'s
    answer for ``spec``, fed back as each member's ``owned_partitions`` (one generation
    later) until the answer is what they own.

    An eager assignor (range, roundrobin) settles in one round. A cooperative one
    (cooperative-sticky) withholds a partition that another member still owns, so a
    member joining takes two rounds: the first takes the partitions away, the second
    (the members' rejoin after revoking) hands them out -- the classic protocol's
    follow-up rebalance. Raises ``RuntimeError`` if it has not settled in ``max_rounds``.
    """
    subscriptions = dict(spec.subscriptions)
    for _ in range(max_rounds):
        answer = assignor.assign(GroupSpec(spec.partitions_per_topic, subscriptions, spec.partition_racks))
        owned = {m: sorted(s.owned_partitions) for m, s in subscriptions.items()}
        settled = {m: sorted(answer.get(m, [])) for m in subscriptions}
        if settled == owned:
            return answer
        subscriptions = {
            m: replace(s, owned_partitions=tuple(settled[m]), generation=max(s.generation, 0) + 1)
            for m, s in subscriptions.items()
        }
    raise RuntimeError(f"{assignor.name}: the assignment did not settle in {max_rounds} rounds")
