"""The group coordinator's inputs and decisions: the requests members send, the answers
they get, and the record of each rebalance.

Like the controller (:mod:`simkafka.model.controller`), the group coordinator is a pure
state machine: an engine feeds it timestamped requests and applies the decisions it
returns; :meth:`next_deadline` says when to call back with a :class:`Tick` for its timers
(session timeouts, the rebalance timeout, ``group.initial.rebalance.delay.ms``). The
engine carries requests over the network (a request arrives at the coordinator some
time after the member sent it) and answers back; the coordinator sees only arrivals.

Two protocols, as in Kafka 4.x's ``GroupMetadataManager``:

* **classic** (:mod:`simkafka.model.classic_group`, Kafka's ``ClassicGroup``):
  :class:`JoinGroup` / :class:`SyncGroup` / :class:`Heartbeat` / :class:`LeaveGroup`.
  The group leader computes the assignment with a client-side assignor; here the
  coordinator runs that same pure function on the leader's behalf when the join phase
  completes, and hands each member its part in the :class:`SyncGroupResponse` -- the
  leader's computation takes no simulated time, its SyncGroup round trip does.
* **consumer** (KIP-848, :mod:`simkafka.model.consumer_group`, Kafka's
  ``ConsumerGroup``): one :class:`ConsumerGroupHeartbeat` request does everything; the
  coordinator runs a server-side assignor and reconciles each member towards its target
  without a global barrier.

Member ids are chosen by the engine (Kafka's are ``client.id`` + a random UUID); engines
use deterministic ones so the same seed gives the same assignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from simkafka.model.types import TopicPartition

# --- errors (Kafka's Errors enum names) ------------------------------------------------------

NONE = "NONE"
REBALANCE_IN_PROGRESS = "REBALANCE_IN_PROGRESS"
UNKNOWN_MEMBER_ID = "UNKNOWN_MEMBER_ID"
ILLEGAL_GENERATION = "ILLEGAL_GENERATION"
FENCED_INSTANCE_ID = "FENCED_INSTANCE_ID"
FENCED_MEMBER_EPOCH = "FENCED_MEMBER_EPOCH"
UNRELEASED_INSTANCE_ID = "UNRELEASED_INSTANCE_ID"

# KIP-848 member epochs with a meaning of their own (ConsumerGroupHeartbeatRequest)
JOIN_GROUP_MEMBER_EPOCH = 0
LEAVE_GROUP_MEMBER_EPOCH = -1
LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2

RemovalReason = Literal["session_timeout", "rebalance_timeout", "left", "fenced"]


# --- inputs: classic protocol ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JoinGroup:
    """A ``JoinGroupRequest`` arrived. ``owned`` is what the member still owns (the
    ``ConsumerProtocolSubscription``'s owned partitions: everything for a cooperative
    member, nothing for an eager one, which revoked all before joining). ``protocols``
    are the member's ``partition.assignment.strategy`` names in preference order."""

    at: float
    group: str
    member: str
    topics: tuple[str, ...]
    protocols: tuple[str, ...]
    session_timeout: float
    rebalance_timeout: float
    owned: tuple[TopicPartition, ...] = ()
    instance_id: str | None = None


@dataclass(frozen=True, slots=True)
class SyncGroup:
    """A ``SyncGroupRequest`` for ``generation`` arrived (the leader's carries the
    assignment; here the coordinator already holds it, see the module docstring)."""

    at: float
    group: str
    member: str
    generation: int


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A classic ``HeartbeatRequest`` arrived."""

    at: float
    group: str
    member: str
    generation: int


@dataclass(frozen=True, slots=True)
class LeaveGroup:
    """A ``LeaveGroupRequest``: the member closed (a dynamic member does on close; a
    static one does not) or its poll loop exceeded ``max.poll.interval.ms``."""

    at: float
    group: str
    member: str
    reason: str = "left"


# --- inputs: KIP-848 consumer protocol -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsumerGroupHeartbeat:
    """A ``ConsumerGroupHeartbeatRequest`` arrived. ``member_epoch`` 0 joins, -1 leaves,
    -2 leaves as a static member (its assignment is kept for ``session_timeout``);
    ``owned`` is what the member owns now (it acknowledges revocations this way);
    ``topics`` None means unchanged since the last heartbeat."""

    at: float
    group: str
    member: str
    member_epoch: int
    owned: tuple[TopicPartition, ...] = ()
    topics: tuple[str, ...] | None = None
    rebalance_timeout: float = 300.0
    instance_id: str | None = None


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed: run the timers due by ``at``."""

    at: float


