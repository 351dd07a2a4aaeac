"""Classic RangeAssignor and RoundRobinAssignor against Kafka's own test expectations.

Cases are ported from ``clients/src/test/java/org/apache/kafka/clients/consumer/
RangeAssignorTest.java``, ``RoundRobinAssignorTest.java`` and
``internals/AbstractPartitionAssignorTest.java`` (same topic/consumer names, same rack
layouts built the same way as ``AbstractPartitionAssignorTest.partitionInfos``), plus
hypothesis invariants.
"""

from __future__ import annotations

import random
from enum import Enum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.model.assignors.base import Assignment, GroupSpec, MemberSubscription
from simkafka.model.assignors.classic import (
    RangeAssignor,
    RoundRobinAssignor,
    _use_rack_aware_assignment,
    java_string_key,
    member_sort_key,
)
from simkafka.model.types import TopicPartition

ALL_RACKS = ("a", "b", "c", "d", "e", "f")  # AbstractPartitionAssignorTest.ALL_RACKS


def tp(topic: str, partition: int) -> TopicPartition:
    return TopicPartition(topic, partition)


def tps(*pairs: tuple[str, int]) -> list[TopicPartition]:
    return sorted(TopicPartition(t, p) for t, p in pairs)


def parse(s: str) -> list[TopicPartition]:
    """Kafka's test strings, e.g. "t1-0, t1-3, t2-0"."""
    if not s:
        return []
    out = []
    for item in s.split(", "):
        topic, _, p = item.rpartition("-")
        out.append(TopicPartition(topic, int(p)))
    return sorted(out)


def to_sorted_string(partitions: list[TopicPartition]) -> str:
    """``AbstractPartitionAssignorTest.toSortedString``: toString()s sorted as strings."""
    return ", ".join(sorted(str(p) for p in partitions))


# --- rack layouts exactly as AbstractPartitionAssignorTest builds them -------------------


def racks(n: int) -> list[str | None]:
    return [ALL_RACKS[i % len(ALL_RACKS)] for i in range(n)]


def null_racks(n: int) -> list[str | None]:
    return [None] * n


def partition_racks(
    topic: str, num_partitions: int, rf: int, broker_racks: list[str | None], next_index: int
) -> dict[TopicPartition, frozenset[str]]:
    """Replica j of partition i is broker (i + j + next_index) % numBrokers; its racks."""
    n = len(broker_racks)
    out = {}
    for i in range(num_partitions):
        rs = {broker_racks[(i + j + next_index) % n] for j in range(rf)}
        out[TopicPartition(topic, i)] = frozenset(r for r in rs if r is not None)
    return out


def partition_racks_by_count(
    topic: str, num_partitions: int, rf: int, num_broker_racks: int
) -> dict[TopicPartition, frozenset[str]]:
    """The ``partitionInfos(topic, n, rf, numBrokerRacks, 0)`` overload."""
    num_brokers = rf if num_broker_racks <= 0 else num_broker_racks * rf
    broker_racks: list[str | None] = [
        None if num_broker_racks <= 0 else ALL_RACKS[i % num_broker_racks]
        for i in range(num_brokers)
    ]
    return partition_racks(topic, num_partitions, rf, broker_racks, 0)


def verify_rack_assignment(
    assignor: RangeAssignor,
    topics: dict[str, int],
    rf: int,
    broker_racks: list[str | None],
    consumer_racks: list[str | None],
    consumer_topics: list[list[str]],
    expected: list[str],
    num_partitions_with_rack_mismatch: int,
) -> None:
    """``AbstractPartitionAssignorTest.verifyRackAssignment``.

    Consumers are "consumer0".. with the given racks; replicas are laid out topic after
    topic (mkMap keeps insertion order), each topic starting where the previous ended.
    """
    consumers = [f"consumer{i}" for i in range(len(consumer_racks))]
    racks_by_tp: dict[TopicPartition, frozenset[str]] = {}
    next_index = 0
    for topic, n in topics.items():
        racks_by_tp.update(partition_racks(topic, n, rf, broker_racks, next_index))
        next_index += n
    subs = {
        c: MemberSubscription(c, tuple(consumer_topics[i]), rack=consumer_racks[i])
        for i, c in enumerate(consumers)
    }
    assignment = assignor.assign(GroupSpec(topics, subs, racks_by_tp))
    actual = {c: to_sorted_string(parts) for c, parts in assignment.items()}
    assert actual == dict(zip(consumers, expected, strict=True))
    if num_partitions_with_rack_mismatch >= 0:
        mismatched = [
            p
            for i, c in enumerate(consumers)
            if consumer_racks[i] is not None
            for p in assignment[c]
            if consumer_racks[i] not in racks_by_tp[p]
        ]
        assert len(mismatched) == num_partitions_with_rack_mismatch, mismatched


# --- AbstractPartitionAssignorTest --------------------------------------------------------


def test_member_info_sorting_without_group_instance_id() -> None:
    # testMemberInfoSortingWithoutGroupInstanceId
    ms = [MemberSubscription(m, ()) for m in ("a", "b", "c")]
    assert sorted(ms, key=member_sort_key) == ms


def test_member_info_sorting_with_all_group_instance_id() -> None:
    # testMemberInfoSortingWithAllGroupInstanceId: ordered by instance id, not member id
    m1 = MemberSubscription("a", (), group_instance_id="y")
    m2 = MemberSubscription("b", (), group_instance_id="z")
    m3 = MemberSubscription("c", (), group_instance_id="x")
    assert sorted([m1, m2, m3], key=member_sort_key) == [m3, m1, m2]


def test_member_info_sorting_some_group_instance_id() -> None:
    # testMemberInfoSortingSomeGroupInstanceId: static members before dynamic ones
    m1 = MemberSubscription("a", ())
    m2 = MemberSubscription("b", (), group_instance_id="y")
    m3 = MemberSubscription("c", (), group_instance_id="x")
    assert sorted([m1, m2, m3], key=member_sort_key) == [m3, m2, m1]


