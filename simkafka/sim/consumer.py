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
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Protocol

import simpy

from simkafka.model.types import TopicPartition
from simkafka.scenario.costs import default_costs
from simkafka.sim.client_costs import consumer_poll_cpu
from simkafka.sim.histogram import LatencyHistogram
from simkafka.sim.replica_log import LogRead, ReplicaLog

if TYPE_CHECKING:
    from simkafka.model.delivery import DeliveryHistory
    from simkafka.scenario import ConsumerGroupSpec
    from simkafka.scenario.costs import CostProfile
    from simkafka.sim.broker import Broker

FETCH_REQUEST_OVERHEAD = 120
FETCH_PARTITION_BYTES = 28
FETCH_RESPONSE_PARTITION_BYTES = 40
COMMIT_REQUEST_BYTES = 200


class ConsumerCluster(Protocol):
    """What a consumer uses of the cluster (``World`` provides it): partition metadata,
    the network, the brokers' fetch path and the group coordinator's committed offsets."""

    env: simpy.Environment
    brokers: dict[int, Broker]
    history: DeliveryHistory

    def leader_of(self, tp: TopicPartition) -> int: ...

    def leader_log(self, tp: TopicPartition) -> ReplicaLog: ...

    def high_watermark(self, tp: TopicPartition) -> int: ...

    def bytes_per_message(self, tp: TopicPartition) -> float: ...

    def request(
        self, src: str, broker: Broker, nbytes: int, cpu_bytes: int = 0, after: float = 0.0
    ) -> Generator[simpy.Event, Any, None]: ...

    def transfer(self, src: str, dst: str, nbytes: int) -> simpy.Event: ...

    def handle_consumer_fetch(
        self, broker: Broker, group: ConsumerGroupSpec, offsets: dict[TopicPartition, int]
    ) -> Generator[simpy.Event, Any, list[tuple[TopicPartition, LogRead]]]: ...

    def group_coordinator(self, group_id: str) -> int: ...

    def committed_offset(self, group_id: str, tp: TopicPartition) -> int | None: ...

    def reachable(self, a: str, b: str) -> bool: ...

    def commit(self, group_id: str, tp: TopicPartition, offset: int) -> None: ...


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
        self.assignment: list[TopicPartition] = []
        self.fetch_order: list[TopicPartition] = []  # assignment order, rotated as Kafka does
        self.position: dict[TopicPartition, int] = {}  # next offset to fetch
        self.consumed: dict[TopicPartition, int] = {}  # next offset to process
        self.committed: dict[TopicPartition, int] = {}
        self.buffer: deque[tuple[TopicPartition, LogRead, int]] = deque()  # (tp, read, taken)
        self.buffered_tps: set[TopicPartition] = set()
        self.alive = True
        self.latency = LatencyHistogram()
        self.measure_from = measure_from
        self.consumed_messages = 0
        self.skipped_at_start = 0  # messages below where this member started its partitions
        self.read_then_truncated = 0  # processed, then gone from the log (a shorter leader)
        self.processing_messages = 0  # handed to the application by poll(), not yet done
        self.consumed_bytes = 0
        self.fetches = 0
        # the poll thread's time spent processing records (the client's CPU), up to
        # ``_processing_since`` while a batch of records is being processed
        self.processing_busy = 0.0
        self._processing_since: float | None = None
        self._data = self.env.event()
        self._drained: dict[int, simpy.Event] = {}
        self._sessions: dict[int, simpy.Process] = {}

    def assign(self, partitions: list[TopicPartition]) -> None:
        """Start from the committed offset, else ``auto.offset.reset``."""
        self.assignment = sorted(partitions)
        self.fetch_order = list(self.assignment)
        for tp in self.assignment:
            if tp not in self.position:
                start = self.cluster.committed_offset(self.group.group_id, tp)
                if start is None:
                    log = self.cluster.leader_log(tp)
                    start = (
                        log.log_start_offset
                        if self.group.auto_offset_reset == "earliest"
                        else self.cluster.high_watermark(tp)
                    )
                    # a topic's prefill below a "latest" start is never read
                    self.skipped_at_start += start - log.log_start_offset
                self.position[tp] = start
                self.consumed[tp] = start
        # One fetch session per broker that leads an assigned partition (a session with
        # nothing to fetch would only burn events); leader changes start new ones.
        leaders = {self.cluster.leader_of(tp) for tp in self.assignment}
        for broker_id in sorted(b for b in self.cluster.brokers if b in leaders):
            if broker_id not in self._sessions:
                self._sessions[broker_id] = self.env.process(self._fetch_session(broker_id))
        if not hasattr(self, "_poller"):
            self._poller = self.env.process(self._poll_loop())
            if self.group.enable_auto_commit:
                self.env.process(self._auto_commit())

    # -- fetching ---------------------------------------------------------------------------

    def _fetch_session(self, broker_id: int) -> Generator[simpy.Event, Any, None]:
        cluster, env = self.cluster, self.env
        group = self.group
        broker = cluster.brokers[broker_id]
        while True:
            tps = [
                tp
                for tp in self.fetch_order
                if cluster.leader_of(tp) == broker_id and tp not in self.buffered_tps
            ]
            if (
                not tps
                or not self.alive
                or not broker.alive
                or not cluster.reachable(self.host, broker.host)
            ):
                event = self._drained[broker_id] = env.event()
                yield event | env.timeout(group.fetch_max_wait)
                continue
            yield from cluster.request(
                self.host, broker, FETCH_REQUEST_OVERHEAD + FETCH_PARTITION_BYTES * len(tps)
            )
            offsets = {tp: self.position[tp] for tp in tps}
            reads = yield from cluster.handle_consumer_fetch(broker, group, offsets)
            self.fetches += 1
            nbytes = FETCH_REQUEST_OVERHEAD + sum(
                r.bytes + FETCH_RESPONSE_PARTITION_BYTES for _, r in reads
            )
            yield cluster.transfer(broker.host, self.host, nbytes)
            got = False
            for tp, read in reads:
                if (
                    read.messages
                    and self.position.get(tp) == read.start_offset
                    and tp in self.assignment
                ):
                    self.position[tp] = read.end_offset
                    self.buffer.append((tp, read, 0))
                    self.buffered_tps.add(tp)
                    got = True
            if got:
                if not self._data.triggered:
                    self._data.succeed()
                # one outstanding fetch per broker: wait until the application took it
                event = self._drained[broker_id] = env.event()
                yield event

    # -- the application's poll loop ---------------------------------------------------------

    def _poll_loop(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        per_record = self.group.processing_time_per_record
        while True:
            if not self.buffer or not self.alive:
                self._data = env.event()
                yield self._data
                continue
            done, taken = self._take_polled_records()
            busy = per_record * taken + self._poll_cpu(done)
            if busy > 0:
                self.processing_messages = taken
                self._processing_since = env.now
                yield env.timeout(busy)
                self.processing_busy += env.now - self._processing_since
                self._processing_since = None
                self.processing_messages = 0
            if self.alive:  # a member that crashed meanwhile never finished these
                self._processed(done)

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
        for tp, n, first, last in done:
            if self.consumed.get(tp) is None:
                continue
            if n > 0:
                history.consumed(tp, self.group.group_id, self.consumed[tp], n, now)
            self.consumed[tp] += n
            self.consumed_messages += n
            self.consumed_bytes += int(n * self.cluster.bytes_per_message(tp))
            if now >= self.measure_from:
                self.latency.record_uniform(now - last, now - first, n)

    # -- faults ---------------------------------------------------------------------------------

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
                self._sessions[broker_id] = self.env.process(self._fetch_session(broker_id))
        for event in self._drained.values():
            if not event.triggered:
                event.succeed()  # sessions waiting on an old leader look again

    def crash(self) -> None:
        """The member's process dies: it fetches and processes nothing more, and what it
        had fetched but not processed is gone with it."""
        self.alive = False
        self.buffer.clear()
        self.buffered_tps.clear()
        self.processing_messages = 0

    def restart(self) -> None:
        """The member comes back and resumes from its group's committed offsets (else
        ``auto.offset.reset``): what it processed after the last commit is read again."""
        self.alive = True
        for tp in self.assignment:
            start = self.cluster.committed_offset(self.group.group_id, tp)
            if start is None:
                log = self.cluster.leader_log(tp)
                start = log.log_start_offset if self.group.auto_offset_reset == "earliest" else self.cluster.high_watermark(tp)
            self.position[tp] = start
            self.consumed[tp] = start
        if not self._data.triggered:
            self._data.succeed()
        for event in self._drained.values():
            if not event.triggered:
                event.succeed()

    def _notify_drained(self, tp: TopicPartition) -> None:
        leader = self.cluster.leader_of(tp)
        event = self._drained.get(leader)
        if event is not None and not event.triggered:
            event.succeed()

    def _auto_commit(self) -> Generator[simpy.Event, Any, None]:
        cluster = self.cluster
        while True:
            yield self.env.timeout(self.group.auto_commit_interval)
            if not self.alive or not self.assignment:
                continue
            coordinator = cluster.brokers[cluster.group_coordinator(self.group.group_id)]
            if not coordinator.alive:
                continue
            yield from cluster.request(
                self.host, coordinator, COMMIT_REQUEST_BYTES, COMMIT_REQUEST_BYTES
            )
            for tp in self.assignment:
                self.committed[tp] = self.consumed[tp]
                cluster.commit(self.group.group_id, tp, self.consumed[tp])

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
