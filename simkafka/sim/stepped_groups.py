"""Consumer groups that live, in the stepped engine: the same group coordinator and the same
client rules as the events engine, on a clock of requests rather than SimPy processes.

:class:`SteppedGroups` owns the run's pure
:class:`~simkafka.model.group_coordinator.GroupCoordinator` (built by
:func:`~simkafka.sim.group_driver.build_coordinator`, as the events engine's) and a queue of
timed happenings: a request a member sends arrives at the coordinator one client one-way
latency (``cluster.network.client_latency``) later and is handled at that time; its
answers reach the member one latency after that; the coordinator's timers run at its
``next_deadline``; heartbeats beat at their own times; the consumer faults happen at
theirs. The step loop calls :meth:`SteppedGroups.run_until` with each step's start and
then :meth:`SteppedGroups.poll` for the members that poll in that step -- a member polls in
every step in which its thread is not busy with a batch that outlasts the step, and only
there does it take, revoke, rejoin and reconcile, as ``poll()`` does in Kafka.

Each member's group client is :mod:`simkafka.sim.group_client`'s, shared with the events
engine; here only its heartbeat's timing is written (:class:`SteppedClassicClient`,
:class:`SteppedConsumerClient`). Commits take no simulated time here (the events engine
pays an OffsetCommit round trip): ``enable.auto.commit`` commits what the member processed
every ``auto.commit.interval.ms`` at a poll, an exactly-once member every
``commit.interval.ms``, any other member at every poll; a classic member commits before it
rejoins, and every member commits on a graceful leave. The coordinator refuses a commit
from a member it removed, so the next owner reprocesses from the last accepted commit.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from simkafka.model.group_protocol import (
    NONE,
    GroupDecision,
    GroupEvent,
    MemberRemoved,
    RebalanceRecord,
    Tick,
)
from simkafka.model.types import TopicPartition
from simkafka.scenario import ConsumerGroupSpec, Scenario
from simkafka.scenario.faults import (
    ConsumerCrash,
    ConsumerJoin,
    ConsumerLeave,
    ConsumerSlow,
    RollingRestart,
)
from simkafka.sim.consumer_faults import CONSUMER_FAULT_TYPES
from simkafka.sim.group_client import (
    ClassicClient,
    ConsumerClient,
    first_heartbeat_after,
    run_poll_timer,
)
from simkafka.sim.group_driver import answers, build_coordinator
from simkafka.sim.group_formation import commit_error, form_group
from simkafka.sim.group_outcome import AssignmentSpan, GroupOutcome, group_outcome

TIMER_NUDGE = 1e-6  # a timer still due after it ran runs again this much later (as the events engine)


class GroupWorld(Protocol):
    """What the groups use of the stepped world: its per-(group, partition) arrays."""

    partition_index: dict[TopicPartition, int]
    batch_left: np.ndarray
    last_poll: np.ndarray
    slow_factor: np.ndarray
    member_alive: np.ndarray
    step_busy: np.ndarray
    step_start: float

    def take_partitions(self, g: int, parts: list[int], slot: int) -> None: ...

    def release_partitions(self, g: int, parts: list[int]) -> None: ...

    def commit(self, g: int, parts: list[int]) -> None: ...


def _done() -> Iterator[Any]:
    """A generator that yields nothing: the stepped engine's commits and revocation
    callbacks take no simulated time, but ``poll()`` runs them with ``yield from``."""
    return iter(())


class SteppedMember:
    """One member process of a group in the stepped engine (its slot in the world's arrays)."""

    def __init__(self, groups: SteppedGroups, spec: ConsumerGroupSpec, g: int, slot: int, index: int) -> None:
        self.groups = groups
        self.world = groups.world
        self.group = spec
        self.g = g
        self.slot = slot
        self.index = index
        self.host = f"consumer.{spec.group_id}-{index}"
        self.assignment: list[TopicPartition] = []
        self._owner_id: dict[TopicPartition, str] = {}
        self.membership: ClassicClient | ConsumerClient | None = None
        self._ids = 0
        self.alive = True
        self.world.member_alive[slot] = True

    @property
    def polling_idle(self) -> bool:
        """No batch in hand: the member is inside ``poll()``, waiting for records."""
        return bool(self.world.batch_left[self.slot] <= 0.0)

    @property
    def member_id_now(self) -> str:
        assert self.membership is not None
        return self.membership.member_id

    def next_member_id(self) -> str:
        """As the events engine's: the member's index, then a counter per new process."""
        self._ids += 1
        return f"{self.group.group_id}-{self.index}" + (f".{self._ids - 1}" if self._ids > 1 else "")

    def note(self, event: str) -> None:
        self.groups.note(event, f"{self.group.group_id}[{self.index}]")

    def start(self, membership: ClassicClient | ConsumerClient) -> None:
        """The process runs; its poll loop's first ``poll()`` has group work to do."""
        self.membership = membership
        self.groups.work[self.slot] = True

    def wake(self) -> None:
        """An answer for ``poll()``: a member waiting inside ``poll()`` acts on it at
        once, as Kafka's does; a busy one when its thread is free -- after the records
        of its last step (processed first in the step) or the batch in hand."""
        groups = self.groups
        groups.work[self.slot] = True
        if not self.alive:
            return
        world = self.world
        free_at = world.step_start + max(float(world.batch_left[self.slot]), float(world.step_busy[self.slot]))
        if free_at <= groups.now:
            groups.poll_member(self)
        else:
            groups.at(free_at, lambda: groups.poll_member(self))

    # -- rebalance callbacks ----------------------------------------------------------------------

    def _parts(self, partitions: tuple[TopicPartition, ...] | list[TopicPartition]) -> list[int]:
        return [self.world.partition_index[tp] for tp in partitions]

    def take(self, partitions: tuple[TopicPartition, ...], generation: int) -> None:
        """``onPartitionsAssigned``: each starts at the group's committed offset."""
        new = [tp for tp in partitions if tp not in self.assignment]
        if not new:
            return
        self.world.take_partitions(self.g, self._parts(new), self.slot)
        for tp in new:
            # the id it was taken under: a removed member gets a new id before it notices
            self._owner_id[tp] = self.member_id_now
            self.groups.owned(self.group.group_id, self.member_id_now, tp, generation)
        self.assignment = sorted([*self.assignment, *new])

    def release(self, partitions: tuple[TopicPartition, ...], lost: bool) -> None:
        """``onPartitionsRevoked`` / ``onPartitionsLost``: what was fetched and not
        processed is dropped; the group resumes from its committed offset."""
        gone = [tp for tp in partitions if tp in self.assignment]
        if not gone:
            return
        self.world.release_partitions(self.g, self._parts(gone))
        for tp in gone:
            self.groups.released(self._owner_id.pop(tp, self.member_id_now), tp)
        self.assignment = [tp for tp in self.assignment if tp not in gone]

    def before_revoke(self) -> Generator[Any, Any, None]:
        """An exactly-once member commits its transaction (and with it its offsets)."""
        if self.group.delivery == "exactly-once":
            self.commit_now()
        yield from _done()

    def commit_sync(self) -> Generator[Any, Any, bool]:
        ok = self.commit_now()
        yield from _done()
        return ok

    def commit_now(self) -> bool:
        """OffsetCommit of what the member processed, if the coordinator accepts it."""
        if not self.assignment or self.membership is None:
            return True
        if not self.commit_accepted():
            return False
        self.world.commit(self.g, self._parts(self.assignment))
        return True

    def commit_accepted(self) -> bool:
        """Whether the member has an OffsetCommit to send and the coordinator accepts it
        now (a refusal is counted)."""
        if not self.assignment or self.membership is None:
            return False
        membership = self.membership
        error = commit_error(self.groups, self.group.group_id, membership.member_id, membership.commit_generation())
        if error != NONE:
            self.groups.commits_failed += 1
            return False
        return True

    # -- the process's life ---------------------------------------------------------------------

    def crash(self) -> None:
        """The process dies: no LeaveGroup, no commit; its heartbeats stop."""
        self.release(tuple(self.assignment), lost=True)
        self._stop()

    def close(self) -> None:
        """``close()``: commit (not at-most-once: it committed before processing), revoke
        everything, leave."""
        if self.membership is None or not self.alive:
            return
        if self.group.delivery != "at-most-once":
            self.commit_now()
        self.release(tuple(self.assignment), lost=False)
        self.membership.leave()
        self._stop()

    def _stop(self) -> None:
        self.alive = False
        self.world.member_alive[self.slot] = False
        self.world.batch_left[self.slot] = 0.0
        if self.membership is not None:
            self.groups.clients.pop(self.membership.member_id, None)

    def restart(self, membership: ClassicClient | ConsumerClient) -> None:
        """A new process of this member joins afresh (a new member id, the same
        ``group.instance.id``) and resumes from the committed offsets."""
        self.alive = True
        self.world.member_alive[self.slot] = True
        self.world.slow_factor[self.slot] = 1.0
        self.world.last_poll[self.slot] = self.groups.now
        self.groups.reset_commit_timer(self)
        self.membership = membership
        membership.start()
        self.wake()


class SteppedClassicClient(ClassicClient):
    """The classic client, its heartbeat thread beating from the group driver's queue."""

    driver: SteppedGroups

    def start(self) -> None:
        self.driver.at(self.driver.now + first_heartbeat_after(self.spec, self.member.index), self._beat)
        stepped_poll_timer(self)

    def _beat(self) -> None:
        if not self.alive:
            return  # the thread ends with the process
        self.last_poll = max(self.last_poll, float(self.driver.world.last_poll[self.member.slot]))  # type: ignore[attr-defined]
        self.beat()
        self.member.wake()  # a poll timeout leaves work for the next poll()
        self.driver.at(self.driver.now + self.spec.heartbeat_interval, self._beat)


class SteppedConsumerClient(ConsumerClient):
    """The KIP-848 client, its heartbeat manager beating every interval or at once when asked."""

    driver: SteppedGroups
    _token = 0  # the scheduled beat that counts (a kick supersedes the one before)

    def start(self) -> None:
        if self.state == "JOINING":
            self._kick()
        else:  # phased by index, as the events engine's
            self._schedule(self.driver.now + first_heartbeat_after(self.spec, self.member.index, self.heartbeat_interval))
        stepped_poll_timer(self)

    def _wake_heartbeat(self) -> None:
        self._schedule(self.driver.now)

    def _schedule(self, when: float) -> None:
        """The next beat, replacing the one scheduled before (a kick restarts the interval)."""
        self._token += 1
        token = self._token
        self.driver.at(when, lambda: self._beat(token))

    def _beat(self, token: int) -> None:
        if token != self._token or not self.alive:
            return
        self.last_poll = max(self.last_poll, float(self.driver.world.last_poll[self.member.slot]))  # type: ignore[attr-defined]
        self.beat()
        self.member.wake()
        self._schedule(self.driver.now + self.heartbeat_interval)


def stepped_poll_timer(client: SteppedClassicClient | SteppedConsumerClient) -> None:
    """``max.poll.interval.ms`` watched at its deadline (:func:`run_poll_timer`), from the
    driver's queue; the member's last poll is read from the step arrays first."""
    driver = client.driver

    def turn() -> None:
        if not client.alive:
            return
        client.last_poll = max(client.last_poll, float(driver.world.last_poll[client.member.slot]))  # type: ignore[attr-defined]
        driver.at(max(driver.now, run_poll_timer(client)), turn)

    driver.at(driver.now + client.spec.max_poll_interval, turn)


def new_stepped_client(driver: SteppedGroups, member: SteppedMember) -> ClassicClient | ConsumerClient:
    """A new process's group client, with a fresh member id."""
    member_id = member.next_member_id()
    if member.group.group_protocol == "consumer":
        return SteppedConsumerClient(member, driver, member_id)
    return SteppedClassicClient(member, driver, member_id)


def member_slots(scenario: Scenario) -> list[tuple[int, int]]:
    """(group, member index) of every member that will ever exist: a group's members and
    then its ``consumer_join`` joiners, group after group."""
    joins: dict[str, int] = {}
    for fault in scenario.faults:
        if isinstance(fault, ConsumerJoin):
            joins[fault.group] = joins.get(fault.group, 0) + fault.count
    return [
        (g, i)
        for g, spec in enumerate(scenario.consumer_groups)
        for i in range(spec.members + joins.get(spec.group_id, 0))
    ]


class SteppedGroups:
    """The group coordinator and every member's client, on the stepped engine's clock."""

    # a member and its group client (the flow engine's groups, :mod:`simkafka.sim.flow_groups`,
    # put theirs here)
    member_class: type[SteppedMember] = SteppedMember

    def client_table(self) -> dict[str, Any]:
        """The table of every member's client by member id (a hook: the flow engine's
        indexes it by group)."""
        return {}

    def new_client(self, member: SteppedMember) -> ClassicClient | ConsumerClient:
        """A new process's group client, with a fresh member id."""
        return new_stepped_client(self, member)

    def __init__(self, world: GroupWorld, scenario: Scenario) -> None:
        self.world = world
        self.scenario = scenario
        cluster = scenario.cluster
        config = cluster.config
        self.latency = cluster.network.client_latency
        self.consumer_heartbeat_interval = config.group_consumer_heartbeat_interval
        specs = list(scenario.consumer_groups)
        self.coordinator = build_coordinator(scenario)
        self.specs = {spec.group_id: spec for spec in specs}
        self.group_index = {spec.group_id: g for g, spec in enumerate(specs)}
        self.now = 0.0
        self.clients: dict[str, Any] = self.client_table()
        self.removals: list[MemberRemoved] = []
        self.spans: list[AssignmentSpan] = []
        self._open: dict[tuple[str, TopicPartition], AssignmentSpan] = {}
        self.notes: list[tuple[float, str, str]] = []
        self.commits_failed = 0
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = 0
        slots = member_slots(scenario)
        self._free: dict[int, list[int]] = {}
        for slot, (g, _) in enumerate(slots):
            self._free.setdefault(g, []).append(slot)
        self.work = np.zeros(len(slots), dtype=bool)  # something for the member's next poll()
        self.next_commit = np.full(len(slots), np.inf)
        self.members: dict[str, list[SteppedMember]] = {}
        self._by_slot: dict[int, SteppedMember] = {}
        self._tick_floor = 0.0
        self._deadline: float | None = None
        for spec in specs:
            self.members[spec.group_id] = []
            for _ in range(spec.members):
                self.new_member(spec)
            form_group(self, spec, self.members[spec.group_id], lambda _, m: self.new_client(m))
        self._deadline = self.coordinator.next_deadline()
        for fault in scenario.faults:
            if fault.type in CONSUMER_FAULT_TYPES:
                self.at(fault.at, lambda f=fault: self._fault(f))

    # -- the clock --------------------------------------------------------------------------------

    def at(self, when: float, action: Callable[[], None]) -> None:
        """Run ``action`` at ``when`` (in the order scheduled, for equal times)."""
        self._seq += 1
        heapq.heappush(self._queue, (when, self._seq, action))

    def run_until(self, until: float) -> None:
        """Everything due by ``until``, in time order: arrivals, answers, heartbeats,
        faults and the coordinator's timers."""
        queue = self._queue
        while True:
            # the coordinator's deadline changes only when it handles something (submit)
            deadline = self._deadline
            top = queue[0][0] if queue else np.inf
            if deadline is not None:
                deadline = max(deadline, self._tick_floor)
            if deadline is not None and deadline <= until and deadline <= top:
                self.now = max(self.now, deadline)
                self.submit(Tick(self.now))
                after = self._deadline
                self._tick_floor = self.now + TIMER_NUDGE if after is not None and after <= self.now else 0.0
                continue
            if top > until:
                break
            when, _, action = heapq.heappop(queue)
            self.now = max(self.now, when)
            action()
        self.now = max(self.now, until)

    # -- requests and answers ---------------------------------------------------------------------

    def send(self, client: Any, request: GroupEvent) -> None:
        """The request reaches the coordinator one client latency from now."""
        self.at(self.now + self.latency, lambda: self.submit(replace(request, at=self.now)))

    def submit(self, event: GroupEvent) -> list[GroupDecision]:
        decisions = self.coordinator.handle(event)
        self._deadline = self.coordinator.next_deadline()
        for client, decision in answers(decisions, self.clients, self.removals):
            self.at(self.now + self.latency, lambda c=client, d=decision: self._answer(c, d))
        return decisions

    def _answer(self, client: Any, decision: GroupDecision) -> None:
        if client.alive:  # a process that died meanwhile never reads it
            client.on_response(decision)

    # -- the members' polls -------------------------------------------------------------------------

    def poll(self, polls: np.ndarray) -> None:
        """The group work of the members that poll now: ``poll()``'s rebalance callbacks,
        then the commits due."""
        now = self.now
        for slot in np.flatnonzero(polls & (self.work | (self.next_commit <= now))):
            member = self._by_slot[int(slot)]
            self.poll_member(member)
            if self.next_commit[slot] <= now and member.alive:
                self.reset_commit_timer(member)
                member.commit_now()
        self.run_until(now)  # heartbeats a poll asked to go at once

    def poll_member(self, member: SteppedMember) -> None:
        """``poll()``'s group work for ``member`` now (its rebalance callbacks run here)."""
        client = member.membership
        if not self.work[member.slot] or client is None:
            return
        self.work[member.slot] = False
        if client.poll_pending():
            for _ in client.poll():
                pass

    def reset_commit_timer(self, member: SteppedMember) -> None:
        spec = member.group
        if spec.delivery == "exactly-once":
            every = spec.commit_interval  # the transaction commits, offsets with it
        elif spec.delivery == "at-least-once" and spec.enable_auto_commit:
            every = spec.auto_commit_interval
        else:
            every = 0.0  # commitSync() after (at-least-once) or before (at-most-once) each batch
        self.next_commit[member.slot] = self.now + every

    # -- membership changes -------------------------------------------------------------------------

    def new_member(self, spec: ConsumerGroupSpec) -> SteppedMember:
        g = self.group_index[spec.group_id]
        members = self.members[spec.group_id]
        slot = self._free[g].pop(0)
        member = self.member_class(self, spec, g, slot, len(members))
        members.append(member)
        self._by_slot[slot] = member
        self.reset_commit_timer(member)
        return member

    def note(self, event: str, detail: str) -> None:
        self.notes.append((self.now, event, detail))

    def _fault(self, fault: Any) -> None:
        group = fault.group
        members = self.members[group]
        if isinstance(fault, ConsumerCrash):
            member = members[fault.member]
            self.note("consumer_crash", f"{group}[{fault.member}]")
            member.crash()
            if fault.restart_after is not None:
                self.at(self.now + fault.restart_after, lambda: self._restart(member))
        elif isinstance(fault, ConsumerLeave):
            self.note("consumer_leave", f"{group}[{fault.member}]")
            members[fault.member].close()
        elif isinstance(fault, ConsumerJoin):
            for _ in range(fault.count):
                member = self.new_member(self.specs[group])
                self.note("consumer_join", f"{group}[{member.index}]")
                client = self.new_client(member)
                member.start(client)
                client.start()
                self.poll_member(member)  # its poll loop starts: it joins at once
        elif isinstance(fault, ConsumerSlow):
            member = members[fault.member]
            self.note("consumer_slow", f"{group}[{fault.member}] x{fault.factor:g}")
            self.world.slow_factor[member.slot] = fault.factor
            if fault.duration is not None:
                self.at(self.now + fault.duration, lambda: self._recover(member))
        elif isinstance(fault, RollingRestart):
            self._roll_from(list(members), 0, fault)

    def _recover(self, member: SteppedMember) -> None:
        self.world.slow_factor[member.slot] = 1.0
        self.note("consumer_recovered", f"{member.group.group_id}[{member.index}]")

    def _roll_from(self, members: list[SteppedMember], i: int, fault: RollingRestart) -> None:
        """A deploy: the next live member closes now, its new process joins ``downtime``
        later, and the one after it follows ``pace`` later."""
        while i < len(members) and not members[i].alive:
            i += 1
        if i == len(members):
            return
        member = members[i]
        self.note("consumer_leave", f"{member.group.group_id}[{member.index}] (deploy)")
        member.close()
        self.at(self.now + fault.downtime, lambda: self._restart(member))
        self.at(self.now + fault.pace, lambda: self._roll_from(members, i + 1, fault))

    def _restart(self, member: SteppedMember) -> None:
        self.note("consumer_restart", f"{member.group.group_id}[{member.index}]")
        member.restart(self.new_client(member))

    # -- ownership --------------------------------------------------------------------------------

    def owned(self, group: str, member: str, tp: TopicPartition, generation: int) -> None:
        self._open[(member, tp)] = AssignmentSpan(group, member, tp, generation, self.now, None)

    def released(self, member: str, tp: TopicPartition) -> None:
        span = self._open.pop((member, tp), None)
        if span is not None:
            self.spans.append(replace(span, end=self.now))

    def records(self) -> list[RebalanceRecord]:
        return self.coordinator.records()

    def outcome(self, run_end: float, group_partitions: dict[str, int]) -> GroupOutcome:
        """The rebalance log and the ownership spans (:func:`group_outcome`)."""
        spans = sorted(
            [*self.spans, *self._open.values()],
            key=lambda s: (s.start, s.group, s.member, s.tp),
        )
        return group_outcome(self.records(), spans, run_end, group_partitions)

    def __repr__(self) -> str:
        return f"<SteppedGroups {self.coordinator!r}, {len(self.clients)} clients>"
