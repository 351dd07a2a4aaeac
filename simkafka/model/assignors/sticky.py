"""Kafka's ``StickyAssignor`` and ``CooperativeStickyAssignor`` (classic protocol, client side).

A port of ``org.apache.kafka.clients.consumer.internals.AbstractStickyAssignor`` as of
Kafka 3.6+ (with the KAFKA-15170 fixes) through 4.1, including the KIP-881 rack-aware
paths, and of the cooperative adjustment in ``CooperativeStickyAssignor`` (KIP-429). The
target assignment is built by one of two builders:

* ``ConstrainedAssignmentBuilder`` when every member subscribes to the same topics:
  each member keeps up to its quota of owned partitions (``minQuota`` or, for the first
  ``total % members`` members that own enough, ``maxQuota``), the rest are dealt round
  robin to the unfilled members in sorted member-id order.
* ``GeneralAssignmentBuilder`` otherwise: keep every still-valid owned partition, hand the
  rest one by one to the least-loaded eligible member, then move partitions
  (``performReassignments``) until no move improves balance, reverting if the result is
  not strictly better balanced than before.

Kafka's result depends on *iteration order* in a few places that are not sorted: which
member iterated first keeps ``maxQuota`` of its owned partitions, which of several
equally old claims wins, and which partition ``getTheActualPartitionToBeMoved`` picks
from a ``HashSet``. Those are ``java.util.HashMap``/``HashSet`` orders, so this module
reproduces them (:func:`java_hashmap_order`, :class:`_JavaHashSet`); the group's
``subscriptions`` mapping is taken in its insertion order, as the leader fills its
``HashMap`` from the JoinGroup member list. Everything else follows Kafka's explicit
sorts (``TreeSet``, ``Collections.sort``) with ``String.compareTo`` ordering.

Not modelled: ``HashMap`` buckets that turn into trees (8+ member ids colliding in one
bucket of a 64+ table). Inputs on which Kafka's assignor throws (an older claimant that
balance() set aside as fixed) raise :class:`StickyAssignmentError` instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from simkafka.model.assignors.base import Assignment, GroupSpec, MemberSubscription
from simkafka.model.types import TopicPartition

__all__ = [
    "CooperativeStickyAssignor",
    "StickyAssignor",
    "StickyAssignmentError",
    "StickyResult",
    "java_hashmap_order",
    "java_string_hash",
    "needs_followup_rebalance",
    "partitions_to_revoke",
    "sticky_assign",
]

DEFAULT_GENERATION = -1


class StickyAssignmentError(RuntimeError):
    """An input on which Kafka's own assignor throws, so the leader's rebalance fails."""


# --------------------------------------------------------------------------------------
# Java ordering helpers
# --------------------------------------------------------------------------------------


def _int32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - 0x1_0000_0000 if x & 0x8000_0000 else x


def java_string_hash(s: str) -> int:
    """``String.hashCode``: ``s[0]*31^(n-1) + ...`` over UTF-16 code units, as an int32."""
    data = s.encode("utf-16-be", "surrogatepass")
    h = 0
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return _int32(h)


def _tp_hash(tp: TopicPartition) -> int:
    """``TopicPartition.hashCode``: ``31 * (31 + partition) + topic.hashCode()``."""
    return _int32(31 * (31 + tp.partition) + java_string_hash(tp.topic))


def _spread(h: int) -> int:
    """``HashMap.hash``: fold the high half into the low half (``h ^ (h >>> 16)``)."""
    u = h & 0xFFFFFFFF
    return u ^ (u >> 16)


def _capacity_after(n: int) -> int:
    """Table size of a default-constructed ``HashMap`` after ``n`` puts (load factor 0.75)."""
    cap = 16
    while n > cap * 3 // 4:
        cap *= 2
    return cap


def _jkey(s: str) -> bytes:
    """Sort key ordering strings like ``String.compareTo`` (UTF-16 code units)."""
    return s.encode("utf-16-be", "surrogatepass")


def java_hashmap_order(keys: Iterable[str]) -> list[str]:
    """Iteration order of a default ``HashMap<String, ?>`` filled with ``keys`` in order.

    Buckets are visited in index order (``spread(hash) & (capacity - 1)``); keys sharing a
    bucket stay in insertion order (resizes split buckets without reordering). Buckets
    are only turned into trees at 8+ collisions in a table of 64+, not modelled here.
    """
    ks = list(dict.fromkeys(keys))
    mask = _capacity_after(len(ks)) - 1
    return [
        k for _, k in sorted(enumerate(ks), key=lambda e: _spread(java_string_hash(e[1])) & mask)
    ]


class _JavaHashSet:
    """A ``HashSet<TopicPartition>`` that remembers what Java's iteration order would be.

    Capacity only grows (on the put that exceeds 0.75 x capacity); removing and re-adding
    an element puts it at the tail of its bucket, which a per-insert sequence captures.
    """

    __slots__ = ("_cap", "_items", "_seq")

    def __init__(self) -> None:
        self._items: dict[TopicPartition, int] = {}
        self._cap = 16
        self._seq = 0

    def add(self, tp: TopicPartition) -> None:
        if tp in self._items:
            return
        self._seq += 1
        self._items[tp] = self._seq
        if len(self._items) > self._cap * 3 // 4:
            self._cap *= 2

    def discard(self, tp: TopicPartition) -> None:
        self._items.pop(tp, None)

    def __len__(self) -> int:
        return len(self._items)

    def _key(self, tp: TopicPartition) -> tuple[int, int]:
        return (_spread(_tp_hash(tp)) & (self._cap - 1), self._items[tp])

    def iteration_order(self) -> list[TopicPartition]:
        """Java's iteration order: bucket index, then insertion order within a bucket."""
        return sorted(self._items, key=self._key)

    def first(self) -> TopicPartition:
        """``iterator().next()``."""
        return min(self._items, key=self._key)