def test_merge_sort_many_member_info() -> None:
    # testMergeSortManyMemberInfo: 100 members, random half static; statics then dynamics
    rng = random.Random(7)
    members = [
        MemberSubscription(
            str(i + 100), (), group_instance_id=str(i + 100) if rng.random() < 0.5 else None
        )
        for i in range(100)
    ]
    expected = [m for m in members if m.group_instance_id] + [
        m for m in members if not m.group_instance_id
    ]
    rng.shuffle(members)
    assert sorted(members, key=member_sort_key) == expected


def test_java_string_order_differs_from_python_above_bmp() -> None:
    # Reference produced with the JDK: Collections.sort(["\uffff", "\ud83d\ude00", "b"])
    # printed code points 98, 128512, 65535 (Java compares UTF-16 code units).
    assert sorted(["\uffff", "\U0001f600", "b"], key=java_string_key) == [
        "b",
        "\U0001f600",
        "\uffff",
    ]
    # ... so RoundRobin's sorted member list puts the emoji member first.
    subs = {m: MemberSubscription(m, ("t",)) for m in ("\uffff", "\U0001f600")}
    result = RoundRobinAssignor().assign(GroupSpec({"t": 1}, subs))
    assert result == {"\uffff": [], "\U0001f600": [tp("t", 0)]}


def test_use_rack_aware_assignment() -> None:
    # testUseRackAwareAssignment
    all_racks = {"a", "b", "c"}
    two_racks = {"a", "b"}
    on_all = {tp("topic", i): frozenset(all_racks) for i in range(10)}
    on_subset = {tp("topic", i): frozenset({"abc"[i % 3]}) for i in range(10)}
    for prefer in (False, True):
        assert not _use_rack_aware_assignment(set(), set(), on_all, prefer)
        assert not _use_rack_aware_assignment(set(), all_racks, on_all, prefer)
        assert not _use_rack_aware_assignment(all_racks, set(), {}, prefer)
        assert not _use_rack_aware_assignment({"d"}, all_racks, on_all, prefer)
        assert _use_rack_aware_assignment(all_racks, all_racks, on_subset, prefer)
        assert _use_rack_aware_assignment(two_racks, all_racks, on_subset, prefer)
    assert not _use_rack_aware_assignment(all_racks, all_racks, on_all, False)
    assert not _use_rack_aware_assignment(two_racks, all_racks, on_all, False)
    assert not _use_rack_aware_assignment({"a", "d"}, all_racks, on_all, False)
    assert _use_rack_aware_assignment({"a", "d"}, all_racks, on_subset, False)
    assert _use_rack_aware_assignment(all_racks, all_racks, on_all, True)
    assert _use_rack_aware_assignment(two_racks, all_racks, on_all, True)


# --- RangeAssignorTest: the parametrised basic cases --------------------------------------


class RackConfig(Enum):
    NO_BROKER_RACK = "NO_BROKER_RACK"
    NO_CONSUMER_RACK = "NO_CONSUMER_RACK"
    BROKER_AND_CONSUMER_RACK = "BROKER_AND_CONSUMER_RACK"


class RangeFixture:
    """``RangeAssignorTest.initializeRacks`` + ``subscription`` + ``partitionInfos``.

    Like Kafka's test it sets ``preferRackAwareLogic`` so the rack-aware code runs even
    though every partition has a replica on every rack.
    """

    def __init__(self, rack_config: RackConfig, max_consumers: int = 3) -> None:
        self.rf = max_consumers
        self.num_broker_racks = max_consumers if rack_config != RackConfig.NO_BROKER_RACK else 0
        self.has_consumer_rack = rack_config != RackConfig.NO_CONSUMER_RACK
        self.assignor = RangeAssignor(prefer_rack_aware_logic=True)

    def sub(
        self, member_id: str, topics: list[str], index: int, instance: str | None = None
    ) -> MemberSubscription:
        num_racks = self.num_broker_racks if self.num_broker_racks > 0 else len(ALL_RACKS)
        rack = ALL_RACKS[index % num_racks] if self.has_consumer_rack else None
        return MemberSubscription(member_id, tuple(topics), group_instance_id=instance, rack=rack)

    def assign(self, topics: dict[str, int], subs: list[MemberSubscription]) -> Assignment:
        prs: dict[TopicPartition, frozenset[str]] = {}
        for topic, n in topics.items():
            prs.update(partition_racks_by_count(topic, n, self.rf, self.num_broker_racks))
        return self.assignor.assign(GroupSpec(topics, {s.member_id: s for s in subs}, prs))


rack_configs = pytest.mark.parametrize("rack_config", list(RackConfig))


@pytest.mark.parametrize("has_consumer_rack", [True, False])
def test_range_one_consumer_no_topic(has_consumer_rack: bool) -> None:
    # testOneConsumerNoTopic
    f = RangeFixture(
        RackConfig.BROKER_AND_CONSUMER_RACK if has_consumer_rack else RackConfig.NO_CONSUMER_RACK
    )
    assert f.assign({}, [f.sub("consumer1", [], 0)]) == {"consumer1": []}


@pytest.mark.parametrize("has_consumer_rack", [True, False])
def test_range_one_consumer_nonexistent_topic(has_consumer_rack: bool) -> None:
    # testOneConsumerNonexistentTopic
    f = RangeFixture(
        RackConfig.BROKER_AND_CONSUMER_RACK if has_consumer_rack else RackConfig.NO_CONSUMER_RACK
    )
    assert f.assign({}, [f.sub("consumer1", ["topic1"], 0)]) == {"consumer1": []}


@rack_configs
def test_range_one_consumer_one_topic(rack_config: RackConfig) -> None:
    # testOneConsumerOneTopic
    f = RangeFixture(rack_config)
    result = f.assign({"topic1": 3}, [f.sub("consumer1", ["topic1"], 0)])
    assert result == {"consumer1": tps(("topic1", 0), ("topic1", 1), ("topic1", 2))}


