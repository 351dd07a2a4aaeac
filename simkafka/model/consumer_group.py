"""The KIP-848 group coordinator (``group.protocol=consumer``) as a pure state machine.

One :class:`ConsumerGroup` is Kafka 4.1's ``ConsumerGroup`` plus the parts of
``GroupMetadataManager`` that drive it (``consumerGroupHeartbeat``, ``consumerGroupLeave``,
the session and rebalance timers), ``TargetAssignmentBuilder`` and
``CurrentAssignmentBuilder``. Like :mod:`simkafka.model.controller` it owns no clock: an
engine feeds it :class:`ConsumerGroupHeartbeat` arrivals and :class:`Tick` s at
:meth:`ConsumerGroup.next_deadline`, and applies the decisions it returns.

How a rebalance runs, as Kafka does it:

* The **group epoch** bumps when a member joins, leaves, is fenced or changes its
  subscription. The **target assignment** is recomputed lazily, on the next heartbeat of
  any member, by the server-side assignor, which sees every member's previous *target*
  (not what it owns) for stickiness; it is then stamped with the group epoch (the
  **assignment epoch**).
* Each member reconciles towards its target on its own heartbeats, with no global barrier
  (``CurrentAssignmentBuilder``): first it revokes what it must give up, keeping its epoch
  (``UNREVOKED_PARTITIONS``; its assignment is its owned partitions minus the revoked
  ones); once a heartbeat reports it no longer owns them, it takes the target epoch and
  every partition of its target that no member still holds. A partition still held by
  another member (assigned to it or pending its revocation) is withheld
  (``UNRELEASED_PARTITIONS``) and handed out on a later heartbeat, after its holder
  released it. A member whose target did not change just takes the new epoch.
* A response carries the assignment only when it changed during that heartbeat, or when
  the request joined (epoch 0). Kafka also sends it for a "full" request (every optional
  field set), which its Java client sends only when joining; engines send the owned
  partitions on every heartbeat here, so that case reduces to the join.

Which Kafka release: 4.1.0 (``MODELLED_RELEASE``). Two later fixes are *not* modelled:
KAFKA-19449 (a partition the member itself is still revoking counts as unreleased here, so
getting it back takes one more heartbeat) and KAFKA-19233 (a member that still exists and
rejoins with epoch 0 and an unknown previous epoch is answered ``FENCED_MEMBER_EPOCH``;
it is removed when its session expires and may then join anew).

The rebalance log: one :class:`RebalanceRecord` per group epoch bump. It starts when the
epoch bumps and completes when the target has been computed and every member (except a
static member away with epoch -2) is ``STABLE`` at that epoch. A bump while a record is
still open closes that record at the bump, marked ``superseded``; its
``partitions_moved`` is 0 when no target was computed for its epoch. ``partitions_moved``
counts partitions whose owner in the new target differs from the owner in the previous
target (unowned -> owned counts, owned -> unowned does not), so the records' sum is the
total movement of the targets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from simkafka.model.assignors.base import Assignor, GroupSpec, MemberSubscription
from simkafka.model.group_protocol import (
    FENCED_INSTANCE_ID,
    FENCED_MEMBER_EPOCH,
    JOIN_GROUP_MEMBER_EPOCH,
    LEAVE_GROUP_MEMBER_EPOCH,
    LEAVE_GROUP_STATIC_MEMBER_EPOCH,
    UNKNOWN_MEMBER_ID,
    UNRELEASED_INSTANCE_ID,
    ConsumerGroupHeartbeat,
    ConsumerGroupHeartbeatResponse,
    GroupDecision,
    MemberRemoved,
    RebalanceCompleted,
    RebalanceRecord,
    RemovalReason,
    Tick,
)
from simkafka.model.types import TopicPartition

__all__ = ["ConsumerGroup", "MemberState"]

# MemberState in org.apache.kafka.coordinator.group.modern
MemberState = Literal["STABLE", "UNREVOKED_PARTITIONS", "UNRELEASED_PARTITIONS"]
STABLE: MemberState = "STABLE"
UNREVOKED_PARTITIONS: MemberState = "UNREVOKED_PARTITIONS"
UNRELEASED_PARTITIONS: MemberState = "UNRELEASED_PARTITIONS"

Partitions = frozenset[TopicPartition]
_NONE: Partitions = frozenset()


def _sorted(partitions: Iterable[TopicPartition]) -> tuple[TopicPartition, ...]:
    return tuple(sorted(partitions))


@dataclass(slots=True)
class _Member:
    """``ConsumerGroupMember``: subscription, reconciliation state and timers of one member."""

    member_id: str
    instance_id: str | None
    topics: tuple[str, ...] = ()
    rebalance_timeout: float = 300.0
    state: MemberState = STABLE
    epoch: int = 0
    previous_epoch: int = -1
    assigned: Partitions = _NONE
    pending_revocation: Partitions = _NONE
    session_deadline: float | None = None
    # the rebalance timer fences the member if it is still at this epoch when it fires
    rebalance_deadline: float | None = None
    rebalance_epoch: int = 0

    def is_reconciled_to(self, epoch: int) -> bool:
        return self.state == STABLE and self.epoch == epoch

    def describe(self) -> str:
        return f"{self.member_id}:{self.state}@{self.epoch}({len(self.assigned)})"


@dataclass(slots=True)
class _OpenRebalance:
    """The rebalance of the current group epoch, until every member has reconciled."""

    epoch: int
    reason: str
    started_at: float
    members_before: int
    members_after: int
    partitions_moved: int = 0


@dataclass(frozen=True, order=True, slots=True)
class _Timer:
    at: float
    kind: Literal["session", "rebalance"]
    member_id: str


@dataclass(eq=False)
class ConsumerGroup:
    """A KIP-848 consumer group as its coordinator sees it (see the module docstring).

    ``heartbeat_interval`` and ``session_timeout`` are the broker's
    ``group.consumer.heartbeat.interval.ms`` (default 5 s) and
    ``group.consumer.session.timeout.ms`` (default 45 s), in seconds; ``assignor`` is the
    ``group.remote.assignor`` (``server_assignor("uniform")`` by default in Kafka). The
    rebalance timeout is the member's ``max.poll.interval.ms``, sent in its heartbeat.
    """

    group_id: str
    partitions_per_topic: Mapping[str, int]
    assignor: Assignor
    heartbeat_interval: float
    session_timeout: float
    records: list[RebalanceRecord] = field(default_factory=list, init=False)
    now: float = field(default=0.0, init=False)
    _group_epoch: int = field(default=0, init=False)
    _assignment_epoch: int = field(default=0, init=False)
    _members: dict[str, _Member] = field(default_factory=dict, init=False)
    _target: dict[str, Partitions] = field(default_factory=dict, init=False)
    # ConsumerGroup.currentPartitionEpoch: who holds each partition (assigned or pending
    # revocation); a partition in here cannot be given to another member
    _holder: dict[TopicPartition, str] = field(default_factory=dict, init=False)
    # the owner of each partition in the last computed target, to count partitions moved
    _target_owner: dict[TopicPartition, str] = field(default_factory=dict, init=False)
    _open: _OpenRebalance | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.heartbeat_interval <= 0 or self.session_timeout <= 0:
            raise ValueError(
                f"group {self.group_id!r}: heartbeat_interval ({self.heartbeat_interval} s) and "
                f"session_timeout ({self.session_timeout} s) must be positive"
            )
        self.partitions_per_topic = dict(self.partitions_per_topic)

    # --- read-only views ---------------------------------------------------------------

    @property
    def group_epoch(self) -> int:
        return self._group_epoch

    @property
    def assignment_epoch(self) -> int:
        """The epoch of the current target assignment (lags the group epoch until the next
        heartbeat after a bump)."""
        return self._assignment_epoch

    def members(self) -> list[str]:
        """Member ids, sorted; a static member away with epoch -2 is still a member."""
        return sorted(self._members)

    def target(self, member: str) -> tuple[TopicPartition, ...]:
        """The member's partitions in the target assignment, sorted."""
        return _sorted(self._target.get(self._member(member).member_id, _NONE))

    def assigned(self, member: str) -> tuple[TopicPartition, ...]:
        """What the coordinator last told the member it owns (Kafka's assignedPartitions)."""
        return _sorted(self._member(member).assigned)

    def pending_revocation(self, member: str) -> tuple[TopicPartition, ...]:
        return _sorted(self._member(member).pending_revocation)

    def owned(self, member: str) -> tuple[TopicPartition, ...]:
        """What the member holds as far as the coordinator knows: its assigned partitions
        and those it was asked to revoke but has not yet reported released."""
        m = self._member(member)
        return _sorted(m.assigned | m.pending_revocation)

    def member_epoch(self, member: str) -> int:
        return self._member(member).epoch

    def state(self, member: str) -> MemberState:
        return self._member(member).state

    def next_deadline(self) -> float | None:
        """When the earliest session or rebalance timer fires; None without members."""
        timer = self._next_timer()
        return timer.at if timer is not None else None

    def __repr__(self) -> str:
        members = ", ".join(self._members[m].describe() for m in sorted(self._members))
        return (
            f"ConsumerGroup({self.group_id!r}, assignor={self.assignor.name!r}, "
            f"group_epoch={self._group_epoch}, assignment_epoch={self._assignment_epoch}, "
            f"members=[{members}])"
        )

    # --- events ------------------------------------------------------------------------

    def handle(self, event: ConsumerGroupHeartbeat | Tick) -> list[GroupDecision]:
        """Apply ``event`` after every timer due by then; events come in non-decreasing
        ``at``. Timers due strictly before a heartbeat fire first, each at its own time; one
        due at the heartbeat's very instant waits for a Tick, so the heartbeat still counts."""
        if event.at < self.now:
            raise ValueError(f"event at {event.at} s is earlier than group {self.group_id!r}'s time {self.now} s")
        self.now = event.at
        out = self._run_timers(event.at, inclusive=isinstance(event, Tick))
        if isinstance(event, ConsumerGroupHeartbeat):
            if event.group != self.group_id:
                raise ValueError(f"heartbeat for group {event.group!r} sent to group {self.group_id!r}")
            out += self._heartbeat(event)
        elif not isinstance(event, Tick):
            raise TypeError(f"not a consumer group event: {event!r}")
        out += self._maybe_complete(event.at)
        return out

    def _heartbeat(self, req: ConsumerGroupHeartbeat) -> list[GroupDecision]:
        if req.member_epoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH:
            raise ValueError(f"member {req.member!r}: member epoch {req.member_epoch} is invalid")
        if req.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH and req.instance_id is None:
            raise ValueError(f"member {req.member!r}: epoch -2 (static leave) needs an instance_id")
        if req.member_epoch == JOIN_GROUP_MEMBER_EPOCH and (req.topics is None or req.owned):
            raise ValueError(
                f"member {req.member!r}: a join (epoch 0) must name its topics and own nothing"
            )
        if req.member_epoch in (LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH):
            return self._leave(req)
        return self._join_or_heartbeat(req)

    # --- leaving -----------------------------------------------------------------------

    def _leave(self, req: ConsumerGroupHeartbeat) -> list[GroupDecision]:
        """``consumerGroupLeave``: -1 removes the member; -2 keeps a static member's
        assignment (and its session timer, which still runs from its last heartbeat)."""
        if req.instance_id is None:
            member = self._members.get(req.member)
            if member is None:
                return [self._error(req, UNKNOWN_MEMBER_ID)]
        else:
            member = self._static_member(req.instance_id)
            if member is None:
                return [self._error(req, UNKNOWN_MEMBER_ID)]
            if member.member_id != req.member:
                return [self._error(req, FENCED_INSTANCE_ID)]
        response = ConsumerGroupHeartbeatResponse(
            req.at, self.group_id, req.member, req.member_epoch, None, self.heartbeat_interval
        )
        if req.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH:
            member.epoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH
            self._set_holdings(member, member.assigned, _NONE)
            member.rebalance_deadline = None
            return [response]
        out: list[GroupDecision] = [response]
        out += self._remove(member, req.at, "left", f"member {member.member_id} left")
        return out

    def _remove(
        self, member: _Member, at: float, removal: RemovalReason, reason: str
    ) -> list[GroupDecision]:
        """``consumerGroupFenceMember``: drop the member and its target, bump the epoch."""
        before = len(self._members)
        self._set_holdings(member, _NONE, _NONE)
        del self._members[member.member_id]
        self._target.pop(member.member_id, None)
        out: list[GroupDecision] = [MemberRemoved(at, self.group_id, member.member_id, removal)]
        out += self._bump(at, reason, before)
        return out

    # --- joining and heartbeating ------------------------------------------------------

    def _join_or_heartbeat(self, req: ConsumerGroupHeartbeat) -> list[GroupDecision]:
        out: list[GroupDecision] = []
        found = self._find_member(req)
        if isinstance(found, str):
            return [self._error(req, found)]
        member, replaced = found
        is_new = member.member_id not in self._members and replaced is None
        before = len(self._members)
        old_topics = member.topics
        if replaced is not None:
            out += self._replace(replaced, member, req.at)
        self._members[member.member_id] = member
        if req.topics is not None:
            member.topics = tuple(req.topics)
        member.rebalance_timeout = req.rebalance_timeout
        member.instance_id = req.instance_id

        if self._group_epoch == 0 or member.topics != old_topics:
            verb = "joined" if is_new else "changed its subscription"
            out += self._bump(req.at, f"member {member.member_id} {verb}", before)
        if self._group_epoch > self._assignment_epoch:
            self._compute_target()

        assigned_before = member.assigned
        self._reconcile(member, frozenset(req.owned), req.at)
        member.session_deadline = req.at + self.session_timeout
        changed = member.assigned != assigned_before
        send = req.member_epoch == JOIN_GROUP_MEMBER_EPOCH or changed
        out.append(
            ConsumerGroupHeartbeatResponse(
                req.at,
                self.group_id,
                member.member_id,
                member.epoch,
                _sorted(member.assigned) if send else None,
                self.heartbeat_interval,
            )
        )
        return out

    def _find_member(self, req: ConsumerGroupHeartbeat) -> tuple[_Member, _Member | None] | str:
        """``getOrMaybeSubscribe{Dynamic,Static}ConsumerGroupMember``: the member this request
        is from (a new one for a join) and the static member it replaces, or an error name."""
        joining = req.member_epoch == JOIN_GROUP_MEMBER_EPOCH
        if req.instance_id is None:
            member = self._members.get(req.member)
            if member is None:
                return (_Member(req.member, None), None) if joining else UNKNOWN_MEMBER_ID
            return self._check_epoch(member, req) or (member, None)
        existing = self._static_member(req.instance_id)
        if joining:
            if existing is None:
                return _Member(req.member, req.instance_id), None
            if existing.epoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH:
                return UNRELEASED_INSTANCE_ID
            # the new incarnation takes the old one's place: its subscription, its
            # assignment and its target, at epoch 0
            heir = _Member(
                req.member,
                req.instance_id,
                topics=existing.topics,
                rebalance_timeout=existing.rebalance_timeout,
                state=existing.state,
                epoch=0,
                previous_epoch=0,
                assigned=existing.assigned,
            )
            return heir, existing
        if existing is None:
            return UNKNOWN_MEMBER_ID
        if existing.member_id != req.member:
            return FENCED_INSTANCE_ID
        return self._check_epoch(existing, req) or (existing, None)

    @staticmethod
    def _check_epoch(member: _Member, req: ConsumerGroupHeartbeat) -> str | None:
        """``throwIfConsumerGroupMemberEpochIsInvalid``: an epoch ahead is fenced; one behind
        is accepted only if it is the previous epoch and the member owns a subset of its
        assignment (the response with the new epoch was lost)."""
        if req.member_epoch > member.epoch:
            return FENCED_MEMBER_EPOCH
        if req.member_epoch < member.epoch and (
            req.member_epoch != member.previous_epoch or not set(req.owned) <= member.assigned
        ):
            return FENCED_MEMBER_EPOCH
        return None

    def _replace(self, old: _Member, heir: _Member, at: float) -> list[GroupDecision]:
        """``replaceMember``: the heir takes the static member's place; no epoch bump."""
        del self._members[old.member_id]
        self._set_holdings(old, _NONE, _NONE)
        self._set_holdings(heir, heir.assigned, _NONE)
        if old.member_id == heir.member_id:
            return []  # the same member id came back: nothing was fenced
        if old.member_id in self._target:
            self._target[heir.member_id] = self._target.pop(old.member_id)
        for tp, owner in self._target_owner.items():
            if owner == old.member_id:
                self._target_owner[tp] = heir.member_id
        return [MemberRemoved(at, self.group_id, old.member_id, "fenced")]

    def _static_member(self, instance_id: str) -> _Member | None:
        for member in self._members.values():
            if member.instance_id == instance_id:
                return member
        return None

    # --- target assignment (TargetAssignmentBuilder) -----------------------------------

    def _compute_target(self) -> None:
        """Run the assignor over every member, each with its previous target for stickiness."""
        subscriptions = {
            m.member_id: MemberSubscription(
                member_id=m.member_id,
                # TopicIds resolves names against the metadata image: unknown topics drop out
                topics=tuple(t for t in m.topics if t in self.partitions_per_topic),
                owned_partitions=_sorted(self._target.get(m.member_id, _NONE)),
                group_instance_id=m.instance_id,
            )
            for m in (self._members[mid] for mid in sorted(self._members))
        }
        result = self.assignor.assign(GroupSpec(self.partitions_per_topic, subscriptions))
        self._target = {mid: frozenset(result.get(mid, ())) for mid in subscriptions}
        new_owner = {tp: mid for mid in sorted(self._target) for tp in sorted(self._target[mid])}
        moved = sum(1 for tp, mid in new_owner.items() if self._target_owner.get(tp) != mid)
        self._target_owner = new_owner
        self._assignment_epoch = self._group_epoch
        if self._open is not None and self._open.epoch == self._group_epoch:
            self._open.partitions_moved = moved

    # --- reconciliation (CurrentAssignmentBuilder) -------------------------------------

    def _reconcile(self, member: _Member, owned: Partitions, at: float) -> None:
        """Move the member one step towards its target, and (re)arm or cancel its
        rebalance timer as ``maybeReconcile`` does."""
        if member.is_reconciled_to(self._assignment_epoch):
            return
        if member.state == UNREVOKED_PARTITIONS and owned & member.pending_revocation:
            return  # still owns partitions it must revoke: nothing can move yet
        before = (member.state, member.epoch, member.assigned, member.pending_revocation)
        self._compute_next_assignment(member, owned)
        if (member.state, member.epoch, member.assigned, member.pending_revocation) == before:
            return
        if member.state == UNREVOKED_PARTITIONS:
            member.rebalance_deadline = at + member.rebalance_timeout
            member.rebalance_epoch = member.epoch
        else:
            member.rebalance_deadline = None

    def _compute_next_assignment(self, member: _Member, owned: Partitions) -> None:
        subscribed = set(member.topics)
        target = frozenset(
            tp for tp in self._target.get(member.member_id, _NONE) if tp.topic in subscribed
        )
        kept = member.assigned & target
        to_revoke = member.assigned - kept
        to_assign = target - kept
        # Kafka 4.1.0: held by anyone, the member itself included (KAFKA-19449 came later)
        unreleased = frozenset(tp for tp in to_assign if tp in self._holder)
        to_assign -= unreleased
        if to_revoke and owned & to_revoke:
            self._set_epoch(member, member.epoch)
            member.state = UNREVOKED_PARTITIONS
            self._set_holdings(member, kept, to_revoke)
            return
        self._set_epoch(member, self._assignment_epoch)
        member.state = UNRELEASED_PARTITIONS if unreleased else STABLE
        self._set_holdings(member, kept | to_assign, _NONE)

    @staticmethod
    def _set_epoch(member: _Member, epoch: int) -> None:
        """``ConsumerGroupMember.Builder.updateMemberEpoch``."""
        member.previous_epoch, member.epoch = member.epoch, epoch

    def _set_holdings(self, member: _Member, assigned: Partitions, pending: Partitions) -> None:
        for tp in member.assigned | member.pending_revocation:
            if self._holder.get(tp) == member.member_id:
                del self._holder[tp]
        member.assigned, member.pending_revocation = assigned, pending
        for tp in assigned | pending:
            self._holder[tp] = member.member_id

    # --- timers ------------------------------------------------------------------------

    def _next_timer(self) -> _Timer | None:
        """The earliest timer; ties fire rebalance before session, then by member id."""
        timers: list[_Timer] = []
        for mid, m in self._members.items():
            if m.rebalance_deadline is not None:
                timers.append(_Timer(m.rebalance_deadline, "rebalance", mid))
            if m.session_deadline is not None:
                timers.append(_Timer(m.session_deadline, "session", mid))
        return min(timers, default=None)

    def _run_timers(self, until: float, inclusive: bool) -> list[GroupDecision]:
        """Fire the timers due by ``until`` one at a time, earliest first: each firing can
        remove a member and so cancel that member's other timer."""
        out: list[GroupDecision] = []
        while True:
            timer = self._next_timer()
            if timer is None or timer.at > until or (timer.at == until and not inclusive):
                return out
            member = self._members[timer.member_id]
            if timer.kind == "session":
                out += self._remove(member, timer.at, "session_timeout",
                                    f"member {member.member_id} session timeout")
            elif member.epoch == member.rebalance_epoch:
                out += self._remove(member, timer.at, "rebalance_timeout",
                                    f"member {member.member_id} rebalance timeout")
            else:
                member.rebalance_deadline = None

    # --- the rebalance log -------------------------------------------------------------

    def _bump(self, at: float, reason: str, members_before: int) -> list[GroupDecision]:
        out: list[GroupDecision] = []
        if self._open is not None:
            out.append(self._close(at, superseded=True))
        self._group_epoch += 1
        self._open = _OpenRebalance(self._group_epoch, reason, at, members_before, len(self._members))
        return out

    def _maybe_complete(self, at: float) -> list[GroupDecision]:
        if self._open is None:
            return []
        present = [m for m in self._members.values() if m.epoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH]
        if present and (
            self._assignment_epoch != self._group_epoch
            or not all(m.is_reconciled_to(self._group_epoch) for m in present)
        ):
            return []
        return [self._close(at, superseded=False)]

    def _close(self, at: float, superseded: bool) -> RebalanceCompleted:
        assert self._open is not None
        o = self._open
        record = RebalanceRecord(
            group=self.group_id,
            generation=o.epoch,
            protocol="consumer",
            assignor=self.assignor.name,
            reason=o.reason,
            started_at=o.started_at,
            completed_at=at,
            members_before=o.members_before,
            members_after=o.members_after,
            partitions_moved=o.partitions_moved,
            superseded=superseded,
        )
        self.records.append(record)
        self._open = None
        return RebalanceCompleted(record)

    # --- helpers -----------------------------------------------------------------------

    def _member(self, member: str) -> _Member:
        try:
            return self._members[member]
        except KeyError:
            raise KeyError(
                f"{member!r} is not a member of group {self.group_id!r} (members {self.members()})"
            ) from None

    def _error(self, req: ConsumerGroupHeartbeat, error: str) -> ConsumerGroupHeartbeatResponse:
        """An error response: Kafka's carries the error and a member epoch of 0."""
        return ConsumerGroupHeartbeatResponse(
            req.at, self.group_id, req.member, 0, None, self.heartbeat_interval, error
        )
