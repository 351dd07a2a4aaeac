"""A consumer's side of group membership: Kafka's ``ConsumerCoordinator`` (classic) and
``ConsumerMembershipManager`` (KIP-848), for one member, with no clock of its own.

Both engines play the same client: this module holds its rules -- what ``poll()`` does for
the group, what each answer changes, what one heartbeat does -- and each engine says when
they run. The events engine runs the heartbeat thread as a SimPy process
(:mod:`simkafka.sim.group_member`); the stepped engine calls :meth:`ClassicClient.beat` at
the heartbeat's times and :meth:`ClassicClient.poll` in the steps in which the member
polls (:mod:`simkafka.sim.stepped_groups`). ``poll()`` is a generator so that the events
engine's commit round trip can block it; the stepped engine's commits take no step.

What matters for rebalance times is *where* the client acts, and Kafka is precise about it:

* Rebalance callbacks -- revoking and taking partitions -- run inside ``poll()`` on the
  application's thread. A member busy processing a batch does neither until its next
  ``poll()``; so a slow poll loop slows every rebalance it takes part in.
* **Classic.** The heartbeat thread sends a Heartbeat every ``heartbeat.interval.ms``
  while the member is in a generation, and leaves the group (``LeaveGroup``; a static
  member just stops) when ``poll()`` was not called for ``max.poll.interval.ms``. A
  ``REBALANCE_IN_PROGRESS`` answer makes the next ``poll()`` rejoin: it commits first
  (``enable.auto.commit``), then an **eager** member revokes everything and joins empty,
  a **cooperative** one joins still owning its partitions and keeps consuming them. The
  SyncGroup answer's assignment is applied at the next ``poll()``: a cooperative member
  revokes what it lost there -- without committing -- and rejoins at once (the second
  round). The rebalance protocol is cooperative only if every configured
  ``partition.assignment.strategy`` supports it (``cooperative-sticky``).
* **KIP-848.** One ConsumerGroupHeartbeat every ``group.consumer.heartbeat.interval.ms``
  (the coordinator's value); a new assignment is reconciled at the next ``poll()``:
  commit (auto commit), revoke, take, and acknowledge with a heartbeat sent at once.

A member that finds it was removed (``UNKNOWN_MEMBER_ID``, ``ILLEGAL_GENERATION``,
``FENCED_*``) loses its partitions without committing and rejoins as a new member.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Protocol

from simkafka.model.group_protocol import (
    FENCED_INSTANCE_ID,
    FENCED_MEMBER_EPOCH,
    ILLEGAL_GENERATION,
    JOIN_GROUP_MEMBER_EPOCH,
    LEAVE_GROUP_MEMBER_EPOCH,
    LEAVE_GROUP_STATIC_MEMBER_EPOCH,
    NONE,
    REBALANCE_IN_PROGRESS,
    UNKNOWN_MEMBER_ID,
    ConsumerGroupHeartbeat,
    ConsumerGroupHeartbeatResponse,
    GroupDecision,
    GroupEvent,
    Heartbeat,
    HeartbeatResponse,
    JoinGroup,
    JoinGroupResponse,
    LeaveGroup,
    SyncGroup,
    SyncGroupResponse,
)
from simkafka.model.types import TopicPartition

if TYPE_CHECKING:
    from simkafka.scenario import ConsumerGroupSpec

LOST = (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID, FENCED_MEMBER_EPOCH)


class ConsumerMember(Protocol):
    """What the group client uses of its consumer (each engine's member)."""

    group: ConsumerGroupSpec
    index: int
    host: str
    alive: bool
    polling_idle: bool
    assignment: list[TopicPartition]

    def take(self, partitions: tuple[TopicPartition, ...], generation: int) -> None: ...

    def release(self, partitions: tuple[TopicPartition, ...], lost: bool) -> None: ...

    def before_revoke(self) -> Generator[Any, Any, None]: ...

    def commit_sync(self) -> Generator[Any, Any, bool]: ...

    def wake(self) -> None: ...

    def note(self, event: str) -> None: ...

    def next_member_id(self) -> str: ...


class GroupSender(Protocol):
    """What the client uses of its engine's group driver: the time, the clients by member
    id, and a way to send a request (built now) to the group's coordinator."""

    clients: dict[str, Any]
    consumer_heartbeat_interval: float

    @property
    def now(self) -> float: ...

    def send(self, client: Any, request: GroupEvent) -> object: ...


def cooperative(spec: ConsumerGroupSpec) -> bool:
    """Whether the classic rebalance protocol is cooperative: every configured
    ``partition.assignment.strategy`` must support it (``ConsumerCoordinator``)."""
    return all(s == "cooperative-sticky" for s in spec.partition_assignment_strategy)


def first_heartbeat_after(spec: ConsumerGroupSpec, index: int, interval: float | None = None) -> float:
    """When a member's heartbeat first goes after it starts (``interval``: the KIP-848
    coordinator's; default the classic ``heartbeat.interval.ms``): members started
    together do not heartbeat in lockstep, so they are phased by member index."""
    interval = spec.heartbeat_interval if interval is None else interval
    return interval * (1 + index % spec.members) / spec.members


def poll_timed_out(now: float, last_poll: float, spec: ConsumerGroupSpec, polling_idle: bool) -> bool:
    """``max.poll.interval.ms`` passed since the last ``poll()`` while the application
    held records (a consumer waiting inside ``poll()`` for data is polling)."""
    # compared as a deadline, as run_poll_timer schedules it (now - last_poll can round
    # below the limit at the very instant now == last_poll + limit)
    return now >= last_poll + spec.max_poll_interval and not polling_idle


def run_poll_timer(client: GroupClient) -> float:
    """The poll timer's turn now: a poll timeout makes the member leave (the heartbeat
    thread looks every ``retry.backoff.ms``, 100 ms; here at the deadline itself).
    Returns when to look next -- the current deadline, which a ``poll()`` moves on."""
    now, limit = client.driver.now, client.spec.max_poll_interval
    if poll_timed_out(now, client.last_poll, client.spec, client.member.polling_idle):
        client.on_poll_timeout()
        return now + limit
    if client.member.polling_idle:  # inside poll(), waiting for records: polling
        return now + limit
    return client.last_poll + limit


class GroupClient(ABC):
    """What both protocols' clients share: their member, their engine's driver, the member
    id they are registered under, and the poll timer's state."""

    def __init__(self, member: ConsumerMember, driver: GroupSender, member_id: str) -> None:
        self.member = member
        self.driver = driver
        self.spec = member.group
        self.member_id = member_id
        self.instance_id = self.spec.instance_id(member.index)
        self.lost = False  # removed from the group: partitions are lost, not revoked
        self.last_poll = driver.now
        self.poll_timeouts = 0
        driver.clients[member_id] = self

    @property
    def host(self) -> str:
        return self.member.host

    @property
    def alive(self) -> bool:
        return self.member.alive and self.driver.clients.get(self.member_id) is self

    @abstractmethod
    def on_poll_timeout(self) -> None:
        """``max.poll.interval.ms`` passed without a ``poll()``."""


class ClassicClient(GroupClient):
    """One member's classic-protocol client (``ConsumerCoordinator``); the heartbeat
    thread's timing is the engine's, what one beat does is :meth:`beat`."""

    def __init__(self, member: ConsumerMember, driver: GroupSender, member_id: str) -> None:
        self.cooperative = cooperative(member.group)
        self.generation = -1
        self.state = "UNJOINED"  # UNJOINED, PREPARING_REBALANCE, COMPLETING_REBALANCE, STABLE
        self.rejoin_needed = True
        self._pending: tuple[int, tuple[TopicPartition, ...]] | None = None
        super().__init__(member, driver, member_id)

    # -- the formed group before the run ------------------------------------------------------

    def join_request(self, at: float) -> JoinGroup:
        owned = tuple(self.member.assignment) if self.cooperative else ()
        return JoinGroup(
            at, self.spec.group_id, self.member_id, tuple(self.spec.topics),
            tuple(self.spec.partition_assignment_strategy), self.spec.session_timeout,
            self.spec.max_poll_interval, owned, self.instance_id,
        )

    def formed(self, generation: int, assignment: tuple[TopicPartition, ...]) -> None:
        self.generation, self.state, self.rejoin_needed = generation, "STABLE", False
        self.member.take(assignment, generation)
        self.start()

    @abstractmethod
    def start(self) -> None:
        """Start the heartbeat thread (the engine's)."""

    # -- the poll() side ------------------------------------------------------------------------

    def poll_pending(self) -> bool:
        """Whether ``poll()`` has group work to do (the stepped engine skips it otherwise)."""
        return self.lost or self._pending is not None or (
            self.rejoin_needed and self.state in ("UNJOINED", "STABLE")
        )

    def poll(self) -> Generator[Any, Any, None]:
        """What ``poll()`` does for the group before it fetches: apply an assignment that
        arrived, or start a rejoin."""
        self.last_poll = self.driver.now
        member = self.member
        if self.lost:
            self.lost = False
            member.release(tuple(member.assignment), lost=True)  # onPartitionsLost
        if self._pending is not None:
            generation, assignment = self._pending
            self._pending = None
            new, owned = set(assignment), set(member.assignment)
            revoked = tuple(sorted(owned - new))
            if revoked:  # cooperative: what moves is revoked now, uncommitted
                yield from member.before_revoke()
                member.release(revoked, lost=False)
                self.rejoin_needed = True
            member.take(tuple(sorted(new - owned)), generation)
            self.state = "STABLE"
        if self.rejoin_needed and self.state in ("UNJOINED", "STABLE"):
            self.rejoin_needed = False
            if self.spec.enable_auto_commit and member.assignment and self.generation >= 0:
                yield from member.commit_sync()  # onJoinPrepare: maybeAutoCommitOffsetsSync
            if not self.cooperative and member.assignment:
                yield from member.before_revoke()
                member.release(tuple(member.assignment), lost=False)  # eager: revoke all
            self.state = "PREPARING_REBALANCE"
            self.driver.send(self, self.join_request(self.driver.now))

    def commit_generation(self) -> int:
        return self.generation

    def leave(self) -> None:
        """``close()``: a dynamic member leaves the group; a static one does not (KIP-345)."""
        if self.instance_id is None and self.generation >= 0:
            self.driver.send(self, LeaveGroup(self.driver.now, self.spec.group_id, self.member_id))
        self.state, self.generation = "UNJOINED", -1

    # -- answers --------------------------------------------------------------------------------

    def on_response(self, decision: GroupDecision) -> None:
        if isinstance(decision, JoinGroupResponse):
            if decision.error != NONE:
                self._lose()
            elif self.state == "PREPARING_REBALANCE":
                self.generation, self.state = decision.generation, "COMPLETING_REBALANCE"
                self.driver.send(
                    self, SyncGroup(self.driver.now, self.spec.group_id, self.member_id, decision.generation)
                )
        elif isinstance(decision, SyncGroupResponse):
            if decision.error == REBALANCE_IN_PROGRESS:
                self.state, self.rejoin_needed = "UNJOINED", True
            elif decision.error != NONE:
                self._lose()
            elif decision.generation == self.generation:
                self._pending = (decision.generation, decision.assignment)
        elif isinstance(decision, HeartbeatResponse):
            if decision.error == REBALANCE_IN_PROGRESS and self.state == "STABLE":
                self.rejoin_needed = True
            elif decision.error in LOST and self.state != "UNJOINED":
                self._lose()
        self.member.wake()

    def _lose(self) -> None:
        """Removed from the group: a new member id (a static member keeps its instance
        id), no generation, partitions lost at the next ``poll()``."""
        self.lost = bool(self.member.assignment)
        self.generation, self.state, self.rejoin_needed = -1, "UNJOINED", True
        self._pending = None
        old = self.member_id
        self.member_id = self.member.next_member_id()
        del self.driver.clients[old]
        self.driver.clients[self.member_id] = self

    # -- one beat of the heartbeat thread -------------------------------------------------------

    def on_poll_timeout(self) -> None:
        """``maybeLeaveGroup("consumer poll timeout has expired.")``: a dynamic member
        sends LeaveGroup, a static one just stops heartbeating; either way it is out of
        the group and finds its partitions lost at its next ``poll()``."""
        if self.state not in ("STABLE", "COMPLETING_REBALANCE"):
            return
        self.poll_timeouts += 1
        self.member.note("consumer_poll_timeout")
        self.leave()
        self._lose()
        self.member.wake()

    def beat(self) -> None:
        """One turn of the heartbeat thread: a heartbeat while in a generation."""
        if self.state not in ("STABLE", "COMPLETING_REBALANCE"):
            return  # not in a generation: the thread is disabled while joining
        self.driver.send(self, Heartbeat(self.driver.now, self.spec.group_id, self.member_id, self.generation))


class ConsumerClient(GroupClient):
    """One member's KIP-848 client (``ConsumerMembershipManager`` + heartbeat manager); the
    heartbeat's timing is the engine's (every ``heartbeat_interval``, or at once when
    :attr:`ack_due`), what one heartbeat does is :meth:`beat`."""

    def __init__(self, member: ConsumerMember, driver: GroupSender, member_id: str) -> None:
        self.member_epoch = JOIN_GROUP_MEMBER_EPOCH
        self.state = "JOINING"  # JOINING, STABLE, RECONCILING, STALE
        self.heartbeat_interval = driver.consumer_heartbeat_interval
        self._target: tuple[TopicPartition, ...] | None = None
        self.ack_due = False  # a heartbeat is to go at once (join, acknowledgement)
        super().__init__(member, driver, member_id)

    def heartbeat_request(self, at: float, epoch: int | None = None) -> ConsumerGroupHeartbeat:
        epoch = self.member_epoch if epoch is None else epoch
        return ConsumerGroupHeartbeat(
            at, self.spec.group_id, self.member_id, epoch, tuple(self.member.assignment),
            tuple(self.spec.topics), self.spec.max_poll_interval, self.instance_id,
        )

    def formed(self, epoch: int, assignment: tuple[TopicPartition, ...]) -> None:
        self.member_epoch, self.state = epoch, "STABLE"
        self.member.take(assignment, epoch)
        self.start()

    @abstractmethod
    def start(self) -> None:
        """Start the heartbeat manager (the engine's)."""

    def poll_pending(self) -> bool:
        """Whether ``poll()`` has group work to do (the stepped engine skips it otherwise)."""
        return self.lost or self.state == "STALE" or self._target is not None

    def poll(self) -> Generator[Any, Any, None]:
        self.last_poll = self.driver.now
        member = self.member
        if self.lost:
            self.lost = False
            member.release(tuple(member.assignment), lost=True)
        if self.state == "STALE":  # left on a poll timeout: join again as new
            self.state, self.member_epoch = "JOINING", JOIN_GROUP_MEMBER_EPOCH
            self._kick()
        if self._target is not None:
            target, self._target = self._target, None
            new, owned = set(target), set(member.assignment)
            revoked = tuple(sorted(owned - new))
            if revoked:
                if self.spec.enable_auto_commit:
                    yield from member.commit_sync()  # commit before revoking
                yield from member.before_revoke()
                member.release(revoked, lost=False)
            member.take(tuple(sorted(new - owned)), self.member_epoch)
            self._kick()  # acknowledge at once

    def commit_generation(self) -> int:
        return self.member_epoch

    def leave(self) -> None:
        epoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH if self.instance_id else LEAVE_GROUP_MEMBER_EPOCH
        self.driver.send(self, self.heartbeat_request(self.driver.now, epoch))
        self.state = "STALE"

    def on_response(self, decision: GroupDecision) -> None:
        if not isinstance(decision, ConsumerGroupHeartbeatResponse) or self.state == "STALE":
            return
        if decision.error in LOST:
            self.lost = bool(self.member.assignment)
            self.member_epoch, self.state, self._target = JOIN_GROUP_MEMBER_EPOCH, "JOINING", None
            self._kick()
        elif decision.error == NONE:
            self.heartbeat_interval = decision.heartbeat_interval
            self.member_epoch = decision.member_epoch
            self.state = "STABLE"
            if decision.assignment is not None and set(decision.assignment) != set(self.member.assignment):
                self._target = decision.assignment
        self.member.wake()

    def _kick(self) -> None:
        """Send a heartbeat at once, not at the next interval."""
        self.ack_due = True
        self._wake_heartbeat()

    @abstractmethod
    def _wake_heartbeat(self) -> None:
        """The engine's heartbeat manager learns of :attr:`ack_due` and beats now (the
        events engine wakes its process; the stepped engine schedules the beat)."""

    def on_poll_timeout(self) -> None:
        """The poll timer expired: leave the group (epoch -1, or -2 for a static member)
        and rejoin at the next ``poll()``."""
        if self.state in ("STALE", "JOINING"):
            return
        self.poll_timeouts += 1
        self.member.note("consumer_poll_timeout")
        self.leave()
        self.lost = bool(self.member.assignment)
        self.member.wake()

    def beat(self) -> None:
        """One heartbeat (nothing while left)."""
        self.ack_due = False
        if self.state == "STALE":
            return
        self.driver.send(self, self.heartbeat_request(self.driver.now))
