"""A producer instance: the application's send() rate, the accumulator and the Sender.

Two threads set what one instance can do (:mod:`simkafka.sim.client_costs`). The
application thread's ``send()`` costs ``producer.record_cpu`` per record plus the codec's
``compress_cpu`` per uncompressed byte (the client compresses as it appends): offered
load beyond ``1 / send_cpu`` records/s is not sent -- it is counted in ``cpu_limited``
(the summary's ``producer_cpu_limited_msgs_per_s``), never created. ``rate: max`` calls
``send()`` back to back, waiting (without error) while ``buffer.memory`` is full. The
Sender thread is serial: each pass costs it ``request_cpu`` per request, ``batch_cpu`` per
batch and ``byte_cpu`` per byte, a request leaves when the thread has built it, and the
thread does not drain again until it is free -- so a busy Sender sends fuller batches, as
in Kafka. Both are charged as arithmetic on "free at" times, no event per record; their
utilisation is ``producer.<group>.app_thread_util`` and ``.sender_util``.

The Sender loop wakes when something can be sent -- the earliest of: an open batch
reaching ``linger.ms``, a batch filling up at the current rates, or a request
completing (which frees an in-flight slot). Between wake-ups the application's messages
are added to the accumulator as quantities per partition, so the cost of a run grows
with batches and requests, not with messages.

Acknowledgement semantics follow the Java client: ``acks=0`` completes when the request
has been written to the socket, ``acks=1`` when the leader has appended, ``acks=all``
when the high watermark passes the batch. Retriable errors (``NOT_LEADER_OR_FOLLOWER``,
``NOT_ENOUGH_REPLICAS``, ``REQUEST_TIMED_OUT``, ``NETWORK_EXCEPTION``) put the batch back
at the front of its partition's queue, where it waits ``retry.backoff.ms`` and holds the
partition back with it, until ``delivery.timeout.ms`` has passed since its first record;
then it fails with the error of its last attempt (``Sender.failBatch``).
Batches for a partition with no leader (offline), or whose leader's broker cannot be
connected to (it died: the connection is refused; a network partition: it times out),
cannot be sent; they wait in the accumulator and fail with ``DELIVERY_TIMEOUT`` once
``delivery.timeout.ms`` has passed since their first record
(``RecordAccumulator.expiredBatches``). The producer's metadata is what the brokers
have applied: it sees a new leader as soon as they do -- Kafka's client learns it on the
metadata refresh its first error triggers, one round trip and at most a
``retry.backoff.ms`` later.

Every batch is numbered (``first_seq``) when first drained and written to the cluster's
delivery history when sent, acknowledged or given up on; the broker writes its appends.
With idempotence (``enable.idempotence``, on by default with ``acks=all``) the leader
recognises a retried batch it already holds and answers with its offset; without it, a
retry of a batch whose response was lost is appended again (written twice).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Generator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import simpy
from simpy.events import URGENT

from simkafka.model.partitioner import BuiltInPartitioner
from simkafka.model.types import TopicPartition
from simkafka.scenario.costs import default_costs
from simkafka.sim.accumulator import ProducerBatch, RecordAccumulator, kafka_batch_size
from simkafka.sim.client_costs import SEND_BACKLOG, producer_send_cpu, sender_cpu, thread_take
from simkafka.sim.fluid import apportion
from simkafka.sim.histogram import LatencyHistogram
from simkafka.sim.tasks import Task

if TYPE_CHECKING:
    from simkafka.model.delivery import DeliveryHistory
    from simkafka.model.partitioner import TopicMetadata
    from simkafka.random_streams import RandomStreams
    from simkafka.scenario import ProducerSpec, Topic
    from simkafka.scenario.costs import CostProfile
    from simkafka.sim.broker import Broker

REQUEST_OVERHEAD = 100  # request header, transactional id, acks, timeout, topic name
PARTITION_OVERHEAD = 12  # partition index + records length
RESPONSE_PARTITION_BYTES = 40
MAX_SLEEP = 0.05  # re-read the rate profile at least this often


class ProducerCluster(Protocol):
    """What a producer uses of the cluster (``World`` provides it): the metadata its
    partitioner and Sender read, the network, and the brokers' produce path."""

    env: simpy.Environment
    brokers: dict[int, Broker]
    history: DeliveryHistory

    def reachable(self, a: str, b: str) -> bool: ...

    @property
    def all_brokers_reachable(self) -> bool: ...

    def topic_metadata(self, topic: str) -> TopicMetadata: ...

    def partitions_by_leader(self, topic: str) -> dict[int, tuple[list[int], np.ndarray]]: ...

    def topic_partitions(self, topic: str) -> list[TopicPartition]: ...

    def request(
        self,
        src: str,
        broker: Broker,
        nbytes: int,
        cpu_bytes: int = 0,
        after: float = 0.0,
        appends: Sequence[tuple[TopicPartition, float]] = (),
        muted: simpy.Event | None = None,
    ) -> Generator[simpy.Event, Any, float]: ...

    def produce_appends(
        self, broker: Broker, topic: str, producer_codec: str, batches: Sequence[ProducerBatch]
    ) -> list[tuple[TopicPartition, float]]: ...

    def transfer(self, src: str, dst: str, nbytes: int) -> simpy.Event: ...

    def handle_produce(
        self,
        broker: Broker,
        topic: str,
        batches: list[ProducerBatch],
        acks: str,
        timeout: float,
        *,
        handled: bool = True,
        appends: Sequence[tuple[TopicPartition, float]] = (),
        producer_id: int = -1,
        idempotent: bool = False,
        waits_for_earlier: Callable[[int, int], bool] | None = None,
    ) -> Generator[simpy.Event, Any, list[str]]: ...