GroupEvent = JoinGroup | SyncGroup | Heartbeat | LeaveGroup | ConsumerGroupHeartbeat | Tick


# --- decisions -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JoinGroupResponse:
    """The join phase completed (or the request failed with ``error``): the member now
    sends SyncGroup for ``generation``."""

    at: float
    group: str
    member: str
    generation: int
    leader: str
    protocol: str
    error: str = NONE


@dataclass(frozen=True, slots=True)
class SyncGroupResponse:
    """The member's assignment for ``generation`` (empty with an error)."""

    at: float
    group: str
    member: str
    generation: int
    assignment: tuple[TopicPartition, ...]
    error: str = NONE


@dataclass(frozen=True, slots=True)
class HeartbeatResponse:
    """Answer to a classic heartbeat: ``REBALANCE_IN_PROGRESS`` tells the member to
    rejoin; ``UNKNOWN_MEMBER_ID`` / ``ILLEGAL_GENERATION`` that it was removed or is
    behind and must rejoin as new."""

    at: float
    group: str
    member: str
    error: str = NONE


@dataclass(frozen=True, slots=True)
class ConsumerGroupHeartbeatResponse:
    """Answer to a KIP-848 heartbeat: the member's epoch and the partitions it may own now
    (its target minus those still owned by another member), None when unchanged since the
    last response; ``FENCED_MEMBER_EPOCH`` / ``UNKNOWN_MEMBER_ID`` make it rejoin with
    epoch 0 after giving up everything."""

    at: float
    group: str
    member: str
    member_epoch: int
    assignment: tuple[TopicPartition, ...] | None
    heartbeat_interval: float
    error: str = NONE


@dataclass(frozen=True, slots=True)
class MemberRemoved:
    """The coordinator removed a member: its session expired, it did not rejoin within
    the rebalance timeout, it left, or a new incarnation fenced it."""

    at: float
    group: str
    member: str
    reason: RemovalReason


@dataclass(frozen=True, slots=True)
class RebalanceRecord:
    """One rebalance, from the moment the coordinator started it to the moment every
    member holds its new assignment.

    * ``generation``: the classic generation id, or the KIP-848 group epoch, it produced;
    * ``reason``: what started it, as Kafka logs it (``member g-3 joined``, ``member g-1
      session timeout``, ...);
    * ``completed_at``: classic -- the last SyncGroup answered (for a cooperative group
      whose first round withheld partitions, the follow-up round's record covers the
      rest); KIP-848 -- every member reconciled to its target;
    * ``partitions_moved``: partitions whose owner in the new assignment differs from
      the owner before it (an unowned partition given out counts, one taken back does not);
    * ``members_before`` / ``members_after``: group size on either side;
    * ``superseded``: KIP-848 -- another epoch bump came before every member had
      reconciled, and ``completed_at`` is that bump (the newer record carries on).
    """

    group: str
    generation: int
    protocol: str  # "classic" or "consumer"
    assignor: str
    reason: str
    started_at: float
    completed_at: float
    members_before: int
    members_after: int
    partitions_moved: int
    superseded: bool = False

    @property
    def duration(self) -> float:
        return self.completed_at - self.started_at


@dataclass(frozen=True, slots=True)
class RebalanceCompleted:
    """A rebalance finished; the engine keeps the record for the run's rebalance log."""

    record: RebalanceRecord


GroupDecision = (
    JoinGroupResponse
    | SyncGroupResponse
    | HeartbeatResponse
    | ConsumerGroupHeartbeatResponse
    | MemberRemoved
    | RebalanceCompleted
)