@rack_configs
def test_range_only_assigns_partitions_from_subscribed_topics(rack_config: RackConfig) -> None:
    # testOnlyAssignsPartitionsFromSubscribedTopics
    f = RangeFixture(rack_config)
    result = f.assign({"topic1": 3, "other": 3}, [f.sub("consumer1", ["topic1"], 0)])
    assert result == {"consumer1": tps(("topic1", 0), ("topic1", 1), ("topic1", 2))}


@rack_configs
def test_range_one_consumer_multiple_topics(rack_config: RackConfig) -> None:
    # testOneConsumerMultipleTopics
    f = RangeFixture(rack_config)
    result = f.assign({"topic1": 1, "topic2": 2}, [f.sub("consumer1", ["topic1", "topic2"], 0)])
    assert result == {"consumer1": tps(("topic1", 0), ("topic2", 0), ("topic2", 1))}


@rack_configs
def test_range_two_consumers_one_topic_one_partition(rack_config: RackConfig) -> None:
    # testTwoConsumersOneTopicOnePartition
    f = RangeFixture(rack_config)
    subs = [f.sub("consumer1", ["topic1"], 0), f.sub("consumer2", ["topic1"], 1)]
    assert f.assign({"topic1": 1}, subs) == {"consumer1": [tp("topic1", 0)], "consumer2": []}


@rack_configs
def test_range_two_consumers_one_topic_two_partitions(rack_config: RackConfig) -> None:
    # testTwoConsumersOneTopicTwoPartitions
    f = RangeFixture(rack_config)
    subs = [f.sub("consumer1", ["topic1"], 0), f.sub("consumer2", ["topic1"], 1)]
    assert f.assign({"topic1": 2}, subs) == {
        "consumer1": [tp("topic1", 0)],
        "consumer2": [tp("topic1", 1)],
    }


@rack_configs
def test_range_multiple_consumers_mixed_topics(rack_config: RackConfig) -> None:
    # testMultipleConsumersMixedTopics
    f = RangeFixture(rack_config)
    subs = [
        f.sub("consumer1", ["topic1"], 0),
        f.sub("consumer2", ["topic1", "topic2"], 1),
        f.sub("consumer3", ["topic1"], 2),
    ]
    assert f.assign({"topic1": 3, "topic2": 2}, subs) == {
        "consumer1": [tp("topic1", 0)],
        "consumer2": tps(("topic1", 1), ("topic2", 0), ("topic2", 1)),
        "consumer3": [tp("topic1", 2)],
    }


@rack_configs
def test_range_two_consumers_two_topics_six_partitions(rack_config: RackConfig) -> None:
    # testTwoConsumersTwoTopicsSixPartitions (and the class javadoc example)
    f = RangeFixture(rack_config)
    both = ["topic1", "topic2"]
    subs = [f.sub("consumer1", both, 0), f.sub("consumer2", both, 1)]
    assert f.assign({"topic1": 3, "topic2": 3}, subs) == {
        "consumer1": tps(("topic1", 0), ("topic1", 1), ("topic2", 0), ("topic2", 1)),
        "consumer2": tps(("topic1", 2), ("topic2", 2)),
    }


@rack_configs
def test_range_two_static_consumers_two_topics_six_partitions(rack_config: RackConfig) -> None:
    # testTwoStaticConsumersTwoTopicsSixPartitions: "consumer-a" sorts before
    # "consumer-b" by member id, but instance ids decide.
    f = RangeFixture(rack_config)
    both = ["topic1", "topic2"]
    subs = [
        f.sub("consumer-b", both, 0, instance="instance1"),
        f.sub("consumer-a", both, 1, instance="instance2"),
    ]
    assert f.assign({"topic1": 3, "topic2": 3}, subs) == {
        "consumer-b": tps(("topic1", 0), ("topic1", 1), ("topic2", 0), ("topic2", 1)),
        "consumer-a": tps(("topic1", 2), ("topic2", 2)),
    }


@rack_configs
def test_range_one_static_one_dynamic_two_topics_six_partitions(rack_config: RackConfig) -> None:
    # testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions
    f = RangeFixture(rack_config)
    both = ["topic1", "topic2"]
    subs = [f.sub("consumer-b", both, 0, instance="instance1"), f.sub("consumer-a", both, 1)]
    assert f.assign({"topic1": 3, "topic2": 3}, subs) == {
        "consumer-b": tps(("topic1", 0), ("topic1", 1), ("topic2", 0), ("topic2", 1)),
        "consumer-a": tps(("topic1", 2), ("topic2", 2)),
    }


@rack_configs
def test_range_static_member_assignment_persistent(rack_config: RackConfig) -> None:
    # testStaticMemberRangeAssignmentPersistent (initializeRacks(rackConfig, 5))
    f = RangeFixture(rack_config, max_consumers=5)
    both = ["topic1", "topic2"]
    subs = [f.sub(f"consumer{i + 1}", both, i, instance=f"instance{i + 1}") for i in range(3)]
    topics = {"topic1": 5, "topic2": 4}
    expected = {
        "consumer1": tps(("topic1", 0), ("topic1", 1), ("topic2", 0)),
        "consumer2": tps(("topic1", 2), ("topic2", 1)),
        "consumer3": tps(("topic1", 3), ("topic2", 2)),
        "consumer4": tps(("topic1", 4), ("topic2", 3)),
    }
    assert f.assign(topics, [*subs, f.sub("consumer4", both, 3)]) == expected
    # Replace dynamic member 4 with a new dynamic member 5.
    expected["consumer5"] = expected.pop("consumer4")
    assert f.assign(topics, [*subs, f.sub("consumer5", both, 4)]) == expected


def _by_instance(
    assignment: Assignment, subs: list[MemberSubscription]
) -> dict[str, list[TopicPartition]]:
    """``checkStaticAssignment``: re-key an assignment by group.instance.id."""
    return {s.group_instance_id: assignment[s.member_id] for s in subs if s.group_instance_id}


