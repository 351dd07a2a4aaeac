"""Kafka's classic (client-side, leader-run) ``RangeAssignor`` and ``RoundRobinAssignor``.

These are the assignors a consumer group leader runs in the classic rebalance protocol
(``partition.assignment.strategy``); they mirror
``org.apache.kafka.clients.consumer.RangeAssignor`` (Kafka 3.5+, including the KIP-881
rack-aware path) and ``org.apache.kafka.clients.consumer.RoundRobinAssignor``.

Ordering is where these assignors differ from naive implementations, so it is kept
exactly:

* Members are sorted like ``AbstractPartitionAssignor.MemberInfo.compareTo``: static
  members (with a ``group.instance.id``) first, ordered by ``group.instance.id``; then
  dynamic members ordered by ``member.id``. That is why static membership keeps a range
  or round-robin assignment stable across rolling bounces that change member ids.
* Strings compare like ``java.lang.String.compareTo`` (UTF-16 code units), not like
  Python's code-point order; the two differ only above the Basic Multilingual Plane.

Kafka returns lists in whatever order it appended them (HashMap topic order in the
non-rack range path); here every member's list is sorted, which is the same assignment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from simkafka.model.assignors.base import Assignment, GroupSpec, MemberSubscription
from simkafka.model.types import TopicPartition

__all__ = ["RangeAssignor", "RoundRobinAssignor", "java_string_key", "member_sort_key"]


def java_string_key(s: str) -> bytes:
    """Sort key that orders strings like Java's ``String.compareTo``.

    Java compares UTF-16 code units; big-endian UTF-16 bytes compare the same way
    (a shorter prefix sorts first in both). Python's own ``str`` order compares code
    points, which puts U+E000..U+FFFF *before* supplementary characters, Java after.
    """
    return s.encode("utf-16-be", "surrogatepass")


def member_sort_key(sub: MemberSubscription) -> tuple[int, bytes, bytes]:
    """``AbstractPartitionAssignor.MemberInfo.compareTo`` as a sort key.

    Static members (``group.instance.id`` present) sort before dynamic ones; two static
    members compare by instance id, two dynamic ones by member id. Kafka treats two
    static members with the same instance id as equal and keeps HashMap order; such a
    group cannot exist (the coordinator fences duplicates), so member id breaks the tie.
    """
    if sub.group_instance_id is not None:
        return (0, java_string_key(sub.group_instance_id), java_string_key(sub.member_id))
    return (1, java_string_key(sub.member_id), b"")


def _sorted_members(subs: Iterable[MemberSubscription]) -> list[MemberSubscription]:
    return sorted(subs, key=member_sort_key)


def _empty_assignment(spec: GroupSpec) -> Assignment:
    # Every member gets an entry, even with nothing assigned, as Kafka's assignors do.
    return {member_id: [] for member_id in spec.subscriptions}


def _sorted_assignment(assignment: Assignment) -> Assignment:
    return {member_id: sorted(tps) for member_id, tps in assignment.items()}


class RoundRobinAssignor:
    """``RoundRobinAssignor``: deal all partitions, in order, round the sorted members.

    All partitions of all subscribed topics are laid out sorted by topic then partition;
    a circular iterator over the sorted members hands out one partition at a time,
    skipping members not subscribed to the partition's topic. With identical
    subscriptions the counts differ by at most one; with different subscriptions the
    skipping can leave the assignment badly unbalanced (the class javadoc's example).
    """

    name: str = "roundrobin"

    def assign(self, spec: GroupSpec) -> Assignment:
        """Assign every partition of every subscribed topic to exactly one member."""
        assignment = _empty_assignment(spec)
        members = _sorted_members(spec.subscriptions.values())
        if not members:
            return assignment
        topic_sets = {m.member_id: frozenset(m.topics) for m in members}

        # allPartitionsSorted: a TreeSet of the subscribed topics (Java string order),
        # skipping topics without metadata.
        topics = sorted({t for m in members for t in m.topics}, key=java_string_key)
        position = 0  # CircularIterator over the sorted MemberInfo list
        for topic in topics:
            for p in range(spec.partitions_per_topic.get(topic, 0)):
                while topic not in topic_sets[members[position].member_id]:
                    position = (position + 1) % len(members)
                assignment[members[position].member_id].append(TopicPartition(topic, p))
                position = (position + 1) % len(members)
        return _sorted_assignment(assignment)


class _TopicAssignmentState:
    """``RangeAssignor.TopicAssignmentState``: one topic's subscribers, quotas and racks.

    The quota rule is range's: ``num_partitions // num_consumers`` each, and the first
    ``num_partitions % num_consumers`` consumers to go over that get one extra. In the
    rack-aware path the extra partitions go to whichever consumers reach them first, not
    necessarily the first in sort order.
    """

    def __init__(
        self,
        topic: str,
        num_partitions: int,
        members: list[MemberSubscription],
        consumer_racks: Mapping[str, str],
        partition_racks: Mapping[TopicPartition, frozenset[str]],
        prefer_rack_aware_logic: bool,
    ) -> None:
        self.topic = topic
        # Sorted member id -> rack (None when the consumer has no client.rack).
        self.consumers: dict[str, str | None] = {
            m.member_id: consumer_racks.get(m.member_id) for m in _sorted_members(members)
        }
        partitions = [TopicPartition(topic, p) for p in range(num_partitions)]
        # A dict keeps insertion (partition) order, like Kafka's LinkedHashSet.
        self.unassigned: dict[TopicPartition, None] = dict.fromkeys(partitions)
        self.num_assigned: dict[str, int] = dict.fromkeys(self.consumers, 0)
        n = len(self.consumers)
        self.num_partitions_per_consumer = num_partitions // n if n else 0
        self.remaining_consumers_with_extra_partition = num_partitions % n if n else 0

        all_consumer_racks = {r for r in self.consumers.values() if r is not None}
        # Kafka only looks up replica racks when some subscriber has a rack; otherwise
        # partitionRacks is empty (which also makes its size 0 in the co-partition key).
        self.partition_racks: dict[TopicPartition, frozenset[str]] = {}
        if all_consumer_racks:
            for tp in partitions:
                self.partition_racks[tp] = frozenset(partition_racks.get(tp, frozenset()))
        all_partition_racks: set[str] = set().union(*self.partition_racks.values())
        self.needs_rack_aware_assignment = _use_rack_aware_assignment(
            all_consumer_racks, all_partition_racks, self.partition_racks, prefer_rack_aware_logic
        )

    def racks_match(self, consumer: str, tp: TopicPartition) -> bool:
        """A consumer without a rack matches every partition (``racksMatch``)."""
        rack = self.consumers[consumer]
        if rack is None:
            return True
        replica_racks = self.partition_racks.get(tp)
        return replica_racks is not None and rack in replica_racks

    def max_assignable(self, consumer: str) -> int:
        extra = 1 if self.remaining_consumers_with_extra_partition > 0 else 0
        return max(0, self.num_partitions_per_consumer + extra - self.num_assigned[consumer])

    def on_assigned(self, consumer: str, partitions: list[TopicPartition]) -> None:
        self.num_assigned[consumer] += len(partitions)
        if self.num_assigned[consumer] > self.num_partitions_per_consumer:
            self.remaining_consumers_with_extra_partition -= 1
        for tp in partitions:
            self.unassigned.pop(tp, None)


def _use_rack_aware_assignment(
    consumer_racks: set[str],
    partition_racks: set[str],
    racks_per_partition: Mapping[TopicPartition, frozenset[str]],
    prefer_rack_aware_logic: bool,
) -> bool:
    """``AbstractPartitionAssignor.useRackAwareAssignment``.

    Rack-aware logic is pointless when no consumer rack hosts any replica, and is skipped
    when every partition has replicas on every rack (any assignment is then rack-local),
    unless Kafka's test-only ``preferRackAwareLogic`` flag forces it.
    """
    if not consumer_racks or consumer_racks.isdisjoint(partition_racks):
        return False
    if prefer_rack_aware_logic:
        return True
    return not all(racks == partition_racks for racks in racks_per_partition.values())


_GroupKey = tuple[tuple[tuple[str, str | None], ...], int]


class RangeAssignor:
    """``RangeAssignor``: per topic, contiguous ranges to the sorted subscribers.

    Without racks, for each topic the sorted subscribers get
    ``num_partitions // num_consumers`` consecutive partitions each and the first
    ``num_partitions % num_consumers`` get one more -- so topics with the same
    subscribers and partition count are co-partitioned (partition *i* of each lands on
    the same consumer), and a consumer sorted first takes an extra partition of *every*
    topic, the well-known range skew.

    KIP-881 rack-aware path (when some subscriber has ``client.rack`` and some partition
    does not have replicas on every rack): first, groups of topics with identical
    subscribers (and racks) and equal partition counts are assigned partition index by
    partition index to the first consumer whose rack hosts that index of *all* of them
    and that still has quota, preserving co-partitioning; a topic alone in its group
    gets the rack-matching partitions range-style; then everything left is assigned by
    plain range within the remaining quotas. Balance and co-partitioning win over rack
    alignment.

    ``prefer_rack_aware_logic`` is Kafka's package-private test switch
    (``AbstractPartitionAssignor.preferRackAwareLogic``) that runs the rack-aware path
    even when all partitions are on all racks; leave it False to behave like a client.
    """

    name: str = "range"

    def __init__(self, prefer_rack_aware_logic: bool = False) -> None:
        self.prefer_rack_aware_logic = prefer_rack_aware_logic

    def assign(self, spec: GroupSpec) -> Assignment:
        """Assign every partition of every subscribed topic, range-style, per topic."""
        assignment = _empty_assignment(spec)
        # consumerRacks: only non-empty client.rack values count.
        consumer_racks = {m.member_id: m.rack for m in spec.subscriptions.values() if m.rack}
        consumers_per_topic: dict[str, list[MemberSubscription]] = {}
        for member in spec.subscriptions.values():
            for topic in dict.fromkeys(member.topics):
                consumers_per_topic.setdefault(topic, []).append(member)

        states = [
            _TopicAssignmentState(
                topic,
                spec.partitions_per_topic.get(topic, 0),
                members,
                consumer_racks,
                spec.partition_racks,
                self.prefer_rack_aware_logic,
            )
            for topic, members in sorted(consumers_per_topic.items())
            if spec.partitions_per_topic.get(topic, 0) > 0
        ]

        if any(s.needs_rack_aware_assignment for s in states):
            self._assign_with_rack_matching(states, assignment)
        for state in states:
            self._assign_ranges(state, lambda c, tp: True, assignment)
        return _sorted_assignment(assignment)

    def _assign_ranges(
        self,
        state: _TopicAssignmentState,
        may_assign: Callable[[str, TopicPartition], bool],
        assignment: Assignment,
    ) -> None:
        """``assignRanges``: each sorted consumer takes the first partitions it may have."""
        for consumer in state.consumers:
            if not state.unassigned:
                break
            limit = state.max_assignable(consumer)
            assignable = [tp for tp in state.unassigned if may_assign(consumer, tp)][:limit]
            if assignable:
                self._assign(consumer, assignable, state, assignment)

    def _assign_with_rack_matching(
        self, states: list[_TopicAssignmentState], assignment: Assignment
    ) -> None:
        """``assignWithRackMatching``: group topics by (subscribers+racks, partition count).

        Each topic's quotas are its own, so the order groups are visited in does not
        change the result. Note that a multi-topic group is rack-matched even when none
        of its own topics needs rack-aware assignment -- only one topic in the whole
        group subscription has to.
        """
        # Key: the sorted (member id, rack) pairs and the partition count (0 when no
        # subscriber has a rack, as Kafka keys on partitionRacks.size()).
        groups: dict[_GroupKey, list[_TopicAssignmentState]] = {}
        for state in states:
            key = (tuple(state.consumers.items()), len(state.partition_racks))
            groups.setdefault(key, []).append(state)
        for (consumers, num_partitions), co_partitioned in groups.items():
            if len(co_partitioned) > 1:
                member_ids = [c for c, _ in consumers]
                self._assign_co_partitioned(member_ids, num_partitions, co_partitioned, assignment)
            else:
                state = co_partitioned[0]
                if state.needs_rack_aware_assignment:
                    self._assign_ranges(state, state.racks_match, assignment)

    def _assign_co_partitioned(
        self,
        consumers: list[str],
        num_partitions: int,
        states: list[_TopicAssignmentState],
        assignment: Assignment,
    ) -> None:
        """``assignCoPartitionedWithRackMatching``: partition *p* of all topics together.

        For each partition index, the first remaining consumer whose rack hosts index *p*
        of every topic and that has quota left in every topic takes all of them; a
        consumer whose quota is used up in every topic leaves the candidate list.
        """
        remaining = list(consumers)
        for p in range(num_partitions):
            chosen = next(
                (
                    c
                    for c in remaining
                    if all(
                        s.racks_match(c, TopicPartition(s.topic, p)) and s.max_assignable(c) > 0
                        for s in states
                    )
                ),
                None,
            )
            if chosen is None:
                continue
            for s in states:
                self._assign(chosen, [TopicPartition(s.topic, p)], s, assignment)
            if not any(s.max_assignable(chosen) > 0 for s in states):
                remaining.remove(chosen)
                if not remaining:
                    break

    @staticmethod
    def _assign(
        consumer: str,
        partitions: list[TopicPartition],
        state: _TopicAssignmentState,
        assignment: Assignment,
    ) -> None:
        assignment[consumer].extend(partitions)
        state.on_assigned(consumer, partitions)
