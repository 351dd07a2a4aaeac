"""Consumer groups that rebalance in the flow engine: the stepped engine's group plane
(:class:`~simkafka.sim.stepped_groups.SteppedGroups` -- the model's group coordinator built
by :func:`~simkafka.sim.group_driver.build_coordinator`, the shared group clients of
:mod:`~simkafka.sim.group_client`, the consumer faults) on the flow engine's clock.

The group plane keeps its own queue of timed happenings -- a request reaching the
coordinator one ``client_latency`` after it was sent, the answer one latency later, the
coordinator's timers at its ``next_deadline``, heartbeats, poll timers, the consumer faults
-- and the run loop (:func:`~simkafka.sim.flow_run.run_flow`) plays them up to its next
stop. Only what changes a rate stops the world: a member taking or losing partitions, a
member slowing down or recovering. The world is advanced to that instant, the consumer
flows are derived again (:func:`~simkafka.sim.flow_topology.consumers_changed`) and the
rates solved; between two such changes the assignment is constant and the consumer flows
keep their rates. Everything else -- heartbeats, answers that change nothing, commits --
runs in the group plane alone and costs the world nothing.

**Polls.** A member whose thread keeps up with what it is given polls continuously: it
acts on an answer at once (as a Kafka consumer waiting inside ``poll()`` does) and its
``max.poll.interval.ms`` never runs out. A member whose thread is saturated (its thread is
a full resource of the rate solution: it processes slower than its partitions fill)
polls once per batch -- ``max.poll.records``, or fewer if its lag and fetched records
are fewer, over its processing rate -- and only then runs its rebalance callbacks; its
last poll is the start of the batch in hand, which is what the poll timer
(``max.poll.interval.ms``) reads. A member that becomes saturated first works through
the records of its last poll (one fetch response: what one of its fetch sessions
brought in one fetch cycle) at its new pace. Which records each poll returns is not
followed, only how long a batch takes:
which of several saturated members polls first after an answer can differ from the
stepped engine's (see ``tests/sim/test_flow_groups.py``).

**Ownership.** A member that takes a partition starts from the group's committed offset;
a member that loses one (revoked or lost) drops what it fetched and did not process, and
the group's position goes back to the committed offset: records processed since the last
commit go back to the lag and are processed again by the next owner (counted in
``FlowWorld.reprocessed``, the summary's ``consumed_twice.<group>``). Eager (classic
``range``, ``roundrobin``, ``sticky``) members revoke everything when they rejoin, so the
whole group stops from its revocations to the SyncGroup answers; cooperative and KIP-848
members give up only what moves. A member removed from the group without knowing it (it
has not polled since: a zombie) goes on consuming its partitions until another member
takes them, and its own revocation later gives up only what it still consumes.

**Commits** are as the stepped engine's (``enable.auto.commit`` every
``auto.commit.interval.ms`` at a poll, exactly-once every ``commit.interval.ms``, any other
member at every poll, before a classic rejoin and on a graceful leave) and take no
simulated time. A commit changes no rate, so it does not stop the world: the processed
count at the commit's instant is read off the world's linear evolution since its last stop
(:meth:`FlowGroupState.consumed_at`), and commits due are caught up whenever the group
plane acts or the world moves on.

**Heartbeats** of a group at rest change nothing but the coordinator's session deadlines,
so they are not played one by one: while a group is *quiet* -- the coordinator's group is
stable, every live member's client is stable with nothing for its next ``poll()``, and no
request other than heartbeats is on its way -- its members' heartbeat events are not
queued. Each member's heartbeats keep their phase (a classic member beats every
``heartbeat.interval.ms`` from its start; a KIP-848 member every interval from its last
beat), and before the coordinator handles anything of the group, or its timers run, each
member's latest heartbeat to have arrived is handed to it (at its own arrival time, in
order) -- at least once per session timeout, since a session deadline is a timer. When
anything else happens to a quiet group (a consumer fault, a request other than a
heartbeat, a poll timeout, a timer that acts), its members' heartbeats are queued again
from their next beat, and the one still on its way arrives as it would have.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from simkafka.model.classic_group import ClassicGroup, GroupState
from simkafka.model.group_protocol import ConsumerGroupHeartbeat, GroupEvent, Heartbeat, Tick
from simkafka.model.types import TopicPartition
from simkafka.sim.group_client import ClassicClient, ConsumerClient, first_heartbeat_after
from simkafka.sim.stepped_groups import (
    TIMER_NUDGE,
    SteppedClassicClient,
    SteppedConsumerClient,
    SteppedGroups,
    SteppedMember,
    stepped_poll_timer,
)

if TYPE_CHECKING:
    from simkafka.scenario import Scenario

# the world is simkafka.sim.flow.FlowWorld, which imports this module
FlowWorld = Any

SATURATED = 1 - 1e-6  # a member thread this busy is a full resource of the solution
COMMIT_TIE = 1e-9  # seconds: a commit due at the instant of a group happening comes after it


class FlowGroupState:
    """What the group plane uses of the flow world (the stepped engine's ``GroupWorld``):
    each member's poll loop and the hooks that change who consumes what."""

    def __init__(self, world: FlowWorld, groups: FlowGroups) -> None:
        self.flow = world
        self.groups = groups
        self.partition_index = {tp: i for i, tp in enumerate(world.tps)}
        M = world.M
        self.member_alive = np.zeros(M, dtype=bool)
        self.slow_factor = world.member_slow  # the world's own array: a change is solved again
        self.step_busy = np.zeros(M)
        # the batch in hand: [start, end); a saturated member polls at its end and takes the
        # next one at once (batch_time long when it is max.poll.records, see roll)
        self.batch_start = np.zeros(M)
        self.batch_end = np.zeros(M)
        self.batch_time = np.full(M, math.inf)
        self.saturated = np.zeros(M, dtype=bool)
        self.poll_records = np.ones(M)  # what a poll returned while the member kept up
        self.rate = np.zeros(M)  # records a second each member processes
        # the group's committed offset of each partition (a "latest" group starts past the prefill)
        self.committed = world.consumed.copy()
        self.changed = False  # the consumer flows changed: derive them and solve again

    @property
    def now(self) -> float:
        return self.groups.now

    @property
    def step_start(self) -> float:
        return self.groups.now

    # -- each member's poll loop -------------------------------------------------------------

    def roll(self, now: float) -> None:
        """Saturated members' batches up to ``now``: each one ended starts the next, of
        ``max.poll.records`` or of what the member has to take (its lag and what it
        fetched), whichever is fewer."""
        due = self.saturated & (self.batch_end <= now)
        while due.any():
            idx = np.flatnonzero(due)
            at = self.batch_end[idx]
            most = self.flow.max_poll_records[idx]
            rate = self.rate[idx]
            fewer = np.minimum(self._available(idx, at), most)
            # full batches all the way to now: their ends in closed form
            full = (fewer >= most) & (self._available(idx, np.full(idx.size, now)) >= most)
            length = np.maximum(fewer, 1.0) / rate
            passed = np.where(full, np.floor((now - at) / length), 0.0)
            self.batch_start[idx] = at + passed * length
            self.batch_end[idx] = self.batch_start[idx] + length
            due = self.saturated & (self.batch_end <= now)

    def _available(self, idx: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Records members ``idx`` could take at ``at`` (their partitions' lag and what
        was fetched for them), from the world's linear evolution."""
        w = self.flow
        if not w.C:
            return np.zeros(idx.size)
        owned = w.c_owned
        held = np.bincount(w.c_member, weights=(w.lag + w.c_pipe) * owned, minlength=w.M)
        slope = np.bincount(w.c_member, weights=w.lag_slope * owned, minlength=w.M)
        return np.maximum(0.0, held[idx] + slope[idx] * np.maximum(0.0, at - w.now))

    def solved(self, now: float) -> None:
        """The rates changed at ``now``: which member threads are saturated, and how long a
        batch of ``max.poll.records`` takes each at its rate now."""
        w = self.flow
        self.roll(now)
        blk = w.block["member"]
        busy = w.utilisation[blk : blk + w.M] >= SATURATED
        rate = np.bincount(w.c_member, weights=w.rate_c, minlength=w.M) if w.C else np.zeros(w.M)
        self.rate = rate
        self.batch_time = np.divide(w.max_poll_records, rate, out=np.full(w.M, math.inf), where=rate > 0)
        saturated = busy & (rate > 0) & self.member_alive
        # a member whose thread has just become too slow has the records of its last
        # poll in hand (one fetch response, see _records_per_poll); it works through
        # them at its new pace, then polls and takes max.poll.records
        starts = saturated & ~self.saturated & (self.batch_end <= now)
        in_hand = np.divide(self.poll_records, rate, out=np.zeros(w.M), where=rate > 0)
        self.batch_start[starts] = now
        self.batch_end[starts] = now + in_hand[starts]
        self.saturated = saturated
        self.poll_records = np.where(saturated, self.poll_records, self._records_per_poll(rate))

    def _records_per_poll(self, rate: np.ndarray) -> np.ndarray:
        """What a poll of a member that keeps up returns: one fetch response, what one of
        its fetch sessions brings in one fetch cycle (``fetch.min.bytes`` gathered, at most
        ``fetch.max.wait.ms``, plus the round trip; the sessions' responses drift apart,
        see :meth:`FlowLatency.shape <simkafka.sim.flow_latency.FlowLatency.shape>`), at
        least one record, at most ``max.poll.records``."""
        w = self.flow
        if not w.C:
            return np.ones(w.M)
        nbytes = np.bincount(w.c_member, weights=w.rate_c * w.bytes_per_msg_p[w.c_part], minlength=w.M)
        sessions = np.maximum(1, np.bincount(w.session_member, minlength=w.M))
        per_session = nbytes / sessions
        gathering = w.fetch_min > 1
        wait = np.where(
            gathering,
            np.minimum(w.fetch_max_wait_m, np.divide(w.fetch_min, per_session, out=np.full(w.M, np.inf), where=per_session > 0)),
            0.0,
        )
        cycle = wait + 2 * w.client_latency
        return np.clip(rate / sessions * cycle, 1.0, w.max_poll_records)

    def idle(self, slot: int, now: float) -> bool:
        """Inside ``poll()``, waiting for records: no batch in hand."""
        self.roll(now)
        return bool(self.batch_end[slot] <= now)

    def free_at(self, slot: int, now: float) -> float:
        """When the member's thread next runs ``poll()``."""
        self.roll(now)
        return max(now, float(self.batch_end[slot]))

    @property
    def batch_left(self) -> np.ndarray:
        now = self.now
        self.roll(now)
        return np.maximum(0.0, self.batch_end - now)

    @property
    def last_poll(self) -> np.ndarray:
        """A member with no batch in hand is polling now; one with a batch polled at its start."""
        now = self.now
        self.roll(now)
        return np.where(self.batch_end <= now, now, self.batch_start)

    def stopped(self, slot: int, now: float) -> None:
        """The member's process ended: no batch in hand."""
        self.batch_end[slot] = min(float(self.batch_end[slot]), now)
        self.saturated[slot] = False

    # -- ownership ---------------------------------------------------------------------------

    def _flows(self, g: int, parts: list[int]) -> np.ndarray:
        flows = self.flow.c_of[g, parts]
        return flows[flows >= 0]

    def consumed_at(self, g: int, parts: list[int], t: float) -> np.ndarray:
        """What group ``g`` processed of ``parts`` at ``t`` (not before the world's time):
        the rates hold from the world's last stop to its next one."""
        w = self.flow
        flows = w.c_of[g, parts]
        if w.C:
            ahead = np.where(flows >= 0, w.latency.consume_rate_of(w.now, np.maximum(flows, 0)), 0.0)
        else:
            ahead = np.zeros(len(parts))
        return w.consumed[g, parts] + ahead * max(0.0, t - w.now)

    def take_partitions(self, g: int, parts: list[int], slot: int) -> None:
        """Member ``slot`` consumes ``parts`` of group ``g`` from now, from the group's
        position (its committed offset, see :meth:`release_partitions`). A partition a
        removed member still consumes (it has not polled since: a zombie) is taken from
        it: the new owner starts from the committed offset all the same."""
        w = self.flow
        w.advance(self.now)
        flows = self._flows(g, parts)
        self._rewind(flows[w.c_owned[flows]])
        w.c_member[flows] = slot
        w.c_owned[flows] = True
        self.changed = True

    def release_partitions(self, g: int, parts: list[int], slot: int | None = None) -> None:
        """Nobody consumes ``parts`` of group ``g`` now (those member ``slot`` still
        consumes, if given): what was fetched and not processed goes back to the lag, and
        so does what was processed since the last commit."""
        w = self.flow
        w.advance(self.now)
        flows = self._flows(g, parts)
        flows = flows[w.c_owned[flows] & ((w.c_member[flows] == slot) if slot is not None else True)]
        self._rewind(flows)
        w.c_owned[flows] = False
        self.changed = True

    def _rewind(self, flows: np.ndarray) -> None:
        """The group's position of ``flows`` goes back to its committed offset."""
        w = self.flow
        g, p = w.c_group[flows], w.c_part[flows]
        again = np.maximum(0.0, w.consumed[g, p] - self.committed[g, p])
        np.add.at(w.reprocessed, g, again)
        w.consumed[g, p] -= again
        w.lag[flows] += w.c_pipe[flows] + again
        w.c_pipe[flows] = 0.0

    def commit(self, g: int, parts: list[int]) -> None:
        """OffsetCommit now of what group ``g`` processed of ``parts``."""
        self.committed[g, parts] = self.consumed_at(g, parts, self.now)

    def commit_many(self, groups: list[int], parts: list[list[int]], instants: list[float]) -> None:
        """:meth:`commit` of each ``(group, parts)`` at its instant, in one go (a later
        one of the same partition overwrites an earlier one, as in turn)."""
        w = self.flow
        sizes = [len(p) for p in parts]
        g = np.repeat(np.asarray(groups, dtype=np.int64), sizes)
        p = np.fromiter((i for ps in parts for i in ps), dtype=np.int64, count=sum(sizes))
        ahead = np.maximum(0.0, np.repeat(np.asarray(instants), sizes) - w.now)
        flows = w.c_of[g, p]
        rate = np.where(flows >= 0, w.latency.consume_rate_of(w.now, np.maximum(flows, 0)), 0.0) if w.C else 0.0
        self.committed[g, p] = w.consumed[g, p] + rate * ahead


class FlowMember(SteppedMember):
    """A member process whose poll loop is the flow engine's (:class:`FlowGroupState`)."""

    groups: FlowGroups
    world: FlowGroupState  # type: ignore[assignment]
    _parts_of: tuple[tuple[TopicPartition, ...], list[int]] | None = None

    def _parts(self, partitions: tuple[TopicPartition, ...] | list[TopicPartition]) -> list[int]:
        # an auto-commit reads the same assignment's indices every few seconds for hours
        key = tuple(partitions)
        known = self._parts_of
        if known is not None and known[0] == key:
            return list(known[1])
        parts = super()._parts(partitions)
        self._parts_of = (key, parts)
        return list(parts)

    @property
    def polling_idle(self) -> bool:
        return self.world.idle(self.slot, self.groups.now)

    def wake(self) -> None:
        """An answer for ``poll()``: acted on at once by a member waiting in ``poll()``, at
        the end of its batch by a saturated one."""
        groups = self.groups
        groups.work[self.slot] = True
        if not self.alive:
            return
        free_at = self.world.free_at(self.slot, groups.now)
        if free_at <= groups.now:
            groups.poll_member(self)
        else:
            groups.at(free_at, lambda: groups.poll_member(self))

    def release(self, partitions: tuple[TopicPartition, ...], lost: bool) -> None:
        """``onPartitionsRevoked`` / ``onPartitionsLost``: of the partitions it still
        consumes (another member may have been given them meanwhile)."""
        gone = [tp for tp in partitions if tp in self.assignment]
        if not gone:
            return
        self.world.release_partitions(self.g, self._parts(gone), self.slot)
        for tp in gone:
            self.groups.released(self._owner_id.pop(tp, self.member_id_now), tp)
        self.assignment = [tp for tp in self.assignment if tp not in gone]

    def _stop(self) -> None:
        super()._stop()
        self.world.stopped(self.slot, self.groups.now)

    def restart(self, membership: ClassicClient | ConsumerClient) -> None:
        self.alive = True
        self.world.member_alive[self.slot] = True
        self.world.slow_factor[self.slot] = 1.0
        self.world.stopped(self.slot, self.groups.now)
        self.groups.reset_commit_timer(self)
        self.membership = membership
        membership.start()
        self.wake()


class _Phased:
    """A member's heartbeats as a phase: the beats fall at ``origin + k * interval``; while
    its group is quiet none is queued (:class:`FlowGroups`)."""

    driver: FlowGroups
    member: FlowMember
    origin: float
    beat_interval: float
    _token: int
    last_fed: float

    def latest_beat(self, t: float) -> float | None:
        """The last beat at or before ``t`` (None: none yet)."""
        if t < self.origin:
            return None
        return self.origin + math.floor((t - self.origin + 1e-12) / self.beat_interval) * self.beat_interval

    def next_beat(self, t: float) -> float:
        """The first beat after ``t``."""
        if t < self.origin:
            return self.origin
        return self.origin + (math.floor((t - self.origin + 1e-12) / self.beat_interval) + 1) * self.beat_interval


class FlowClassicClient(SteppedClassicClient, _Phased):
    """The classic client; its heartbeat thread beats every ``heartbeat.interval.ms`` from
    its start, queued only while its group is not quiet."""

    driver: FlowGroups
    _token = 0

    def start(self) -> None:
        self.beat_interval = self.spec.heartbeat_interval
        self.origin = self.driver.now + first_heartbeat_after(self.spec, self.member.index)
        self.last_fed = -math.inf
        self.driver.queue_beat(self, self.origin)
        stepped_poll_timer(self)

    def _beat(self, token: int = -1) -> None:  # type: ignore[override]
        if not _played_beat(self, token):
            return
        self.driver.queue_beat(self, self.driver.now + self.beat_interval)

    def beats_now(self) -> bool:
        """Whether a beat would send a heartbeat now: in a generation."""
        return self.state in ("STABLE", "COMPLETING_REBALANCE")

    def heartbeat(self, at: float) -> GroupEvent:
        return Heartbeat(at, self.spec.group_id, self.member_id, self.generation)

    def at_rest(self) -> bool:
        """Stable, with nothing for its next ``poll()``."""
        return self.state == "STABLE" and not self.poll_pending()

    def on_poll_timeout(self) -> None:
        self.driver.stir(self.spec.group_id)
        super().on_poll_timeout()


class FlowConsumerClient(SteppedConsumerClient, _Phased):
    """The KIP-848 client; its heartbeat manager beats every interval from its last beat,
    or at once when asked, queued only while its group is not quiet."""

    driver: FlowGroups

    def start(self) -> None:
        self.beat_interval = self.heartbeat_interval
        self.last_fed = -math.inf
        if self.state == "JOINING":
            self.origin = self.driver.now
            self._kick()
        else:
            self.origin = self.driver.now + first_heartbeat_after(self.spec, self.member.index, self.heartbeat_interval)
            self.driver.queue_beat(self, self.origin)
        stepped_poll_timer(self)

    def _wake_heartbeat(self) -> None:
        self.driver.stir(self.spec.group_id)
        self.origin = self.driver.now
        self.driver.queue_beat(self, self.driver.now, settle=False)

    def _beat(self, token: int) -> None:
        if not _played_beat(self, token):
            return
        self.beat_interval = self.heartbeat_interval
        self.origin = self.driver.now
        self.driver.queue_beat(self, self.driver.now + self.heartbeat_interval)

    def beats_now(self) -> bool:
        """Whether a beat would send a heartbeat now: not while left."""
        return self.state != "STALE"

    def heartbeat(self, at: float) -> GroupEvent:
        return self.heartbeat_request(at)

    def at_rest(self) -> bool:
        """Stable, reconciled, with nothing to acknowledge."""
        return self.state == "STABLE" and not self.poll_pending() and not self.ack_due

    def on_poll_timeout(self) -> None:
        self.driver.stir(self.spec.group_id)
        super().on_poll_timeout()


class ClientsByGroup(dict[str, Any]):
    """The clients by member id, with an index by group in the table's order, rebuilt
    after the table changes: a quiet group's heartbeats are fed per group, and scanning
    every client of thousands for each group made that quadratic."""

    def __init__(self) -> None:
        super().__init__()
        self._by_group: dict[str, list[Any]] | None = None

    def of(self, group_id: str) -> list[Any]:
        if self._by_group is None:
            by_group: dict[str, list[Any]] = {}
            for client in self.values():
                by_group.setdefault(client.spec.group_id, []).append(client)
            self._by_group = by_group
        return self._by_group.get(group_id, [])

    def __setitem__(self, key: str, value: Any) -> None:
        self._by_group = None
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self._by_group = None
        super().__delitem__(key)

    def pop(self, *args: Any) -> Any:
        self._by_group = None
        return super().pop(*args)

    def popitem(self) -> tuple[str, Any]:
        self._by_group = None
        return super().popitem()

    def clear(self) -> None:
        self._by_group = None
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._by_group = None
        super().update(*args, **kwargs)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._by_group = None
        return super().setdefault(key, default)


class FlowGroups(SteppedGroups):
    """The group coordinator and every member's client, on the flow engine's clock."""

    member_class = FlowMember

    def __init__(self, world: FlowWorld, scenario: Scenario) -> None:
        self.flow = world
        self.state = FlowGroupState(world, self)
        self.quiet: dict[str, bool] = {spec.group_id: False for spec in scenario.consumer_groups}
        self._in_flight: dict[str, int] = {spec.group_id: 0 for spec in scenario.consumer_groups}
        self.fed_heartbeats = 0  # heartbeats handed to the coordinator on catching up
        self.played_heartbeats = 0
        super().__init__(self.state, scenario)
        self.state.changed = True  # the formation's assignment

    def client_table(self) -> ClientsByGroup:
        return ClientsByGroup()

    def new_client(self, member: SteppedMember) -> ClassicClient | ConsumerClient:
        member_id = member.next_member_id()
        if member.group.group_protocol == "consumer":
            return FlowConsumerClient(member, self, member_id)
        return FlowClassicClient(member, self, member_id)

    # -- the clock -----------------------------------------------------------------------------

    def next_time(self) -> float:
        """When the group plane next has something to do (its queue, the coordinator's timers)."""
        top = self._queue[0][0] if self._queue else math.inf
        deadline = self._deadline
        if deadline is not None:
            top = min(top, max(deadline, self._tick_floor))
        return top

    def run_until(self, until: float) -> float:  # type: ignore[override]
        """Everything due by ``until``, in time order; stops after the happenings of the
        first instant that changed a consumer flow (the world is then at that instant and
        its rates must be solved again) and returns the time it reached."""
        queue = self._queue
        slow = self.state.slow_factor.copy()
        while True:
            deadline = self._deadline
            top = queue[0][0] if queue else math.inf
            if deadline is not None:
                deadline = max(deadline, self._tick_floor)
            if self.state.changed and min(top, deadline if deadline is not None else math.inf) > self.now + 1e-12:
                return self.now
            if deadline is not None and deadline <= until and deadline <= top:
                self._catch_up(deadline)
                self._tick(deadline)
            elif top <= until:
                when, _, action = heapq.heappop(queue)
                self._catch_up(when)
                action()
            else:
                break
            if not np.array_equal(slow, self.state.slow_factor):  # consumer_slow: solve again
                self.flow.advance(self.now)
                self.state.changed = True
                slow = self.state.slow_factor.copy()
        self._catch_up(until, before=False)
        self.now = max(self.now, until)
        return self.now

    def _tick(self, deadline: float) -> None:
        """The coordinator's timers: quiet groups' heartbeats first (they move the session
        deadlines), then the timers still due."""
        self.now = max(self.now, deadline)
        self._feed_quiet(self.now)
        self._deadline = self.coordinator.next_deadline()
        if self._deadline is not None and self._deadline <= self.now:
            for group_id, machine in self.coordinator.groups.items():
                due = machine.next_deadline()
                if due is not None and due <= self.now:
                    self.stir(group_id)
            self.submit(Tick(self.now))
            after = self._deadline
            self._tick_floor = self.now + TIMER_NUDGE if after is not None and after <= self.now else 0.0

    def _catch_up(self, t: float, before: bool = True) -> None:
        """Commits due by ``t`` (lazily, see the module's docstring); ``before``: only those
        before ``t`` -- what happens at ``t`` comes first, as in the stepped engine, whose
        members poll (and commit) after the step's group happenings."""
        if t > self.now:
            self.now = t
        self._commits_due(t - COMMIT_TIE if before else t)

    # -- commits -------------------------------------------------------------------------------

    def _commits_due(self, t: float) -> None:
        """Each member's last commit due by ``t``, at its instant (no group acts between
        the stops, so whether the coordinator accepts it is what it says now); the
        accepted ones' offsets are written at once: the group's position of each
        partition at its member's instant."""
        state = self.state
        due = np.flatnonzero((self.next_commit <= t) & state.member_alive)
        if not due.size:
            return
        rolled = False
        groups: list[int] = []
        parts: list[list[int]] = []
        instants: list[float] = []
        for slot in due.tolist():
            member = self._by_slot[slot]
            if not member.alive or member.membership is None:
                continue
            if not rolled:  # once: a commit changes no member's batches
                state.roll(state.flow.now)
                rolled = True
            every = self._commit_every(member)
            instant = self._last_commit_instant(slot, t, every)
            if instant is None:
                continue
            self.next_commit[slot] = instant + every
            if member.commit_accepted():
                groups.append(member.g)
                parts.append(member._parts(member.assignment))
                instants.append(instant)
        if groups:
            state.commit_many(groups, parts, instants)

    def _commit_every(self, member: SteppedMember) -> float:
        spec = member.group
        if spec.delivery == "exactly-once":
            return spec.commit_interval
        if spec.delivery == "at-least-once" and spec.enable_auto_commit:
            return spec.auto_commit_interval
        return 0.0

    def _last_commit_instant(self, slot: int, t: float, every: float) -> float | None:
        """The last poll at or before ``t`` at which the member commits: its polls are
        continuous while it has no batch in hand, at its batches' ends otherwise."""
        state = self.state
        due = float(self.next_commit[slot])
        end, length = float(state.batch_end[slot]), float(state.batch_time[slot])
        if state.saturated[slot] and math.isfinite(length):
            # polls at end, end + length, ...: the last one at or before t after due
            first = end if end >= due else end + math.ceil((due - end) / length) * length
            if first > t:
                return None
            if every <= length:  # it commits at every poll
                return first + math.floor((t - first) / length) * length
            instant = first
            while True:  # the first poll at or after each commit's due time
                after = instant + every
                nxt = end + math.ceil((after - end) / length) * length
                if nxt > t:
                    return instant
                instant = nxt
        start = max(due, end)  # after the batch in hand, it polls continuously
        if start > t:
            return None
        if every <= 0:
            return t
        return start + math.floor((t - start) / every) * every

    # -- quiet groups' heartbeats ----------------------------------------------------------------

    def _clients_of(self, group_id: str) -> list[Any]:
        return [c for c in self.clients.of(group_id) if c.alive]

    def _is_quiet(self, group_id: str) -> bool:
        if self._in_flight[group_id]:
            return False
        machine = self.coordinator.groups[group_id]
        clients = self._clients_of(group_id)
        ids = {c.member_id for c in clients}
        if isinstance(machine, ClassicGroup):
            if machine.state is not GroupState.STABLE:
                return False
            members = set(machine.members())
        else:
            members = set(machine.members())
            if machine.assignment_epoch != machine.group_epoch or not all(
                machine.state(m) == "STABLE" and machine.member_epoch(m) == machine.group_epoch for m in members
            ):
                return False
        return members == ids and all(c.at_rest() for c in clients)

    def queue_beat(self, client: Any, when: float, settle: bool = True) -> None:
        """The client's next beat: queued unless its group is quiet (``settle``: or has
        become quiet -- checked at each beat, not when the group is stirred)."""
        client._token += 1
        group_id = client.spec.group_id
        if self.quiet[group_id]:
            return
        if settle and self._is_quiet(group_id):
            self.quiet[group_id] = True
            for other in self._clients_of(group_id):
                other._token += 1  # their queued beats lapse
            return
        token = client._token
        self.played_heartbeats += 1
        self.at(when, lambda: client._beat(token))

    def _feed_quiet(self, t: float) -> None:
        """Hand the coordinator each quiet member's latest heartbeat to have arrived by
        ``t`` (in arrival order): what the beats it skipped would have left behind."""
        arrivals = []
        for group_id, quiet in self.quiet.items():
            if not quiet:
                continue
            for client in self._clients_of(group_id):
                beat = client.latest_beat(t - self.latency)
                if beat is not None and beat > client.last_fed + 1e-12 and client.beats_now():
                    arrivals.append((beat + self.latency, beat, client))
        arrivals.sort(key=lambda a: (a[0], a[2].member_id))
        for arrival, beat, client in arrivals:
            client.last_fed = beat
            self.fed_heartbeats += 1
            self.coordinator.handle(_at(client.heartbeat(beat), arrival))
        if arrivals:
            self._deadline = self.coordinator.next_deadline()

    def stir(self, group_id: str) -> None:
        """Something happens to ``group_id``: if it was quiet, its members' heartbeats are
        played again from now (the one on its way arrives as it would have)."""
        if not self.quiet.get(group_id, False):
            return
        self._feed_quiet(self.now)
        self.quiet[group_id] = False
        for client in self._clients_of(group_id):
            # a beat due at this very instant has not gone yet: it was queued after what
            # happens now (the faults are queued before the run), and goes next
            beat = client.latest_beat(self.now - 1e-9)
            if beat is not None and beat > client.last_fed + 1e-12 and client.beats_now():
                # sent, not arrived yet: it reaches the coordinator as it would have
                client.last_fed = beat
                request = client.heartbeat(beat)
                self._seq += 1
                heapq.heappush(
                    self._queue,
                    (beat + self.latency, self._seq, lambda r=request: self._arrive(r)),
                )
            self.queue_beat(client, client.next_beat(self.now - 1e-9), settle=False)

    def _arrive(self, request: GroupEvent) -> None:
        self.submit(_at(request, self.now))

    # -- requests --------------------------------------------------------------------------------

    def send(self, client: Any, request: GroupEvent) -> None:
        group_id = request.group  # type: ignore[union-attr]
        plain = isinstance(request, Heartbeat) or (
            isinstance(request, ConsumerGroupHeartbeat) and request.member_epoch > 0
        )
        if not plain:
            self.stir(group_id)
            self._in_flight[group_id] += 1

            def arrive() -> None:
                self._in_flight[group_id] -= 1
                self.submit(_at(request, self.now))

            self.at(self.now + self.latency, arrive)
            return
        self.at(self.now + self.latency, lambda: self.submit(_at(request, self.now)))

    def submit(self, event: GroupEvent) -> list:
        if not isinstance(event, Tick):
            self._feed_quiet(self.now)
        return super().submit(event)

    def _fault(self, fault: Any) -> None:
        self.stir(fault.group)
        super()._fault(fault)

    # -- the world ---------------------------------------------------------------------------------

    def solved(self, now: float) -> None:
        """The rates were solved at ``now``: the members' poll loops follow them."""
        self.state.solved(now)

    def take_changes(self) -> bool:
        """Whether the consumer flows changed since the last call."""
        changed, self.state.changed = self.state.changed, False
        return changed

def _at(request: GroupEvent, at: float) -> GroupEvent:
    return replace(request, at=at)


def _played_beat(client: Any, token: int) -> bool:
    """A queued heartbeat that has not lapsed (``token``) beats now: the member's last
    poll as the flow engine read it, the beat, and the member woken for its answer."""
    if token != client._token or not client.alive:
        return False
    client.last_fed = client.driver.now
    client.last_poll = max(client.last_poll, float(client.driver.world.last_poll[client.member.slot]))
    client.beat()
    client.member.wake()
    return True