class ProducerClient:
    """One ``KafkaProducer`` instance on a host of its own.

    Its random stream is ``producer.<name>`` from ``streams``; latency is recorded for
    messages acknowledged from ``measure_from`` (the warm-up's end) on.
    """

    def __init__(
        self,
        cluster: ProducerCluster,
        spec: ProducerSpec,
        topic: Topic,
        index: int,
        weights: np.ndarray | None,
        streams: RandomStreams,
        measure_from: float,
        costs: CostProfile | None = None,
        producer_id: int = 0,
    ) -> None:
        self.cluster = cluster
        # names the producer's records in the delivery history (Kafka's producer id)
        self.producer_id = producer_id
        self.idempotent = spec.idempotent
        self.env = cluster.env
        self.spec = spec
        self.topic = topic
        self.name = f"{spec.name or spec.topic}-{index}"
        self.host = f"producer.{self.name}"
        mean_size = spec.message_size.mean
        self.max_rate = spec.rate.is_max
        self.messages_per_second = 0.0 if self.max_rate else spec.rate.messages(mean_size) / spec.count
        self.acc = RecordAccumulator.of(spec, topic.partitions, max_request_size=int(spec.max_request_size))
        # Keyed (or round-robin) traffic splits by fixed weights; otherwise the built-in
        # sticky partitioner sends everything to one partition until a batch is full.
        self.weights = weights
        if weights is not None:
            self._flowing = weights > 0
            self._inverse_weights = np.divide(
                1.0, weights, out=np.full(weights.size, np.inf), where=self._flowing
            )
        self.rng = streams.get(f"producer.{self.name}")
        self.poisson = spec.profile.type == "poisson"
        self.partitioner = BuiltInPartitioner(topic.name, kafka_batch_size(spec.batch_size), self.rng)
        self._fraction = 0.0  # fluid arrivals: the part of a message not yet sent
        self._key_carry = np.zeros(topic.partitions)
        # send() calls waiting for buffer.memory: (messages, first send, last send)
        self.backlog: deque[tuple[int, float, float]] = deque()
        self.backlog_messages = 0
        # the application thread: seconds of send() per record (serialise, partition,
        # append and compress); what the application offers beyond it is not sent
        self.costs = costs if costs is not None else default_costs()
        self.send_cpu = producer_send_cpu(self.costs, spec.compression_type, self.acc.record_bytes)
        self.app_free_at = 0.0  # the thread's send() calls run until then
        self.app_busy = 0.0  # seconds of send() calls, up to app_free_at
        self.cpu_limited = 0  # messages the application offered that its thread could not send
        self._memory_wait = False  # a max-rate thread blocked in send() on buffer.memory
        # the Sender thread: busy (closing batches, building requests) until sender_free_at
        self.sender_free_at = 0.0
        self.sender_busy = 0.0  # seconds charged, up to sender_free_at
        self.max_in_flight = spec.max_in_flight_requests_per_connection
        self.in_flight: Counter[int] = Counter()
        # per broker connection: the event of the last request's response being sent --
        # the broker reads a connection's next request only then (the muted channel)
        self._unmuted: dict[int, simpy.Event] = {}
        # seconds each connection's channel was held (read to response), and since when
        # the request being served holds it
        self.channel_busy: Counter[int] = Counter()
        self._channel_since: dict[int, float] = {}
        # the Sender's sleep: the number of the current one, -1 while a pass is due
        self._sleeping = -1
        self._sleeps = 0
        # accounting (messages)
        self.created = 0
        self.acked = 0
        self.acked_bytes = 0
        self.in_flight_messages = 0
        # buffer.memory holds a batch until its request completes (BufferPool.deallocate
        # after the response), not only while it waits in the accumulator
        self.in_flight_bytes = 0
        self.failed: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()  # batches answered with each error code
        self.retries = 0
        self.disconnects = 0  # sends skipped: the leader's broker could not be reached
        self._next_seq = [0] * topic.partitions  # per partition: the next record's sequence
        # per partition: first sequences of batches sent and not yet answered for good
        self._outstanding: list[set[int]] = [set() for _ in range(topic.partitions)]
        self.requests = 0
        self.batches_sent = 0
        self.latency = LatencyHistogram()
        self.measure_from = measure_from
        # the client's metadata: a snapshot of what the brokers had applied when it was
        # last fetched, refreshed after an error or a disconnect (at most once per
        # retry.backoff.ms) and at least every metadata.max.age.ms
        self._snapshot = (
            cluster.partitions_by_leader(topic.name),
            cluster.topic_metadata(topic.name),
        )
        # (the partitions per leader it was built from, each partition's leader)
        self._leader_index: tuple[dict[int, tuple[list[int], np.ndarray]], np.ndarray] | None = None
        self._refreshed_at = 0.0
        self._refresh_wanted = False
        self.metadata_refreshes = 0
        self._leaderless: list[int] = []  # partitions the metadata shows without a leader
        self._leaders_seen: object = None  # the leader map they were derived from
        self._passes = self._sender()
        start = simpy.Event(self.env)  # the first pass, when a process would start
        start._ok, start._value = True, None
        start.callbacks.append(self._run_pass)
        self.env.schedule(start, URGENT)

    # -- the application's side -----------------------------------------------------------

    def _offered_count(self, start: float, end: float) -> int:
        """Messages the application would like to ``send()`` in [start, end] (fluid, carried)."""
        rate = self.messages_per_second * self.spec.profile.factor_at(0.5 * (start + end))
        if self.poisson:
            return int(self.rng.poisson(rate * (end - start)))
        total = rate * (end - start) + self._fraction
        count = int(total)
        self._fraction = total - count
        return count

    def _arrival_count(self, start: float, end: float) -> int:
        """Messages ``send()`` hands the accumulator in [start, end]: what the application
        offers, at most what its thread can do (it may fall ``SEND_BACKLOG`` behind) --
        the rest is counted in ``cpu_limited``, never created."""
        offered = self._offered_count(start, end)
        room, begin = thread_take(self.app_free_at, start, end, self.send_cpu, SEND_BACKLOG)
        count = offered if offered <= room else int(room)
        self.cpu_limited += offered - count
        self.app_free_at = begin + count * self.send_cpu
        self.app_busy += count * self.send_cpu
        return count

    def _send_at_max_rate(self, start: float, end: float) -> None:
        """``rate: max``: the thread calls ``send()`` back to back over [start, end]; once
        ``buffer.memory`` is full it waits in ``send()`` (time lost, never an error) until
        a completed request frees memory."""
        # never idle: the part of a record it was working on at ``start`` carries over
        room, begin = thread_take(self.app_free_at, self.app_free_at, end, self.send_cpu, 0.0)
        per_message = self.acc.record_bytes * self.acc.compression_ratio
        memory = max(0, int((self.spec.buffer_memory - self.memory_used) / per_message))
        self._memory_wait = room >= memory
        count = memory if self._memory_wait else int(room)
        self.app_free_at = end if self._memory_wait else begin + count * self.send_cpu
        self.app_busy += count * self.send_cpu
        if count <= 0:
            return
        self.created += count
        first = max(start, end - count * self.send_cpu)
        if self.weights is None:
            self.acc.append_runs(self._sticky_runs(count), first, end)
        else:
            self.acc.append(self._keyed_split(count), first, end)

    def _sticky_runs(self, count: int) -> list[tuple[int, int]]:
        """Built-in partitioner (KIP-794) for unkeyed records: one step per switch."""
        metadata = self._metadata()[1]
        acc = self.acc
        return self.partitioner.place_batched_records(
            acc.appended_bytes, count, metadata, acc.batch_shape, acc.last_batch_records
        )

    def _keyed_split(self, count: int) -> np.ndarray:
        """Split ``count`` keyed messages over partitions by each partition's key share
        (murmur2 of the key space, see :func:`simkafka.sim.workload.key_weights`)."""
        if self.poisson:
            return self.rng.multinomial(count, self.weights).astype(float)
        # keyed at a fixed rate: largest-remainder apportionment with a running carry,
        # so every partition gets its share to within one message, forever
        want = self._key_carry + count * self.weights
        whole = apportion(want[None, :], np.array([count]))[0]
        self._key_carry = want - whole
        return whole

    def _admit(self, now: float) -> None:
        """Move blocked ``send()`` calls into the accumulator while ``buffer.memory`` has room.

        ``send()`` blocks while the accumulator holds ``buffer.memory`` bytes and throws
        ``TimeoutException`` after ``max.block.ms``. The application's sends queue up in
        the meantime, oldest first; their latency counts from the ``send()`` call, so a
        producer offered more than the cluster takes shows latency growing without bound
        rather than throughput above the bound.
        """
        backlog = self.backlog
        limit = now - self.spec.max_block
        while backlog and backlog[0][1] < limit:
            count, t0, t1 = backlog[0]
            expired = count if t1 <= limit else int(count * (limit - t0) / (t1 - t0))
            if expired <= 0:
                break
            self.failed["MAX_BLOCK_MS_EXCEEDED"] += expired
            self.backlog_messages -= expired
            if expired == count:
                backlog.popleft()
            else:
                backlog[0] = (count - expired, t0 + (t1 - t0) * expired / count, t1)
        per_message = self.acc.record_bytes * self.acc.compression_ratio
        room = int((self.spec.buffer_memory - self.memory_used) / per_message)
        while backlog and room > 0:
            count, t0, t1 = backlog[0]
            take = min(count, room)
            split = t0 + (t1 - t0) * take / count
            if self.weights is None:
                self.acc.append_runs(self._sticky_runs(take), t0, split)
            else:
                self.acc.append(self._keyed_split(take), t0, split)
            room -= take
            self.backlog_messages -= take
            if take == count:
                backlog.popleft()
            else:
                backlog[0] = (count - take, split, t1)

    # -- the Sender -----------------------------------------------------------------------

    def _sender(self) -> Generator[float, None, None]:
        """The Sender thread's passes; each yields how long it may sleep (see
        :meth:`_run_pass`)."""
        last = self.env.now
        while True:
            now = self.env.now
            if now > last and self.max_rate:
                self._send_at_max_rate(last, now)
                last = now
            elif now > last:
                count = self._arrival_count(last, now)
                if count:
                    self.created += count
                    self.backlog_messages += count
                    self.backlog.append((count, last, now))
                last = now
            if self.backlog:
                self._admit(now)
            self._expire_leaderless(now)
            self._send_ready(now)
            yield self._sleep(now)

    def _run_pass(self, _event: simpy.Event | None = None) -> None:
        """Run one pass of the Sender, then sleep until its timer or until a finished
        request wakes it (:meth:`_wake`), whichever is first: one event either way -- the
        timer runs the next pass itself, a wake-up is an event of its own -- and a timer
        or wake-up of an earlier sleep does nothing."""
        sleep = next(self._passes)
        self._sleeps += 1
        self._sleeping = number = self._sleeps
        self.env.timeout(sleep).callbacks.append(partial(self._timer_fired, number))

    def _timer_fired(self, number: int, _event: simpy.Event) -> None:
        if self._sleeping == number:
            self._sleeping = -1
            self._run_pass()

    def _sleep(self, now: float) -> float:
        """Until the next batch could become sendable: an open batch lingering out, an empty
        partition's first message arriving and then lingering, or a batch filling up."""
        acc = self.acc
        wake = min(acc.next_linger_expiry(after=now), acc.next_backoff_expiry(now), now + MAX_SLEEP)
        if self.backlog:
            wake = min(wake, self.backlog[0][1] + self.spec.max_block)
        if self.sender_free_at > now:
            # the Sender is busy: it drains again once it is free
            wake = min(wake, self.sender_free_at)
        rate = self._send_rate(now)
        if rate > 0:
            # a batch becomes sendable when the record that closes it arrives
            per_batch = acc.batch_shape.records_to_close
            carry, linger = acc._carry, acc.linger
            if self.weights is None:
                # unkeyed: only the sticky partition fills -- scalar arithmetic
                p = self.partitioner.current_partition(self._metadata()[1])
                open_p, carry_p = float(acc.open_messages[p]), float(carry[p])
                wake = min(wake, now + (per_batch - open_p - carry_p) / rate)
                if open_p == 0:
                    wake = min(wake, now + (1.0 - carry_p) / rate + linger)
            else:
                # keyed: every partition with a share of the keys fills at its own rate
                inverse = self._inverse_weights
                room = per_batch - acc.open_messages - carry
                fill = np.multiply(
                    room, inverse, out=np.full(inverse.size, np.inf), where=self._flowing
                )
                empty = self._flowing & (acc.open_messages == 0)
                first = np.multiply(
                    1.0 - carry, inverse, out=np.full(inverse.size, np.inf), where=empty
                )
                wake = min(
                    wake, now + float(fill.min()) / rate, now + float(first.min()) / rate + linger
                )
        return max(wake - now, 1e-6)

    def _send_rate(self, now: float) -> float:
        """Messages/s ``send()`` hands the accumulator now (0 while it waits for memory)."""
        cpu_bound = 1.0 / self.send_cpu if self.send_cpu > 0 else float("inf")
        if self.max_rate:
            return 0.0 if self._memory_wait else cpu_bound
        return min(self.messages_per_second * self.spec.profile.factor_at(now), cpu_bound)

    def _send_ready(self, now: float) -> None:
        """One pass of ``Sender.sendProducerData`` when the Sender thread is free: a
        request per ready node, each costing the thread its request, batches and bytes;
        a request leaves when the thread has built it."""
        if self.sender_free_at > now + 1e-12:
            return  # still busy with the last pass: the batches wait, and fill
        exhausted = bool(self.backlog) or self._memory_wait
        sendable = self.acc.sendable(now, exhausted=exhausted)
        if not sendable.any():
            return
        by_leader = self._metadata()[0]
        # the nodes leading a sendable partition, in one pass over the partitions
        ready_nodes = set(self._leader_per_partition(by_leader, sendable.size)[sendable].tolist())
        for node, (partitions, _) in by_leader.items():
            if self.in_flight[node] >= self.max_in_flight:
                continue
            if node not in ready_nodes:
                continue
            if not self._connected(node):
                continue
            batches = self.acc.drain(partitions, node, now)
            if batches:
                self._number(batches)
                cost = sender_cpu(
                    self.costs,
                    1,
                    len(batches),
                    sum(b.wire_bytes for b in batches),
                    sum(b.messages for b in batches),
                )
                self.sender_free_at = max(self.sender_free_at, now) + cost
                self.sender_busy += cost
                self.in_flight[node] += 1
                # a Task, not a process: no event to start it nor when it ends
                Task(self._request(node, batches, self.sender_free_at - now))

    def _leader_per_partition(
        self, by_leader: dict[int, tuple[list[int], np.ndarray]], partitions: int
    ) -> np.ndarray:
        """Each partition's leader in ``by_leader`` (-1 for none), kept while the
        producer's metadata snapshot is the same."""
        cached = self._leader_index
        if cached is None or cached[0] is not by_leader:
            leaders = np.full(partitions, -1, dtype=np.intp)
            for node, (_, index) in by_leader.items():
                leaders[index] = node
            cached = self._leader_index = (by_leader, leaders)
        return cached[1]

    def _metadata(self) -> tuple[dict[int, tuple[list[int], np.ndarray]], TopicMetadata]:
        """The producer's metadata (``ProducerMetadata``): (partitions per leader, the
        partitioner's view), refreshed when an error asked for it -- no sooner than
        ``retry.backoff.ms`` after the last refresh -- or when ``metadata.max.age.ms``
        has passed. A leader that moved is seen only then: until it is, the producer
        keeps sending to the old one, which answers ``NOT_LEADER_OR_FOLLOWER`` (or, cut
        off from the controller, does not know it has been replaced)."""
        now = self.env.now
        age = now - self._refreshed_at
        if age >= self.spec.metadata_max_age or (self._refresh_wanted and age >= self.spec.retry_backoff):
            topic = self.topic.name
            self._snapshot = (self.cluster.partitions_by_leader(topic), self.cluster.topic_metadata(topic))
            self._refreshed_at = now
            self._refresh_wanted = False
            self.metadata_refreshes += 1
        return self._snapshot

    def _request_metadata_update(self) -> None:
        """``Metadata.requestUpdate``: an error or a disconnect makes the next poll refresh."""
        self._refresh_wanted = True

    def _connected(self, node: int) -> bool:
        """Whether the connection to ``node`` is up. A broker that died, or one behind a
        network partition, cannot be connected to: its batches stay in the accumulator
        (``NetworkClient.ready`` is false) until the metadata names a leader the producer
        reaches, or ``delivery.timeout.ms`` expires them."""
        if self._reaches(node):
            return True
        self.disconnects += 1
        self._request_metadata_update()
        return False

    def _reaches(self, node: int) -> bool:
        broker = self.cluster.brokers[node]
        return broker.alive and self.cluster.reachable(self.host, broker.host)

    def _number(self, batches: list[ProducerBatch]) -> None:
        """Sequence numbers, given when a batch is first drained (``RecordAccumulator.drain``
        for an idempotent producer; the engine numbers every producer's records so that
        the delivery history can tell a retry from a new record)."""
        for batch in batches:
            if batch.first_seq < 0:
                batch.first_seq = self._next_seq[batch.partition]
                self._next_seq[batch.partition] += batch.messages
                self._outstanding[batch.partition].add(batch.first_seq)

    def waits_for_earlier(self, partition: int, first_seq: int) -> bool:
        """Whether a batch sent before this one is still unanswered: an idempotent
        leader that has not seen it answers ``OUT_OF_ORDER_SEQUENCE_NUMBER``, and the
        producer retries in sequence order -- which is how idempotence keeps order."""
        outstanding = self._outstanding[partition]
        return bool(outstanding) and min(outstanding) < first_seq

    def _expire_leaderless(self, now: float) -> None:
        """Batches of partitions without a leader the producer can reach fail once
        ``delivery.timeout.ms`` passed."""
        by_leader = self._metadata()[0]
        if by_leader is not self._leaders_seen:  # the cluster replaced its cached map
            led = {p for partitions, _ in by_leader.values() for p in partitions}
            self._leaderless = [p for p in range(self.topic.partitions) if p not in led]
            self._leaders_seen = by_leader
        stuck = list(self._leaderless)
        if not self.cluster.all_brokers_reachable:
            for node, (partitions, _) in by_leader.items():
                if not self._reaches(node):
                    stuck += partitions
        if stuck:
            expired: list[ProducerBatch] = []
            dropped = self.acc.expire(sorted(stuck), now, self.spec.delivery_timeout, expired)
            if dropped:
                self.failed["DELIVERY_TIMEOUT"] += dropped
                for batch in expired:
                    if batch.first_seq >= 0:  # sent before, retried, never answered well
                        self.cluster.history.failed(
                            self.tp(batch.partition), self.producer_id, batch.first_seq,
                            batch.messages, "DELIVERY_TIMEOUT", now,
                        )

    def app_busy_at(self, now: float) -> float:
        """Seconds the application thread spent in ``send()`` up to ``now``."""
        return self.app_busy - max(0.0, self.app_free_at - now)

    def sender_busy_at(self, now: float) -> float:
        """Seconds the Sender thread was busy up to ``now`` (its work is charged when it
        starts and runs without a break until ``sender_free_at``)."""
        return self.sender_busy - max(0.0, self.sender_free_at - now)

    def _request(
        self, node: int, batches: list[ProducerBatch], after: float = 0.0
    ) -> Generator[simpy.Event, Any, None]:
        cluster, env = self.cluster, self.env
        broker = cluster.brokers[node]
        nbytes = REQUEST_OVERHEAD + sum(b.wire_bytes + PARTITION_OVERHEAD for b in batches)
        messages = sum(b.messages for b in batches)
        self.in_flight_messages += messages
        self.in_flight_bytes += sum(b.wire_bytes for b in batches)
        self.requests += 1
        self.batches_sent += len(batches)
        for batch in batches:
            self.cluster.history.sent(
                self.tp(batch.partition), self.producer_id, batch.first_seq, batch.messages, env.now
            )
        acks = self.spec.acks
        # the leader's appends of these batches, under each partition's lock
        appends = cluster.produce_appends(
            broker, self.topic.name, self.spec.compression_type, batches
        )
        # Kafka mutes the connection from reading a request until its response is sent:
        # this request is read only once the previous one on the connection is answered
        muted = self._unmuted.get(node)
        unmuted = self._unmuted[node] = env.event()
        if acks == "0":
            if after > 0:
                yield env.timeout(after)
            yield cluster.transfer(self.host, broker.host, nbytes)
            # fire and forget: done once written; the broker still appends
            self.in_flight[node] -= 1
            self._complete(batches, ["NONE"] * len(batches), env.now)
            env.process(self._unanswered(broker, batches, appends, muted, unmuted))
            self._wake()
            return
        read = yield from cluster.request(
            self.host,
            broker,
            nbytes,
            sum(b.wire_bytes for b in batches),
            after=after,
            appends=appends,
            muted=muted,
        )
        self._channel_since[node] = read
        errors = yield from cluster.handle_produce(
            broker,
            self.topic.name,
            batches,
            acks,
            self.spec.request_timeout,
            producer_id=self.producer_id,
            idempotent=self.idempotent,
            waits_for_earlier=self.waits_for_earlier,
        )
        self._release_channel(node, read, unmuted)
        if broker.alive and cluster.reachable(broker.host, self.host):
            yield cluster.transfer(
                broker.host, self.host, REQUEST_OVERHEAD + RESPONSE_PARTITION_BYTES * len(batches)
            )
        else:
            # a dead broker's connection closes at once; behind a network partition no
            # answer comes, and the client gives up after request.timeout.ms
            errors = ["NETWORK_EXCEPTION"] * len(batches)
            if broker.alive:
                yield env.timeout(self.spec.request_timeout)
        self.in_flight[node] -= 1
        self._complete(batches, errors, env.now)
        self._wake()

    def _unanswered(
        self,
        broker: Broker,
        batches: list[ProducerBatch],
        appends: list[tuple[TopicPartition, float]],
        muted: simpy.Event | None,
        unmuted: simpy.Event,
    ) -> Generator[simpy.Event, Any, None]:
        """The broker's side of an ``acks=0`` request: read when the connection is
        unmuted, which it is again once the request is handled (no response is sent)."""
        if muted is not None and not muted.processed:
            yield muted
        read = self._channel_since[broker.id] = self.env.now
        yield from self.cluster.handle_produce(
            broker,
            self.topic.name,
            batches,
            "0",
            self.spec.request_timeout,
            handled=False,
            appends=appends,
            producer_id=self.producer_id,
            idempotent=self.idempotent,
        )
        self._release_channel(broker.id, read, unmuted)

    def _release_channel(self, node: int, read: float, unmuted: simpy.Event) -> None:
        """The response is sent: the broker reads the connection's next request."""
        self.channel_busy[node] += self.env.now - read
        del self._channel_since[node]
        unmuted.succeed()

    def channel_busy_at(self, now: float) -> float:
        """Seconds the busiest connection's channel was held by a request up to ``now``
        (its requests are served one at a time: at 1.0 it is what limits the producer)."""
        busy = [
            self.channel_busy[node] + now - self._channel_since.get(node, now)
            for node in set(self.channel_busy) | set(self._channel_since)
        ]
        return max(busy, default=0.0)

    def _complete(self, batches: list[ProducerBatch], errors: list[str], now: float) -> None:
        measuring = now >= self.measure_from
        history = self.cluster.history
        for batch, error in zip(batches, errors, strict=True):
            self.in_flight_messages -= batch.messages
            self.in_flight_bytes -= batch.wire_bytes
            tp = self.tp(batch.partition)
            if error == "NONE" or not self._retriable(batch, error, now):
                self._outstanding[batch.partition].discard(batch.first_seq)
            if error == "NONE":
                # acks=0: the producer is never told the offset (RecordMetadata.offset() -1)
                offset = batch.base_offset if self.spec.acks != "0" else -1
                history.acknowledged(tp, self.producer_id, batch.first_seq, batch.messages, offset, now)
                self.acked += batch.messages
                self.acked_bytes += batch.wire_bytes
                if measuring:
                    # messages arrived evenly over [first, last]
                    self.latency.record_uniform(
                        now - batch.last_append, now - batch.first_append, batch.messages
                    )
                continue
            self.errors[error] += 1
            self._request_metadata_update()
            if not self._retriable(batch, error, now):
                # Sender.failBatch: the batch fails with the error of its last attempt
                self.failed[error] += batch.messages
                history.failed(tp, self.producer_id, batch.first_seq, batch.messages, error, now)
            else:
                # back to the front of its deque (in sequence order when idempotent:
                # RecordAccumulator.insertInSequenceOrder), where it backs off
                # retry.backoff.ms
                self.retries += 1
                self.acc.reenqueue(batch, now + self.spec.retry_backoff, in_sequence=self.idempotent)

    def _retriable(self, batch: ProducerBatch, error: str, now: float) -> bool:
        """``Sender.canRetry``: attempts left and ``delivery.timeout.ms`` not reached."""
        return (
            now - batch.first_append < self.spec.delivery_timeout
            and batch.attempts < self.spec.retries
        )

    def _wake(self) -> None:
        """A finished request: the sleeping Sender runs its next pass now."""
        if self._sleeping != -1:
            self._sleeping = -1
            wakeup = self.env.event()
            wakeup.callbacks.append(self._run_pass)
            wakeup.succeed()

    @property
    def memory_used(self) -> int:
        """Bytes of ``buffer.memory`` in use: batches in the accumulator, in flight, and
        waiting out a retry backoff (as the stepped engine counts them)."""
        return self.acc.buffered_bytes + self.in_flight_bytes

    @property
    def buffered(self) -> int:
        return self.acc.buffered_messages

    def tp(self, partition: int) -> TopicPartition:
        return self.cluster.topic_partitions(self.topic.name)[partition]

    def __repr__(self) -> str:
        return f"<Producer {self.name}: created {self.created}, acked {self.acked}, in flight {self.in_flight_messages}>"
