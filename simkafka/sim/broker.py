"""A broker: request handling on bounded threads, page cache, disk, and partition leadership.

What costs time on a broker, in the order a request meets it:

0. **Network threads** (``SocketServer``'s processors) -- ``min(num.network.threads,
   cpu_cores)`` of them read requests off the sockets and write the responses, each
   request holding one for ``network_request_cpu`` plus ``network_byte_cpu`` per byte of
   its request and its response (both charged when it is read: the same load, the
   response's share a little early). A processor hands the request to the request queue;
   when ``queued.max.requests`` requests already wait there for a handler thread, it
   blocks until one is taken. A connection is muted from the read of a request until its
   response is sent (``Processor`` unmutes on the completed send), so one connection is
   served one request at a time: the producer side waits for it (``Producer._request``).
1. **Request handler threads** -- ``min(num.io.threads, cpu_cores)`` requests are served
   at once, each holding a thread for ``request_cpu + bytes * byte_cpu`` (the cost
   profile's ``broker`` section); the
   rest queue (the ``RequestQueueTimeMs`` a Kafka operator watches).
2. **Partition logs' locks** -- a ProduceRequest's batches are appended one after the
   other by its handler thread, each under its partition's lock (``UnifiedLog.append``),
   held for the append's cost (``log_append``: per batch, record and byte, and codec work
   when the leader must decompress or recompress); the thread waits for a busy lock, so
   one partition's throughput is bounded by its serial append cost. A lock is not fair:
   an append that fits before a later reservation takes the gap. Followers append on the
   replica fetcher's thread under their own log's lock. With ``flush.messages`` /
   ``flush.ms`` an append that makes the log due fsyncs it under the lock: one fsync
   (``costs.broker.fsync``) plus the log's unflushed bytes at the disk's write bandwidth
   (the bytes are still written back by the flusher: the fsync's disk time is charged to
   the lock, not to the disk's flow).
3. **Page cache** -- appends land in memory. Dirty bytes are written back to the disk by
   a flusher at the disk's write bandwidth; when more than ``DIRTY_RATIO`` of the page
   cache is dirty, appends wait (Linux ``vm.dirty_ratio`` throttling), which is how a
   disk-bound broker slows its producers.
   Every ``index.interval.bytes`` appended, ``LogSegment.append`` adds an offset-index
   (8 B) and a time-index (12 B) entry: those bytes are dirtied and written back too.
4. **Reads** -- data written within the last ``page_cache`` bytes of the broker's writes
   is served from memory; older data is first read from the disk at its read bandwidth.

The disk is a pair of pseudo-hosts in the flow network (``b3.cache`` -> ``b3.disk`` for
write-back, ``b3.disk`` -> ``b3.cache`` for reads) so that concurrent disk transfers share
bandwidth max-min fairly exactly like NIC transfers do. With several ``log.dirs`` (JBOD)
each directory is a disk of its own (``b3.disk``, ``b3.disk1``, ...) with its own
write-back; a replica lives in the directory ``LogManager.nextLogDirs`` picks (fewest
partitions, ties by order), and the page cache and its dirty limit stay the broker's.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import count
from typing import TYPE_CHECKING, Any

import simpy

from simkafka.model.types import TopicPartition
from simkafka.sim.replica_log import LogRead, ReplicaLog
from simkafka.sim.storage import index_interval_batches

if TYPE_CHECKING:
    from simkafka.scenario import BrokerConfig, BrokerHardware
    from simkafka.scenario.costs import BrokerCosts
    from simkafka.sim.network import Network

# Fraction of the page cache that may be dirty before writers are throttled (vm.dirty_ratio).
DIRTY_RATIO = 0.2
# Write-back proceeds in chunks so that reads interleave with it on the disk.
FLUSH_CHUNK = 8 * 1024 * 1024
INDEX_ENTRY_BYTES = 8 + 12  # an offset-index and a time-index entry
PURGATORY_SWEEP = 4096  # waiting entries before a purgatory drops those completed early

_sequence = count()


@dataclass(slots=True)
class PartitionLeader:
    """Leader-side state of one partition (``Partition`` + ``Replica`` in Kafka)."""

    tp: TopicPartition
    log: ReplicaLog
    replicas: tuple[int, ...]
    isr: list[int]
    min_insync_replicas: int
    leader_id: int = -1
    leader_epoch: int = 0
    high_watermark: int = 0
    follower_leo: dict[int, int] = field(default_factory=dict)
    last_caught_up: dict[int, float] = field(default_factory=dict)
    last_fetch_leo: dict[int, int] = field(default_factory=dict)
    last_fetch_time: dict[int, float] = field(default_factory=dict)
    # (end offset, seq, request, batch index): acks=all produce waiting for the high watermark
    ack_waiters: list[tuple[int, int, DelayedProduce, int]] = field(default_factory=list)
    # fetches long-polling for new data (followers) or a higher HW (consumers)
    data_waiters: list[simpy.Event] = field(default_factory=list)
    hw_waiters: list[simpy.Event] = field(default_factory=list)

    def update_follower(self, follower: int, fetch_offset: int, now: float) -> None:
        """``Replica.updateFetchStateOrThrow``: what a follower's fetch tells the leader."""
        leo = self.log.log_end_offset
        self.follower_leo[follower] = fetch_offset
        if fetch_offset >= leo:
            self.last_caught_up[follower] = now
        elif fetch_offset >= self.last_fetch_leo.get(follower, 0):
            self.last_caught_up[follower] = self.last_fetch_time.get(follower, now)
        self.last_fetch_leo[follower] = leo
        self.last_fetch_time[follower] = now

    def maybe_advance_high_watermark(self) -> bool:
        # KAFKA-15583 (Kafka >= 3.7): only while the ISR holds at least the effective
        # min ISR, min(min.insync.replicas, replicas) -- below it even acks=1 records
        # stay invisible to consumers until the ISR grows back
        if len(self.isr) < min(self.min_insync_replicas, len(self.replicas)):
            return False
        hw = self._isr_min_leo()
        if hw <= self.high_watermark:
            return False
        self.high_watermark = hw
        while self.ack_waiters and self.ack_waiters[0][0] <= hw:
            _, _, request, index = heapq.heappop(self.ack_waiters)
            request.settle(index, True)
        _wake(self.hw_waiters)
        return True

    def _isr_min_leo(self) -> int:
        hw = self.log.log_end_offset  # the leader's own end offset
        leader, follower_leo = self.leader_id, self.follower_leo
        for replica in self.isr:
            if replica != leader:
                leo = follower_leo.get(replica, 0)
                if leo < hw:
                    hw = leo
        return hw

    def wait_for_high_watermark(self, end_offset: int, request: DelayedProduce, index: int) -> None:
        """Batch ``index`` of ``request`` is acknowledged once the high watermark reaches
        ``end_offset`` (at once if it has)."""
        request.expect(index)
        if end_offset <= self.high_watermark:
            request.settle(index, True)
        else:
            heapq.heappush(self.ack_waiters, (end_offset, next(_sequence), request, index))

    def fail_ack_waiters(self, error: str = "NOT_ENOUGH_REPLICAS_AFTER_APPEND") -> None:
        """Leadership moved, the broker died or the ISR fell below min: the waiting
        acks=all produces' batches fail with ``error``."""
        for _, _, request, index in self.ack_waiters:
            request.settle(index, error)
        self.ack_waiters.clear()

    def wake_all(self) -> None:
        """Long-polling fetches re-evaluate now (this replica stopped leading)."""
        _wake(self.data_waiters)
        _wake(self.hw_waiters)

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)