@rack_configs
def test_range_static_member_persistent_after_member_id_changes(rack_config: RackConfig) -> None:
    # testStaticMemberRangeAssignmentPersistentAfterMemberIdChanges
    f = RangeFixture(rack_config)
    both = ["topic1", "topic2"]
    topics = {"topic1": 5, "topic2": 5}
    subs = [f.sub(f"consumer{i + 1}", both, i, instance=f"instance{i + 1}") for i in range(3)]
    expected = {
        "instance1": tps(("topic1", 0), ("topic1", 1), ("topic2", 0), ("topic2", 1)),
        "instance2": tps(("topic1", 2), ("topic1", 3), ("topic2", 2), ("topic2", 3)),
        "instance3": tps(("topic1", 4), ("topic2", 4)),
    }
    assert _by_instance(f.assign(topics, subs), subs) == expected
    # consumer3 -> consumer4 and consumer2 -> consumer5, same instances and racks.
    renamed = [
        subs[0],
        MemberSubscription(
            "consumer5", subs[1].topics, group_instance_id="instance2", rack=subs[1].rack
        ),
        MemberSubscription(
            "consumer4", subs[2].topics, group_instance_id="instance3", rack=subs[2].rack
        ),
    ]
    assert _by_instance(f.assign(topics, renamed), renamed) == expected


def test_range_rack_aware_static_member_persistent_after_member_id_changes() -> None:
    # testRackAwareStaticMemberRangeAssignmentPersistentAfterMemberIdChanges: rf 2 over
    # 3 racks, so partition i is on racks {ALL_RACKS[i % 3], ALL_RACKS[(i + 1) % 3]}.
    f = RangeFixture(RackConfig.BROKER_AND_CONSUMER_RACK)
    prs = {}
    for topic in ("topic1", "topic2"):
        prs.update(partition_racks_by_count(topic, 5, 2, 3))
    topics = {"topic1": 5, "topic2": 5}
    both = ["topic1", "topic2"]
    subs = [f.sub(f"consumer{i + 1}", both, i, instance=f"instance{i + 1}") for i in range(3)]
    expected = {
        "instance1": tps(("topic1", 0), ("topic1", 2), ("topic2", 0), ("topic2", 2)),
        "instance2": tps(("topic1", 1), ("topic1", 3), ("topic2", 1), ("topic2", 3)),
        "instance3": tps(("topic1", 4), ("topic2", 4)),
    }

    def run(members: list[MemberSubscription]) -> Assignment:
        return f.assignor.assign(GroupSpec(topics, {s.member_id: s for s in members}, prs))

    assert _by_instance(run(subs), subs) == expected
    renamed = [
        subs[0],
        MemberSubscription(
            "consumer5", subs[1].topics, group_instance_id="instance2", rack=subs[1].rack
        ),
        MemberSubscription(
            "consumer4", subs[2].topics, group_instance_id="instance3", rack=subs[2].rack
        ),
    ]
    assert _by_instance(run(renamed), renamed) == expected


# --- RangeAssignorTest: rack-aware cases ---------------------------------------------------


def verify_non_rack_aware_assignment(
    topics: dict[str, int], consumer_topics: list[list[str]], expected: list[str]
) -> None:
    """``RangeAssignorTest.verifyNonRackAwareAssignment``: combos that must not rack-match."""
    plain = RangeAssignor()
    verify_rack_assignment(plain, topics, 3, null_racks(3), racks(3), consumer_topics, expected, -1)
    verify_rack_assignment(plain, topics, 3, racks(3), null_racks(3), consumer_topics, expected, -1)
    verify_rack_assignment(plain, topics, 3, racks(3), racks(3), consumer_topics, expected, 0)
    verify_rack_assignment(plain, topics, 4, racks(4), racks(3), consumer_topics, expected, 0)
    verify_rack_assignment(
        plain, topics, 3, racks(3), ["d", "e", "f"], consumer_topics, expected, -1
    )
    verify_rack_assignment(
        plain, topics, 3, racks(3), [None, "e", "f"], consumer_topics, expected, -1
    )
    prefer = RangeAssignor(prefer_rack_aware_logic=True)
    verify_rack_assignment(prefer, topics, 3, racks(3), racks(3), consumer_topics, expected, 0)


def test_range_rack_aware_assignment_with_uniform_subscription() -> None:
    # testRackAwareAssignmentWithUniformSubscription
    topics = {"t1": 6, "t2": 7, "t3": 2}
    all_topics = ["t1", "t2", "t3"]
    ct = [all_topics, all_topics, all_topics]
    verify_non_rack_aware_assignment(
        topics,
        ct,
        [
            "t1-0, t1-1, t2-0, t2-1, t2-2, t3-0",
            "t1-2, t1-3, t2-3, t2-4, t3-1",
            "t1-4, t1-5, t2-5, t2-6",
        ],
    )
    a = RangeAssignor()
    # Best-effort rack alignment for lower replication factors.
    verify_rack_assignment(
        a, topics, 1, racks(3), racks(3), ct,
        ["t1-0, t1-3, t2-0, t2-3, t2-6", "t1-1, t1-4, t2-1, t2-4, t3-0", "t1-2, t1-5, t2-2, t2-5, t3-1"],
        0,
    )  # fmt: skip
    verify_rack_assignment(
        a, topics, 2, racks(3), racks(3), ct,
        ["t1-0, t1-2, t2-0, t2-2, t2-3, t3-1", "t1-1, t1-3, t2-1, t2-4, t3-0", "t1-4, t1-5, t2-5, t2-6"],
        1,
    )  # fmt: skip
    # One consumer on a rack with no partitions.
    verify_rack_assignment(
        a, topics, 3, racks(2), racks(3), ct,
        ["t1-0, t1-1, t2-0, t2-1, t2-2, t3-0", "t1-2, t1-3, t2-3, t2-4, t3-1", "t1-4, t1-5, t2-5, t2-6"],
        4,
    )  # fmt: skip


