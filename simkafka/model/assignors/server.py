"""KIP-848 server-side assignors: the group coordinator's ``uniform`` and ``range``.

With the new consumer group protocol (KIP-848) the *group coordinator* computes each
member's target assignment; the client only names an assignor
(``group.remote.assignor``). These are Python ports of the coordinator's own classes in
``org.apache.kafka.coordinator.group.assignor`` (``group-coordinator`` module) as Kafka
4.1 ships them, and as 4.0 does where the two differ (``UniformAssignor(release="4.0.0")``,
see :mod:`simkafka.kafka_version`). Neither release looks at racks in these assignors;
the rack-aware passes of later Kafka trunk are kept behind ``rack_aware=True`` for
experiments and are not used by the simulator.

* :class:`UniformAssignor` (``UniformAssignor``, the default server assignor) dispatches
  on the group's subscription type, as ``ModernGroup.subscriptionType()`` computes it:
  ``HOMOGENEOUS`` when every member subscribes to the same topics, else ``HETEROGENEOUS``.
  Homogeneous groups go to ``UniformHomogeneousAssignmentBuilder`` (quota per member,
  keep what fits, hand out the rest in list order), heterogeneous ones to
  ``UniformHeterogeneousAssignmentBuilder`` (least-loaded hand-out, then an iterative
  most-loaded -> least-loaded rebalancing per topic).
* :class:`RangeAssignor` (``RangeAssignor``): contiguous ranges per topic in the order of
  ``sortMemberIds`` (static members by ``group.instance.id`` first, then member ids), so
  co-partitioned topics line up. Unlike the 3.7 version (which kept members' previous
  ranges), it does **not** look at the previous assignment; it is "sticky" only in that
  members whose position in that order does not change keep their ranges (which is why
  static members sort first).

Iteration orders, which decide *which* partition goes where:

* Members: Kafka iterates ``GroupSpec.memberIds()``. Kafka's tests feed a ``TreeMap``
  (sorted ids); the coordinator itself builds a ``HashMap``. ``member_order="sorted"``
  (default) reproduces the tests; ``member_order="java_hashmap"`` emulates a
  ``java.util.HashMap<String, ?>`` (``String.hashCode`` buckets, sorted ids as insertion
  order for bucket ties). The range assignor always sorts (``sortMemberIds``).
* Topics: the homogeneous uniform builder walks a ``HashSet<Uuid>`` of topic ids, so the
  outcome depends on the topic ids. Pass ``topic_ids`` (name -> base64 Kafka ``Uuid``,
  as printed by ``kafka-topics.sh --describe``) to reproduce that order exactly; without
  it topics are walked in ascending name order. The heterogeneous builder sorts topics
  and breaks ties by ``Uuid.compareTo`` (signed halves), or by name without ``topic_ids``.
* A member's previous assignment (``MemberSubscription.owned_partitions``): Kafka walks a
  ``Map<Uuid, Set<Integer>>``; we walk topics in order of first appearance in
  ``owned_partitions`` and partitions in the order given (Kafka's own tests use
  insertion-ordered maps where this matters).
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal, TypeVar

from simkafka.kafka_version import MODELLED_RELEASE, KafkaRelease, behaviour
from simkafka.model.assignors.base import Assignment, GroupSpec, MemberSubscription
from simkafka.model.types import TopicPartition

MemberOrder = Literal["sorted", "java_hashmap"]
K = TypeVar("K")

__all__ = [
    "PartitionAssignorException",
    "RangeAssignor",
    "UniformAssignor",
    "java_hashmap_order",
    "java_string_hash",
    "java_string_key",
    "kafka_uuid_hash",
    "kafka_uuid_sort_key",
]


class PartitionAssignorException(Exception):
    """Kafka's ``PartitionAssignorException``: e.g. a member subscribes to a missing topic."""


# --------------------------------------------------------------------------------------
# Java ordering helpers: HashMap/HashSet iteration order, String.hashCode, Kafka Uuid.
# --------------------------------------------------------------------------------------


def _to_int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def java_string_hash(s: str) -> int:
    """``java.lang.String.hashCode()``: 31-polynomial over UTF-16 code units, as int32."""
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return _to_int32(h)


def _uuid_bits(topic_id: str) -> tuple[int, int]:
    """(mostSignificantBits, leastSignificantBits) of ``Uuid.fromString`` (unsigned)."""
    raw = base64.urlsafe_b64decode(topic_id + "=" * (-len(topic_id) % 4))
    if len(raw) != 16:
        raise ValueError(f"{topic_id!r} is not a base64 Kafka Uuid (16 bytes)")
    return int.from_bytes(raw[:8], "big"), int.from_bytes(raw[8:], "big")


def kafka_uuid_hash(topic_id: str) -> int:
    """``org.apache.kafka.common.Uuid.hashCode()``: fold msb ^ lsb to an int32."""
    msb, lsb = _uuid_bits(topic_id)
    xor = msb ^ lsb
    return _to_int32((xor >> 32) ^ (xor & 0xFFFFFFFF))


