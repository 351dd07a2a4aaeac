"""The classic group coordinator: join/sync phases, timeouts, eager vs cooperative rounds,
static membership -- each compared with what Kafka's ``GroupCoordinator`` does."""

from __future__ import annotations

from simkafka.model.assignors import GroupSpec, MemberSubscription, classic_assignor
from simkafka.model.classic_group import ClassicGroup, GroupState
from simkafka.model.group_protocol import (
    ILLEGAL_GENERATION,
    NONE,
    REBALANCE_IN_PROGRESS,
    UNKNOWN_MEMBER_ID,
    Heartbeat,
    HeartbeatResponse,
    JoinGroup,
    JoinGroupResponse,
    LeaveGroup,
    MemberRemoved,
    RebalanceCompleted,
    SyncGroup,
    SyncGroupResponse,
    Tick,
)
from simkafka.model.types import TopicPartition

TOPICS = {"orders": 6}
SESSION, REBALANCE = 45.0, 300.0


def join(at, member, protocols=("range",), owned=(), instance=None):
    return JoinGroup(at, "g", member, ("orders",), protocols, SESSION, REBALANCE, tuple(owned), instance)


def formed(members, protocols=("range",), instances=None):
    group = ClassicGroup("g", TOPICS)
    group.form([
        join(0.0, m, protocols, instance=(instances[i] if instances else None))
        for i, m in enumerate(members)
    ])
    return group


def hb(group, heartbeat):
    (response,) = group.handle(heartbeat)
    return response


def of(decisions, kind):
    return [d for d in decisions if isinstance(d, kind)]


def test_formed_group_is_stable_with_the_assignors_result_and_no_record():
    group = formed(["a", "b", "c"])
    assert group.state is GroupState.STABLE and group.generation == 1 and group.leader == "a"
    expected = classic_assignor("range").assign(
        GroupSpec(TOPICS, {m: MemberSubscription(m, ("orders",)) for m in "abc"})
    )
    for m in "abc":
        assert list(group.assignment(m)) == expected[m]
    assert group.records == []


def test_initial_delay_extends_while_members_arrive_then_completes():
    group = ClassicGroup("g", TOPICS, initial_rebalance_delay=3.0)
    out = group.handle(join(0.0, "a"))
    assert group.state is GroupState.PREPARING_REBALANCE and group.next_deadline() == 3.0
    group.handle(join(1.0, "b"))
    assert group.handle(Tick(3.0)) == [] and group.next_deadline() == 6.0  # b came: wait again
    out = group.handle(Tick(6.0))
    assert {d.member for d in of(out, JoinGroupResponse)} == {"a", "b"}
    assert group.state is GroupState.COMPLETING_REBALANCE and group.generation == 1


def test_member_crash_noticed_after_session_timeout_and_survivors_get_the_assignors_answer():
    group = formed(["a", "b", "c"])
    for t in (3.0, 6.0, 9.0):  # a and c heartbeat; b crashed at t=0
        for m in "ac":
            assert hb(group, Heartbeat(t, "g", m, 1)).error == NONE
    assert group.next_deadline() == SESSION  # b's last heartbeat was at 0
    out = group.handle(Tick(SESSION))
    assert of(out, MemberRemoved) == [MemberRemoved(SESSION, "g", "b", "session_timeout")]
    assert group.state is GroupState.PREPARING_REBALANCE
    assert hb(group, Heartbeat(46.0, "g", "a", 1)).error == REBALANCE_IN_PROGRESS
    group.handle(join(46.5, "a"))
    out = group.handle(join(47.0, "c"))
    assert [(d.member, d.generation, d.leader) for d in of(out, JoinGroupResponse)] == [
        ("a", 2, "a"), ("c", 2, "a")
    ]
    # followers that sync before the leader wait for it
    assert group.handle(SyncGroup(47.1, "g", "c", 2)) == []
    out = group.handle(SyncGroup(47.2, "g", "a", 2))
    expected = classic_assignor("range").assign(
        GroupSpec(TOPICS, {m: MemberSubscription(m, ("orders",)) for m in "ac"})
    )
    got = {d.member: list(d.assignment) for d in of(out, SyncGroupResponse)}
    assert got == {m: expected[m] for m in "ac"}
    (record,) = [d.record for d in of(out, RebalanceCompleted)]
    assert (record.generation, record.started_at, record.completed_at) == (2, SESSION, 47.2)
    assert (record.members_before, record.members_after) == (3, 2)
    assert record.reason == "member b session timeout"
    # b owned 2 partitions, range over 2 members moves them plus the shifted ranges
    before = {tp: m for m in "abc" for tp in formed(["a", "b", "c"]).assignment(m)}
    after = {tp: m for m, tps in expected.items() for tp in tps}
    assert record.partitions_moved == sum(1 for tp in after if before[tp] != after[tp])


def test_member_that_does_not_rejoin_in_time_is_removed_at_the_rebalance_timeout():
    group = formed(["a", "b"])
    group.handle(join(10.0, "c"))  # a new member starts a rebalance
    group.handle(join(11.0, "a"))
    for t in range(13, 300, 3):  # b keeps heartbeating but never rejoins (stuck in poll)
        group.handle(Heartbeat(float(t), "g", "b", 1))
    assert group.next_deadline() == 10.0 + REBALANCE
    out = group.handle(Tick(310.0))
    assert MemberRemoved(310.0, "g", "b", "rebalance_timeout") in out
    assert {d.member for d in of(out, JoinGroupResponse)} == {"a", "c"}