def _tp_key(tp: TopicPartition) -> tuple[bytes, int]:
    return (_jkey(tp.topic), tp.partition)


# --------------------------------------------------------------------------------------
# Shared inputs: partitionsPerTopic, RackInfo, allSubscriptionsEqual
# --------------------------------------------------------------------------------------


def _partitions_per_topic(spec: GroupSpec) -> dict[str, int]:
    """``AbstractPartitionAssignor.assign``: subscribed topics that have partitions only.

    Topics nobody subscribes to are not given to the assignor, and subscribed topics
    without metadata (or with no partitions) are skipped with a debug log.
    """
    subscribed = {t for s in spec.subscriptions.values() for t in s.topics}
    return {t: n for t, n in spec.partitions_per_topic.items() if t in subscribed and n > 0}


class _RackInfo:
    """``AbstractStickyAssignor.RackInfo``: consumer racks, replica racks, and whether to use them.

    Rack-aware assignment is used only if some consumer has a rack that hosts replicas
    and (unless ``prefer_rack_aware_logic``) not every partition has replicas on the same
    set of racks -- when all partitions are on all racks rack-awareness changes nothing.
    """

    def __init__(
        self,
        partitions_per_topic: Mapping[str, int],
        subscriptions: Mapping[str, MemberSubscription],
        partition_racks: Mapping[TopicPartition, frozenset[str]],
        prefer_rack_aware_logic: bool,
    ) -> None:
        consumers_by_rack: dict[str, list[str]] = {}
        for member_id, sub in subscriptions.items():
            if sub.rack:  # Optional.filter(r -> !r.isEmpty())
                consumers_by_rack.setdefault(sub.rack, []).append(member_id)
        racks_per_partition: dict[TopicPartition, frozenset[str]] = {}
        all_partition_racks: set[str] = set()
        if consumers_by_rack:
            for topic, n in partitions_per_topic.items():
                for p in range(n):
                    tp = TopicPartition(topic, p)
                    racks = frozenset(partition_racks.get(tp, frozenset()))
                    racks_per_partition[tp] = racks
                    all_partition_racks |= racks
        consumer_racks = set(consumers_by_rack)
        if not consumer_racks or consumer_racks.isdisjoint(all_partition_racks):
            use = False
        elif prefer_rack_aware_logic:
            use = True
        else:
            use = not all(r == all_partition_racks for r in racks_per_partition.values())
        self.consumer_racks: dict[str, str] = {}
        self.partition_racks: dict[TopicPartition, frozenset[str]] = {}
        if use:
            for rack, members in consumers_by_rack.items():
                for m in members:
                    self.consumer_racks[m] = rack
            self.partition_racks = racks_per_partition
        # Computed from the replica racks even when rack-aware assignment is off (Kafka
        # uses the local variable here), so the partition sort below still applies.
        self.num_consumers_by_partition: dict[TopicPartition, int] = {
            tp: sum(len(consumers_by_rack.get(r, ())) for r in racks)
            for tp, racks in racks_per_partition.items()
        }

    def racks_mismatch(self, consumer: str, tp: TopicPartition) -> bool:
        """A consumer without a rack never mismatches; one with a rack needs a local replica."""
        rack = self.consumer_racks.get(consumer)
        if rack is None:
            return False
        replica_racks = self.partition_racks.get(tp)
        return replica_racks is None or rack not in replica_racks

    def sort_partitions_by_rack_consumers(
        self, partitions: list[TopicPartition]
    ) -> list[TopicPartition]:
        """Partitions with the fewest same-rack consumers first (stable, like ``List.sort``)."""
        if not self.num_consumers_by_partition:
            return partitions
        return sorted(partitions, key=lambda tp: self.num_consumers_by_partition.get(tp, 0))

    def next_rack_consumer(
        self, tp: TopicPartition, consumers: Sequence[str], first_index: int
    ) -> int:
        """Index of the first consumer, circularly from ``first_index``, on a replica's rack."""
        racks = self.partition_racks.get(tp)
        if not racks:
            return -1
        n = len(consumers)
        for i in range(n):
            index = (first_index + i) % n
            rack = self.consumer_racks.get(consumers[index])
            if rack is not None and rack in racks:
                return index
        return -1