def test_range_rack_aware_assignment_with_non_equal_subscription() -> None:
    # testRackAwareAssignmentWithNonEqualSubscription
    topics = {"t1": 6, "t2": 7, "t3": 2}
    all_topics = ["t1", "t2", "t3"]
    ct = [all_topics, all_topics, ["t1", "t3"]]
    verify_non_rack_aware_assignment(
        topics,
        ct,
        [
            "t1-0, t1-1, t2-0, t2-1, t2-2, t2-3, t3-0",
            "t1-2, t1-3, t2-4, t2-5, t2-6, t3-1",
            "t1-4, t1-5",
        ],
    )
    a = RangeAssignor()
    verify_rack_assignment(
        a, topics, 1, racks(3), racks(3), ct,
        ["t1-0, t1-3, t2-0, t2-2, t2-3, t2-6", "t1-1, t1-4, t2-1, t2-4, t2-5, t3-0", "t1-2, t1-5, t3-1"],
        2,
    )  # fmt: skip
    verify_rack_assignment(
        a, topics, 2, racks(3), racks(3), ct,
        ["t1-0, t1-2, t2-0, t2-2, t2-3, t2-5, t3-1", "t1-1, t1-3, t2-1, t2-4, t2-6, t3-0", "t1-4, t1-5"],
        0,
    )  # fmt: skip
    verify_rack_assignment(
        a, topics, 3, racks(2), racks(3), ct,
        ["t1-0, t1-1, t2-0, t2-1, t2-2, t2-3, t3-0", "t1-2, t1-3, t2-4, t2-5, t2-6, t3-1", "t1-4, t1-5"],
        2,
    )  # fmt: skip


def test_range_rack_aware_assignment_with_uniform_partitions() -> None:
    # testRackAwareAssignmentWithUniformPartitions: co-partitioning beats rack alignment
    topics = {"t1": 5, "t2": 5, "t3": 5}
    all_topics = ["t1", "t2", "t3"]
    ct = [all_topics, all_topics, all_topics]
    expected = [
        "t1-0, t1-1, t2-0, t2-1, t3-0, t3-1",
        "t1-2, t1-3, t2-2, t2-3, t3-2, t3-3",
        "t1-4, t2-4, t3-4",
    ]
    verify_non_rack_aware_assignment(topics, ct, expected)
    a = RangeAssignor()
    verify_rack_assignment(a, topics, 1, racks(3), racks(3), ct, expected, 10)
    verify_rack_assignment(a, topics, 2, racks(3), racks(3), ct, expected, 5)
    verify_rack_assignment(a, topics, 3, racks(2), racks(3), ct, expected, 3)


def test_range_rack_aware_uniform_partitions_non_equal_subscription() -> None:
    # testRackAwareAssignmentWithUniformPartitionsNonEqualSubscription
    topics = {"t1": 5, "t2": 5, "t3": 5}
    all_topics = ["t1", "t2", "t3"]
    ct = [all_topics, all_topics, ["t1", "t3"]]
    verify_non_rack_aware_assignment(
        topics,
        ct,
        [
            "t1-0, t1-1, t2-0, t2-1, t2-2, t3-0, t3-1",
            "t1-2, t1-3, t2-3, t2-4, t3-2, t3-3",
            "t1-4, t3-4",
        ],
    )
    a = RangeAssignor()
    verify_rack_assignment(
        a, topics, 1, racks(3), racks(3), ct,
        ["t1-0, t1-1, t2-0, t2-1, t2-4, t3-0, t3-1", "t1-2, t1-3, t2-2, t2-3, t3-2, t3-3", "t1-4, t3-4"],
        9,
    )  # fmt: skip
    verify_rack_assignment(
        a, topics, 2, racks(3), racks(3), ct,
        ["t1-2, t2-0, t2-1, t2-3, t3-2", "t1-0, t1-3, t2-2, t2-4, t3-0, t3-3", "t1-1, t1-4, t3-1, t3-4"],
        0,
    )  # fmt: skip
    verify_rack_assignment(
        a, topics, 3, racks(2), racks(3), ct,
        ["t1-0, t1-1, t2-0, t2-1, t2-2, t3-0, t3-1", "t1-2, t1-3, t2-3, t2-4, t3-2, t3-3", "t1-4, t3-4"],
        2,
    )  # fmt: skip


def test_range_rack_aware_assignment_with_co_partitioning() -> None:
    # testRackAwareAssignmentWithCoPartitioning
    topics = {"t1": 6, "t2": 6, "t3": 2, "t4": 2}
    ct = [["t1", "t2"], ["t1", "t2"], ["t3", "t4"], ["t3", "t4"]]
    consumer_racks: list[str | None] = ["a", "b", "b", "a"]
    expected = [
        "t1-0, t1-1, t1-2, t2-0, t2-1, t2-2",
        "t1-3, t1-4, t1-5, t2-3, t2-4, t2-5",
        "t3-0, t4-0",
        "t3-1, t4-1",
    ]
    a = RangeAssignor()
    verify_rack_assignment(a, topics, 3, racks(2), consumer_racks, ct, expected, -1)
    verify_rack_assignment(a, topics, 2, racks(2), consumer_racks, ct, expected, 0)
    verify_rack_assignment(
        a, topics, 1, racks(2), consumer_racks, ct,
        ["t1-0, t1-2, t1-4, t2-0, t2-2, t2-4", "t1-1, t1-3, t1-5, t2-1, t2-3, t2-5", "t3-1, t4-1", "t3-0, t4-0"],
        0,
    )  # fmt: skip

    all_topics = ["t1", "t2", "t3", "t4"]
    ct = [all_topics] * 4
    expected = [
        "t1-0, t1-1, t2-0, t2-1, t3-0, t4-0",
        "t1-2, t1-3, t2-2, t2-3, t3-1, t4-1",
        "t1-4, t2-4",
        "t1-5, t2-5",
    ]
    verify_rack_assignment(a, topics, 3, racks(2), consumer_racks, ct, expected, -1)
    verify_rack_assignment(a, topics, 2, racks(2), consumer_racks, ct, expected, 0)
    verify_rack_assignment(
        a, topics, 1, racks(2), consumer_racks, ct,
        ["t1-0, t1-2, t2-0, t2-2, t3-0, t4-0", "t1-1, t1-3, t2-1, t2-3, t3-1, t4-1", "t1-5, t2-5", "t1-4, t2-4"],
        0,
    )  # fmt: skip
    verify_rack_assignment(
        a, topics, 1, racks(3), consumer_racks, ct,
        ["t1-0, t1-3, t2-0, t2-3, t3-0, t4-0", "t1-1, t1-4, t2-1, t2-4, t3-1, t4-1", "t1-2, t2-2", "t1-5, t2-5"],
        6,
    )  # fmt: skip