class DelayedProduce:
    """An acks=all ProduceRequest waiting for the high watermark to pass each of its
    batches (``DelayedProduce``): one event, completed when its last batch is settled --
    acknowledged or failed -- or by a :class:`Purgatory` at its timeout. Batches are
    settled by the partitions' leaders directly, so a request costs one event however
    many partitions it waits on (not an event per batch plus their conditions)."""

    __slots__ = ("event", "outcomes", "pending", "waiting")

    def __init__(self, env: simpy.Environment) -> None:
        self.event = env.event()
        # per waiting batch: None until settled, then True (acknowledged) or the error
        self.outcomes: dict[int, bool | str | None] = {}
        self.pending = 0
        self.waiting = False  # every batch is registered: the last settled completes it

    def expect(self, index: int) -> None:
        self.outcomes[index] = None
        self.pending += 1

    def wait(self) -> simpy.Event:
        """All batches are registered (some may be settled already): the event to wait
        for, completed when the last pending batch is settled."""
        self.waiting = True
        if not self.pending and not self.event.triggered:
            self.event.succeed()
        return self.event

    def settle(self, index: int, outcome: bool | str) -> None:
        """Batch ``index`` is acknowledged (True) or failed (an error code); the first
        outcome counts, and none after the request has timed out."""
        if self.event.triggered or self.outcomes[index] is not None:
            return
        self.outcomes[index] = outcome
        self.pending -= 1
        if not self.pending and self.waiting:
            self.event.succeed()


