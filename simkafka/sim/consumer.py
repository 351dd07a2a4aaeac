"""A consumer group member: fetch sessions per broker, a poll loop that processes records.

As in the Java ``KafkaConsumer``, a fetch is sent to a broker only for assigned
partitions that have no buffered data, so while the application processes one response
the next is already in flight (one outstanding fetch per broker). A fetch returns data
up to the high watermark, at most ``max.partition.fetch.bytes`` per partition and
``fetch.max.bytes`` in all, and waits on the broker up to ``fetch.max.wait.ms`` until
``fetch.min.bytes`` are available. ``poll()`` hands the application at most
``max.poll.records`` records, which take ``processing_time_per_record`` each.

``poll()`` itself runs on the application's thread, serial with the processing: per
record ``consumer.record_cpu``, per byte fetched ``consumer.byte_cpu`` (CRC check and
copy) and the codec's ``decompress_cpu`` per uncompressed byte
(:func:`~simkafka.sim.client_costs.consumer_poll_cpu`), one timeout per poll. The
member's ``processing_busy`` (the ``consumer.<group>.cpu_util`` column) counts both.

Group membership is the member's :mod:`~simkafka.sim.group_member` client, which each
``poll()`` consults first: rebalance callbacks (:meth:`ConsumerMember.take`,
:meth:`ConsumerMember.release`) run there, on the application's thread. The group's
``delivery`` setting orders commits and processing:

* ``at-least-once``: process, then commit -- ``enable.auto.commit`` commits inside
  ``poll()`` every ``auto.commit.interval.ms`` (asynchronously), otherwise the
  application calls ``commitSync()`` after each batch;
* ``at-most-once``: ``commitSync()`` the batch's end offsets, then process it;
* ``exactly-once``: a transaction (read-process-write): records processed count once
  their transaction commits, every ``commit.interval.ms``; the commit blocks the loop for
  its round trips (AddOffsetsToTxn, TxnOffsetCommit, EndTxn, whose markers the
  coordinator writes); a crash aborts the open transaction, so its records are
  processed again by the next owner but their first processing never took effect.

A record's processing is a side effect: a crash in the middle of a batch leaves the
records already processed processed (``processing_time_per_record`` each, in order),
which is what makes at-least-once duplicates equal to what was processed since the last
commit.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any, Protocol

import simpy

from simkafka.model.group_protocol import NONE
from simkafka.model.types import TopicPartition
from simkafka.scenario.costs import default_costs
from simkafka.sim.client_costs import consumer_poll_cpu
from simkafka.sim.histogram import LatencyHistogram
from simkafka.sim.replica_log import LogRead, ReplicaLog
from simkafka.sim.tasks import first_of, start_soon

if TYPE_CHECKING:
    from simkafka.model.delivery import DeliveryHistory
    from simkafka.scenario import ConsumerGroupSpec
    from simkafka.scenario.costs import CostProfile
    from simkafka.sim.broker import Broker
    from simkafka.sim.group_driver import GroupDriver
    from simkafka.sim.group_member import Membership

FETCH_REQUEST_OVERHEAD = 120
FETCH_PARTITION_BYTES = 28
FETCH_RESPONSE_PARTITION_BYTES = 40
COMMIT_REQUEST_BYTES = 200
# an exactly-once commit: AddOffsetsToTxn, TxnOffsetCommit and EndTxn, one after another
TRANSACTION_COMMIT_ROUND_TRIPS = 3


class ConsumerCluster(Protocol):
    """What a consumer uses of the cluster (``World`` provides it): partition metadata,
    the network, the brokers' fetch path and the group coordinator's committed offsets."""

    env: simpy.Environment
    brokers: dict[int, Broker]
    history: DeliveryHistory

    def leader_of(self, tp: TopicPartition) -> int: ...

    def topic_partitions(self, topic: str) -> list[TopicPartition]: ...

    def led_by(self, tps: Iterable[TopicPartition], broker_id: int) -> list[TopicPartition]: ...

    def leader_log(self, tp: TopicPartition) -> ReplicaLog: ...

    def high_watermark(self, tp: TopicPartition) -> int: ...

    def bytes_per_message(self, tp: TopicPartition) -> float: ...

    def request(
        self, src: str, broker: Broker, nbytes: int, cpu_bytes: int = 0, after: float = 0.0
    ) -> Generator[simpy.Event, Any, None]: ...

    def request_then(
        self, src: str, broker: Broker, nbytes: int, then: Callable[[simpy.Event], object], after: float = 0.0
    ) -> None: ...

    def transfer(self, src: str, dst: str, nbytes: int) -> simpy.Event: ...

    def consumer_fetch(
        self,
        broker: Broker,
        group: ConsumerGroupSpec,
        offsets: dict[TopicPartition, int],
        then: Callable[[list[tuple[TopicPartition, LogRead]]], None],
    ) -> None: ...

    def group_coordinator(self, group_id: str) -> int: ...

    def committed_offset(self, group_id: str, tp: TopicPartition) -> int | None: ...

    def reachable(self, a: str, b: str) -> bool: ...

    def commit(self, group_id: str, tp: TopicPartition, offset: int) -> None: ...

    def commit_error(self, group_id: str, member_id: str, generation: int) -> str: ...

    def note(self, event: str, detail: str) -> None: ...


class ConsumerMember:
    """One member of a consumer group on a host of its own; latency is recorded for
    messages processed from ``measure_from`` (the warm-up's end) on."""

    def __init__(
        self,
        cluster: ConsumerCluster,
        group: ConsumerGroupSpec,
        index: int,
        measure_from: float,
        costs: CostProfile | None = None,
        compression: dict[str, tuple[str, float]] | None = None,
    ) -> None:
        self.cluster = cluster
        self.costs = costs if costs is not None else default_costs()
        # per topic: the codec poll() decompresses and the compressed / uncompressed ratio
        self.compression = compression or {}
        self.env = cluster.env
        self.group = group
        self.index = index
        self.member_id = f"{group.group_id}-{index}"
        self.host = f"consumer.{self.member_id}"
        self.incarnation = 0
        self._ids = 0
        self.membership: Membership | None = None
        # the member id each owned partition was taken under (a member removed from the
        # group gets a new id before it notices it lost its partitions)
        self._owner_id: dict[TopicPartition, str] = {}
        self._closing: simpy.Event | None = None
        self.assignment: list[TopicPartition] = []
        self.fetch_order: list[TopicPartition] = []  # assignment order, rotated as Kafka does
        self.position: dict[TopicPartition, int] = {}  # next offset to fetch
        self.consumed: dict[TopicPartition, int] = {}  # next offset to process
        self.committed: dict[TopicPartition, int] = {}
        self.buffer: deque[tuple[TopicPartition, LogRead, int]] = deque()  # (tp, read, taken)
        self.buffered_tps: set[TopicPartition] = set()
        self.alive = True
        self.closed = False  # left the group for good (consumer_leave)
        self.slow_factor = 1.0  # consumer_slow: processing time per record multiplied
        self.polling_idle = False  # inside poll(), waiting for records
        self.latency = LatencyHistogram()
        self.measure_from = measure_from
        self.consumed_messages = 0
        self.skipped_at_start = 0  # messages below where this member started its partitions
        self.read_then_truncated = 0  # processed, then gone from the log (a shorter leader)
        self.processing_messages = 0  # handed to the application by poll(), not yet done
        self.consumed_bytes = 0
        self.fetches = 0
        self.commits_failed = 0
        self.offset_resets = 0  # committed offsets out of range: auto.offset.reset applied
        self.aborted_messages = 0  # exactly-once: processed in transactions that aborted
        self.uncommitted_at_crash = 0  # processed and not committed when the process died
        self.unprocessed_at_crash = 0  # committed and not processed when the process died
        # exactly-once: ranges processed in the open transaction, (tp, first, count)
        self._transaction: list[tuple[TopicPartition, int, int]] = []
        self._transaction_started = 0.0
        self._next_auto_commit = self.env.now + group.auto_commit_interval
        # the poll thread's time spent processing records (the client's CPU), up to
        # ``_processing_since`` while a batch of records is being processed
        self.processing_busy = 0.0
        self._processing_since: float | None = None
        self._batch: list[tuple[TopicPartition, int, float, float]] = []
        self._batch_per_record = 0.0
        self._data = self.env.event()
        self._drained: dict[int, simpy.Event] = {}
        self._sessions: dict[int, FetchSession] = {}
        self._poller: simpy.Process | None = None

    @property
    def driver(self) -> GroupDriver:
        return self.cluster.group_driver  # type: ignore[attr-defined]

    def next_member_id(self) -> str:
        """A fresh member id for this process (Kafka's ``client.id`` + a UUID; here a
        counter, so the same seed gives the same ids)."""
        self._ids += 1
        return f"{self.group.group_id}-{self.index}" + (f".{self._ids - 1}" if self._ids > 1 else "")

    def note(self, event: str) -> None:
        self.cluster.note(event, f"{self.group.group_id}[{self.index}]")

    def start(self, membership: Membership) -> None:
        """The member's process runs: its group client and its poll loop."""
        self.membership = membership
        if self._poller is None:
            self._poller = self.env.process(self._poll_loop())

    # -- rebalance callbacks (on the poll thread) ----------------------------------------------

    def take(self, partitions: tuple[TopicPartition, ...] | list[TopicPartition], generation: int) -> None:
        """``onPartitionsAssigned``: start each from the group's committed offset, else --
        no commit yet, or one outside the log (``OFFSET_OUT_OF_RANGE``) -- from
        ``auto.offset.reset``."""
        cluster = self.cluster
        for given in partitions:
            # the cluster's own object for the partition: the hot paths' look-ups of it
            # in the brokers' dicts then match by identity
            tp = cluster.topic_partitions(given.topic)[given.partition]
            if tp in self.assignment:
                continue
            start = cluster.committed_offset(self.group.group_id, tp)
            log = cluster.leader_log(tp)
            if start is not None and not log.log_start_offset <= start <= log.log_end_offset:
                # OFFSET_OUT_OF_RANGE: retention deleted it, or a shorter leader lost it
                self.offset_resets += 1
                start = None
            if start is None:
                start = (
                    log.log_start_offset
                    if self.group.auto_offset_reset == "earliest"
                    else cluster.high_watermark(tp)
                )
                # a topic's prefill below a "latest" start is never read
                self.skipped_at_start += start - log.log_start_offset
            self.position[tp] = start
            self.consumed[tp] = start
            self.driver.position[(self.group.group_id, tp)] = start
            self.assignment.append(tp)
            self.fetch_order.append(tp)
            self._owner_id[tp] = self.member_id_now
            self.driver.owned(self.group.group_id, self.member_id_now, tp, generation)
        self.assignment.sort()
        # One fetch session per broker that leads an assigned partition (a session with
        # nothing to fetch would only burn events); leader changes start new ones.
        self._start_sessions()

    def before_revoke(self) -> Generator[simpy.Event, Any, None]:
        """In ``onPartitionsRevoked``: an exactly-once application commits its open
        transaction before it gives partitions up (Kafka Streams commits its tasks)."""
        if self.group.delivery == "exactly-once" and self._transaction:
            yield from self._commit_transaction()

    def release(self, partitions: tuple[TopicPartition, ...], lost: bool) -> None:
        """``onPartitionsRevoked`` (``lost``: ``onPartitionsLost``): stop fetching and
        processing them; records fetched and not processed are dropped."""
        gone = set(partitions)
        if not gone:
            return
        if lost and self._transaction:  # a member out of the group: its transaction is fenced
            self._abort(self._transaction)
            self._transaction = []
        self.assignment = [tp for tp in self.assignment if tp not in gone]
        self.fetch_order = [tp for tp in self.fetch_order if tp not in gone]
        self.buffer = deque(entry for entry in self.buffer if entry[0] not in gone)
        for tp in gone:
            self._resume_from_committed(tp)
            self.buffered_tps.discard(tp)
            self.position.pop(tp, None)
            self.consumed.pop(tp, None)
            self.driver.released(self._owner_id.pop(tp, self.member_id_now), tp)
        for event in self._drained.values():
            if not event.triggered:
                event.succeed()

    def _resume_from_committed(self, tp: TopicPartition) -> None:
        """The group's next owner of ``tp`` starts at its committed offset: lag counts
        from there while no member owns it."""
        committed = self.cluster.committed_offset(self.group.group_id, tp)
        if committed is not None:
            self.driver.position[(self.group.group_id, tp)] = committed

    @property
    def member_id_now(self) -> str:
        return self.membership.member_id if self.membership is not None else self.member_id

    def _start_sessions(self) -> None:
        leaders = {self.cluster.leader_of(tp) for tp in self.assignment}
        for broker_id in sorted(b for b in self.cluster.brokers if b in leaders):
            if broker_id not in self._sessions:
                self._sessions[broker_id] = FetchSession(self, broker_id)

    def wake(self) -> None:
        """Something for ``poll()`` to do (an answer from the coordinator)."""
        if not self._data.triggered:
            self._data.succeed()

    # -- fetching ---------------------------------------------------------------------------

    # -- the application's poll loop ---------------------------------------------------------

    def _poll_loop(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        group = self.group
        while True:
            if not self.alive:
                self.polling_idle = True
                self._data = env.event()
                yield self._data
                continue
            self.polling_idle = False
            if self._closing is not None:
                yield from self._close()
                continue
            if self.membership is not None:
                yield from self.membership.poll()
            if group.delivery == "exactly-once" and self._transaction and (
                env.now - self._transaction_started >= group.commit_interval
            ):
                yield from self._commit_transaction()
            elif group.enable_auto_commit and group.delivery == "at-least-once" and env.now >= self._next_auto_commit:
                self._next_auto_commit = env.now + group.auto_commit_interval
                self.commit_async()  # maybeAutoCommitOffsetsAsync
            if not self.buffer or not self.alive:
                self.polling_idle = True
                self._data = env.event()
                yield first_of(env, (self._data, env.timeout(self._idle_wait())))
                continue
            done, taken = self._take_polled_records()
            if group.delivery == "at-most-once":  # commit what poll() returned, then process
                ends = {tp: self.consumed[tp] for tp in self.assignment}
                for tp, n, _, _ in done:
                    ends[tp] = ends.get(tp, 0) + n
                yield from self.commit_sync(ends)
            per_record = group.processing_time_per_record * self.slow_factor
            busy = per_record * taken + self._poll_cpu(done)
            incarnation = self.incarnation
            if busy > 0:
                self.processing_messages = taken
                self._batch, self._batch_per_record = done, busy / max(taken, 1)
                self._processing_since = env.now
                yield env.timeout(busy)
                if self.incarnation != incarnation:
                    continue  # the process died meanwhile: crash() took what it had done
                self.processing_busy += env.now - self._processing_since
                self._processing_since = None
                self.processing_messages = 0
                self._batch = []
            if self.alive and self.incarnation == incarnation:
                self._processed(done)
                if group.delivery == "at-least-once" and not group.enable_auto_commit:
                    yield from self.commit_sync()

    def _idle_wait(self) -> float:
        """How long an idle ``poll()`` may sleep before it has a timer to serve: the next
        auto commit or transaction commit (answers from the coordinator wake it)."""
        group = self.group
        if group.delivery == "exactly-once" and self._transaction:
            return max(1e-6, self._transaction_started + group.commit_interval - self.env.now)
        if group.enable_auto_commit and group.delivery == "at-least-once":
            return max(1e-6, self._next_auto_commit - self.env.now)
        return 3600.0

    def _poll_cpu(self, done: list[tuple[TopicPartition, int, float, float]]) -> float:
        """Seconds ``poll()`` spends on the records it returns: parse, CRC, decompress."""
        total = 0.0
        for tp, n, _, _ in done:
            codec, ratio = self.compression.get(tp.topic, ("none", 1.0))
            payload = n * self.cluster.bytes_per_message(tp)  # uncompressed
            total += consumer_poll_cpu(self.costs, codec, n, payload * ratio, payload)
        return total

    def _take_polled_records(self) -> tuple[list[tuple[TopicPartition, int, float, float]], int]:
        """What one ``poll()`` returns: at most ``max.poll.records`` from the buffer."""
        max_records = self.group.max_poll_records
        taken = 0
        done: list[tuple[TopicPartition, int, float, float]] = []
        while self.buffer and taken < max_records:
            tp, read, already = self.buffer[0]
            n = min(read.messages - already, max_records - taken)
            taken += n
            # creation times of messages [already, already + n) of the read
            span = read.last_created - read.first_created
            per = span / max(1, read.messages - 1)
            first = read.first_created + per * already
            done.append((tp, n, first, first + per * max(0, n - 1)))
            if already + n >= read.messages:
                self.buffer.popleft()
                self.buffered_tps.discard(tp)
                # Fetcher: a partition whose records were returned moves to the end of
                # the fetch order (SubscriptionState.movePartitionToEnd), so
                # fetch.max.bytes is shared round-robin across partitions
                if tp in self.fetch_order:
                    self.fetch_order.remove(tp)
                    self.fetch_order.append(tp)
                self._notify_drained(tp)
            else:
                self.buffer[0] = (tp, read, already + n)
        return done, taken

    def _processed(self, done: list[tuple[TopicPartition, int, float, float]]) -> None:
        now = self.env.now
        history = self.cluster.history
        transactional = self.group.delivery == "exactly-once"
        for tp, n, first, last in done:
            if self.consumed.get(tp) is None:
                continue
            if n > 0:
                if transactional:
                    if not self._transaction:
                        self._transaction_started = now
                    self._transaction.append((tp, self.consumed[tp], n))
                else:
                    history.consumed(tp, self.group.group_id, self.consumed[tp], n, now)
                    self.driver.position[(self.group.group_id, tp)] = self.consumed[tp] + n
            self.consumed[tp] += n
            if not transactional:  # a transaction's records count when it commits
                self.consumed_messages += n
            self.consumed_bytes += int(n * self.cluster.bytes_per_message(tp))
            if now >= self.measure_from:
                self.latency.record_uniform(now - last, now - first, n)

    # -- commits -------------------------------------------------------------------------------

    def _commit_request(self) -> Generator[simpy.Event, Any, bool]:
        """One OffsetCommit round trip to the group's coordinator; whether it was accepted
        (a member that was removed from the group, or is a generation behind, is refused:
        ``CommitFailedException``)."""
        cluster = self.cluster
        membership = self.membership
        broker = cluster.brokers[cluster.group_coordinator(self.group.group_id)]
        if not broker.alive or not cluster.reachable(self.host, broker.host):
            self.commits_failed += 1
            return False
        member_id = self.member_id_now
        generation = membership.commit_generation() if membership is not None else -1
        yield from cluster.request(self.host, broker, COMMIT_REQUEST_BYTES, COMMIT_REQUEST_BYTES)
        ok = cluster.commit_error(self.group.group_id, member_id, generation) == NONE
        yield cluster.transfer(broker.host, self.host, COMMIT_REQUEST_BYTES)
        if not ok:
            self.commits_failed += 1
        return ok

    def commit_sync(self, offsets: dict[TopicPartition, int] | None = None) -> Generator[simpy.Event, Any, bool]:
        """``commitSync()`` of ``offsets`` (default: what was processed), blocking the loop."""
        offsets = dict(self.consumed) if offsets is None else offsets
        if not offsets:
            return True
        ok = yield from self._commit_request()
        if ok and self.alive:
            self._store(offsets)
        return ok

    def commit_async(self) -> None:
        offsets = dict(self.consumed)
        if offsets:
            self.env.process(self._commit_async(offsets))

    def _commit_async(self, offsets: dict[TopicPartition, int]) -> Generator[simpy.Event, Any, None]:
        alive_at_send = self.incarnation
        ok = yield from self._commit_request()
        if ok and self.incarnation == alive_at_send:
            self._store(offsets)

    def _store(self, offsets: dict[TopicPartition, int]) -> None:
        for tp, offset in offsets.items():
            self.committed[tp] = offset
            self.cluster.commit(self.group.group_id, tp, offset)

    def _commit_transaction(self) -> Generator[simpy.Event, Any, None]:
        """Commit the open transaction: its processing takes effect, its offsets commit."""
        cluster = self.cluster
        broker = cluster.brokers[cluster.group_coordinator(self.group.group_id)]
        ranges, offsets = list(self._transaction), dict(self.consumed)
        for _ in range(TRANSACTION_COMMIT_ROUND_TRIPS):
            if not broker.alive:
                return
            yield from cluster.request(self.host, broker, COMMIT_REQUEST_BYTES, COMMIT_REQUEST_BYTES)
            yield cluster.transfer(broker.host, self.host, COMMIT_REQUEST_BYTES)
        if not self.alive:
            return
        membership = self.membership
        generation = membership.commit_generation() if membership is not None else -1
        self._transaction = self._transaction[len(ranges):]
        if cluster.commit_error(self.group.group_id, self.member_id_now, generation) != NONE:
            self._abort(ranges)  # a zombie's transaction is fenced and aborts
            return
        now = self.env.now
        for tp, first, n in ranges:
            self.consumed_messages += n
            self.cluster.history.consumed(tp, self.group.group_id, first, n, now)
            self.driver.position[(self.group.group_id, tp)] = first + n
        self._store({tp: o for tp, o in offsets.items() if tp in self.consumed})

    def _abort(self, ranges: list[tuple[TopicPartition, int, int]]) -> None:
        self.aborted_messages += sum(n for _, _, n in ranges)

    def leaders_changed(self) -> None:
        """Leaders moved: fetch from the new ones (``Fetcher`` sends each partition's fetch
        to its current leader), and a position past the new leader's log end -- records
        the old leader had and lost -- goes back to it (KIP-320's truncation detection:
        the consumer validates its position against the new leader epoch)."""
        if not self.assignment:
            return
        for tp in self.assignment:
            end = self.cluster.leader_log(tp).log_end_offset
            if self.position.get(tp, 0) > end and tp not in self.buffered_tps:
                self.position[tp] = end
                if self.consumed[tp] > end:  # processed records the log no longer holds
                    self.read_then_truncated += self.consumed[tp] - end
                    self.consumed[tp] = end
        leaders = {self.cluster.leader_of(tp) for tp in self.assignment}
        for broker_id in sorted(b for b in self.cluster.brokers if b in leaders):
            if broker_id not in self._sessions:
                self._sessions[broker_id] = FetchSession(self, broker_id)
        for event in self._drained.values():
            if not event.triggered:
                event.succeed()  # sessions waiting on an old leader look again

    def crash(self) -> None:
        """The member's process dies: records of the batch in hand that were processed
        before the crash stay processed, the rest are gone with it, as is what it had
        fetched; an open transaction aborts."""
        if self._batch and self._processing_since is not None:
            done_n = int((self.env.now - self._processing_since) / self._batch_per_record + 1e-9)
            partial = []
            for tp, n, first, last in self._batch:
                take = min(n, done_n)
                done_n -= take
                if take:
                    partial.append((tp, take, first, last))
            self._processed(partial)
            self.processing_busy += self.env.now - self._processing_since
            self._processing_since = None
        if self._transaction:
            self._abort(self._transaction)
            self._transaction = []
        # what the crash leaves behind: processed past the group's commit (read again by
        # the next owner) or committed past what was processed (never read)
        for tp, processed in self.consumed.items():
            committed = self.cluster.committed_offset(self.group.group_id, tp)
            if committed is not None:
                self.uncommitted_at_crash += max(0, processed - committed)
                self.unprocessed_at_crash += max(0, committed - processed)
        self.alive = False
        self.incarnation += 1
        if self._closing is not None:  # died while closing: the process has ended anyway
            self._closing.succeed()
            self._closing = None
        self.buffer.clear()
        self.buffered_tps.clear()
        self.processing_messages = 0
        self._batch = []
        for tp in list(self.assignment):
            self._resume_from_committed(tp)
            self.driver.released(self._owner_id.pop(tp, self.member_id_now), tp)
        self.assignment, self.fetch_order = [], []
        self.position.clear()
        self.consumed.clear()
        if self.membership is not None:
            self.driver.clients.pop(self.membership.member_id, None)

    def close(self) -> simpy.Event:
        """``close()``, called by the application between two batches: the poll loop
        finishes the batch in hand, then commits, revokes everything and leaves. The
        event fires when the process has ended."""
        done = self.env.event()
        if self.membership is None or not self.alive:
            done.succeed()
            return done
        self._closing = done
        self.wake()
        return done

    def _close(self) -> Generator[simpy.Event, Any, None]:
        assert self.membership is not None and self._closing is not None
        group = self.group
        if group.delivery == "exactly-once" and self._transaction:
            yield from self._commit_transaction()
        elif group.delivery == "at-least-once" and self.assignment:
            yield from self.commit_sync()
        self.release(tuple(self.assignment), lost=False)
        self.membership.leave()
        self.alive = False
        self.incarnation += 1
        self.driver.clients.pop(self.membership.member_id, None)
        closing, self._closing = self._closing, None
        closing.succeed()

    def restart(self, membership: Membership) -> None:
        """A new process of this member: it joins the group afresh (a new member id; the
        same ``group.instance.id``) and resumes from the committed offsets."""
        self.alive = True
        self.slow_factor = 1.0
        self._next_auto_commit = self.env.now + self.group.auto_commit_interval
        self.membership = membership
        membership.start()
        self.wake()

    def _notify_drained(self, tp: TopicPartition) -> None:
        leader = self.cluster.leader_of(tp)
        event = self._drained.get(leader)
        if event is not None and not event.triggered:
            event.succeed()

    def in_flight_ranges(self, tp: TopicPartition) -> list[tuple[int, int]]:
        """Offsets of ``tp`` this member fetched and has not yet read for good: in its
        buffer, in the batch it is processing, in its open transaction."""
        ranges = [
            (read.start_offset + taken, read.end_offset)
            for t, read, taken in self.buffer
            if t == tp
        ]
        start = self.consumed.get(tp)
        if start is not None:
            ranges += [(start, start + n) for t, n, _, _ in self._batch if t == tp]
        ranges += [(first, first + n) for t, first, n in self._transaction if t == tp]
        return ranges

    def processing_busy_at(self, now: float) -> float:
        """Seconds the poll thread spent processing records up to ``now``."""
        since = self._processing_since
        return self.processing_busy + (now - since if since is not None else 0.0)

    def lag(self) -> int:
        """Messages below the high watermark not yet processed, over the assignment."""
        return sum(
            max(0, self.cluster.high_watermark(tp) - self.consumed[tp]) for tp in self.assignment
        )

    def __repr__(self) -> str:
        return f"<ConsumerMember {self.member_id}: {len(self.assignment)} partitions, consumed {self.consumed_messages}>"


class FetchSession:
    """A member's fetch session with one broker: one outstanding fetch, for the assigned
    partitions it leads that have nothing buffered; after a response with data, the next
    fetch waits until the application took it (``_drained``). Idle (nothing to fetch,
    the broker down or unreachable), it looks again when woken or after
    ``fetch.max.wait.ms``.

    A callback state machine (see :mod:`simkafka.sim.tasks`): each step is called back
    on the event the step before waits for.
    """

    __slots__ = ("member", "broker_id", "broker", "_tps", "_reads")

    def __init__(self, member: ConsumerMember, broker_id: int) -> None:
        self.member = member
        self.broker_id = broker_id
        self.broker = member.cluster.brokers[broker_id]
        self._tps: list[TopicPartition] = []
        self._reads: list[tuple[TopicPartition, LogRead]] = []
        start_soon(member.env, self._fetch)

    def _fetch(self, _event: simpy.Event | None = None) -> None:
        member, broker = self.member, self.broker
        cluster, env = member.cluster, member.env
        buffered = member.buffered_tps
        tps = [tp for tp in cluster.led_by(member.fetch_order, self.broker_id) if tp not in buffered]
        if (
            not tps
            or not member.alive
            or not broker.alive
            or not cluster.reachable(member.host, broker.host)
        ):
            event = member._drained[self.broker_id] = env.event()
            first_of(env, (event, env.timeout(member.group.fetch_max_wait))).callbacks.append(self._fetch)
            return
        self._tps = tps
        cluster.request_then(
            member.host, broker, FETCH_REQUEST_OVERHEAD + FETCH_PARTITION_BYTES * len(tps), self._sent
        )

    def _sent(self, _handled: simpy.Event) -> None:
        member = self.member
        # partitions revoked while the request was on its way are not fetched
        position = member.position
        offsets = {tp: position[tp] for tp in self._tps if tp in position}
        if not offsets:
            self._fetch()
            return
        member.cluster.consumer_fetch(self.broker, member.group, offsets, self._answered)

    def _answered(self, reads: list[tuple[TopicPartition, LogRead]]) -> None:
        member = self.member
        member.fetches += 1
        nbytes = FETCH_REQUEST_OVERHEAD
        for _, read in reads:
            nbytes += read.bytes + FETCH_RESPONSE_PARTITION_BYTES
        self._reads = reads
        member.cluster.transfer(self.broker.host, member.host, nbytes).callbacks.append(self._arrived)

    def _arrived(self, _event: simpy.Event) -> None:
        member = self.member
        position, assignment = member.position, member.assignment
        got = False
        for tp, read in self._reads:
            if (
                read.end_offset > read.start_offset
                and position.get(tp) == read.start_offset
                and tp in assignment
            ):
                position[tp] = read.end_offset
                member.buffer.append((tp, read, 0))
                member.buffered_tps.add(tp)
                got = True
        if not got:
            self._fetch()
            return
        if not member._data.triggered:
            member._data.succeed()
        # one outstanding fetch per broker: wait until the application took it
        event = member._drained[self.broker_id] = member.env.event()
        event.callbacks.append(self._fetch)