def _to_int64(value: int) -> int:
    return value - (1 << 64) if value & (1 << 63) else value


def kafka_uuid_sort_key(topic_id: str) -> tuple[int, int]:
    """``Uuid.compareTo``: msb, then lsb, each compared as a *signed* Java ``long``.

    So an id whose first bit is set (base64 first character ``g``..``_``) sorts before
    every id whose first bit is clear -- not byte-wise order.
    """
    msb, lsb = _uuid_bits(topic_id)
    return _to_int64(msb), _to_int64(lsb)


def _table_size_for(cap: int) -> int:
    n = 1
    while n < cap:
        n <<= 1
    return n


def java_hashmap_order(
    keys: Iterable[K], hash_code: Callable[[K], int], initial_capacity: int = 16
) -> list[K]:
    """Iteration order of a ``java.util.HashMap``/``HashSet`` after inserting ``keys`` in order.

    HashMap spreads ``h ^ (h >>> 16)`` into ``capacity`` buckets, iterates buckets in index
    order and, within a bucket, in insertion order (resizes split buckets keeping that
    order). The table starts at ``tableSizeFor(initial_capacity)`` and doubles whenever the
    size exceeds 0.75 x capacity. (Treeified bins -- 8+ colliding keys -- are not modelled.)
    """
    key_list = list(keys)
    capacity = _table_size_for(max(initial_capacity, 1))
    while len(key_list) > int(capacity * 0.75):
        capacity <<= 1
    mask = capacity - 1

    def bucket(key: K) -> int:
        h = hash_code(key) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & mask

    return [key for _, key in sorted(enumerate(key_list), key=lambda e: (bucket(e[1]), e[0]))]


def _hashset_copy_capacity(size: int) -> int:
    """``new HashSet<>(collection)`` sizes its map ``max((int) (n / .75f) + 1, 16)``."""
    return max(int(size / 0.75) + 1, 16)


# --------------------------------------------------------------------------------------
# Shared plumbing
# --------------------------------------------------------------------------------------


def java_string_key(s: str) -> bytes:
    """Sort key giving ``String.compareTo`` order: UTF-16 code units, not code points.

    Python orders a supplementary character (a surrogate pair in Java) after U+FFFF; Java
    orders it before U+E000..U+FFFF. Big-endian UTF-16 bytes compare exactly like Java.
    """
    return s.encode("utf-16-be")


def _ordered_members(spec: GroupSpec, member_order: MemberOrder) -> list[str]:
    """``GroupSpec.memberIds()`` order: a TreeMap's (Kafka's tests) or a HashMap's (coordinator)."""
    ids = sorted(spec.subscriptions, key=java_string_key)
    if member_order == "sorted":
        return ids
    if member_order == "java_hashmap":
        return java_hashmap_order(ids, java_string_hash)
    raise ValueError(f"unknown member_order {member_order!r}")


def _num_partitions(spec: GroupSpec, topic: str) -> int:
    """``SubscribedTopicDescriber.numPartitions``: -1 for a topic missing from metadata."""
    return spec.partitions_per_topic.get(topic, -1)


def _racks_for_partition(spec: GroupSpec, topic: str, partition: int) -> frozenset[str]:
    return frozenset(spec.partition_racks.get(TopicPartition(topic, partition), ()))


def _is_rack_match(member_rack: str | None, partition_racks: frozenset[str]) -> bool:
    """``assignor.Utils.isRackMatch``: only a member *with* a rack can match."""
    return member_rack is not None and member_rack in partition_racks


def _owned_by_topic(sub: MemberSubscription) -> dict[str, list[int]]:
    """The member's current target assignment as topic -> partitions (appearance order)."""
    owned: dict[str, dict[int, None]] = {}
    for tp in sub.owned_partitions:
        owned.setdefault(tp.topic, {})[tp.partition] = None
    return {topic: list(parts) for topic, parts in owned.items()}


def _is_homogeneous(spec: GroupSpec) -> bool:
    """``ModernGroup.subscriptionType()``: HOMOGENEOUS iff every member has the same topics."""
    topic_sets = {frozenset(sub.topics) for sub in spec.subscriptions.values()}
    return len(topic_sets) <= 1


def _finish(
    member_ids: Iterable[str], target: Mapping[str, Mapping[str, Iterable[int]]]
) -> Assignment:
    """One sorted entry per member (Kafka omits members in some empty cases; we do not)."""
    result: Assignment = {}
    for member_id in member_ids:
        parts = target.get(member_id, {})
        result[member_id] = sorted(TopicPartition(t, p) for t, ps in parts.items() for p in ps)
    return result


# --------------------------------------------------------------------------------------
# UniformHomogeneousAssignmentBuilder
# --------------------------------------------------------------------------------------


