"""The classic group protocol's coordinator side, as a pure state machine.

A port of the behaviour of Kafka's ``ClassicGroup`` and the classic half of
``GroupMetadataManager`` (the 2.x - 3.x ``GroupCoordinator``): the group moves
``EMPTY -> PREPARING_REBALANCE -> COMPLETING_REBALANCE -> STABLE`` and back.

* **Join phase.** A new member, a member whose subscription changed (a cooperative
  member's owned partitions are part of it), or the leader rejoining starts a rebalance.
  The join completes when every member has rejoined, or at the rebalance timeout (the
  largest ``max.poll.interval.ms`` of the members), when dynamic members that did not
  rejoin are removed; static members that did not rejoin stay and keep a share of the
  assignment. An empty group waits ``group.initial.rebalance.delay.ms`` first, and --
  only for its first generation -- waits again, up to the rebalance timeout, while new
  members keep arriving (``InitialDelayedJoin``).
* **Sync phase.** Completing the join bumps the generation, picks the protocol every
  member supports that most members prefer, and elects a leader (the old one if it
  rejoined, else the first member to join). The leader's assignor then runs -- here, the
  same pure function, at once -- and the group becomes stable when the leader's
  SyncGroup arrives; members that sync earlier wait for it.
* **Liveness.** A member's session expires ``session.timeout.ms`` after its last
  heartbeat, except while it waits in a join or a sync (``hasSatisfiedHeartbeat``).
  Heartbeats answer ``REBALANCE_IN_PROGRESS`` while the group prepares a rebalance.
* **Static membership** (KIP-345). A member with a ``group.instance.id`` that rejoins
  with a new member id replaces its old incarnation; in a stable group with an unchanged
  protocol this needs no rebalance -- it gets its old assignment back.

Not modelled: ``MEMBER_ID_REQUIRED`` (KIP-394's extra JoinGroup round trip for a new
dynamic member -- an engine can add the round trip), ``group.max.size``, the pending-sync
timeout, and coordinator failover (the group's state survives a coordinator move here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from simkafka.model.assignors import Assignor, GroupSpec, MemberSubscription, classic_assignor
from simkafka.model.assignors.sticky import java_hashmap_order
from simkafka.model.group_protocol import (
    FENCED_INSTANCE_ID,
    ILLEGAL_GENERATION,
    NONE,
    REBALANCE_IN_PROGRESS,
    UNKNOWN_MEMBER_ID,
    GroupDecision,
    Heartbeat,
    HeartbeatResponse,
    JoinGroup,
    JoinGroupResponse,
    LeaveGroup,
    MemberRemoved,
    RebalanceCompleted,
    RebalanceRecord,
    RemovalReason,
    SyncGroup,
    SyncGroupResponse,
    Tick,
)
from simkafka.model.types import TopicPartition

# GroupCoordinator.NewMemberJoinTimeoutMs: a new member's JoinGroup is dropped after 5 min
NEW_MEMBER_JOIN_TIMEOUT = 300.0

ClassicEvent = JoinGroup | SyncGroup | Heartbeat | LeaveGroup | Tick


class GroupState(Enum):
    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"


@dataclass
class _Member:
    member_id: str
    instance_id: str | None
    topics: tuple[str, ...]
    protocols: tuple[str, ...]
    owned: tuple[TopicPartition, ...]
    session_timeout: float
    rebalance_timeout: float
    last_heartbeat: float
    is_new: bool = True
    awaiting_join: bool = False
    awaiting_sync: bool = False
    assignment: tuple[TopicPartition, ...] = ()

    def matches(self, join: JoinGroup) -> bool:
        """Same protocols and metadata (``MemberMetadata.matches``): the subscription
        bytes include the owned partitions, so a cooperative member that revoked some no
        longer matches."""
        return (
            self.protocols == join.protocols
            and self.topics == join.topics
            and self.owned == join.owned
        )

    @property
    def heartbeat_satisfied(self) -> bool:
        return self.awaiting_join or self.awaiting_sync

    @property
    def expires_at(self) -> float:
        timeout = NEW_MEMBER_JOIN_TIMEOUT if self.is_new else self.session_timeout
        return self.last_heartbeat + timeout


@dataclass
class _OpenRebalance:
    reason: str
    started_at: float
    members_before: int
    previous_owner: dict[TopicPartition, str]
    generation: int = -1
    pending_sync: set[str] = field(default_factory=set)


class ClassicGroup:
    """One classic-protocol consumer group at its coordinator.

    ``assignor_for`` maps a ``partition.assignment.strategy`` protocol name to the
    leader's assignor (default: :func:`~simkafka.model.assignors.classic_assignor`).
    """

    def __init__(
        self,
        group_id: str,
        partitions_per_topic: Mapping[str, int],
        initial_rebalance_delay: float = 3.0,
        assignor_for: Callable[[str], Assignor] = classic_assignor,
    ) -> None:
        self.group_id = group_id
        self.partitions_per_topic = dict(partitions_per_topic)
        self.initial_rebalance_delay = initial_rebalance_delay
        self._assignor_for = assignor_for
        self.state = GroupState.EMPTY
        self.generation = 0
        self.leader: str | None = None
        self.protocol: str | None = None
        self._members: dict[str, _Member] = {}  # in the order they first joined
        self._static: dict[str, str] = {}  # group.instance.id -> member id
        self._fenced: set[str] = set()  # old incarnations of static members
        self._join_deadline: float | None = None
        # InitialDelayedJoin: the delay still allowed, and whether a member came meanwhile
        self._initial_delay_remaining: float | None = None
        self._new_member_added = False
        self._open: _OpenRebalance | None = None
        self._stable_owner: dict[TopicPartition, str] = {}
        self._stable_members = 0
        self.records: list[RebalanceRecord] = []

    # -- views ------------------------------------------------------------------------------

    def members(self) -> list[str]:
        return list(self._members)

    def assignment(self, member: str) -> tuple[TopicPartition, ...]:
        m = self._members.get(member)
        return m.assignment if m is not None else ()

    def commit_error(self, member: str, generation: int) -> str:
        """Whether an ``OffsetCommit`` from ``member`` at ``generation`` is accepted
        (``doCommitOffsets``): a member that was removed, or is a generation behind,
        gets its commit rejected -- the client's ``CommitFailedException``."""
        if member not in self._members:
            return UNKNOWN_MEMBER_ID
        if generation != self.generation:
            return ILLEGAL_GENERATION
        if self.state is GroupState.COMPLETING_REBALANCE:
            return REBALANCE_IN_PROGRESS
        return NONE

    def next_deadline(self) -> float | None:
        deadlines = [
            m.expires_at for m in self._members.values() if not m.heartbeat_satisfied
        ]
        if self._join_deadline is not None:
            deadlines.append(self._join_deadline)
        return min(deadlines) if deadlines else None

    def form(self, joins: list[JoinGroup]) -> None:
        """The group as it stands when a run starts: ``joins`` went through one join and
        sync phase before time zero (generation 1, no rebalance on record)."""
        for join in joins:
            self.handle(join)
        at = max((j.at for j in joins), default=0.0)
        self._complete_join(at, [])
        for member in list(self._members):
            self.handle(SyncGroup(at, self.group_id, member, self.generation))
        self.records.clear()

    # -- inputs -------------------------------------------------------------------------------

    def handle(self, event: ClassicEvent) -> list[GroupDecision]:
        out: list[GroupDecision] = []
        if isinstance(event, JoinGroup):
            self._join(event, out)
        elif isinstance(event, SyncGroup):
            self._sync(event, out)
        elif isinstance(event, Heartbeat):
            out.append(self._heartbeat(event))
        elif isinstance(event, LeaveGroup):
            member = self._members.get(event.member)
            if member is not None:
                self._remove(member, "left", event.at, f"member {event.member} left", out)
        elif isinstance(event, Tick):
            self._tick(event.at, out)
        else:  # pragma: no cover - the union is closed
            raise TypeError(f"not a classic group event: {event!r}")
        return out

    def _join(self, join: JoinGroup, out: list[GroupDecision]) -> None:
        at = join.at
        member = self._members.get(join.member)
        if member is None:
            old_id = self._static.get(join.instance_id) if join.instance_id else None
            if old_id is not None:
                self._replace_static_member(old_id, join, out)
                return
            member = _Member(
                join.member, join.instance_id, join.topics, join.protocols, join.owned,
                join.session_timeout, join.rebalance_timeout, last_heartbeat=at,
                awaiting_join=True,
            )
            self._members[join.member] = member
            if join.instance_id:
                self._static[join.instance_id] = join.member
            if self.state is GroupState.PREPARING_REBALANCE and self.generation == 0:
                self._new_member_added = True
            self._maybe_prepare_rebalance(at, f"member {join.member} joined", out)
            self._try_complete_join(at, out)
            return
        if self.state is GroupState.PREPARING_REBALANCE:
            self._update(member, join)
            self._try_complete_join(at, out)
        elif self.state is GroupState.COMPLETING_REBALANCE:
            if member.matches(join):  # a retried JoinGroup: answer with this generation
                out.append(self._join_response(member, at))
            else:
                self._update(member, join)
                self._prepare_rebalance(at, f"member {join.member} changed its subscription", out)
        elif self.state is GroupState.STABLE:
            if join.member == self.leader or not member.matches(join):
                why = "leader rejoined" if join.member == self.leader else "changed its subscription"
                self._update(member, join)
                self._prepare_rebalance(at, f"member {join.member} {why}", out)
            else:
                member.last_heartbeat = at
                out.append(self._join_response(member, at))
        else:  # EMPTY with members cannot happen; treat as unknown, as Kafka does
            out.append(JoinGroupResponse(at, self.group_id, join.member, -1, "", "", UNKNOWN_MEMBER_ID))

    def _update(self, member: _Member, join: JoinGroup) -> None:
        member.topics, member.protocols, member.owned = join.topics, join.protocols, join.owned
        member.session_timeout, member.rebalance_timeout = join.session_timeout, join.rebalance_timeout
        member.awaiting_join = True
        member.last_heartbeat = join.at

    def _replace_static_member(self, old_id: str, join: JoinGroup, out: list[GroupDecision]) -> None:
        """``updateStaticMemberAndRebalance``: the new incarnation takes the old one's
        place, assignment included; the old member id is fenced."""
        at = join.at
        old = self._members[old_id]
        member = _Member(
            join.member, join.instance_id, join.topics, join.protocols, join.owned,
            join.session_timeout, join.rebalance_timeout, last_heartbeat=at,
            is_new=False, assignment=old.assignment,
        )
        # the new incarnation keeps the old one's place in join order
        self._members = {
            (join.member if k == old_id else k): (member if k == old_id else v)
            for k, v in self._members.items()
        }
        self._fenced.add(old_id)
        self._static[join.instance_id or ""] = join.member
        if self.leader == old_id:
            self.leader = join.member
        if self._open is not None:
            self._open.pending_sync.discard(old_id)
        out.append(MemberRemoved(at, self.group_id, old_id, "fenced"))
        if self.state is GroupState.STABLE:
            if self._select_protocol() == self.protocol:
                # no rebalance: the current generation, with the old leader named so the
                # new incarnation does not compute an assignment
                out.append(self._join_response(member, at))
                return
            member.awaiting_join = True
            self._prepare_rebalance(at, f"static member {join.instance_id} changed protocol", out)
        elif self.state is GroupState.COMPLETING_REBALANCE:
            member.awaiting_join = True
            self._prepare_rebalance(at, f"static member {join.instance_id} rejoined", out)
        else:  # PREPARING_REBALANCE: it simply joins this round
            member.awaiting_join = True
            self._try_complete_join(at, out)

    def _sync(self, sync: SyncGroup, out: list[GroupDecision]) -> None:
        at = sync.at
        member = self._members.get(sync.member)
        if member is None:
            error = FENCED_INSTANCE_ID if sync.member in self._fenced else UNKNOWN_MEMBER_ID
            out.append(SyncGroupResponse(at, self.group_id, sync.member, sync.generation, (), error))
            return
        if sync.generation != self.generation:
            out.append(SyncGroupResponse(at, self.group_id, sync.member, sync.generation, (), ILLEGAL_GENERATION))
            return
        if self.state is GroupState.PREPARING_REBALANCE:
            out.append(SyncGroupResponse(at, self.group_id, sync.member, sync.generation, (), REBALANCE_IN_PROGRESS))
            return
        member.last_heartbeat = at
        if self.state is GroupState.COMPLETING_REBALANCE:
            member.awaiting_sync = True
            if sync.member == self.leader:  # the leader brings the assignment
                self.state = GroupState.STABLE
                for m in self._members.values():
                    if m.awaiting_sync:
                        self._deliver(m, at, out)
            return
        self._deliver(member, at, out)  # STABLE: the current assignment

    def _deliver(self, member: _Member, at: float, out: list[GroupDecision]) -> None:
        member.awaiting_sync = False
        member.last_heartbeat = at
        out.append(SyncGroupResponse(at, self.group_id, member.member_id, self.generation, member.assignment))
        rebalance = self._open
        if rebalance is not None and rebalance.generation == self.generation:
            rebalance.pending_sync.discard(member.member_id)
            if not rebalance.pending_sync:
                self._close_rebalance(at, out)

    def _heartbeat(self, hb: Heartbeat) -> HeartbeatResponse:
        member = self._members.get(hb.member)
        error = NONE
        if member is None:
            error = FENCED_INSTANCE_ID if hb.member in self._fenced else UNKNOWN_MEMBER_ID
        elif hb.generation != self.generation:
            error = ILLEGAL_GENERATION
        elif self.state is GroupState.EMPTY:
            error = UNKNOWN_MEMBER_ID
        else:
            member.last_heartbeat = hb.at
            if self.state is GroupState.PREPARING_REBALANCE:
                error = REBALANCE_IN_PROGRESS
        return HeartbeatResponse(hb.at, self.group_id, hb.member, error)

    def _tick(self, at: float, out: list[GroupDecision]) -> None:
        for member in list(self._members.values()):
            if not member.heartbeat_satisfied and member.expires_at <= at:
                self._remove(member, "session_timeout", at, f"member {member.member_id} session timeout", out)
        if self._join_deadline is not None and self._join_deadline <= at:
            self._join_deadline_reached(at, out)

    # -- rebalancing ---------------------------------------------------------------------------

    def _remove(
        self, member: _Member, reason: RemovalReason, at: float, why: str, out: list[GroupDecision]
    ) -> None:
        if member.awaiting_join:  # its pending JoinGroup is answered UNKNOWN_MEMBER_ID
            out.append(JoinGroupResponse(at, self.group_id, member.member_id, -1, "", "", UNKNOWN_MEMBER_ID))
        del self._members[member.member_id]
        if member.instance_id and self._static.get(member.instance_id) == member.member_id:
            del self._static[member.instance_id]
        out.append(MemberRemoved(at, self.group_id, member.member_id, reason))
        if self._open is not None:
            self._open.pending_sync.discard(member.member_id)
        if self.state in (GroupState.STABLE, GroupState.COMPLETING_REBALANCE):
            self._maybe_prepare_rebalance(at, why, out)
        elif self.state is GroupState.PREPARING_REBALANCE:
            self._try_complete_join(at, out)

    def _maybe_prepare_rebalance(self, at: float, reason: str, out: list[GroupDecision]) -> None:
        if self.state is not GroupState.PREPARING_REBALANCE:  # canRebalance
            self._prepare_rebalance(at, reason, out)

    def _prepare_rebalance(self, at: float, reason: str, out: list[GroupDecision]) -> None:
        if self.state is GroupState.COMPLETING_REBALANCE:
            # members waiting in SyncGroup are told to rejoin
            for m in self._members.values():
                if m.awaiting_sync:
                    m.awaiting_sync = False
                    out.append(SyncGroupResponse(at, self.group_id, m.member_id, self.generation, (), REBALANCE_IN_PROGRESS))
        if self._open is not None and self._open.generation >= 0:
            self._close_rebalance(at, out)  # superseded before every member synced
        if self._open is None:
            self._open = _OpenRebalance(reason, at, self._stable_size(), dict(self._stable_owner))
        if self.state is GroupState.EMPTY:
            delay = self.initial_rebalance_delay
            self._join_deadline = at + delay
            self._initial_delay_remaining = max(self._rebalance_timeout() - delay, 0.0)
            self._new_member_added = False
        else:
            self._join_deadline = at + self._rebalance_timeout()
            self._initial_delay_remaining = None
        self.state = GroupState.PREPARING_REBALANCE

    def _rebalance_timeout(self) -> float:
        return max((m.rebalance_timeout for m in self._members.values()), default=0.0)

    def _stable_size(self) -> int:
        return self._stable_members

    def _try_complete_join(self, at: float, out: list[GroupDecision]) -> None:
        if self.state is not GroupState.PREPARING_REBALANCE:
            return
        if self._initial_delay_remaining is not None:
            return  # InitialDelayedJoin completes only when its timer fires
        if all(m.awaiting_join for m in self._members.values()):
            self._complete_join(at, out)

    def _join_deadline_reached(self, at: float, out: list[GroupDecision]) -> None:
        remaining = self._initial_delay_remaining
        if remaining is not None and self._new_member_added and remaining > 0:
            delay = min(self.initial_rebalance_delay, remaining)
            self._initial_delay_remaining = remaining - delay
            self._new_member_added = False
            self._join_deadline = at + delay
            return
        self._complete_join(at, out)

    def _complete_join(self, at: float, out: list[GroupDecision]) -> None:
        """``onCompleteJoin``."""
        self._join_deadline = None
        self._initial_delay_remaining = None
        for member in [m for m in self._members.values() if not m.awaiting_join and not m.instance_id]:
            self._members.pop(member.member_id)
            out.append(MemberRemoved(at, self.group_id, member.member_id, "rebalance_timeout"))
        joined = [m for m in self._members.values() if m.awaiting_join]
        if self._members and not joined:  # only static members that have not rejoined
            self._join_deadline = at + self._rebalance_timeout()
            return
        self.generation += 1
        if not self._members:
            self.state = GroupState.EMPTY
            self.leader = self.protocol = None
            self._stable_owner = {}
            if self._open is not None:
                self._open.generation = self.generation
                self._close_rebalance(at, out)
            return
        if self.leader not in self._members or not self._members[self.leader].awaiting_join:
            self.leader = joined[0].member_id
        self.protocol = self._select_protocol()
        self._assign()
        self.state = GroupState.COMPLETING_REBALANCE
        if self._open is None:  # cannot happen: a join phase always opens one
            self._open = _OpenRebalance("join", at, 0, {})
        self._open.generation = self.generation
        self._open.pending_sync = set(self._members)
        for member in joined:
            member.awaiting_join = False
            member.is_new = False
            member.last_heartbeat = at
            out.append(self._join_response(member, at))

    def _select_protocol(self) -> str:
        """``ClassicGroup.selectProtocol``: among the protocols every member supports,
        each member votes for its most preferred; the most votes win (ties: the first
        candidate in the leader's... here the first member's preference order)."""
        members = list(self._members.values())
        candidates = [p for p in members[0].protocols if all(p in m.protocols for m in members)]
        if not candidates:
            raise ValueError(f"group {self.group_id}: members share no assignment strategy")
        votes = {p: 0 for p in candidates}
        for m in members:
            votes[next(p for p in m.protocols if p in votes)] += 1
        return max(candidates, key=lambda p: votes[p])

    def _assign(self) -> None:
        """The leader's assignor over every member's subscription, in the order of the
        coordinator's ``HashMap`` of members (the JoinGroup response's member list)."""
        assert self.protocol is not None
        order = java_hashmap_order(list(self._members))
        subscriptions = {
            m: MemberSubscription(
                m,
                self._members[m].topics,
                owned_partitions=self._members[m].owned,
                generation=self.generation - 1,
                group_instance_id=self._members[m].instance_id,
            )
            for m in order
        }
        topics = sorted({t for m in self._members.values() for t in m.topics})
        spec = GroupSpec({t: self.partitions_per_topic[t] for t in topics}, subscriptions)
        result = self._assignor_for(self.protocol).assign(spec)
        for member_id, member in self._members.items():
            member.assignment = tuple(sorted(result.get(member_id, [])))

    def _close_rebalance(self, at: float, out: list[GroupDecision]) -> None:
        rebalance = self._open
        assert rebalance is not None
        self._open = None
        owner = {tp: m.member_id for m in self._members.values() for tp in m.assignment}
        moved = sum(1 for tp, m in owner.items() if rebalance.previous_owner.get(tp) != m)
        self._stable_owner = owner
        self._stable_members = len(self._members)
        record = RebalanceRecord(
            group=self.group_id,
            generation=rebalance.generation,
            protocol="classic",
            assignor=self.protocol or "",
            reason=rebalance.reason,
            started_at=rebalance.started_at,
            completed_at=at,
            members_before=rebalance.members_before,
            members_after=len(self._members),
            partitions_moved=moved,
        )
        self.records.append(record)
        out.append(RebalanceCompleted(record))

    def _join_response(self, member: _Member, at: float) -> JoinGroupResponse:
        return JoinGroupResponse(
            at, self.group_id, member.member_id, self.generation, self.leader or "", self.protocol or ""
        )

    def __repr__(self) -> str:
        return (
            f"<ClassicGroup {self.group_id} {self.state.value} generation {self.generation}: "
            f"{len(self._members)} members, leader {self.leader}, protocol {self.protocol}>"
        )
