"""What every consumer-partition assignor takes and returns.

Classic (client-side) assignors and the KIP-848 server-side assignors see the same
inputs here: the partition count of every subscribed topic and, per member, its
subscription. Members are always processed in a deterministic order defined by each
assignor (Kafka sorts member ids, or group.instance.ids for static members), never in
dict or set iteration order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