class _Unfilled:
    """``MemberWithRemainingQuota``."""

    __slots__ = ("member_id", "remaining")

    def __init__(self, member_id: str, remaining: int) -> None:
        self.member_id = member_id
        self.remaining = remaining


def _homogeneous_topic_order(
    topics: Iterable[str], topic_ids: Mapping[str, str] | None
) -> list[str]:
    """Iteration order of ``new HashSet<>(subscribedTopicIds)`` -- or sorted names."""
    names = sorted(set(topics))
    if topic_ids is None:
        return names
    missing = [t for t in names if t not in topic_ids]
    if missing:
        raise ValueError(f"topic_ids has no id for {missing}")
    # Bucket ties keep insertion order; we insert in Uuid order (Kafka's source set order
    # is that of the member's subscription set, which only matters on a bucket collision).
    names.sort(key=lambda t: kafka_uuid_sort_key(topic_ids[t]))
    return java_hashmap_order(
        names, lambda t: kafka_uuid_hash(topic_ids[t]), _hashset_copy_capacity(len(names))
    )


def _unassigned_and_total(
    spec: GroupSpec, member_ids: Sequence[str], subscribed: Sequence[str]
) -> tuple[list[tuple[str, int]], int]:
    """``build()``'s first loop: partitions nobody owns (topic order) and the total count."""
    assigned_anywhere = {tp for m in member_ids for tp in spec.subscriptions[m].owned_partitions}
    unassigned: list[tuple[str, int]] = []
    total = 0
    for topic in subscribed:
        count = _num_partitions(spec, topic)
        if count == -1:
            raise PartitionAssignorException(
                f"Members are subscribed to topic {topic} which doesn't exist in the topic metadata."
            )
        unassigned.extend(
            (topic, p) for p in range(count) if TopicPartition(topic, p) not in assigned_anywhere
        )
        total += count
    return unassigned, total


def _assign_uniform_homogeneous(
    spec: GroupSpec,
    member_ids: Sequence[str],
    topic_ids: Mapping[str, str] | None,
    sticky_remainder: bool,
) -> dict[str, dict[str, list[int]]]:
    """Port of ``UniformHomogeneousAssignmentBuilder.build()`` as Kafka 4.0 and 4.1 ship it.

    Every member's quota is ``total // members``; ``total % members`` members get one more.
    A member keeps what it owns up to its quota (whole topics while they fit, then
    partition by partition); revoked and never-owned partitions go, in topic-then-partition
    order, to the members below quota in member order. Racks are not looked at.

    Which members get the extra partition is where the releases differ:

    * 4.0 (``sticky_remainder=False``): the first ``total % members`` members in member
      order, whatever they own -- so a balanced group can still see partitions move.
    * 4.1 (``sticky_remainder=True``, KAFKA-18688): a member that already owns more than
      the minimum keeps its extra partition; one that does not gives the extra quota up,
      unless it is among the last members that must take the remaining extras.
    """
    subs = spec.subscriptions
    subscribed = _homogeneous_topic_order(subs[member_ids[0]].topics, topic_ids)
    subscribed_set = set(subscribed)
    if not subscribed:
        return {}
    unassigned, total = _unassigned_and_total(spec, member_ids, subscribed)
    min_quota, extra = divmod(total, len(member_ids))
    target: dict[str, dict[str, list[int]]] = {}
    unfilled: list[tuple[str, int]] = []

    # maybeRevokePartitions
    for index, member_id in enumerate(member_ids):
        quota = min_quota
        has_extra = False
        if extra > 0:
            quota += 1
            if sticky_remainder:
                has_extra = True
            else:
                extra -= 1
        kept: dict[str, list[int]] = {}
        for topic, partitions in _owned_by_topic(subs[member_id]).items():
            if topic not in subscribed_set:
                continue  # the whole topic is revoked
            if len(partitions) <= quota:
                quota -= len(partitions)
                kept[topic] = list(partitions)
                continue
            for partition in partitions:
                if quota > 0:
                    quota -= 1
                    kept.setdefault(topic, []).append(partition)
                else:
                    unassigned.append((topic, partition))
        if sticky_remainder and quota > 0 and has_extra and len(member_ids) - index > extra:
            # Give the extra quota up for a member that already holds its extra partition,
            # unless this member is one of the last `extra` and must take it.
            quota -= 1
            has_extra = False
        if quota > 0:
            unfilled.append((member_id, quota))
        if has_extra:
            extra -= 1
        target[member_id] = kept

    # assignRemainingPartitions
    index = 0
    for member_id, remaining in unfilled:
        for partition in unassigned[index:index + remaining]:
            target[member_id].setdefault(partition[0], []).append(partition[1])
        index += min(remaining, len(unassigned) - index)
    if index < len(unassigned):
        raise PartitionAssignorException("Partitions were left unassigned")
    return target