def _all_subscriptions_equal(
    all_topics: Iterable[str],
    order: list[str],
    subscriptions: Mapping[str, MemberSubscription],
    consumer_to_owned: dict[str, list[TopicPartition]],
    multiple_previous_owners: set[TopicPartition],
    max_generation: int = DEFAULT_GENERATION,
) -> tuple[bool, int]:
    """``allSubscriptionsEqual``: detect equal subscriptions and sort out ownership claims.

    Fills ``consumer_to_owned`` with each member's still-subscribable owned partitions.
    When two members claim a partition, the higher generation keeps it; at the *same*
    generation both lose it and it is remembered in ``multiple_previous_owners`` (its
    next owner must wait for a revocation in the cooperative protocol). Also returns the
    highest generation seen, starting from ``max_generation`` (``maxGeneration`` is a
    field of Kafka's assignor instance that only ever grows).
    """
    topics = set(all_topics)
    equal = True
    subscribed: set[str] = set()
    previous_owner: dict[TopicPartition, str] = {}
    for consumer in order:
        sub = subscriptions[consumer]
        if not subscribed:
            subscribed.update(sub.topics)
        elif equal and not (
            len(sub.topics) == len(subscribed) and subscribed.issuperset(sub.topics)
        ):
            equal = False
        generation = sub.generation
        max_generation = max(max_generation, generation)
        owned: list[TopicPartition] = []
        consumer_to_owned[consumer] = owned
        for tp in sub.owned_partitions:
            if tp.topic not in topics:
                continue
            other = previous_owner.get(tp)
            if other is None:
                owned.append(tp)
                previous_owner[tp] = consumer
                continue
            other_generation = subscriptions[other].generation
            if generation == other_generation:
                multiple_previous_owners.add(tp)
                _remove_first(consumer_to_owned[other], tp)
                previous_owner[tp] = consumer
            elif generation > other_generation:
                owned.append(tp)
                _remove_first(consumer_to_owned[other], tp)
                previous_owner[tp] = consumer
    return equal, max_generation


def _remove_first(lst: list[TopicPartition], tp: TopicPartition) -> None:
    """``List.remove(Object)``: drop the first occurrence if present."""
    try:
        lst.remove(tp)
    except ValueError:
        pass


# --------------------------------------------------------------------------------------
# ConstrainedAssignmentBuilder
# --------------------------------------------------------------------------------------