def _wake(waiters: list[simpy.Event]) -> None:
    """Complete the waiters not completed yet -- with one event for all of them: the
    first is scheduled, the others are marked completed now and run their callbacks
    when it is processed, in order, as their own events would have."""
    first: simpy.Event | None = None
    rest: list[simpy.Event] = []
    for event in waiters:
        if not event.triggered:
            if first is None:
                first = event
            else:
                event._ok, event._value = True, None  # triggered: nobody completes it again
                rest.append(event)
    waiters.clear()
    if first is None:
        return
    if rest:
        first.callbacks.append(partial(_process_batch, rest))
    first.succeed()


def _process_batch(events: list[simpy.Event], _first: simpy.Event) -> None:
    """Process events completed with another: what ``Environment.step`` does to each."""
    for event in events:
        callbacks, event.callbacks = event.callbacks, None
        for callback in callbacks:
            callback(event)


class Purgatory:
    """Requests waiting for something or their deadline (``DelayedOperationPurgatory``):
    long-polling fetches (data) and acks=all produces (the high watermark).

    A waiting request is one event, completed by whichever comes first: what it waits
    for (the partition's waiter list, a :class:`DelayedProduce`'s last batch) or its
    deadline. Deadlines sit in one heap served by one timer, so a wait costs no timeout
    event of its own -- at hundreds of thousands of requests a second, a ``wake |
    timeout`` condition per request would double the engine's event count and fill the
    event queue with stale timeouts. Entries completed early leave the heap when they
    reach its top, or in a sweep when it has grown (produce timeouts are 30 s away).
    """

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self._deadlines: list[tuple[float, int, simpy.Event]] = []
        self._timer_at = float("inf")
        self._limit = PURGATORY_SWEEP

    def watch(self, event: simpy.Event, deadline: float) -> simpy.Event:
        """Complete ``event`` at ``deadline`` unless something else completes it first."""
        deadlines = self._deadlines
        if len(deadlines) >= self._limit:
            # amortised O(1): drop the entries completed early (the heap order of the
            # rest is unchanged, and so is the timer: only its earliest live entry counts)
            deadlines[:] = [entry for entry in deadlines if not entry[2].triggered]
            heapq.heapify(deadlines)
            self._limit = max(PURGATORY_SWEEP, 2 * len(deadlines))
        heapq.heappush(deadlines, (deadline, next(_sequence), event))
        if deadline < self._timer_at:
            self._timer_at = deadline
            timer = self.env.timeout(max(0.0, deadline - self.env.now))
            timer.callbacks.append(self._expire)
        return event

    def _expire(self, timer: simpy.Event) -> None:
        now = self.env.now
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            _, _, event = heapq.heappop(deadlines)
            if not event.triggered:
                event.succeed()
        # drop entries already completed by data so the heap stays small
        while deadlines and deadlines[0][2].triggered:
            heapq.heappop(deadlines)
        if self._timer_at <= now:
            self._timer_at = float("inf")
        if deadlines and deadlines[0][0] < self._timer_at:
            self._timer_at = deadlines[0][0]
            timer = self.env.timeout(self._timer_at - now)
            timer.callbacks.append(self._expire)