def _assign_uniform_homogeneous_rack_aware(
    spec: GroupSpec, member_ids: Sequence[str], topic_ids: Mapping[str, str] | None
) -> dict[str, dict[str, list[int]]]:
    """Port of the rack-aware ``UniformHomogeneousAssignmentBuilder`` (apache/kafka#20000).

    Not in Kafka 4.0 or 4.1 (their builder ignores racks): reached only with
    ``UniformAssignor(rack_aware=True)``, for experiments with a later Kafka's assignor.

    Balance first: every member gets ``total // members`` partitions and the *last*
    ``total % members`` unfilled members one more (a member that already holds its extra
    partition keeps it). Then rack alignment, then stickiness: a member keeps previously
    owned partitions up to its quota; the rest is handed out in topic-then-partition order.
    """
    subs = spec.subscriptions
    subscribed = _homogeneous_topic_order(subs[member_ids[0]].topics, topic_ids)
    subscribed_set = set(subscribed)
    if not subscribed:
        return {}

    member_racks = {subs[m].rack for m in member_ids if subs[m].rack is not None}
    racks_per_partition = [
        _racks_for_partition(spec, t, p)
        for t in subscribed
        for p in range(max(_num_partitions(spec, t), 0))
    ]
    all_partition_racks = frozenset().union(*racks_per_partition)
    # Utils.useRackAwareAssignment
    use_rack = (
        bool(member_racks)
        and not member_racks.isdisjoint(all_partition_racks)
        and not all(r == all_partition_racks for r in racks_per_partition)
    )

    unassigned, total = _unassigned_and_total(spec, member_ids, subscribed)
    min_quota, extra = divmod(total, len(member_ids))
    target: dict[str, dict[str, list[int]]] = {}
    unfilled: list[_Unfilled] = []

    # maybeRevokePartitions
    for member_id in member_ids:
        rack = subs[member_id].rack
        quota = min_quota
        has_extra = False
        if extra > 0:
            quota += 1
            has_extra = True
        kept: dict[str, list[int]] = {}
        for topic, partitions in _owned_by_topic(subs[member_id]).items():
            if topic not in subscribed_set:
                continue  # the whole topic is revoked
            if len(partitions) <= quota and not use_rack:
                quota -= len(partitions)
                kept[topic] = list(partitions)
                continue
            for partition in partitions:
                if quota > 0 and (
                    not use_rack
                    or _is_rack_match(rack, _racks_for_partition(spec, topic, partition))
                ):
                    quota -= 1
                    kept.setdefault(topic, []).append(partition)
                else:
                    unassigned.append((topic, partition))
        if quota > 0 and has_extra:
            # Give up the extra partition quota for another member to claim.
            quota -= 1
            has_extra = False
        if quota == 0 and has_extra:
            extra -= 1
        if quota > 0 or (extra > 0 and not has_extra):
            unfilled.append(_Unfilled(member_id, quota))
        target[member_id] = kept

    def give(member_id: str, topic: str, partition: int) -> None:
        target[member_id].setdefault(topic, []).append(partition)

    # assignRackAwarenessRemainingPartitions
    if use_rack:
        still_unassigned: list[tuple[str, int]] = []
        for topic, partition in unassigned:
            racks = _racks_for_partition(spec, topic, partition)
            placed = False
            i = 0
            while i < len(unfilled):
                member = unfilled[i]
                if member.remaining == 0 and extra == 0:
                    del unfilled[i]
                    continue
                if not _is_rack_match(subs[member.member_id].rack, racks):
                    i += 1
                    continue
                give(member.member_id, topic, partition)
                if member.remaining > 0:
                    member.remaining -= 1
                else:
                    del unfilled[i]
                    extra -= 1
                placed = True
                break
            if not placed:
                still_unassigned.append((topic, partition))
        unassigned = still_unassigned

    # assignRemainingPartitions: the *last* unfilled members take the extra partitions.
    for i in range(len(unfilled) - 1, -1, -1):
        member = unfilled[i]
        if extra > 0:
            extra -= 1
            member.remaining += 1
        if member.remaining == 0:
            del unfilled[i]
    index = 0
    for member in unfilled:
        for _ in range(member.remaining):
            if index >= len(unassigned):
                break
            topic, partition = unassigned[index]
            index += 1
            give(member.member_id, topic, partition)
    if index < len(unassigned):
        raise PartitionAssignorException("Partitions were left unassigned")
    return target


# --------------------------------------------------------------------------------------
# UniformHeterogeneousAssignmentBuilder
# --------------------------------------------------------------------------------------

# UniformHeterogeneousAssignmentBuilder.MAX_ITERATION_COUNT
_MAX_ITERATION_COUNT = 16