def test_leave_group_starts_a_rebalance_at_once():
    group = formed(["a", "b", "c"])
    out = group.handle(LeaveGroup(5.0, "g", "c"))
    assert of(out, MemberRemoved) == [MemberRemoved(5.0, "g", "c", "left")]
    assert group.state is GroupState.PREPARING_REBALANCE


def test_cooperative_scale_out_takes_two_rounds_and_withholds_moving_partitions():
    protocols = ("cooperative-sticky",)
    group = formed(["a", "b"], protocols)
    owned = {m: group.assignment(m) for m in "ab"}
    group.handle(join(10.0, "c", protocols))
    # a and b rejoin still owning everything (cooperative: nothing revoked yet)
    group.handle(join(11.0, "a", protocols, owned["a"]))
    out = group.handle(join(11.5, "b", protocols, owned["b"]))
    assert len(of(out, JoinGroupResponse)) == 3
    for m in "bc":
        group.handle(SyncGroup(11.6, "g", m, 2))
    out = group.handle(SyncGroup(11.7, "g", "a", 2))
    first = {d.member: d.assignment for d in of(out, SyncGroupResponse)}
    assert first["c"] == ()  # everything c will get is still owned by a or b
    revoked = {m: set(owned[m]) - set(first[m]) for m in "ab"}
    assert sum(len(r) for r in revoked.values()) == 2  # 6 partitions over 3: two move
    (r1,) = [d.record for d in of(out, RebalanceCompleted)]
    assert r1.partitions_moved == 0
    # the members that lost partitions revoke them and rejoin: a second round
    group.handle(join(12.0, "a", protocols, first["a"]))
    assert group.state is GroupState.PREPARING_REBALANCE
    group.handle(join(12.1, "b", protocols, first["b"]))
    group.handle(join(12.2, "c", protocols, first["c"]))
    for m in "bc":
        group.handle(SyncGroup(12.3, "g", m, 3))
    out = group.handle(SyncGroup(12.4, "g", "a", 3))
    second = {d.member: d.assignment for d in of(out, SyncGroupResponse)}
    assert set(second["c"]) == revoked["a"] | revoked["b"]
    assert second["a"] == first["a"] and second["b"] == first["b"]
    (r2,) = [d.record for d in of(out, RebalanceCompleted)]
    assert r2.partitions_moved == 2 and r2.generation == 3


def test_eager_follower_rejoining_a_stable_group_unchanged_gets_its_generation_back():
    group = formed(["a", "b"])
    out = group.handle(join(5.0, "b"))
    assert of(out, JoinGroupResponse) == [JoinGroupResponse(5.0, "g", "b", 1, "a", "range")]
    assert group.state is GroupState.STABLE
    # the leader rejoining forces a rebalance
    group.handle(join(6.0, "a"))
    assert group.state is GroupState.PREPARING_REBALANCE


def test_static_member_back_within_session_timeout_needs_no_rebalance():
    group = formed(["a", "b"], instances=["i-0", "i-1"])
    before = group.assignment("b")
    # b's process restarts: a new member id, the same group.instance.id, no LeaveGroup
    out = group.handle(join(20.0, "b2", instance="i-1"))
    assert MemberRemoved(20.0, "g", "b", "fenced") in out
    assert of(out, JoinGroupResponse) == [JoinGroupResponse(20.0, "g", "b2", 1, "a", "range")]
    (sync,) = of(group.handle(SyncGroup(20.1, "g", "b2", 1)), SyncGroupResponse)
    assert sync.assignment == before and group.state is GroupState.STABLE
    assert group.records == [] and group.generation == 1
    assert hb(group, Heartbeat(21.0, "g", "b", 1)).error == "FENCED_INSTANCE_ID"


def test_static_member_back_after_session_timeout_was_removed_and_rejoins_with_a_rebalance():
    group = formed(["a", "b"], instances=["i-0", "i-1"])
    for t in range(3, 46, 3):
        group.handle(Heartbeat(float(t), "g", "a", 1))
    out = group.handle(Tick(SESSION))
    assert MemberRemoved(SESSION, "g", "b", "session_timeout") in out
    group.handle(join(45.5, "a", instance="i-0"))
    group.handle(SyncGroup(45.6, "g", "a", 2))
    assert group.assignment("a") == tuple(TopicPartition("orders", p) for p in range(6))
    group.handle(join(60.0, "b2", instance="i-1"))  # now a new member: a rebalance
    assert group.state is GroupState.PREPARING_REBALANCE


def test_heartbeat_errors():
    group = formed(["a"])
    assert hb(group, Heartbeat(1.0, "g", "zz", 1)) == HeartbeatResponse(1.0, "g", "zz", UNKNOWN_MEMBER_ID)
    assert hb(group, Heartbeat(1.0, "g", "a", 0)).error == ILLEGAL_GENERATION
    assert group.commit_error("a", 1) == NONE and group.commit_error("a", 0) == ILLEGAL_GENERATION
    assert group.commit_error("zz", 1) == UNKNOWN_MEMBER_ID


def test_same_inputs_same_records():
    def play():
        group = formed(["a", "b", "c"], ("cooperative-sticky",))
        group.handle(LeaveGroup(1.0, "g", "b"))
        group.handle(join(2.0, "a", ("cooperative-sticky",), group.assignment("a")))
        group.handle(join(2.0, "c", ("cooperative-sticky",), group.assignment("c")))
        group.handle(SyncGroup(2.1, "g", "c", 2))
        group.handle(SyncGroup(2.2, "g", "a", 2))
        return group.records, {m: group.assignment(m) for m in group.members()}

    assert play() == play()
