"""The KIP-848 group coordinator: exact epochs, responses and timelines of Kafka's rules."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from simkafka.model.assignors import GroupSpec, MemberSubscription, server_assignor
from simkafka.model.consumer_group import ConsumerGroup
from simkafka.model.group_protocol import (
    FENCED_INSTANCE_ID,
    FENCED_MEMBER_EPOCH,
    NONE,
    UNKNOWN_MEMBER_ID,
    UNRELEASED_INSTANCE_ID,
    ConsumerGroupHeartbeat,
    ConsumerGroupHeartbeatResponse,
    GroupDecision,
    MemberRemoved,
    RebalanceCompleted,
    RebalanceRecord,
    Tick,
)
from simkafka.model.types import TopicPartition

TP = TopicPartition
HEARTBEAT = 5.0  # group.consumer.heartbeat.interval.ms default
SESSION = 45.0  # group.consumer.session.timeout.ms default
ALL = tuple(TP("t", p) for p in range(6))


def tps(*partitions: int) -> tuple[TopicPartition, ...]:
    return tuple(TP("t", p) for p in partitions)


def new_group(assignor: str = "uniform", partitions: int = 6) -> ConsumerGroup:
    return ConsumerGroup("g", {"t": partitions}, server_assignor(assignor), HEARTBEAT, SESSION)


@dataclass
class Client:
    """A consumer as the coordinator sees it: it reports what it owns, and takes what a
    response gives it. ``stuck`` models a poll loop that never gets to revoke: it keeps
    everything it had and only adds what it is given."""

    member: str
    instance_id: str | None = None
    rebalance_timeout: float = 300.0
    stuck: bool = False
    epoch: int = 0
    owned: tuple[TopicPartition, ...] = ()
    log: list[GroupDecision] = field(default_factory=list)

    def join(self, group: ConsumerGroup, at: float) -> ConsumerGroupHeartbeatResponse:
        self.epoch, self.owned = 0, ()
        return self._send(group, at, topics=("t",))

    def beat(self, group: ConsumerGroup, at: float) -> ConsumerGroupHeartbeatResponse:
        return self._send(group, at, topics=None)

    def leave(self, group: ConsumerGroup, at: float, epoch: int) -> ConsumerGroupHeartbeatResponse:
        response = self._send(group, at, topics=None, epoch=epoch)
        self.owned = ()
        return response

    def _send(
        self, group: ConsumerGroup, at: float, topics: tuple[str, ...] | None, epoch: int | None = None
    ) -> ConsumerGroupHeartbeatResponse:
        request = ConsumerGroupHeartbeat(
            at, "g", self.member, self.epoch if epoch is None else epoch, self.owned, topics,
            self.rebalance_timeout, self.instance_id,
        )
        decisions = group.handle(request)
        self.log += decisions
        (response,) = [d for d in decisions if isinstance(d, ConsumerGroupHeartbeatResponse)]
        if response.error == NONE:
            self.epoch = response.member_epoch
            if response.assignment is not None:
                given = response.assignment
                self.owned = tuple(sorted(set(self.owned) | set(given))) if self.stuck else given
        return response


def form(group: ConsumerGroup, *clients: Client, start: float = 0.0) -> float:
    """Join the clients one after another, then heartbeat until the group is stable."""
    at = start
    for client in clients:
        client.join(group, at)
        at += 0.1
    for _ in range(4):
        at += 1.0
        for client in clients:
            client.beat(group, at)
    assert all(group.state(c.member) == "STABLE" for c in clients)
    assert {group.member_epoch(c.member) for c in clients} == {group.group_epoch}
    return at


def records_of(decisions: list[GroupDecision]) -> list[RebalanceRecord]:
    return [d.record for d in decisions if isinstance(d, RebalanceCompleted)]


# --- forming a group ---------------------------------------------------------------------


@pytest.mark.parametrize("assignor", ["uniform", "range"])
def test_three_members_get_exactly_what_the_assignor_computes(assignor: str) -> None:
    group = new_group(assignor)
    clients = [Client("a"), Client("b"), Client("c")]
    form(group, *clients)

    # The oracle: the coordinator runs the assignor once per join, every member carrying
    # its previous target (TargetAssignmentBuilder), members in sorted order.
    direct = server_assignor(assignor)
    target: dict[str, list[TopicPartition]] = {}
    for joined in (["a"], ["a", "b"], ["a", "b", "c"]):
        subs = {m: MemberSubscription(m, ("t",), tuple(target.get(m, ()))) for m in joined}
        target = direct.assign(GroupSpec({"t": 6}, subs))
    assert {c.member: group.target(c.member) for c in clients} == {
        m: tuple(p) for m, p in target.items()
    }
    # Every partition has exactly one owner, client-side and coordinator-side.
    assert sorted(p for c in clients for p in c.owned) == list(ALL)
    assert all(group.owned(c.member) == c.owned == group.target(c.member) for c in clients)
    assert (group.group_epoch, group.assignment_epoch) == (3, 3)


def test_first_member_takes_everything_at_epoch_one_in_one_heartbeat() -> None:
    group = new_group()
    decisions = group.handle(ConsumerGroupHeartbeat(0.0, "g", "a", 0, (), ("t",)))
    assert decisions == [
        ConsumerGroupHeartbeatResponse(0.0, "g", "a", 1, ALL, HEARTBEAT),
        RebalanceCompleted(
            RebalanceRecord("g", 1, "consumer", "uniform", "member a joined", 0.0, 0.0, 0, 1, 6)
        ),
    ]
    assert group.next_deadline() == SESSION


# --- scale-out: reconciliation without a barrier -----------------------------------------


def test_a_fourth_member_gets_a_partition_only_after_its_owner_released_it() -> None:
    group = new_group()
    a, b, c, d = Client("a"), Client("b"), Client("c"), Client("d")
    form(group, a, b, c)
    assert (a.owned, b.owned, c.owned) == (tps(0, 1), tps(3, 4), tps(2, 5))
    before = {x.member: x.owned for x in (a, b, c)}

    # d joins: the group epoch bumps to 4 and the target is computed at once. Kafka 4.1's
    # sticky uniform assignor moves one partition: c's t-5. d may not have it while c holds it.
    assert d.join(group, 10.0) == ConsumerGroupHeartbeatResponse(10.0, "g", "d", 4, (), HEARTBEAT)
    assert (group.group_epoch, group.assignment_epoch) == (4, 4)
    assert [group.target(m) for m in "abcd"] == [tps(0, 1), tps(3, 4), tps(2), tps(5)]
    assert group.state("d") == "UNRELEASED_PARTITIONS"

    # a and b lose nothing: they move to epoch 4 and get no assignment (unchanged).
    assert a.beat(group, 11.0) == ConsumerGroupHeartbeatResponse(11.0, "g", "a", 4, None, HEARTBEAT)
    assert b.beat(group, 11.0) == ConsumerGroupHeartbeatResponse(11.0, "g", "b", 4, None, HEARTBEAT)
    # c must revoke t-5 first: it stays at epoch 3 and is told to own only t-2.
    assert c.beat(group, 11.0) == ConsumerGroupHeartbeatResponse(11.0, "g", "c", 3, tps(2), HEARTBEAT)
    assert group.state("c") == "UNREVOKED_PARTITIONS"
    assert group.owned("c") == tps(2, 5) and group.pending_revocation("c") == tps(5)
    # d heartbeats before c has reported the release: still nothing for d.
    assert d.beat(group, 11.5) == ConsumerGroupHeartbeatResponse(11.5, "g", "d", 4, None, HEARTBEAT)

    # c's next heartbeat reports owning t-2 only: it reaches epoch 4, nothing new to send.
    assert c.beat(group, 12.0) == ConsumerGroupHeartbeatResponse(12.0, "g", "c", 4, None, HEARTBEAT)
    assert group.state("c") == "STABLE" and group.owned("c") == tps(2)
    # now d gets t-5, and the rebalance is complete at that heartbeat
    decisions = group.handle(ConsumerGroupHeartbeat(12.5, "g", "d", 4, ()))
    assert decisions == [
        ConsumerGroupHeartbeatResponse(12.5, "g", "d", 4, tps(5), HEARTBEAT),
        RebalanceCompleted(
            RebalanceRecord("g", 4, "consumer", "uniform", "member d joined", 10.0, 12.5, 3, 4, 1)
        ),
    ]
    # a and b owned their partitions throughout, on both sides.
    assert (a.owned, b.owned) == (before["a"], before["b"])
    assert [e for x in (a, b) for e in x.log if isinstance(e, ConsumerGroupHeartbeatResponse)
            and e.assignment is not None and e.at >= 10.0] == []


def test_no_partition_is_ever_owned_by_two_clients_while_the_group_scales_out() -> None:
    group = new_group(partitions=12)
    clients = [Client(f"m{i}") for i in range(3)]
    ownership_seen: list[int] = []

    def check() -> None:
        owned = [p for c in clients for p in c.owned]
        assert len(owned) == len(set(owned)), f"double ownership: {clients}"
        ownership_seen.append(len(owned))

    at = 0.0
    for client in clients:
        client.join(group, at)
        check()
    for step in range(40):
        at += 1.0
        if step in (5, 10, 15):  # three more members join while the group reconciles
            clients.append(Client(f"m{len(clients)}"))
            clients[-1].join(group, at)
        for client in clients:
            client.beat(group, at)
            check()
    assert len(clients) == 6
    assert ownership_seen[-1] == 12  # every partition owned again, once
    assert all(group.state(c.member) == "STABLE" for c in clients)
    assert sorted(len(c.owned) for c in clients) == [2] * 6
    assert [r.generation for r in group.records] == list(range(1, 7))


# --- members leaving -----------------------------------------------------------------------


def test_a_leaving_member_is_removed_at_once_and_its_partitions_move_without_revocation() -> None:
    group = new_group()
    a, b, c = Client("a"), Client("b"), Client("c")
    at = form(group, a, b, c)

    decisions = group.handle(ConsumerGroupHeartbeat(at + 1, "g", "b", -1, b.owned))
    assert decisions == [
        ConsumerGroupHeartbeatResponse(at + 1, "g", "b", -1, None, HEARTBEAT),
        MemberRemoved(at + 1, "g", "b", "left"),
    ]
    assert group.members() == ["a", "c"]
    # the epoch bumped; the target follows on the next heartbeat of any member
    assert (group.group_epoch, group.assignment_epoch) == (4, 3)
    a_response = a.beat(group, at + 2)
    assert group.assignment_epoch == 4
    assert a_response.member_epoch == 4 and len(a_response.assignment or ()) == 3
    c_response = c.beat(group, at + 2)
    assert c_response.member_epoch == 4 and len(c_response.assignment or ()) == 3
    assert sorted(a.owned + c.owned) == list(ALL)
    assert group.records[-1] == RebalanceRecord(
        "g", 4, "consumer", "uniform", "member b left", at + 1, at + 2, 3, 2, 2
    )
    assert b.beat(group, at + 3).error == UNKNOWN_MEMBER_ID


def test_session_timeout_removes_a_silent_member_at_its_deadline() -> None:
    group = new_group()
    a, b, c = Client("a"), Client("b"), Client("c")
    at = form(group, a, b, c)  # every client's last heartbeat was at `at`
    b_deadline = at + SESSION
    assert group.next_deadline() == b_deadline
    # a and c keep heartbeating; b has gone silent
    for t in range(1, 9):
        a.beat(group, at + 5 * t)
        c.beat(group, at + 5 * t)
    assert group.next_deadline() == b_deadline
    # a heartbeat at the very deadline does not see it fire; a Tick does
    assert not [d for d in a.log if isinstance(d, MemberRemoved)]
    decisions = group.handle(Tick(b_deadline))
    assert decisions == [MemberRemoved(b_deadline, "g", "b", "session_timeout")]
    assert group.members() == ["a", "c"] and group.group_epoch == 4
    a.beat(group, b_deadline + 1)
    c.beat(group, b_deadline + 1)
    assert sorted(a.owned + c.owned) == list(ALL)
    assert group.records[-1].reason == "member b session timeout"
    assert group.records[-1].started_at == b_deadline
    assert group.records[-1].partitions_moved == 2
    response = b.beat(group, b_deadline + 2)
    assert (response.error, response.member_epoch, response.assignment) == (UNKNOWN_MEMBER_ID, 0, None)


def test_a_heartbeat_after_the_deadline_is_too_late_even_without_a_tick() -> None:
    group = new_group()
    a, b = Client("a"), Client("b")
    at = form(group, a, b)
    response = b.beat(group, at + SESSION + 0.001)
    assert response.error == UNKNOWN_MEMBER_ID
    assert MemberRemoved(at + SESSION, "g", "a", "session_timeout") in b.log
    assert MemberRemoved(at + SESSION, "g", "b", "session_timeout") in b.log
    assert group.members() == []
    # an empty group's rebalance completes at once
    assert group.records[-1].members_after == 0 and group.next_deadline() is None


# --- static membership -------------------------------------------------------------------


def static_group() -> tuple[ConsumerGroup, list[Client], float]:
    group = new_group()
    clients = [Client(m, instance_id=f"host-{m}") for m in "abc"]
    return group, clients, form(group, *clients)


def test_a_static_member_back_within_the_session_timeout_gets_its_partitions_without_a_bump() -> None:
    group, (a, b, c), at = static_group()
    b_partitions, epoch, records = b.owned, group.group_epoch, list(group.records)

    leave = b.leave(group, at + 1, epoch=-2)
    assert leave == ConsumerGroupHeartbeatResponse(at + 1, "g", "b", -2, None, HEARTBEAT)
    assert group.members() == ["a", "b", "c"] and group.member_epoch("b") == -2
    assert group.group_epoch == epoch and group.owned("b") == b_partitions
    for t in (6, 11):  # the others carry on, untouched
        assert a.beat(group, at + t).assignment is None
        assert c.beat(group, at + t).assignment is None
    # the restarted process, with a new member id and the same instance id
    b2 = Client("b2", instance_id="host-b")
    decisions = group.handle(ConsumerGroupHeartbeat(at + 20, "g", "b2", 0, (), ("t",), 300.0, "host-b"))
    assert decisions == [
        MemberRemoved(at + 20, "g", "b", "fenced"),
        ConsumerGroupHeartbeatResponse(at + 20, "g", "b2", epoch, b_partitions, HEARTBEAT),
    ]
    b2.epoch, b2.owned = epoch, b_partitions
    assert group.members() == ["a", "b2", "c"] and group.group_epoch == epoch
    assert group.target("b2") == b_partitions and group.state("b2") == "STABLE"
    assert group.records == records
    # the old incarnation is fenced by the new one
    stale = group.handle(ConsumerGroupHeartbeat(at + 21, "g", "b", epoch, b_partitions, None, 300.0, "host-b"))
    assert [d.error for d in stale if isinstance(d, ConsumerGroupHeartbeatResponse)] == [FENCED_INSTANCE_ID]
    assert b2.beat(group, at + 22) == ConsumerGroupHeartbeatResponse(at + 22, "g", "b2", epoch, None, HEARTBEAT)


def test_a_static_member_not_back_within_the_session_timeout_is_removed() -> None:
    group, (a, b, c), at = static_group()
    b.leave(group, at + 1, epoch=-2)
    # its session timer still runs from its last heartbeat (the leave does not re-arm it)
    assert group.next_deadline() == at + SESSION
    a.beat(group, at + 20)
    c.beat(group, at + 20)
    assert group.handle(Tick(at + SESSION)) == [MemberRemoved(at + SESSION, "g", "b", "session_timeout")]
    assert group.group_epoch == 4
    a.beat(group, at + 46)
    c.beat(group, at + 46)
    assert sorted(a.owned + c.owned) == list(ALL)
    # coming back now is joining anew: a new epoch
    b.join(group, at + 50)
    assert group.group_epoch == 5 and group.member_epoch("b") == 5 and b.owned == ()
    for t in (51, 52, 53):
        for client in (a, b, c):
            client.beat(group, at + t)
    assert group.records[-1].reason == "member b joined" and len(b.owned) == 2


def test_a_static_instance_id_cannot_join_while_its_member_is_still_in_the_group() -> None:
    group, _, at = static_group()
    response = Client("b2", instance_id="host-b").join(group, at + 1)
    assert (response.error, response.assignment) == (UNRELEASED_INSTANCE_ID, None)
    assert group.members() == ["a", "b", "c"]


# --- the rebalance timeout -----------------------------------------------------------------


def test_a_member_that_never_revokes_is_fenced_after_its_rebalance_timeout() -> None:
    group = new_group()
    a, b, c = Client("a"), Client("b"), Client("c", rebalance_timeout=30.0, stuck=True)
    form(group, a, b, c)
    d = Client("d")
    d.join(group, 10.0)
    c.beat(group, 11.0)  # asked to revoke t-5; it never does, but keeps heartbeating
    assert group.state("c") == "UNREVOKED_PARTITIONS" and c.owned == tps(2, 5)
    assert group.next_deadline() == 11.0 + 30.0
    for t in (16.0, 21.0, 26.0, 31.0, 36.0):
        for client in (a, b, c, d):
            client.beat(group, t)
        assert group.member_epoch("c") == 3 and d.owned == ()
    removed = MemberRemoved(41.0, "g", "c", "rebalance_timeout")
    assert group.handle(Tick(41.0)) == [removed, RebalanceCompleted(group.records[-1])]
    assert c.beat(group, 42.0).error == UNKNOWN_MEMBER_ID
    for client in (a, b, d):
        client.beat(group, 42.0)
    for client in (a, b, d):
        client.beat(group, 43.0)
    assert sorted(a.owned + b.owned + d.owned) == list(ALL)
    assert [(r.generation, r.reason, r.superseded) for r in group.records[-2:]] == [
        (4, "member d joined", True),
        (5, "member c rebalance timeout", False),
    ]
    assert group.records[-2].completed_at == 41.0


# --- epochs and errors -----------------------------------------------------------------------


def test_member_epoch_validation() -> None:
    group = new_group()
    a = Client("a")
    a.join(group, 0.0)
    assert group.member_epoch("a") == 1
    ahead = group.handle(ConsumerGroupHeartbeat(1.0, "g", "a", 2, ALL))
    assert ahead == [ConsumerGroupHeartbeatResponse(1.0, "g", "a", 0, None, HEARTBEAT, FENCED_MEMBER_EPOCH)]
    # the previous epoch (0) with a subset of the assignment: the response was lost, accepted
    lost = group.handle(ConsumerGroupHeartbeat(2.0, "g", "a", 0, (), ("t",)))
    assert lost == [ConsumerGroupHeartbeatResponse(2.0, "g", "a", 1, ALL, HEARTBEAT)]
    Client("b").join(group, 3.0)
    a.beat(group, 4.0)  # a revokes 3 partitions and moves to epoch 2
    a.beat(group, 5.0)
    assert group.member_epoch("a") == 2
    stale = group.handle(ConsumerGroupHeartbeat(6.0, "g", "a", 0, (), ("t",)))
    assert [d.error for d in stale] == [FENCED_MEMBER_EPOCH]  # Kafka 4.1, before KAFKA-19233
    unknown = group.handle(ConsumerGroupHeartbeat(7.0, "g", "zz", 3, ()))
    assert [d.error for d in unknown] == [UNKNOWN_MEMBER_ID]


def test_bad_input_is_refused_with_a_clear_message() -> None:
    group = new_group()
    with pytest.raises(ValueError, match="must name its topics"):
        group.handle(ConsumerGroupHeartbeat(0.0, "g", "a", 0, ()))
    with pytest.raises(ValueError, match="must name its topics and own nothing"):
        group.handle(ConsumerGroupHeartbeat(0.0, "g", "a", 0, tps(1), ("t",)))
    with pytest.raises(ValueError, match="needs an instance_id"):
        group.handle(ConsumerGroupHeartbeat(0.0, "g", "a", -2, ()))
    with pytest.raises(ValueError, match="sent to group 'g'"):
        group.handle(ConsumerGroupHeartbeat(0.0, "other", "a", 0, (), ("t",)))
    group.handle(Tick(5.0))
    with pytest.raises(ValueError, match="earlier than"):
        group.handle(Tick(4.0))
    with pytest.raises(KeyError, match="not a member"):
        group.target("a")
    with pytest.raises(ValueError, match="must be positive"):
        ConsumerGroup("g", {"t": 1}, server_assignor("uniform"), 0.0, SESSION)


# --- determinism ------------------------------------------------------------------------------


def scale_out_and_crash() -> tuple[list[RebalanceRecord], list[GroupDecision], str]:
    group = new_group("uniform", partitions=12)
    clients = [Client(f"c{i}") for i in range(4)]
    decisions: list[GroupDecision] = []
    at = 0.0
    for client in clients:
        client.join(group, at)
    for step in range(40):
        at += 2.0
        if step == 4:
            clients.append(Client("c4"))
            clients[-1].join(group, at)
        alive = [c for c in clients if c.member != "c1" or step < 8]  # c1 crashes
        for client in alive:
            client.beat(group, at)
        decisions += group.handle(Tick(at))
    decisions += [d for c in clients for d in c.log]
    return group.records, decisions, repr(group)


def test_same_inputs_give_identical_records_and_decisions() -> None:
    first, second = scale_out_and_crash(), scale_out_and_crash()
    assert first == second
    records = first[0]
    assert [r.reason for r in records] == [
        "member c0 joined", "member c1 joined", "member c2 joined", "member c3 joined",
        "member c4 joined", "member c1 session timeout",
    ]
    assert "c1" not in first[2] and "c4:STABLE@6" in first[2]


def test_a_static_member_rejoining_under_its_own_member_id_is_not_fenced() -> None:
    group, (_, b, _), at = static_group()
    partitions, epoch = b.owned, group.group_epoch
    b.leave(group, at + 1, epoch=-2)
    response = b.join(group, at + 2)
    assert response == ConsumerGroupHeartbeatResponse(at + 2, "g", "b", epoch, partitions, HEARTBEAT)
    assert not [d for d in b.log if isinstance(d, MemberRemoved)]
    assert group.members() == ["a", "b", "c"] and group.group_epoch == epoch