class _MemberAssignmentBalancer:
    """``UniformHeterogeneousAssignmentBuilder.MemberAssignmentBalancer``.

    Tracks a least-loaded range growing rightwards and a most-loaded range growing
    leftwards over the subscribers sorted by (assigned count, member index); reads the live
    ``sizes`` list, which assignments mutate while the balancer runs.
    """

    def __init__(self, sizes: list[int]) -> None:
        self.sizes = sizes
        self.sorted_members: list[int] = []
        self.least_end = 0
        self.least_count = -1
        self.next_least = 0
        self.most_start = 0
        self.most_end = 0
        self.most_count = 1
        self.next_most = -1

    def initialize(self, members: Sequence[int]) -> int:
        if not members:
            raise ValueError("Cannot balance an empty subscriber list.")
        sizes = self.sizes
        self.sorted_members = sorted(members, key=lambda m: (sizes[m], m))
        first, last = self.sorted_members[0], self.sorted_members[-1]
        self.least_end = 0
        self.least_count = sizes[first] - 1
        self.next_least = 0
        self.most_start = len(self.sorted_members)
        self.most_end = len(self.sorted_members)
        self.most_count = sizes[last] + 1
        self.next_most = len(self.sorted_members) - 1
        return sizes[last] - sizes[first]

    def next_least_loaded_member(self) -> int:
        sm, sizes = self.sorted_members, self.sizes
        if self.next_least >= self.least_end:
            # End of the range: bump its level and try to expand it.
            self.least_count += 1
            while self.least_end < len(sm) and sizes[sm[self.least_end]] == self.least_count:
                self.least_end += 1
            self.next_least = 0
        member = sm[self.next_least]
        self.next_least += 1
        return member

    def next_most_loaded_member(self) -> int:
        sm, sizes = self.sorted_members, self.sizes
        if self.next_most < self.most_start:
            if self.most_end <= self.most_start and self.most_start > 0:
                # Range emptied by exclusions: reset the level so the range always expands.
                self.most_count = sizes[sm[self.most_start - 1]]
            else:
                self.most_count -= 1
            while self.most_start > 0 and sizes[sm[self.most_start - 1]] == self.most_count:
                self.most_start -= 1
            self.next_most = self.most_end - 1
        if self.next_most < 0:
            return -1
        member = sm[self.next_most]
        self.next_most -= 1
        return member

    def exclude_most_loaded_member(self) -> None:
        sm = self.sorted_members
        i = self.next_most + 1
        sm[i], sm[self.most_end - 1] = sm[self.most_end - 1], sm[i]
        self.most_end -= 1

    def is_balanced(self) -> bool:
        return self.most_count - self.least_count <= 1


def _assign_uniform_heterogeneous(
    spec: GroupSpec, member_ids: Sequence[str], topic_ids: Mapping[str, str] | None
) -> dict[str, dict[str, set[int]]]:
    """Port of ``UniformHeterogeneousAssignmentBuilder.build()``.

    Keep every still-subscribed previously owned partition, hand unassigned partitions
    topic by topic (most partitions per subscriber first) to the least-loaded subscriber,
    then move partitions from the most- to the least-loaded subscribers of each topic,
    looping over the topics until a full pass changes nothing (at most 16 passes).
    """
    subs = spec.subscriptions
    index_of = {m: i for i, m in enumerate(member_ids)}
    topic_subscribers: dict[str, list[int]] = {}
    for i, member_id in enumerate(member_ids):
        for topic in sorted(set(subs[member_id].topics)):
            if _num_partitions(spec, topic) == -1:
                raise PartitionAssignorException(
                    f"Members are subscribed to topic {topic} which doesn't exist in the topic metadata."
                )
            topic_subscribers.setdefault(topic, []).append(i)
    if not topic_subscribers:
        return {}

    def topic_key(topic: str) -> tuple[float, int, tuple[int, int] | str]:
        # Partitions per subscriber descending, subscriber count ascending, topic id ascending.
        n_subs = len(topic_subscribers[topic])
        tie: tuple[int, int] | str = kafka_uuid_sort_key(topic_ids[topic]) if topic_ids else topic
        return (-(_num_partitions(spec, topic) / n_subs), n_subs, tie)

    sizes = [0] * len(member_ids)
    owners = {t: [-1] * _num_partitions(spec, t) for t in topic_subscribers}
    target: dict[str, dict[str, set[int]]] = {}

    # maybeRevokePartitions: drop topics no longer subscribed; keep everything else.
    for member_id in member_ids:
        idx = index_of[member_id]
        member_topics = set(subs[member_id].topics)
        kept: dict[str, set[int]] = {}
        for topic, partitions in _owned_by_topic(subs[member_id]).items():
            if topic in member_topics:
                sizes[idx] += len(partitions)
                for partition in partitions:
                    owners[topic][partition] = idx
                kept[topic] = set(partitions)
        target[member_id] = kept

    def assign_partition(topic: str, partition: int, idx: int) -> None:
        old = owners[topic][partition]
        if old != -1:
            old_parts = target[member_ids[old]].get(topic)
            if old_parts is not None:
                old_parts.discard(partition)
                if not old_parts:
                    del target[member_ids[old]][topic]
            sizes[old] -= 1
        target[member_ids[idx]].setdefault(topic, set()).add(partition)
        owners[topic][partition] = idx
        sizes[idx] += 1

    # computeUnassignedPartitions + assignRemainingPartitions
    unassigned = {t: [p for p, o in enumerate(owners[t]) if o == -1] for t in topic_subscribers}
    balancer = _MemberAssignmentBalancer(sizes)
    for topic in sorted((t for t, ps in unassigned.items() if ps), key=topic_key):
        balancer.initialize(topic_subscribers[topic])
        for partition in unassigned[topic]:
            assign_partition(topic, partition, balancer.next_least_loaded_member())

    # balance(): only topics with two or more subscribers can move.
    movable = sorted((t for t, s in topic_subscribers.items() if len(s) >= 2), key=topic_key)
    if movable:
        _balance_topics(movable, topic_subscribers, owners, balancer, assign_partition)
    return target