def test_range_co_partitioned_assignment_with_same_subscription() -> None:
    # testCoPartitionedAssignmentWithSameSubscription: t7..t9 are subscribed but have no
    # metadata; with preferRackAwareLogic and rf=2 co-partitioned pairs stay together.
    topics = {"t1": 6, "t2": 6, "t3": 2, "t4": 2, "t5": 4, "t6": 4}
    topic_list = ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"]
    ct = [topic_list] * 3
    consumer_racks: list[str | None] = ["a", "b", "c"]
    expected = [
        "t1-0, t1-1, t2-0, t2-1, t3-0, t4-0, t5-0, t5-1, t6-0, t6-1",
        "t1-2, t1-3, t2-2, t2-3, t3-1, t4-1, t5-2, t6-2",
        "t1-4, t1-5, t2-4, t2-5, t5-3, t6-3",
    ]
    verify_rack_assignment(
        RangeAssignor(), topics, 3, null_racks(3), consumer_racks, ct, expected, -1
    )
    prefer = RangeAssignor(prefer_rack_aware_logic=True)
    verify_rack_assignment(prefer, topics, 3, racks(3), consumer_racks, ct, expected, 0)
    verify_rack_assignment(
        prefer, topics, 2, racks(3), consumer_racks, ct,
        [
            "t1-0, t1-2, t2-0, t2-2, t3-0, t4-0, t5-1, t6-1",
            "t1-1, t1-3, t2-1, t2-3, t3-1, t4-1, t5-2, t6-2",
            "t1-4, t1-5, t2-4, t2-5, t5-0, t5-3, t6-0, t6-3",
        ],
        0,
    )  # fmt: skip


def test_range_empty_client_rack_counts_as_no_rack() -> None:
    # RangeAssignor.consumerRacks drops empty rack ids (filter(r -> !r.isEmpty())), so a
    # consumer with client.rack="" behaves like one without a rack.
    topics = {"t": 4}
    prs = {tp("t", p): frozenset("ab"[p % 2]) for p in range(4)}
    subs = {
        "c0": MemberSubscription("c0", ("t",), rack=""),
        "c1": MemberSubscription("c1", ("t",), rack="b"),
    }
    no_rack = {**subs, "c0": MemberSubscription("c0", ("t",))}
    result = RangeAssignor().assign(GroupSpec(topics, subs, prs))
    assert result == RangeAssignor().assign(GroupSpec(topics, no_rack, prs))
    # c0 (no rack) matches anything and takes the first two; c1 then gets the rest.
    assert result == {"c0": tps(("t", 0), ("t", 1)), "c1": tps(("t", 2), ("t", 3))}


def test_range_unrelated_topic_switches_co_partitioned_topics_to_rack_matching() -> None:
    # Derived from RangeAssignor.assignPartitions/assignWithRackMatching (not a Kafka
    # test): rack matching is switched on for the whole group as soon as *one* topic
    # needs it, and a co-partitioned group is then rack-matched even if its own
    # partitions are on every rack. Here A and B are on racks {a, b}; c0 is on rack "d".
    topics = {"A": 2, "B": 2}
    prs = {tp(t, p): frozenset("ab") for t in "AB" for p in range(2)}
    subs = {
        "c0": MemberSubscription("c0", ("A", "B"), rack="d"),
        "c1": MemberSubscription("c1", ("A", "B"), rack="a"),
    }
    plain = RangeAssignor().assign(GroupSpec(topics, subs, prs))
    assert plain == {"c0": tps(("A", 0), ("B", 0)), "c1": tps(("A", 1), ("B", 1))}
    # Add topic C, subscribed by c1 only, whose partitions are on one rack each.
    topics_c = {**topics, "C": 2}
    prs_c = {**prs, tp("C", 0): frozenset("a"), tp("C", 1): frozenset("b")}
    subs_c = {**subs, "c1": MemberSubscription("c1", ("A", "B", "C"), rack="a")}
    # A and B keep their subscribers (c0, c1) but partition 0 now goes to the first
    # rack-matching consumer, c1, and c0 is left with partition 1 of each.
    assert RangeAssignor().assign(GroupSpec(topics_c, subs_c, prs_c)) == {
        "c0": tps(("A", 1), ("B", 1)),
        "c1": tps(("A", 0), ("B", 0), ("C", 0), ("C", 1)),
    }


# --- RoundRobinAssignorTest -----------------------------------------------------------------


def rr(topics: dict[str, int], *subs: MemberSubscription) -> Assignment:
    return RoundRobinAssignor().assign(GroupSpec(topics, {s.member_id: s for s in subs}))


def test_rr_one_consumer_no_topic() -> None:
    # testOneConsumerNoTopic
    assert rr({}, MemberSubscription("consumer", ())) == {"consumer": []}


def test_rr_one_consumer_nonexistent_topic() -> None:
    # testOneConsumerNonexistentTopic
    assert rr({}, MemberSubscription("consumer", ("topic",))) == {"consumer": []}


def test_rr_one_consumer_one_topic() -> None:
    # testOneConsumerOneTopic
    result = rr({"topic": 3}, MemberSubscription("consumer", ("topic",)))
    assert result == {"consumer": tps(("topic", 0), ("topic", 1), ("topic", 2))}


def test_rr_only_assigns_partitions_from_subscribed_topics() -> None:
    # testOnlyAssignsPartitionsFromSubscribedTopics
    result = rr({"topic": 3, "other": 3}, MemberSubscription("consumer", ("topic",)))
    assert result == {"consumer": tps(("topic", 0), ("topic", 1), ("topic", 2))}


def test_rr_one_consumer_multiple_topics() -> None:
    # testOneConsumerMultipleTopics
    result = rr({"topic1": 1, "topic2": 2}, MemberSubscription("consumer", ("topic1", "topic2")))
    assert result == {"consumer": tps(("topic1", 0), ("topic2", 0), ("topic2", 1))}