class DelayedFetch:
    """A fetch long-polling at its leader (``DelayedFetch``): answered once ``min_bytes``
    are available or at ``deadline``, then ``then(reads)`` runs.

    ``collect()`` reads what the fetch would return now. While it is short of
    ``min_bytes`` the fetch waits -- one event in every partition's ``waiters`` list
    (``data_waiters``: followers wait for new data; ``hw_waiters``: consumers for the
    high watermark) and in the fetch purgatory -- and is re-evaluated when woken.
    The answer is read from disk first if it is older than the page cache holds, and
    takes a request handler thread for its bytes.

    A callback state machine rather than a generator: each step is a callback on the
    event the generator would have waited for, appended at the same moment, so the run
    sees the same events in the same order without a generator resumed per step (the
    broker answers tens of thousands of fetches a simulated second).
    """

    __slots__ = ("broker", "partitions", "collect", "min_bytes", "deadline", "waiters", "then", "reads", "total")

    def __init__(
        self,
        broker: Broker,
        partitions: Iterable[TopicPartition],
        collect: Callable[[], list[tuple[TopicPartition, LogRead]]],
        min_bytes: float,
        deadline: float,
        waiters: str,
        then: Callable[[list[tuple[TopicPartition, LogRead]]], None],
    ) -> None:
        self.broker = broker
        self.partitions = partitions
        self.collect = collect
        self.min_bytes = min_bytes
        self.deadline = deadline
        self.waiters = waiters
        self.then = then
        self.reads: list[tuple[TopicPartition, LogRead]] = []
        self.total = 0
        self._evaluate()

    def _evaluate(self, _woken: simpy.Event | None = None) -> None:
        broker = self.broker
        env = broker.env
        reads = self.collect()
        total = 0
        for _, read in reads:
            total += read.bytes
        if total < self.min_bytes and env.now < self.deadline:
            wake = simpy.Event(env)
            leaders, waiters = broker.leaders, self.waiters
            for tp in self.partitions:
                leader = leaders.get(tp)
                if leader is not None:
                    getattr(leader, waiters).append(wake)
            broker.fetch_purgatory.watch(wake, self.deadline).callbacks.append(self._evaluate)
            return
        self.reads, self.total = reads, total
        if total:
            disk = broker.read_from_disk(reads)
            if disk is not None:
                disk.callbacks.append(self._handle)
                return
        self._handle()

    def _handle(self, _read: simpy.Event | None = None) -> None:
        broker = self.broker
        broker.handle_at(broker.env.now, self.total).callbacks.append(self._answer)

    def _answer(self, _handled: simpy.Event) -> None:
        self.then(self.reads)