def _balance_topics(
    sorted_topics: Sequence[str],
    topic_subscribers: Mapping[str, list[int]],
    owners: Mapping[str, list[int]],
    balancer: _MemberAssignmentBalancer,
    assign_partition: Callable[[str, int, int], None],
) -> None:
    """``balanceTopics``: loop over the topics until one full pass moves nothing."""
    last_rebalanced = -1
    for _ in range(_MAX_ITERATION_COUNT):
        for topic_index, topic in enumerate(sorted_topics):
            if topic_index == last_rebalanced:
                return
            moved = _balance_topic(
                topic, topic_subscribers[topic], owners[topic], balancer, assign_partition
            )
            if moved > 0 or last_rebalanced == -1:
                last_rebalanced = topic_index


def _balance_topic(
    topic: str,
    subscribers: Sequence[int],
    partition_owners: list[int],
    balancer: _MemberAssignmentBalancer,
    assign_partition: Callable[[str, int, int], None],
) -> int:
    """``balanceTopic``: move a topic's partitions from most- to least-loaded subscribers.

    Each donor gives up its highest-numbered partition of the topic first (partitions are
    grouped by owner, ascending, and taken from the end of the owner's run).
    """
    if balancer.initialize(subscribers) <= 1:
        return 0
    partitions = sorted(range(len(partition_owners)), key=lambda p: (partition_owners[p], p))
    start: dict[int, int] = {}
    end: dict[int, int] = {}
    for i, partition in enumerate(partitions):
        owner = partition_owners[partition]
        start.setdefault(owner, i)
        end[owner] = i + 1
    moved = 0
    while not balancer.is_balanced():
        most = -1
        while True:
            most = balancer.next_most_loaded_member()
            if most == -1:
                break
            if most not in end or end[most] - start[most] <= 0:
                balancer.exclude_most_loaded_member()
                continue
            break
        if most == -1:
            break
        partition = partitions[end[most] - 1]
        end[most] -= 1
        least = balancer.next_least_loaded_member()
        if balancer.is_balanced():
            break
        assign_partition(topic, partition, least)
        moved += 1
    return moved


# --------------------------------------------------------------------------------------
# UniformAssignor
# --------------------------------------------------------------------------------------


class UniformAssignor:
    """The coordinator's ``UniformAssignor`` (``group.remote.assignor=uniform``, the default).

    ``topic_ids`` (topic name -> base64 ``Uuid``) makes the homogeneous builder walk topics
    in Kafka's ``HashSet<Uuid>`` order and the heterogeneous builder break ties by id.
    ``release`` picks the homogeneous builder of Kafka 4.0 or 4.1 (they differ in who gets
    the extra partitions, see :func:`_assign_uniform_homogeneous`). ``rack_aware=True``
    uses the rack-aware homogeneous builder of later Kafka trunk (apache/kafka#20000)
    instead; neither 4.0 nor 4.1 has it, so nothing in the simulator turns it on.
    """

    name = "uniform"

    def __init__(
        self,
        topic_ids: Mapping[str, str] | None = None,
        member_order: MemberOrder = "sorted",
        release: KafkaRelease = MODELLED_RELEASE,
        rack_aware: bool = False,
    ) -> None:
        self.topic_ids = dict(topic_ids) if topic_ids is not None else None
        self.member_order: MemberOrder = member_order
        self.release: KafkaRelease = release
        self.rack_aware = rack_aware
        self._sticky_remainder = behaviour(release).uniform_homogeneous_sticky_remainder

    def __repr__(self) -> str:
        ids = f"topic_ids for {len(self.topic_ids)} topic(s)" if self.topic_ids else "no topic_ids"
        return (
            f"UniformAssignor(release={self.release!r}, rack_aware={self.rack_aware}, "
            f"member_order={self.member_order!r}, {ids})"
        )

    def assign(self, spec: GroupSpec) -> Assignment:
        """Target assignment for every member (empty list when it gets nothing)."""
        if not spec.subscriptions:
            return {}
        member_ids = _ordered_members(spec, self.member_order)
        if _is_homogeneous(spec):
            target: Mapping[str, Mapping[str, Iterable[int]]] = (
                _assign_uniform_homogeneous_rack_aware(spec, member_ids, self.topic_ids)
                if self.rack_aware
                else _assign_uniform_homogeneous(
                    spec, member_ids, self.topic_ids, self._sticky_remainder
                )
            )
        else:
            target = _assign_uniform_heterogeneous(spec, member_ids, self.topic_ids)
        return _finish(sorted(spec.subscriptions), target)