def test_rr_two_consumers_one_topic_one_partition() -> None:
    # testTwoConsumersOneTopicOnePartition
    result = rr(
        {"topic": 1},
        MemberSubscription("consumer1", ("topic",)),
        MemberSubscription("consumer2", ("topic",)),
    )
    assert result == {"consumer1": [tp("topic", 0)], "consumer2": []}


def test_rr_two_consumers_one_topic_two_partitions() -> None:
    # testTwoConsumersOneTopicTwoPartitions
    result = rr(
        {"topic": 2},
        MemberSubscription("consumer1", ("topic",)),
        MemberSubscription("consumer2", ("topic",)),
    )
    assert result == {"consumer1": [tp("topic", 0)], "consumer2": [tp("topic", 1)]}


def test_rr_multiple_consumers_mixed_topics() -> None:
    # testMultipleConsumersMixedTopics
    result = rr(
        {"topic1": 3, "topic2": 2},
        MemberSubscription("consumer1", ("topic1",)),
        MemberSubscription("consumer2", ("topic1", "topic2")),
        MemberSubscription("consumer3", ("topic1",)),
    )
    assert result == {
        "consumer1": [tp("topic1", 0)],
        "consumer2": tps(("topic1", 1), ("topic2", 0), ("topic2", 1)),
        "consumer3": [tp("topic1", 2)],
    }


def test_rr_javadoc_unequal_subscriptions() -> None:
    # RoundRobinAssignor javadoc: t0/t1/t2 with 1/2/3 partitions, C0 on t0, C1 on t0,t1,
    # C2 on all three -> C0 [t0p0], C1 [t1p0], C2 [t1p1, t2p0, t2p1, t2p2].
    result = rr(
        {"t0": 1, "t1": 2, "t2": 3},
        MemberSubscription("C0", ("t0",)),
        MemberSubscription("C1", ("t0", "t1")),
        MemberSubscription("C2", ("t0", "t1", "t2")),
    )
    assert result == {
        "C0": [tp("t0", 0)],
        "C1": [tp("t1", 0)],
        "C2": tps(("t1", 1), ("t2", 0), ("t2", 1), ("t2", 2)),
    }


def test_rr_two_dynamic_consumers_two_topics_six_partitions() -> None:
    # testTwoDynamicConsumersTwoTopicsSixPartitions (testTwoConsumersTwoTopicsSixPartitions)
    both = ("topic1", "topic2")
    result = rr(
        {"topic1": 3, "topic2": 3},
        MemberSubscription("consumer1", both),
        MemberSubscription("consumer2", both),
    )
    assert result == {
        "consumer1": tps(("topic1", 0), ("topic1", 2), ("topic2", 1)),
        "consumer2": tps(("topic1", 1), ("topic2", 0), ("topic2", 2)),
    }


def test_rr_two_static_consumers_two_topics_six_partitions() -> None:
    # testTwoStaticConsumersTwoTopicsSixPartitions
    both = ("topic1", "topic2")
    result = rr(
        {"topic1": 3, "topic2": 3},
        MemberSubscription("consumer-b", both, group_instance_id="instance1"),
        MemberSubscription("consumer-a", both, group_instance_id="instance2"),
    )
    assert result == {
        "consumer-b": tps(("topic1", 0), ("topic1", 2), ("topic2", 1)),
        "consumer-a": tps(("topic1", 1), ("topic2", 0), ("topic2", 2)),
    }


def test_rr_one_static_one_dynamic_two_topics_six_partitions() -> None:
    # testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions
    both = ("topic1", "topic2")
    result = rr(
        {"topic1": 3, "topic2": 3},
        MemberSubscription("consumer-b", both, group_instance_id="instance1"),
        MemberSubscription("consumer-a", both),
    )
    assert result == {
        "consumer-b": tps(("topic1", 0), ("topic1", 2), ("topic2", 1)),
        "consumer-a": tps(("topic1", 1), ("topic2", 0), ("topic2", 2)),
    }


def test_rr_static_member_assignment_persistent() -> None:
    # testStaticMemberRoundRobinAssignmentPersistent
    both = ("topic1", "topic2")
    statics = [
        MemberSubscription(f"consumer{i}", both, group_instance_id=f"instance{i}")
        for i in (1, 2, 3)
    ]
    topics = {"topic1": 3, "topic2": 3}
    expected = {
        "consumer1": tps(("topic1", 0), ("topic2", 1)),
        "consumer2": tps(("topic1", 1), ("topic2", 2)),
        "consumer3": [tp("topic1", 2)],
        "consumer4": [tp("topic2", 0)],
    }
    assert rr(topics, *statics, MemberSubscription("consumer4", both)) == expected
    expected["consumer5"] = expected.pop("consumer4")
    assert rr(topics, *statics, MemberSubscription("consumer5", both)) == expected


def test_rr_static_member_persistent_after_member_id_changes() -> None:
    # testStaticMemberRoundRobinAssignmentPersistentAfterMemberIdChanges
    both = ("topic1", "topic2")
    topics = {"topic1": 5, "topic2": 5}
    subs = [
        MemberSubscription(f"consumer{i}", both, group_instance_id=f"instance{i}")
        for i in (1, 2, 3)
    ]
    expected = {
        "instance1": tps(("topic1", 0), ("topic1", 3), ("topic2", 1), ("topic2", 4)),
        "instance2": tps(("topic1", 1), ("topic1", 4), ("topic2", 2)),
        "instance3": tps(("topic1", 2), ("topic2", 0), ("topic2", 3)),
    }
    assert _by_instance(rr(topics, *subs), subs) == expected
    renamed = [
        subs[0],
        MemberSubscription("consumer5", both, group_instance_id="instance2"),
        MemberSubscription("consumer4", both, group_instance_id="instance3"),
    ]
    assert _by_instance(rr(topics, *renamed), renamed) == expected


# --- hypothesis invariants ----------------------------------------------------------------