class Broker:
    """One broker's resources and the partitions it holds.

    A broker needs no more of the cluster than the clock, the flow network (its page
    cache writes back to, and reads from, its disk over it) and its configuration;
    ``World`` wires requests to it.
    """

    def __init__(
        self,
        env: simpy.Environment,
        network: Network,
        config: BrokerConfig,
        costs: BrokerCosts,
        broker_id: int,
        rack: str | None,
        hardware: BrokerHardware,
    ) -> None:
        self.env = env
        self.network = network
        self.id = broker_id
        self.rack = rack
        self.host = f"b{broker_id}"
        self.cache_host = f"b{broker_id}.cache"
        # one disk per log directory (JBOD): b3.disk, b3.disk1, ... in log.dirs order
        self.dir_bandwidth = hardware.dirs  # (write, read) per directory
        self.disk_hosts = [
            f"b{broker_id}.disk" + (str(d) if d else "") for d in range(len(self.dir_bandwidth))
        ]
        self.disk_host = self.disk_hosts[0]
        self.dir_of: dict[TopicPartition, int] = {}  # set by World (LogManager.nextLogDirs)
        self.dirty_by_dir = [0] * len(self.disk_hosts)
        self.request_cpu = costs.request_cpu
        self.byte_cpu = costs.byte_cpu
        # Request handler threads as an FCFS multi-server queue: a heap of the times each
        # thread becomes free. Service times are known on arrival, so the start time is
        # exact and a request costs one timeout instead of a Resource's four events.
        self.handler_threads = min(config.num_io_threads, hardware.cpu_cores)
        self._thread_free_at = [0.0] * self.handler_threads
        # network threads (processors), the same FCFS model, and the request queue between
        # them and the handlers: the start times of requests still waiting for a handler
        self.network_threads = min(config.num_network_threads, hardware.cpu_cores)
        self._network_free_at = [0.0] * self.network_threads
        self.network_request_cpu = costs.network_request_cpu
        self.network_byte_cpu = costs.network_byte_cpu
        self.network_busy = 0.0  # network-thread seconds of work done
        self.queued_max_requests = config.queued_max_requests
        self._queued_starts: list[float] = []
        self.cpu_cores = hardware.cpu_cores
        self.page_cache_bytes = int(hardware.page_cache)
        self.dirty_limit = int(DIRTY_RATIO * hardware.page_cache)
        self.alive = True
        self.logs: dict[TopicPartition, ReplicaLog] = {}
        self.leaders: dict[TopicPartition, PartitionLeader] = {}
        # counters the probes sample
        self.written_bytes = 0  # cumulative bytes appended (produce + replication)
        self.dirty_bytes = 0
        self.flushed_bytes = 0
        self.disk_read_bytes = 0
        self.cpu_busy = 0.0  # handler-seconds of work done
        self.requests = 0
        self.queue_wait = 0.0
        # the log's lock of each partition held here (leader or follower): the intervals
        # it is reserved from now on, in time order, and seconds it was held (utilisation)
        self.lock_held: dict[TopicPartition, list[tuple[float, float]]] = {}
        self.lock_busy: dict[TopicPartition, float] = {}
        # flush.messages / flush.ms: per log, [unflushed messages, unflushed bytes, last flush]
        self.unflushed: dict[TopicPartition, list[float]] = {}
        self.fsync_cost = costs.fsync
        self.fsyncs = 0
        # index.interval.bytes per log, and (batches, records) appended per partition by
        # its leader (World shares its table): the index entries an append writes
        self.index_interval: dict[TopicPartition, int] = {}
        self.append_shape: dict[TopicPartition, tuple[int, int]] = {}
        self.index_bytes = 0.0  # written with the log's dirty pages (a fraction carried)
        self._flush_wakeups = [self.env.event() for _ in self.disk_hosts]
        self._dirty_waiters: list[simpy.Event] = []
        self.fetch_purgatory = Purgatory(self.env)
        self.produce_purgatory = Purgatory(self.env)  # acks=all requests' timeouts
        for d in range(len(self.disk_hosts)):
            self.env.process(self._flusher(d))

    # -- CPU ----------------------------------------------------------------------------

    def handle(
        self, nbytes: int, appends: Sequence[tuple[TopicPartition, float]] = ()
    ) -> Generator[simpy.Event, Any, None]:
        """Hold a request handler thread for one request's CPU work (FCFS)."""
        yield self.handle_at(self.env.now, nbytes, appends)

    def handle_at(
        self,
        arrival: float,
        nbytes: int,
        appends: Sequence[tuple[TopicPartition, float]] = (),
    ) -> simpy.Event:
        """The event of a request arriving at ``arrival`` (now or later) having been handled.

        A small request's arrival time is known when it is sent, so its network delay and
        its handling are one event. Reserving a thread ahead of the arrival can put it
        before a request that arrives earlier but is sent later -- a reordering within one
        network latency, on a pool that is rarely full.

        ``appends`` are the request's batches, in order, as (partition, seconds under its
        lock): the handler thread appends them one after the other, waiting for each
        partition's lock and holding it (``ReplicaManager.appendToLocalLog``), so the
        thread is not free before the last append ended. Before that a network thread
        reads it, and will write its response: ``nbytes`` are the bytes the request
        moves either way (a produce's batches in, a fetch's records out), see :meth:`_read_at`.
        """
        read = self._read_at(arrival, nbytes)
        work = self.request_cpu + nbytes * self.byte_cpu
        free_at = self._thread_free_at
        start = free_at[0]  # the thread free first (taken: replaced below)
        if read > start:
            start = read
        if appends:
            end = self.lock_through(start + work, appends)
            self.cpu_busy += work + sum(cost for _, cost in appends)
        else:
            end = start + work
            self.cpu_busy += work
        heapq.heapreplace(free_at, end)
        if start > read:
            heapq.heappush(self._queued_starts, start)
        self.queue_wait += start - read
        self.requests += 1
        return self.env.timeout(end - self.env.now)

    def _read_at(self, arrival: float, nbytes: int) -> float:
        """When a network thread has read a request that arrived at ``arrival`` and put
        it on the request queue: FCFS over the processors, and, with the queue holding
        ``queued.max.requests`` requests not yet taken by a handler, not before the
        oldest of them is taken (``RequestChannel.sendRequest`` blocks on the full queue)."""
        work = self.network_request_cpu + nbytes * self.network_byte_cpu
        free_at = self._network_free_at
        read = max(arrival, free_at[0]) + work  # the processor free first (replaced below)
        self.network_busy += work
        queued = self._queued_starts
        while queued and queued[0] <= read:
            heapq.heappop(queued)
        if len(queued) >= self.queued_max_requests:
            # room once the excess over the bound has been taken by handler threads; the
            # processor is blocked until then
            read = heapq.nsmallest(len(queued) - self.queued_max_requests + 1, queued)[-1]
        heapq.heapreplace(free_at, read)
        return read

    def lock_through(self, start: float, appends: Sequence[tuple[TopicPartition, float]]) -> float:
        """Take each partition's lock in turn from ``start`` (``UnifiedLog.append`` holds
        the log's lock); returns when the last append released its lock."""
        t = start
        now = self.env.now
        held, busy = self.lock_held, self.lock_busy
        for tp, cost in appends:
            intervals = held.get(tp)
            if intervals is None:
                intervals = held[tp] = []
            while intervals and intervals[0][1] <= now:
                intervals.pop(0)  # (a few entries: at most one per thread reserving ahead)
            # the earliest time the lock is free for ``cost`` from t: a lock is not
            # fair, an append that fits before one reserved later takes it (the thread
            # reserved first is still waiting for another partition's lock)
            at = len(intervals)
            for i, (begin, end) in enumerate(intervals):
                if t + cost <= begin:
                    at = i
                    break
                t = max(t, end)
            intervals.insert(at, (t, t + cost))
            t += cost
            busy[tp] = busy.get(tp, 0.0) + cost
        return t

    def flush_on_append(
        self, tp: TopicPartition, messages: int, nbytes: int, flush_messages: int, flush_ms: float
    ) -> float:
        """Seconds an append of ``messages`` spends fsyncing the log after it (under the
        log's lock, on the appending thread): ``UnifiedLog.append`` flushes once the
        unflushed messages reach ``flush.messages``; a log whose last flush is older than
        ``flush.ms`` is flushed by the scheduler, which takes the lock the next append
        waits for. A flush writes the log's unflushed bytes at the disk's write bandwidth
        and pays one fsync; 0 when neither rule holds."""
        state = self.unflushed.get(tp)
        if state is None:
            state = self.unflushed[tp] = [0.0, 0.0, self.env.now]
        state[0] += messages
        state[1] += nbytes
        if state[0] < flush_messages and self.env.now - state[2] < flush_ms:
            return 0.0
        seconds = self.fsync_cost + state[1] / self.dir_bandwidth[self.dir_of.get(tp, 0)][0]
        state[0] = state[1] = 0.0
        state[2] = self.env.now
        self.fsyncs += 1
        return seconds

    # -- page cache and disk --------------------------------------------------------------

    def wait_for_dirty_room(self) -> Generator[simpy.Event, Any, None]:
        while self.dirty_bytes > self.dirty_limit:
            event = self.env.event()
            self._dirty_waiters.append(event)
            yield event

    def when_dirty_room(self, then: Callable[[], None], _woken: simpy.Event | None = None) -> None:
        """:meth:`wait_for_dirty_room` for a callback state machine: ``then()`` runs once
        the dirty bytes are within the limit (at once if they are), woken as the
        generator would be."""
        if self.dirty_bytes > self.dirty_limit:
            event = self.env.event()
            self._dirty_waiters.append(event)
            event.callbacks.append(partial(self.when_dirty_room, then))
            return
        then()

    def append(
        self,
        tp: TopicPartition,
        messages: int,
        nbytes: int,
        first_created: float,
        last_created: float,
    ) -> int:
        """Append to the local replica's log in the page cache; returns the new log end
        offset. The messages were created from ``first_created`` to ``last_created``."""
        log = self.logs[tp]
        log.append(
            messages,
            nbytes,
            written_mark=self.written_bytes,
            first_created=first_created,
            last_created=last_created,
        )
        self.written_bytes += nbytes
        dirtied = nbytes + self._index_entry_bytes(tp, messages, nbytes)
        self.dirty_bytes += dirtied
        d = self.dir_of.get(tp, 0)
        self.dirty_by_dir[d] += dirtied
        if not self._flush_wakeups[d].triggered:
            self._flush_wakeups[d].succeed()
        leader = self.leaders.get(tp)
        if leader is not None:
            _wake(leader.data_waiters)
        return log.log_end_offset

    def _index_entry_bytes(self, tp: TopicPartition, messages: int, nbytes: int) -> int:
        """Whole bytes of offset-index (8 B) and time-index (12 B) entries this append
        writes: ``LogSegment.append`` adds one of each to an append once more than
        ``index.interval.bytes`` went in since the last, i.e. one every
        ``interval // batch bytes + 1`` batches (``storage.index_interval_batches``).
        A leader appends one batch; a follower's read holds the leader's mean batch."""
        interval = self.index_interval.get(tp)
        if interval is None or nbytes <= 0:
            return 0
        if tp in self.leaders:
            batches = 1.0
        else:
            appended, records = self.append_shape.get(tp, (1, 1))
            batches = max(1.0, messages * appended / max(records, 1))
        entries = batches / index_interval_batches(max(1, int(nbytes / batches)), interval)
        self.index_bytes += INDEX_ENTRY_BYTES * entries
        whole = int(self.index_bytes)
        self.index_bytes -= whole
        return whole

    def _flusher(self, d: int) -> Generator[simpy.Event, Any, None]:
        """Write-back of one log directory's dirty pages to its disk (a flusher per
        device, as Linux's per-bdi writeback); the dirty limit is the broker's."""
        net = self.network
        while True:
            if self.dirty_by_dir[d] <= 0:
                self._flush_wakeups[d] = self.env.event()
                yield self._flush_wakeups[d]
                continue
            chunk = min(self.dirty_by_dir[d], FLUSH_CHUNK)
            yield net.transfer(self.cache_host, self.disk_hosts[d], chunk)
            self.dirty_by_dir[d] -= chunk
            self.dirty_bytes -= chunk
            self.flushed_bytes += chunk
            if self.dirty_bytes <= self.dirty_limit:
                _wake(self._dirty_waiters)

    def in_page_cache(self, read: LogRead) -> bool:
        return self.written_bytes - read.written_mark <= self.page_cache_bytes

    def read_from_disk(self, reads: Sequence[tuple[TopicPartition, LogRead]]) -> simpy.Event | None:
        """Reads older than the cached tail come from their log directory's disk first:
        the event of those disk reads having arrived in the page cache, None if every
        read is cached."""
        cold: list[int] | None = None
        cached_since = self.written_bytes - self.page_cache_bytes  # in_page_cache, inlined
        for tp, r in reads:
            if r.bytes and r.written_mark < cached_since:
                if cold is None:
                    cold = [0] * len(self.disk_hosts)
                cold[self.dir_of.get(tp, 0)] += r.bytes
        if cold is None:
            return None
        transfers = []
        for d, nbytes in enumerate(cold):
            if nbytes:
                self.disk_read_bytes += nbytes
                transfers.append(self.network.transfer(self.disk_hosts[d], self.cache_host, nbytes))
        if len(transfers) == 1:
            return transfers[0]
        return simpy.AllOf(self.env, transfers)

    # -- leadership -----------------------------------------------------------------------

    def become_leader(
        self,
        tp: TopicPartition,
        replicas: tuple[int, ...],
        isr: list[int],
        min_isr: int,
        epoch: int,
    ) -> PartitionLeader:
        log = self.logs[tp]
        leader = PartitionLeader(
            tp, log, replicas, list(isr), min_isr, leader_id=self.id, leader_epoch=epoch
        )
        self.leaders[tp] = leader
        return leader

    def __repr__(self) -> str:
        return f"<Broker {self.id} rack={self.rack} leads {len(self.leaders)} of {len(self.logs)} replicas>"