def _constrained_assign(
    partitions_per_topic: Mapping[str, int],
    rack_info: _RackInfo,
    consumer_to_owned: dict[str, list[TopicPartition]],
    multiple_previous_owners: set[TopicPartition],
    transferring: dict[TopicPartition, str],
) -> dict[str, list[TopicPartition]]:
    """``ConstrainedAssignmentBuilder.build`` for groups whose members all subscribe alike."""
    total = sum(partitions_per_topic.values())
    n = len(consumer_to_owned)
    min_quota = total // n
    max_quota = -(-total // n)
    expected_over_min = total % n
    current_over_min = 0
    assignment: dict[str, list[TopicPartition]] = {c: [] for c in consumer_to_owned}
    assigned: list[TopicPartition] = []
    under_min: list[str] = []
    exactly_min: list[str] = []
    maybe_revoked: dict[TopicPartition, str] = {}

    # assignOwnedPartitions: iterate members in HashMap order; owned partitions sorted by
    # partition number first, then topic, so a member keeps a spread across topics.
    for consumer, owned_all in consumer_to_owned.items():
        owned = []
        for tp in owned_all:
            if rack_info.racks_mismatch(consumer, tp):
                maybe_revoked[tp] = consumer
            else:
                owned.append(tp)
        owned.sort(key=lambda tp: (tp.partition, _jkey(tp.topic)))
        owned = [tp for tp in owned if tp not in multiple_previous_owners]
        mine = assignment[consumer]
        if len(owned) < min_quota:
            mine.extend(owned)
            assigned.extend(owned)
            under_min.append(consumer)
        elif len(owned) >= max_quota and current_over_min < expected_over_min:
            current_over_min += 1
            if current_over_min == expected_over_min:
                exactly_min.clear()
            mine.extend(owned[:max_quota])
            assigned.extend(owned[:max_quota])
            for tp in owned[max_quota:]:
                maybe_revoked[tp] = consumer
        else:
            mine.extend(owned[:min_quota])
            assigned.extend(owned[:min_quota])
            for tp in owned[min_quota:]:
                maybe_revoked[tp] = consumer
            if current_over_min < expected_over_min:
                exactly_min.append(consumer)

    assigned_set = set(assigned)
    unassigned = [
        TopicPartition(t, p)
        for t in sorted(partitions_per_topic, key=_jkey)
        for p in range(partitions_per_topic[t])
        if TopicPartition(t, p) not in assigned_set
    ]
    under_min.sort(key=_jkey)
    exactly_min.sort(key=_jkey)
    unassigned = rack_info.sort_partitions_by_rack_consumers(unassigned)

    def assign_new(tp: TopicPartition, consumer: str) -> int:
        assignment[consumer].append(tp)
        previous = maybe_revoked.get(tp)
        if (previous is not None and previous != consumer) or tp in multiple_previous_owners:
            transferring[tp] = consumer
        return len(assignment[consumer])

    # assignRackAwareRoundRobin: only same-rack placements, within quotas.
    if rack_info.consumer_racks:
        next_index_start = 0
        remaining: list[TopicPartition] = []
        for tp in unassigned:
            consumer: str | None = None
            idx = rack_info.next_rack_consumer(tp, under_min, next_index_start)
            if idx >= 0:
                consumer = under_min[idx]
                count = len(assignment[consumer]) + 1
                if count >= min_quota:
                    under_min.remove(consumer)
                    if count < max_quota and current_over_min < expected_over_min:
                        exactly_min.append(consumer)
                else:
                    idx += 1
                next_index_start = 0 if not under_min else idx % len(under_min)
            elif exactly_min:
                first = rack_info.next_rack_consumer(tp, exactly_min, 0)
                if first >= 0:
                    consumer = exactly_min[first]
                    if len(assignment[consumer]) + 1 == max_quota:
                        del exactly_min[first]
                        current_over_min += 1
                        if current_over_min == expected_over_min:
                            exactly_min.clear()
            if consumer is not None:
                assign_new(tp, consumer)
            else:
                remaining.append(tp)
        unassigned = remaining

    # assignRoundRobin: an iterator over the under-minQuota members that restarts when
    # exhausted; once none are left, top up exactly-minQuota members to maxQuota.
    pos = 0  # index of the iterator's next element in under_min
    for tp in unassigned:
        if pos < len(under_min):
            consumer = under_min[pos]
            pos += 1
        elif not under_min and not exactly_min:
            raise RuntimeError("No more unfilled consumers to be assigned.")
        elif not under_min:
            consumer = exactly_min.pop(0)
        else:
            pos = 1
            consumer = under_min[0]
        count = assign_new(tp, consumer)
        if count == min_quota:
            pos -= 1  # unfilledConsumerIter.remove()
            del under_min[pos]
            exactly_min.append(consumer)
        elif count == max_quota:
            current_over_min += 1

    # verifyUnfilledMembers
    if under_min:
        if current_over_min != expected_over_min:
            raise RuntimeError(
                "We haven't reached the expected number of members with more than the "
                "minQuota partitions, but no more partitions to be assigned"
            )
        for member in under_min:
            if len(assignment[member]) != min_quota:
                raise RuntimeError(f"Consumer: [{member}] doesn't reach minQuota partitions")
    return assignment


# --------------------------------------------------------------------------------------
# GeneralAssignmentBuilder
# --------------------------------------------------------------------------------------


class _PartitionMovements:
    """``PartitionMovements``: who moved what during the balance loop, per topic.

    Used so that, when balancing wants to move a partition of topic T from A to B while
    some other partition of T already moved B -> A, the earlier move is undone instead
    (``getTheActualPartitionToBeMoved``) -- the stickiness guarantee.
    """

    def __init__(self) -> None:
        self.by_topic: dict[str, dict[tuple[str, str], _JavaHashSet]] = {}
        self.movements: dict[TopicPartition, tuple[str, str]] = {}

    def _remove(self, tp: TopicPartition) -> tuple[str, str]:
        pair = self.movements.pop(tp)
        per_topic = self.by_topic[tp.topic]
        per_topic[pair].discard(tp)
        if not len(per_topic[pair]):
            del per_topic[pair]
        if not per_topic:
            del self.by_topic[tp.topic]
        return pair

    def _add(self, tp: TopicPartition, pair: tuple[str, str]) -> None:
        self.movements[tp] = pair
        self.by_topic.setdefault(tp.topic, {}).setdefault(pair, _JavaHashSet()).add(tp)

    def move(self, tp: TopicPartition, old: str, new: str) -> None:
        if tp in self.movements:
            src, _dst = self._remove(tp)
            if src != new:
                self._add(tp, (src, new))
        else:
            self._add(tp, (old, new))

    def actual_partition_to_move(self, tp: TopicPartition, old: str, new: str) -> TopicPartition:
        per_topic = self.by_topic.get(tp.topic)
        if per_topic is None:
            return tp
        if tp in self.movements:
            old = self.movements[tp][0]
        reverse = per_topic.get((new, old))
        if reverse is None:
            return tp
        return reverse.first()

    def is_sticky(self) -> bool:
        """``isSticky``: no topic has partitions moving both A -> B and B -> A."""
        for pairs in self.by_topic.values():
            if any((dst, src) in pairs for src, dst in pairs):
                return False
        return True


class _GeneralBuilder:
    """``GeneralAssignmentBuilder``: balance members with different subscriptions."""

    def __init__(
        self,
        partitions_per_topic: Mapping[str, int],
        rack_info: _RackInfo,
        current: dict[str, list[TopicPartition]],
        order: list[str],
        subscriptions: Mapping[str, MemberSubscription],
        max_generation: int,
    ) -> None:
        self.ppt = partitions_per_topic
        self.rack_info = rack_info
        self.current = current
        self.order = order
        self.subscriptions = subscriptions
        self.max_generation = max_generation
        self.total = sum(partitions_per_topic.values())
        self.topic2consumers: dict[str, list[str]] = {t: [] for t in partitions_per_topic}
        self.consumer2topics: dict[str, list[str]] = {}
        for consumer in order:
            topics = [t for t in subscriptions[consumer].topics if t in partitions_per_topic]
            self.consumer2topics[consumer] = topics
            for t in topics:
                self.topic2consumers[t].append(consumer)
            current.setdefault(consumer, [])
        self.partition_consumer: dict[TopicPartition, str] = {
            tp: c for c, tps in current.items() for tp in tps
        }
        sorted_topics = sorted(
            self.topic2consumers, key=lambda t: (len(self.topic2consumers[t]), _jkey(t))
        )
        self.sorted_all = [
            TopicPartition(t, p) for t in sorted_topics for p in range(partitions_per_topic[t])
        ]
        self.members: set[str] = set()  # sortedCurrentSubscriptions (sorted on demand)
        self.revocation_required = False
        self.movements = _PartitionMovements()

    # sortedCurrentSubscriptions: TreeSet ordered by (assignment size, member id)
    def _sorted_members(self) -> list[str]:
        return sorted(self.members, key=lambda c: (len(self.current[c]), _jkey(c)))

    def build(self) -> dict[str, list[TopicPartition]]:
        prev = self._prepopulate_prev_assignment()
        assigned = self._assign_owned_partitions()
        assigned_set = set(assigned)
        unassigned = [tp for tp in self.sorted_all if tp not in assigned_set]
        self.members.update(self.current)
        self._balance(prev, unassigned)
        return self.current

    def _prepopulate_prev_assignment(self) -> dict[TopicPartition, tuple[str, int]]:
        """Claims from older generations, newest first: where to send a partition back."""
        prev: dict[TopicPartition, tuple[str, int]] = {}
        for consumer in self.order:
            sub = self.subscriptions[consumer]
            if sub.generation < self.max_generation:
                for tp in sub.owned_partitions:
                    if tp not in prev or sub.generation > prev[tp][1]:
                        prev[tp] = (consumer, sub.generation)
        return prev

    def _assign_owned_partitions(self) -> list[TopicPartition]:
        assigned: list[TopicPartition] = []
        for consumer, tps in self.current.items():
            sub = self.subscriptions[consumer]
            kept: list[TopicPartition] = []
            for tp in tps:
                if tp.topic not in self.topic2consumers:
                    self.partition_consumer.pop(tp, None)
                elif tp.topic not in sub.topics or self.rack_info.racks_mismatch(consumer, tp):
                    # Kafka leaves currentPartitionConsumer pointing at the old owner here.
                    self.revocation_required = True
                else:
                    kept.append(tp)
                    assigned.append(tp)
            tps[:] = kept
        return assigned

    def _max_assignment_size(self, topics: list[str]) -> int:
        if len(topics) == len(self.ppt):
            return self.total
        return sum(self.ppt[t] for t in topics)

    def _is_balanced(self) -> bool:
        ordered = self._sorted_members()
        if len(self.current[ordered[0]]) >= len(self.current[ordered[-1]]) - 1:
            return True
        owner = {tp: c for c, tps in self.current.items() for tp in tps}
        for consumer in ordered:
            count = len(self.current[consumer])
            topics = self.consumer2topics[consumer]
            if count == self._max_assignment_size(topics):
                continue
            mine = set(self.current[consumer])
            for t in topics:
                for p in range(self.ppt[t]):
                    tp = TopicPartition(t, p)
                    if tp not in mine:
                        other = owner.get(tp)
                        if other is None:
                            raise RuntimeError(f"{tp} is not assigned (Kafka would throw here)")
                        if count + 1 < len(self.current[other]):
                            return False
        return True

    def _balance_score(self, assignment: Mapping[str, list[TopicPartition]]) -> int:
        sizes = [len(v) for v in assignment.values()]
        return sum(abs(a - b) for i, a in enumerate(sizes) for b in sizes[i + 1 :])

    def _maybe_assign(
        self, partitions: list[TopicPartition], rack_aware: bool
    ) -> list[TopicPartition]:
        """Give each partition to the least-loaded eligible member; return those left over."""
        left: list[TopicPartition] = []
        for tp in partitions:
            if not self.topic2consumers[tp.topic]:
                left.append(tp)
                continue
            for consumer in self._sorted_members():
                if tp.topic in self.consumer2topics[consumer] and not (
                    rack_aware and self.rack_info.racks_mismatch(consumer, tp)
                ):
                    self.current[consumer].append(tp)
                    self.partition_consumer[tp] = consumer
                    break
            else:
                left.append(tp)
        return left

    def _can_topic_move(self, topic: str) -> bool:
        return len(self.topic2consumers[topic]) >= 2

    def _can_consumer_move(self, consumer: str) -> bool:
        tps = self.current[consumer]
        if len(tps) < self._max_assignment_size(self.consumer2topics[consumer]):
            return True
        return any(self._can_topic_move(tp.topic) for tp in tps)

    def _balance(
        self, prev: dict[TopicPartition, tuple[str, int]], unassigned: list[TopicPartition]
    ) -> None:
        ordered = self._sorted_members()
        initializing = not self.current[ordered[-1]]
        to_assign = unassigned
        if self.rack_info.consumer_racks:
            to_assign = self._maybe_assign(list(unassigned), rack_aware=True)
        self._maybe_assign(to_assign, rack_aware=False)

        fixed_topics = {t for t in self.topic2consumers if not self._can_topic_move(t)}
        self.sorted_all = [tp for tp in self.sorted_all if tp.topic not in fixed_topics]
        unassigned = [tp for tp in unassigned if tp.topic not in fixed_topics]

        fixed: dict[str, list[TopicPartition]] = {}
        for consumer in self.consumer2topics:
            if not self._can_consumer_move(consumer):
                self.members.discard(consumer)
                fixed[consumer] = self.current.pop(consumer)

        pre_balance = {c: list(tps) for c, tps in self.current.items()}
        pre_balance_owner = dict(self.partition_consumer)

        if not self.revocation_required:
            self._perform_reassignments(unassigned, prev)
        performed = self._perform_reassignments(self.sorted_all, prev)

        if (
            not initializing
            and performed
            and self._balance_score(self.current) >= self._balance_score(pre_balance)
        ):
            self.current.clear()
            self.current.update({c: list(tps) for c, tps in pre_balance.items()})
            self.partition_consumer = pre_balance_owner

        for consumer, tps in fixed.items():
            self.current[consumer] = tps
            self.members.add(consumer)

    def _perform_reassignments(
        self, partitions: list[TopicPartition], prev: dict[TopicPartition, tuple[str, int]]
    ) -> bool:
        performed = False
        modified = True
        while modified:
            modified = False
            for tp in partitions:
                if self._is_balanced():
                    break
                consumer = self.partition_consumer[tp]
                size = len(self.current[consumer])
                if tp in prev:
                    prev_consumer = prev[tp][0]
                    if prev_consumer not in self.current:
                        # The older claimant was set aside as fixed (it cannot take part
                        # in reassignment); Kafka dereferences its missing assignment.
                        raise StickyAssignmentError(
                            f"{tp}: previous owner {prev_consumer} is not reassignable; "
                            "Kafka's GeneralAssignmentBuilder throws NullPointerException here"
                        )
                    if size > len(self.current[prev_consumer]) + 1:
                        self._reassign(tp, prev_consumer)
                        performed = modified = True
                        continue
                # A better-suited member exists if one is lighter by 2+; prefer keeping racks.
                rack = self.rack_info.consumer_racks.get(consumer)
                replica_racks = self.rack_info.partition_racks.get(tp, frozenset())
                found_rack_consumer = False
                if rack is not None and replica_racks and rack in replica_racks:
                    for other in self.topic2consumers[tp.topic]:
                        other_rack = self.rack_info.consumer_racks.get(other)
                        if other_rack is None or other_rack not in replica_racks:
                            continue
                        if size > len(self.current[other]) + 1:
                            self._reassign_to_least_loaded(tp)
                            performed = modified = found_rack_consumer = True
                            break
                if not found_rack_consumer:
                    for other in self.topic2consumers[tp.topic]:
                        if size > len(self.current[other]) + 1:
                            self._reassign_to_least_loaded(tp)
                            performed = modified = True
                            break
        return performed

    def _reassign_to_least_loaded(self, tp: TopicPartition) -> None:
        for candidate in self._sorted_members():
            if tp.topic in self.consumer2topics[candidate]:
                self._reassign(tp, candidate)
                return
        raise AssertionError("no consumer for a reassignable partition")

    def _reassign(self, tp: TopicPartition, new: str) -> None:
        old = self.partition_consumer[tp]
        actual = self.movements.actual_partition_to_move(tp, old, new)
        self._process_movement(actual, new)

    def _process_movement(self, tp: TopicPartition, new: str) -> None:
        old = self.partition_consumer[tp]
        self.movements.move(tp, old, new)
        _remove_first(self.current[old], tp)
        self.current[new].append(tp)
        self.partition_consumer[tp] = new


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StickyResult:
    """One run of ``AbstractStickyAssignor.assignPartitions`` and what it learnt on the way.

    ``partitions_transferring_ownership`` is Kafka's field of the same name: ``None`` when
    the general builder ran (the cooperative assignor then computes it from owned vs
    assigned), otherwise partition -> new owner for partitions taken from another member.
    """

    assignment: dict[str, list[TopicPartition]]
    partitions_transferring_ownership: dict[TopicPartition, str] | None
    is_sticky: bool
    max_generation: int


def sticky_assign(
    spec: GroupSpec,
    prefer_rack_aware_logic: bool = False,
    max_generation: int = DEFAULT_GENERATION,
) -> StickyResult:
    """Run Kafka's sticky algorithm; lists come back in Kafka's own (unsorted) order.

    ``max_generation`` is the highest generation this assignor instance has seen in
    earlier rebalances: claims from members below it count as older assignments.
    """
    order = java_hashmap_order(spec.subscriptions)
    if not order:
        return StickyResult({}, {}, True, max_generation)
    ppt = _partitions_per_topic(spec)
    rack_info = _RackInfo(ppt, spec.subscriptions, spec.partition_racks, prefer_rack_aware_logic)
    consumer_to_owned: dict[str, list[TopicPartition]] = {}
    multiple: set[TopicPartition] = set()
    equal, max_generation = _all_subscriptions_equal(
        ppt, order, spec.subscriptions, consumer_to_owned, multiple, max_generation
    )
    if equal:
        transferring: dict[TopicPartition, str] = {}
        raw = _constrained_assign(ppt, rack_info, consumer_to_owned, multiple, transferring)
        return StickyResult(raw, transferring, True, max_generation)
    builder = _GeneralBuilder(
        ppt, rack_info, consumer_to_owned, order, spec.subscriptions, max_generation
    )
    raw = builder.build()
    return StickyResult(raw, None, builder.movements.is_sticky(), max_generation)


def _sorted_assignment(spec: GroupSpec, raw: Mapping[str, list[TopicPartition]]) -> Assignment:
    return {m: sorted(raw.get(m, ()), key=_tp_key) for m in spec.subscriptions}


class _AbstractStickyAssignor:
    """State shared by both sticky assignors: one instance per consumer, as in Kafka.

    ``max_generation`` mirrors ``AbstractStickyAssignor.maxGeneration``, a field that is
    never reset: a leader that once saw generation 12 treats later claims from lower
    generations (for example members whose generation was reset to -1) as old ones.
    """

    name: str = ""

    def __init__(self, prefer_rack_aware_logic: bool = False) -> None:
        # AbstractPartitionAssignor.preferRackAwareLogic (internal, default false)
        self.prefer_rack_aware_logic = prefer_rack_aware_logic
        self.max_generation = DEFAULT_GENERATION

    def _run(self, spec: GroupSpec) -> StickyResult:
        result = sticky_assign(spec, self.prefer_rack_aware_logic, self.max_generation)
        self.max_generation = result.max_generation
        return result


class StickyAssignor(_AbstractStickyAssignor):
    """``StickyAssignor`` ("sticky"): eager protocol, returns the full target assignment.

    Under the eager protocol every member revokes everything before rejoining, so handing
    a partition straight to its new owner is safe.
    """

    name: str = "sticky"

    def assign(self, spec: GroupSpec) -> Assignment:
        """Every subscribed partition to exactly one member; each list sorted."""
        return _sorted_assignment(spec, self._run(spec).assignment)


class CooperativeStickyAssignor(_AbstractStickyAssignor):
    """``CooperativeStickyAssignor`` ("cooperative-sticky"): the sticky target, minus moves.

    KIP-429: members keep their partitions across a rebalance, so a partition that changes
    owner must first be revoked by the old owner. The leader therefore withholds it
    (assigns it to nobody) this round; the old owner sees it missing from its assignment,
    revokes it and rejoins, and the follow-up rebalance hands it to the new owner.
    """

    name: str = "cooperative-sticky"

    def assign(self, spec: GroupSpec) -> Assignment:
        """What the leader sends this round: the target without partitions still owned elsewhere."""
        result = self._run(spec)
        raw = {m: list(tps) for m, tps in result.assignment.items()}
        transferring = result.partitions_transferring_ownership
        if transferring is None:
            transferring = _compute_partitions_transferring_ownership(spec, raw)
        for tp, consumer in transferring.items():  # adjustAssignment
            _remove_first(raw[consumer], tp)
        return _sorted_assignment(spec, raw)


def _compute_partitions_transferring_ownership(
    spec: GroupSpec, assignment: Mapping[str, list[TopicPartition]]
) -> dict[TopicPartition, str]:
    """Partitions added to one member that some member (at any generation) reports owning."""
    added: dict[TopicPartition, str] = {}
    revoked: set[TopicPartition] = set()
    for consumer, assigned in assignment.items():
        owned = spec.subscriptions[consumer].owned_partitions
        owned_set = set(owned)
        assigned_set = set(assigned)
        for tp in assigned:
            if tp not in owned_set:
                added[tp] = consumer
        revoked.update(tp for tp in owned if tp not in assigned_set)
    return {tp: c for tp, c in added.items() if tp in revoked}


def partitions_to_revoke(
    spec: GroupSpec, assignment: Mapping[str, Sequence[TopicPartition]]
) -> Assignment:
    """Per member, the owned partitions missing from its new assignment.

    ``ConsumerCoordinator.onJoinComplete`` under the cooperative protocol revokes exactly
    these (``ownedPartitions - assignedPartitions``) and then asks to rejoin.
    """
    result: Assignment = {}
    for member_id, sub in spec.subscriptions.items():
        new = set(assignment.get(member_id, ()))
        result[member_id] = sorted(
            {tp for tp in sub.owned_partitions if tp not in new}, key=_tp_key
        )
    return result


def needs_followup_rebalance(
    spec: GroupSpec, assignment: Mapping[str, Sequence[TopicPartition]]
) -> bool:
    """True if any member must revoke, which makes it rejoin and triggers another rebalance."""
    return any(partitions_to_revoke(spec, assignment).values())