# --------------------------------------------------------------------------------------
# RangeAssignor
# --------------------------------------------------------------------------------------


class _RangeTopic:
    """``RangeAssignor.TopicMetadata``: quota, extra partitions, unassigned set, next range."""

    __slots__ = (
        "extra",
        "min_quota",
        "name",
        "next_range",
        "num_members",
        "num_partitions",
        "racks",
        "unassigned",
    )

    def __init__(
        self, name: str, num_partitions: int, num_members: int, racks: dict[int, frozenset[str]]
    ) -> None:
        self.name = name
        self.num_partitions = num_partitions
        self.num_members = num_members
        self.racks = racks
        self.min_quota = -1
        self.extra = -1
        self.next_range = 0
        # LinkedHashSet<Integer> in ascending order
        self.unassigned: dict[int, None] = dict.fromkeys(range(num_partitions))

    def maybe_compute_quota(self) -> None:
        if self.min_quota != -1:
            return
        self.min_quota, self.extra = divmod(self.num_partitions, self.num_members)

    def racks_match(self, partition: int, member_rack: str | None) -> bool:
        """A member without a rack matches every partition (unlike ``Utils.isRackMatch``)."""
        if member_rack is None:
            return True
        replica_racks = self.racks.get(partition)
        return replica_racks is not None and member_rack in replica_racks


def _sort_member_ids(spec: GroupSpec) -> list[str]:
    """``RangeAssignor.sortMemberIds``: static members by instance id first, then member id."""

    def key(member_id: str) -> tuple[int, bytes]:
        instance_id = spec.subscriptions[member_id].group_instance_id
        if instance_id is not None:
            return (0, java_string_key(instance_id))
        return (1, java_string_key(member_id))

    return sorted(spec.subscriptions, key=key)


def _add_partitions_to_assignment(topic: _RangeTopic, assignment: dict[str, set[int]]) -> None:
    """``addPartitionsToAssignment``: top the member up to its quota from the unassigned set.

    The fallback to ``nextRange`` *replaces* the member's set for the topic, exactly as
    Kafka's ``memberAssignment.put(topicId, new RangeSet(start, end))`` does.
    """
    already = len(assignment.get(topic.name, ()))
    quota = topic.min_quota
    if topic.extra > 0:
        quota += 1
        topic.extra -= 1
    needed = quota - already
    if needed <= 0:
        return
    if topic.unassigned:
        take = list(itertools.islice(topic.unassigned, needed))
        assignment.setdefault(topic.name, set()).update(take)
        for partition in take:
            del topic.unassigned[partition]
        return
    start = topic.next_range
    end = min(start + needed, topic.num_partitions)
    topic.next_range = end
    if start < end:
        assignment[topic.name] = set(range(start, end))


def _use_rack_aware_range(
    member_racks: Mapping[str, str | None], topics: Sequence[_RangeTopic]
) -> bool:
    """``shouldUseRackAwareAssignment``: racks on both sides, overlapping, and not uniform."""
    consumer_racks = {r for r in member_racks.values() if r is not None}
    if not consumer_racks:
        return False
    rack_sets = {racks for t in topics for racks in t.racks.values()}
    all_partition_racks = frozenset().union(*rack_sets)
    if not all_partition_racks or consumer_racks.isdisjoint(all_partition_racks):
        return False
    return len(rack_sets) > 1


def _assign_co_partitioned_with_rack_matching(
    topics: Sequence[_RangeTopic],
    member_ids: Sequence[str],
    member_racks: Mapping[str, str | None],
    assignments: Mapping[str, dict[str, set[int]]],
) -> None:
    """``assignCoPartitionedWithRackMatching``: partition p of every topic to one rack-matching member."""
    remaining = list(member_ids)
    counts = dict.fromkeys(member_ids, 0)
    first = topics[0]
    for partition in range(first.num_partitions):
        capacity = first.min_quota + (1 if first.extra > 0 else 0)
        match = next(
            (
                m
                for m in remaining
                if counts[m] < capacity
                and all(t.racks_match(partition, member_racks[m]) for t in topics)
            ),
            None,
        )
        if match is None:
            continue
        for topic in topics:
            assignments[match].setdefault(topic.name, set()).add(partition)
            topic.unassigned.pop(partition, None)
        counts[match] += 1
        member_quota = first.min_quota + (1 if counts[match] <= first.extra else 0)
        if counts[match] >= member_quota:
            remaining.remove(match)
            if not remaining:
                break