TOPIC_NAMES = ["t0", "t1", "t2", "t3"]


@st.composite
def group_specs(draw: st.DrawFn, with_racks: bool = False, same_topics: bool = False) -> GroupSpec:
    counts = {
        t: draw(st.integers(0, 9))
        for t in draw(st.lists(st.sampled_from(TOPIC_NAMES), unique=True))
    }
    universe = TOPIC_NAMES  # members may subscribe to topics without metadata
    n = draw(st.integers(1, 6))
    common = tuple(draw(st.lists(st.sampled_from(universe), unique=True)))
    instance_ids = draw(st.lists(st.sampled_from("pqrstuvw"), min_size=n, max_size=n, unique=True))
    members = {}
    for i in range(n):
        topics = (
            common if same_topics else tuple(draw(st.lists(st.sampled_from(universe), unique=True)))
        )
        member_id = f"m{draw(st.integers(0, 99)):02d}-{i}"
        members[member_id] = MemberSubscription(
            member_id,
            topics,
            group_instance_id=instance_ids[i] if draw(st.booleans()) else None,
            rack=draw(st.sampled_from([None, "a", "b", "c"])) if with_racks else None,
        )
    prs: dict[TopicPartition, frozenset[str]] = {}
    if with_racks:
        for t, c in counts.items():
            for p in range(c):
                prs[TopicPartition(t, p)] = frozenset(draw(st.sets(st.sampled_from("abc"))))
    return GroupSpec(counts, members, prs)


def check_complete(spec: GroupSpec, assignment: Assignment) -> None:
    """Every partition of a subscribed topic to exactly one subscriber; nothing else."""
    assert set(assignment) == set(spec.subscriptions)
    owner: dict[TopicPartition, str] = {}
    for member_id, parts in assignment.items():
        assert parts == sorted(parts)
        for p in parts:
            assert p not in owner
            owner[p] = member_id
            assert p.topic in spec.subscriptions[member_id].topics
            assert 0 <= p.partition < spec.partitions_per_topic[p.topic]
    subscribed = {t for m in spec.subscriptions.values() for t in m.topics}
    expected = {
        TopicPartition(t, p) for t in subscribed for p in range(spec.partitions_per_topic.get(t, 0))
    }
    assert set(owner) == expected


def range_oracle(spec: GroupSpec) -> Assignment:
    """The pre-KIP-881 ``RangeAssignor.assign`` (Kafka 2.x): the textbook range formula."""
    out: Assignment = {m: [] for m in spec.subscriptions}
    for topic, n in spec.partitions_per_topic.items():
        consumers = sorted(
            (m for m in spec.subscriptions.values() if topic in m.topics), key=member_sort_key
        )
        if not consumers:
            continue
        per, extra = divmod(n, len(consumers))
        for i, m in enumerate(consumers):
            start = per * i + min(i, extra)
            length = per + (1 if i < extra else 0)
            out[m.member_id].extend(TopicPartition(topic, p) for p in range(start, start + length))
    return {m: sorted(v) for m, v in out.items()}


def shuffled(spec: GroupSpec, seed: int) -> GroupSpec:
    items = list(spec.subscriptions.items())
    random.Random(seed).shuffle(items)
    return GroupSpec(
        dict(reversed(list(spec.partitions_per_topic.items()))), dict(items), spec.partition_racks
    )


def per_topic_counts_balanced(spec: GroupSpec, assignment: Assignment) -> None:
    for topic in spec.partitions_per_topic:
        counts = [
            sum(1 for p in assignment[m.member_id] if p.topic == topic)
            for m in spec.subscriptions.values()
            if topic in m.topics
        ]
        if counts:
            assert max(counts) - min(counts) <= 1, (topic, counts)


@settings(max_examples=150, deadline=None)
@given(group_specs(), st.integers(0, 1000))
def test_range_without_racks_is_the_range_formula(spec: GroupSpec, seed: int) -> None:
    result = RangeAssignor().assign(spec)
    check_complete(spec, result)
    per_topic_counts_balanced(spec, result)
    assert result == range_oracle(spec)
    assert RangeAssignor().assign(shuffled(spec, seed)) == result


@settings(max_examples=150, deadline=None)
@given(group_specs(with_racks=True), st.integers(0, 1000), st.booleans())
def test_range_with_racks_keeps_per_topic_balance(spec: GroupSpec, seed: int, prefer: bool) -> None:
    # RangeAssignor.assignPartitions javadoc: rack-aware assignment retains "the same
    # co-partitioning and per-topic balancing guarantees as non-rack-aware" range.
    assignor = RangeAssignor(prefer_rack_aware_logic=prefer)
    result = assignor.assign(spec)
    check_complete(spec, result)
    per_topic_counts_balanced(spec, result)
    assert assignor.assign(shuffled(spec, seed)) == result


@settings(max_examples=100, deadline=None)
@given(group_specs(with_racks=True))
def test_range_rack_aware_with_all_partitions_on_all_racks_is_plain_range(spec: GroupSpec) -> None:
    # When every partition has a replica on every rack, useRackAwareAssignment is false
    # and the result is the plain range formula, whatever the consumer racks.
    on_all = {p: frozenset("abc") for p in spec.partition_racks}
    spec = GroupSpec(spec.partitions_per_topic, spec.subscriptions, on_all)
    assert RangeAssignor().assign(spec) == range_oracle(spec)


@settings(max_examples=150, deadline=None)
@given(group_specs(), st.integers(0, 1000))
def test_roundrobin_invariants(spec: GroupSpec, seed: int) -> None:
    result = RoundRobinAssignor().assign(spec)
    check_complete(spec, result)
    assert RoundRobinAssignor().assign(shuffled(spec, seed)) == result


@settings(max_examples=150, deadline=None)
@given(group_specs(same_topics=True))
def test_roundrobin_identical_subscriptions_balanced(spec: GroupSpec) -> None:
    result = RoundRobinAssignor().assign(spec)
    check_complete(spec, result)
    totals = [len(v) for v in result.values()]
    assert max(totals) - min(totals) <= 1