def _assign_topic_with_rack_matching(
    topic: _RangeTopic,
    member_ids: Sequence[str],
    member_racks: Mapping[str, str | None],
    assignments: Mapping[str, dict[str, set[int]]],
) -> None:
    """``assignTopicWithRackMatching``: each partition to the first rack-matching member with room."""
    counts = dict.fromkeys(member_ids, 0)
    for partition in list(topic.unassigned):
        match = next(
            (
                m
                for m in member_ids
                if counts[m] < topic.min_quota + (1 if counts[m] < topic.extra else 0)
                and topic.racks_match(partition, member_racks[m])
            ),
            None,
        )
        if match is None:
            continue
        assignments[match].setdefault(topic.name, set()).add(partition)
        del topic.unassigned[partition]
        counts[match] += 1


def _assign_range_homogeneous(spec: GroupSpec, rack_aware: bool) -> dict[str, dict[str, set[int]]]:
    """``assignHomogeneousGroup``: optional rack pass, then ranges in sorted-member order."""
    member_ids = _sort_member_ids(spec)
    subs = spec.subscriptions
    member_racks = {m: subs[m].rack for m in member_ids}
    topics: list[_RangeTopic] = []
    for name in sorted(set(subs[member_ids[0]].topics)):
        count = _num_partitions(spec, name)
        if count == -1:
            raise PartitionAssignorException("Member is subscribed to a non-existent topic")
        racks = {p: r for p in range(count) if (r := _racks_for_partition(spec, name, p))}
        topics.append(_RangeTopic(name, count, len(member_ids), racks))
    assignments: dict[str, dict[str, set[int]]] = {m: {} for m in member_ids}
    for topic in topics:
        topic.maybe_compute_quota()
    if rack_aware and _use_rack_aware_range(member_racks, topics):
        if len(topics) > 1 and len({t.num_partitions for t in topics}) == 1:
            _assign_co_partitioned_with_rack_matching(topics, member_ids, member_racks, assignments)
        else:
            for topic in topics:
                _assign_topic_with_rack_matching(topic, member_ids, member_racks, assignments)
    for member_id in member_ids:
        for topic in topics:
            _add_partitions_to_assignment(topic, assignments[member_id])
    return assignments


def _assign_range_heterogeneous(spec: GroupSpec) -> dict[str, dict[str, set[int]]]:
    """``assignHeterogeneousGroup``: per topic, ranges over its subscribers (no rack pass)."""
    member_ids = _sort_member_ids(spec)
    subs = spec.subscriptions
    topics: dict[str, _RangeTopic] = {}
    for member_id in member_ids:
        for name in sorted(set(subs[member_id].topics)):
            if name not in topics:
                count = _num_partitions(spec, name)
                if count == -1:
                    raise PartitionAssignorException("Member is subscribed to a non-existent topic")
                topics[name] = _RangeTopic(name, count, 0, {})
            topics[name].num_members += 1
    assignments: dict[str, dict[str, set[int]]] = {}
    for member_id in member_ids:
        assignment: dict[str, set[int]] = {}
        for name in sorted(set(subs[member_id].topics)):
            topics[name].maybe_compute_quota()
            _add_partitions_to_assignment(topics[name], assignment)
        assignments[member_id] = assignment
    return assignments


class RangeAssignor:
    """The coordinator's ``RangeAssignor`` (``group.remote.assignor=range``).

    Co-partitioned ranges in ``sortMemberIds`` order; previous assignments are ignored.
    Kafka 4.0 and 4.1 look at no racks. ``rack_aware=True`` adds the rack pass of later
    Kafka trunk for homogeneous groups, used when member racks and replica racks
    (``GroupSpec.partition_racks``) overlap and are not the same for every partition; no
    release simkafka models has it, so nothing in the simulator turns it on.

    Faithful to a quirk of that rack pass: ``assignTopicWithRackMatching`` lets *every*
    member reach ``minQuota + 1`` when ``minQuota < extraPartitions``, so it can hand out
    more extra partitions than exist. Members later in the order then find no unassigned
    partition and ``addPartitionsToAssignment`` falls back to ``nextRange`` from
    partition 0 -- giving a partition to two members and leaving another unassigned. We
    reproduce it rather than silently "fix" Kafka (see the tests).
    """

    name = "range"

    def __init__(self, rack_aware: bool = False) -> None:
        self.rack_aware = rack_aware

    def __repr__(self) -> str:
        return f"RangeAssignor(rack_aware={self.rack_aware})"

    def assign(self, spec: GroupSpec) -> Assignment:
        """Target assignment for every member (empty list when it gets nothing)."""
        if not spec.subscriptions:
            return {}
        if _is_homogeneous(spec):
            target = _assign_range_homogeneous(spec, self.rack_aware)
        else:
            target = _assign_range_heterogeneous(spec)
        return _finish(sorted(spec.subscriptions), target)
