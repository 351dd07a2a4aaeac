"""Kafka's producer partitioners, bit-exact.

Which partition a record lands on decides broker load, batch sizes and consumer lag, so
the simulator must place records exactly where a real ``KafkaProducer`` (4.0 or 4.1) would:

* keyed records: ``Utils.toPositive(Utils.murmur2(key)) % numPartitions``
  (``BuiltInPartitioner.partitionForKey``) -- reproduced with Java ``int`` overflow;
* unkeyed records (or ``partitioner.ignore.keys=true``): the KIP-794 sticky partitioner
  (``BuiltInPartitioner``) that stays on one partition until ``batch.size`` bytes were
  produced to it, then picks the next one at random -- uniformly among partitions with a
  leader, or, with ``partitioner.adaptive.partitioning.enable=true`` (the default),
  weighted towards partitions with short batch queues;
* ``RoundRobinPartitioner``, the one ``Partitioner`` implementation Kafka 4.0 and 4.1 still ship.

Randomness is injected (a ``numpy.random.Generator`` or a zero-argument callable
returning a non-negative int, the latter mirroring Kafka's ``BuiltInPartitioner.mockRandom``
test hook) so that a simulation is reproducible from its seed.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BatchShape",
    "BuiltInPartitioner",
    "PartitionQueue",
    "RoundRobinPartitioner",
    "TopicMetadata",
    "UNKNOWN_PARTITION",
    "choose_partition",
    "load_stats_from_queues",
    "murmur2",
    "partition_for_key",
    "partitions_for_keys",
    "sticky_stint_records",
    "to_positive",
]

#: ``RecordMetadata.UNKNOWN_PARTITION``: what ``KafkaProducer.partition`` returns when the
#: record accumulator's built-in sticky partitioner must decide.
UNKNOWN_PARTITION = -1

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK32 = 0xFFFFFFFF


def _to_int32(h: int) -> int:
    """Reinterpret an unsigned 32-bit value as Java's signed ``int``."""
    return h - 0x1_0000_0000 if h & 0x8000_0000 else h


def murmur2(data: bytes) -> int:
    """Kafka's ``Utils.murmur2``: 32-bit MurmurHash2 with seed ``0x9747b28c``.

    Computed on unsigned 32-bit values (Java ``int`` multiplication wraps the same way and
    ``>>>`` is a logical shift), then returned as a signed Java ``int`` like Kafka does.
    Bytes are read as ``data[i] & 0xff`` so bytes >= 0x80 (negative in Java) hash alike.
    """
    length = len(data)
    h = (_SEED ^ length) & _MASK32
    n4 = length & ~3
    for i in range(0, n4, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * _M) & _MASK32
        k ^= k >> 24
        k = (k * _M) & _MASK32
        h = ((h * _M) & _MASK32) ^ k
    # The Java switch falls through: case 3 -> case 2 -> case 1 (which multiplies).
    rem = length & 3
    if rem == 3:
        h ^= data[n4 + 2] << 16
    if rem >= 2:
        h ^= data[n4 + 1] << 8
    if rem >= 1:
        h ^= data[n4]
        h = (h * _M) & _MASK32
    h ^= h >> 13
    h = (h * _M) & _MASK32
    h ^= h >> 15
    return _to_int32(h)


def to_positive(n: int) -> int:
    """``Utils.toPositive``: clear the sign bit (not ``abs``: ``Integer.MIN_VALUE`` -> 0)."""
    return n & 0x7FFFFFFF


def partition_for_key(key: bytes, num_partitions: int) -> int:
    """``BuiltInPartitioner.partitionForKey``: the partition a keyed record goes to."""
    if num_partitions < 1:
        raise ValueError(f"num_partitions must be >= 1, got {num_partitions}")
    return to_positive(murmur2(key)) % num_partitions


def _murmur2_same_length(block: np.ndarray) -> np.ndarray:
    """Vectorised ``murmur2`` over an ``(n, length)`` uint8 matrix; returns uint32 hashes."""
    n, length = block.shape
    m = np.uint32(_M)
    h = np.full(n, (_SEED ^ length) & _MASK32, dtype=np.uint32)
    n4 = length & ~3
    if n4:
        words = np.ascontiguousarray(block[:, :n4]).view("<u4")
        for j in range(words.shape[1]):
            k = words[:, j] * m
            k ^= k >> np.uint32(24)
            k *= m
            h *= m
            h ^= k
    rem = length & 3
    if rem == 3:
        h ^= block[:, n4 + 2].astype(np.uint32) << np.uint32(16)
    if rem >= 2:
        h ^= block[:, n4 + 1].astype(np.uint32) << np.uint32(8)
    if rem >= 1:
        h ^= block[:, n4].astype(np.uint32)
        h *= m
    h ^= h >> np.uint32(13)
    h *= m
    h ^= h >> np.uint32(15)
    return h


def partitions_for_keys(keys: Sequence[bytes], num_partitions: int) -> np.ndarray:
    """Key -> partition table for many keys at once (int64 array, same order as ``keys``).

    Keys are grouped by length and each group is hashed as one uint32 matrix, so the cost
    is a handful of numpy passes per distinct key length instead of a Python loop per key.
    """
    if num_partitions < 1:
        raise ValueError(f"num_partitions must be >= 1, got {num_partitions}")
    out = np.empty(len(keys), dtype=np.int64)
    if not keys:
        return out
    lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys))
    order = np.argsort(lengths, kind="stable")
    sorted_lengths = lengths[order]
    bounds = np.flatnonzero(np.diff(sorted_lengths)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(keys)]))
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        idx = order[start:end]
        length = int(sorted_lengths[start])
        joined = b"".join([keys[i] for i in idx.tolist()])
        block = np.frombuffer(joined, dtype=np.uint8).reshape(end - start, length)
        hashes = _murmur2_same_length(block) & np.uint32(0x7FFFFFFF)
        out[idx] = (hashes % np.uint32(num_partitions)).astype(np.int64)
    return out


@dataclass(frozen=True, slots=True)
class TopicMetadata:
    """The slice of ``Cluster`` metadata a partitioner reads for one topic.

    ``available_partitions`` mirrors ``Cluster.availablePartitionsForTopic``: partitions
    that currently have a leader, in metadata order (the order matters, because Kafka
    indexes that list with ``random % size``).
    """

    num_partitions: int
    available_partitions: tuple[int, ...]

    @classmethod
    def all_available(cls, num_partitions: int) -> TopicMetadata:
        """Every partition has a leader (the healthy-cluster case)."""
        return cls(num_partitions, tuple(range(num_partitions)))

    @classmethod
    def from_leaders(cls, leaders: Sequence[int | None]) -> TopicMetadata:
        """Build from the leader of each partition (``None`` = no leader, unavailable)."""
        return cls(len(leaders), tuple(p for p, leader in enumerate(leaders) if leader is not None))


RandomSource = np.random.Generator | Callable[[], int]


def _random_int_source(rng: RandomSource) -> Callable[[], int]:
    """Kafka draws ``Utils.toPositive(ThreadLocalRandom.nextInt())``: uniform on [0, 2^31)."""
    if isinstance(rng, np.random.Generator):
        return lambda: int(rng.integers(0, 1 << 31))
    return rng


@dataclass(frozen=True, slots=True)
class PartitionQueue:
    """One entry of ``RecordAccumulator``'s per-topic batches map, as ``partitionReady`` sees it.

    ``queue_size`` is the number of batches in the partition's deque; ``leader_wait_ms`` is
    the leader node's ``NodeLatencyStats.readyTimeMs - drainTimeMs`` (how long data has
    been ready for that broker without being drained), or ``None`` if there are no stats.
    """

    partition: int
    has_leader: bool
    queue_size: int
    leader_wait_ms: float | None = None


def load_stats_from_queues(
    queues: Sequence[PartitionQueue],
    num_partitions: int,
    partition_availability_timeout_ms: float = 0,
    adaptive: bool = True,
) -> tuple[list[int], list[int], int] | None:
    """Rebuild the ``(queueSizes, partitionIds, length)`` that ``RecordAccumulator.partitionReady``
    hands to ``BuiltInPartitioner.updatePartitionLoadStats`` (``None`` = no stats, uniform).

    Kafka collects stats only once the batches map holds an entry for every partition of
    the topic. Leaderless partitions get no slot; a partition whose leader waited longer than
    ``partitioner.availability.timeout.ms`` (when > 0) has its slot given back by
    ``--queueSizesIndex``. An empty deque ``continue``s before its size is written, so its
    slot keeps whatever value was there -- 0 normally, but a just-excluded partition's size
    if it follows one; this reproduces that quirk.
    """
    if not adaptive or len(queues) < num_partitions:
        return None
    sizes = [0] * len(queues)
    ids = [0] * len(queues)
    index = -1
    for q in queues:
        if q.has_leader:
            index += 1
            ids[index] = q.partition
        if q.queue_size == 0:
            continue
        if q.has_leader:
            sizes[index] = q.queue_size
            if (
                partition_availability_timeout_ms > 0
                and q.leader_wait_ms is not None
                and q.leader_wait_ms > partition_availability_timeout_ms
            ):
                index -= 1
    return sizes, ids, index + 1


@dataclass(frozen=True, slots=True)
class BatchShape:
    """How the accumulator packs one partition's unkeyed records, which decides when the
    built-in partitioner may switch (``RecordAccumulator.append``):

    * a record that opens a batch counts the batch header too (``appendedBytes`` is the
      new batch's ``estimatedSizeInBytes``);
    * a switch is only enabled while every batch in the partition's deque is full
      (``allBatchesFull``), and a batch is full once closed -- when a record did not fit
      -- or when its estimated size reached ``batch.size`` (``full_when_filled``: only
      when the records fill it exactly). Otherwise the switch waits until
      ``2 * batch.size`` bytes, or until the Sender drained the deque.
    """

    records_per_batch: int
    header_bytes: int
    full_when_filled: bool = False

    @property
    def records_to_close(self) -> int:
        """Records appended when a batch closes: all that fit, plus the next one that
        does not -- unless the ones that fit fill it exactly."""
        return self.records_per_batch + (0 if self.full_when_filled else 1)


def _all_full(fill: int | None, shape: BatchShape) -> bool:
    """``allBatchesFull``: ``fill`` is the record count of the deque's last batch, None
    when the deque is empty (everything drained)."""
    return fill is None or (fill >= shape.records_per_batch and shape.full_when_filled)


class BuiltInPartitioner:
    """KIP-794 sticky partitioner for one topic (``producer.internals.BuiltInPartitioner``).

    A simulator drives it batch-wise: :meth:`current_partition` (``peekCurrentPartitionInfo``)
    says where unkeyed bytes go now, :meth:`bytes_until_switch` how many more bytes may go
    there before Kafka's per-record ``updatePartitionInfo`` would switch, and
    :meth:`place_batched_records` places a whole run of equal-size records in one call.
    """

    def __init__(self, topic: str, sticky_batch_size: int, rng: RandomSource) -> None:
        if sticky_batch_size < 1:
            raise ValueError(f"stickyBatchSize must be >= 1 but got {sticky_batch_size}")
        self.topic = topic
        #: ``batch.size`` -- KafkaProducer passes it as ``stickyBatchSize``.
        self.sticky_batch_size = sticky_batch_size
        self._random = _random_int_source(rng)
        self._cft: list[int] | None = None
        self._cft_ids: list[int] = []
        self._partition: int | None = None
        self._produced_bytes = 0

    # -- adaptive load stats -------------------------------------------------------
    def update_partition_load_stats(
        self,
        queue_sizes: Sequence[int] | None,
        partition_ids: Sequence[int] | None,
        length: int | None = None,
    ) -> None:
        """``updatePartitionLoadStats``: build the cumulative frequency table (CFT).

        Weights are ``maxSizePlus1 - queueSize`` over the first ``length`` entries, so a
        partition with a long queue (a slow broker) is picked less often but never starved.
        Adaptive logic is skipped (stats cleared, uniform choice) when there are no stats,
        fewer than 2 partitions in total, nothing left after exclusions, or all queue sizes
        are equal *and* nothing was excluded.
        """
        if queue_sizes is None or partition_ids is None:
            self._cft = None
            return
        n_all = len(queue_sizes)
        if length is None:
            length = n_all
        if length < 1 or n_all < 2:
            self._cft = None
            return
        # Like Kafka, maxSizePlus1 and allEqual consider only the first `length` entries.
        max_size = queue_sizes[0]
        all_equal = True
        for size in queue_sizes[1:length]:
            if size != queue_sizes[0]:
                all_equal = False
            max_size = max(max_size, size)
        if all_equal and length == n_all:
            self._cft = None
            return
        cft: list[int] = []
        running = 0
        for size in queue_sizes[:length]:
            running += max_size + 1 - size
            cft.append(running)
        self._cft = cft
        self._cft_ids = list(partition_ids[:length])

    def update_from_queues(
        self,
        queues: Sequence[PartitionQueue],
        num_partitions: int,
        partition_availability_timeout_ms: float = 0,
        adaptive: bool = True,
    ) -> None:
        """What ``RecordAccumulator.ready`` does for this topic on every Sender loop."""
        stats = load_stats_from_queues(
            queues, num_partitions, partition_availability_timeout_ms, adaptive
        )
        if stats is None:
            self.update_partition_load_stats(None, None)
        else:
            self.update_partition_load_stats(*stats)

    def load_stats_range_end(self) -> int:
        """``loadStatsRangeEnd``: sum of all weights (the random draw is taken modulo this)."""
        if self._cft is None:
            raise ValueError("no partition load stats")
        return self._cft[-1]

    @property
    def adaptive_active(self) -> bool:
        """True when the next switch uses the weighted CFT rather than a uniform choice."""
        return self._cft is not None

    # -- sticky partition ---------------------------------------------------------
    def next_partition(self, metadata: TopicMetadata) -> int:
        """``nextPartition``: draw the partition to switch to (does not switch)."""
        random = self._random()
        if self._cft is None:
            available = metadata.available_partitions
            if available:
                return available[random % len(available)]
            return random % metadata.num_partitions
        weighted = random % self._cft[-1]
        # First CFT entry strictly greater than the draw (Kafka: abs(binarySearch + 1)).
        return self._cft_ids[bisect.bisect_right(self._cft, weighted)]

    def current_partition(self, metadata: TopicMetadata) -> int:
        """``peekCurrentPartitionInfo``: the sticky partition, choosing one on first use."""
        if self._partition is None:
            self._partition = self.next_partition(metadata)
            self._produced_bytes = 0
        return self._partition

    @property
    def produced_bytes(self) -> int:
        """Bytes produced to the current sticky partition (``StickyPartitionInfo.producedBytes``)."""
        return self._produced_bytes

    def update_partition_info(
        self, appended_bytes: int, metadata: TopicMetadata, enable_switch: bool = True
    ) -> bool:
        """``updatePartitionInfo``: count appended bytes; maybe switch. Returns True on switch.

        Only unkeyed records count: ``RecordAccumulator.append`` passes a null
        ``StickyPartitionInfo`` for records whose partition was already known (keyed or
        explicit), so their bytes never move the sticky partition.

        Switches once ``producedBytes >= stickyBatchSize`` (and ``enable_switch``, which
        ``RecordAccumulator`` sets to "all batches in the deque are full" so that switching
        aligns with batch boundaries), and unconditionally at ``2 * stickyBatchSize``.
        """
        if self._partition is None:
            self.current_partition(metadata)
        self._produced_bytes += appended_bytes
        produced = self._produced_bytes
        if (produced >= self.sticky_batch_size and enable_switch) or (
            produced >= 2 * self.sticky_batch_size
        ):
            self._partition = self.next_partition(metadata)
            self._produced_bytes = 0
            return True
        return False

    def bytes_until_switch(self, enable_switch: bool = True) -> int:
        """Bytes that can still be appended before the threshold is reached (>= 1).

        The record whose append reaches the threshold still goes to the current partition;
        only the *next* record goes elsewhere.
        """
        limit = self.sticky_batch_size if enable_switch else 2 * self.sticky_batch_size
        return max(1, limit - self._produced_bytes)

    def place_batched_records(
        self,
        record_bytes: int,
        count: int,
        metadata: TopicMetadata,
        shape: BatchShape,
        last_batch: Callable[[int], int | None],
    ) -> list[tuple[int, int]]:
        """Place ``count`` unkeyed records of ``record_bytes`` each, appended back to back
        (no drain in between), exactly as ``RecordAccumulator.append`` would per record.

        ``last_batch(p)`` is the record count of partition ``p``'s last queued batch, or
        None when its deque is empty. Per record: the deferred switch is completed first
        if the deque is all full (``partitionChanged``); the record's ``appendedBytes``
        include the header when it opens a batch; then ``updatePartitionInfo`` runs with
        ``enableSwitch = allBatchesFull``. Returns ``(partition, n_records)`` runs; the
        cost is one step per batch, not per record.
        """
        if record_bytes < 1:
            raise ValueError("record_bytes must be >= 1")
        m = max(1, shape.records_per_batch)
        threshold = self.sticky_batch_size
        seen: dict[int, int | None] = {}  # partitions appended to in this call
        runs: list[tuple[int, int]] = []
        remaining = count
        while remaining > 0:
            p = self.current_partition(metadata)
            fill = seen[p] if p in seen else last_batch(p)
            if self._produced_bytes >= threshold and _all_full(fill, shape):
                self.update_partition_info(0, metadata, enable_switch=True)
                continue
            placed, switched = 0, False
            while placed < remaining and not switched:
                if fill is None or fill >= m:  # the record opens a new batch
                    self._produced_bytes += shape.header_bytes + record_bytes
                    fill, placed = 1, placed + 1
                else:  # records that still fit, stopping at the 2 x batch.size switch
                    until_forced = -(-(2 * threshold - self._produced_bytes) // record_bytes)
                    k = min(m - fill, max(1, until_forced), remaining - placed)
                    self._produced_bytes += k * record_bytes
                    fill, placed = fill + k, placed + k
                produced = self._produced_bytes
                if produced >= 2 * threshold or (produced >= threshold and _all_full(fill, shape)):
                    self._partition = self.next_partition(metadata)
                    self._produced_bytes = 0
                    switched = True
            seen[p] = fill
            if runs and runs[-1][0] == p:
                runs[-1] = (p, runs[-1][1] + placed)
            else:
                runs.append((p, placed))
            remaining -= placed
        return runs


def sticky_stint_records(record_bytes: int, sticky_batch_size: int, shape: BatchShape) -> int:
    """Records the built-in partitioner sends to one partition before it switches, when
    they are appended back to back to an empty deque with no drain in between -- what a
    model that does not follow the Sender record by record can use (1 KiB records and a
    16 KiB ``batch.size``: 32, two full batches and two records over)."""
    counter = iter(range(1 << 31))
    probe = BuiltInPartitioner("stint", sticky_batch_size, lambda: next(counter))
    enough = 2 * sticky_batch_size // max(1, record_bytes) + 2
    runs = probe.place_batched_records(
        record_bytes, enough, TopicMetadata.all_available(2), shape, lambda _: None
    )
    return runs[0][1]


class RoundRobinPartitioner:
    """``org.apache.kafka.clients.producer.RoundRobinPartitioner`` (Kafka 4.0 and 4.1 semantics).

    A per-topic counter (``AtomicInteger`` starting at 0, ``getAndIncrement``) indexes the
    available partitions, or all partitions when none has a leader; keys are ignored.

    The ``onNewBatch`` quirk: with any ``partitioner.class`` set, ``KafkaProducer.doSend``
    appends with ``abortOnNewBatch=true``; when the chosen partition has no open batch with
    room, it calls ``onNewBatch(topic, cluster, prevPartition)`` and then ``partition()``
    *again* for the same record. Before KAFKA-17632 (fixed in 3.9.2 / 4.0.0; reported
    earlier as KAFKA-9965 / KAFKA-16283) ``onNewBatch`` was a no-op, so the counter moved
    twice for every record that opened a batch -- with an even partition count and one
    record per batch only even partitions ever got data. The fix remembers
    ``prevPartition`` (a ``ThreadLocal<TopicPartition>``) and returns it, without touching
    the counter, on the next ``partition()`` call for the same topic. ``kafka_17632_fixed``
    selects which behaviour to reproduce (default: the fixed one of 4.0 and 4.1).
    """

    name = "org.apache.kafka.clients.producer.RoundRobinPartitioner"

    def __init__(self, kafka_17632_fixed: bool = True) -> None:
        self.kafka_17632_fixed = kafka_17632_fixed
        self._counters: dict[str, int] = {}
        # The ThreadLocal of the fix; one producer thread is modelled.
        self._previous: tuple[str, int] | None = None

    def _next_value(self, topic: str) -> int:
        value = self._counters.get(topic, 0)
        # AtomicInteger wraps at 2^31; toPositive() below absorbs the sign flip.
        self._counters[topic] = _to_int32((value + 1) & _MASK32)
        return value

    def partition(self, topic: str, key: bytes | None, metadata: TopicMetadata) -> int:
        """``partition(topic, key, keyBytes, value, valueBytes, cluster)``."""
        previous = self._previous
        if previous is not None:
            self._previous = None
            if previous[0] == topic:
                return previous[1]
        next_value = to_positive(self._next_value(topic))
        available = metadata.available_partitions
        if available:
            return available[next_value % len(available)]
        return next_value % metadata.num_partitions

    def on_new_batch(self, topic: str, prev_partition: int) -> None:
        """``onNewBatch``: a no-op before KAFKA-17632, "remember prevPartition" after it."""
        if self.kafka_17632_fixed:
            self._previous = (topic, prev_partition)

    def partition_record(
        self,
        topic: str,
        key: bytes | None,
        metadata: TopicMetadata,
        opens_new_batch: Callable[[int], bool],
    ) -> int:
        """The partition a record really goes to, following ``KafkaProducer.doSend``.

        ``opens_new_batch(partition)`` answers whether appending to ``partition`` needs a
        new batch (``RecordAppendResult.abortForNewBatch``); if so Kafka calls
        :meth:`on_new_batch` and partitions the record a second time.
        """
        chosen = self.partition(topic, key, metadata)
        if opens_new_batch(chosen):
            self.on_new_batch(topic, chosen)
            chosen = self.partition(topic, key, metadata)
        return chosen


def choose_partition(
    key: bytes | None,
    metadata: TopicMetadata,
    *,
    topic: str = "",
    explicit_partition: int | None = None,
    custom_partitioner: RoundRobinPartitioner | None = None,
    partitioner_ignore_keys: bool = False,
    built_in: BuiltInPartitioner | None = None,
) -> int:
    """Dispatch like ``KafkaProducer.partition()`` followed by ``RecordAccumulator.append``.

    Order: the record's explicit partition > a configured ``partitioner.class`` > murmur2 of
    the serialized key (unless ``partitioner.ignore.keys=true``) > the built-in sticky
    partition. Without ``built_in`` the sticky case returns :data:`UNKNOWN_PARTITION`, as
    ``KafkaProducer.partition`` does; with it, the current sticky partition (the caller
    reports appended bytes via ``built_in.update_partition_info``).
    """
    if explicit_partition is not None:
        return explicit_partition
    if custom_partitioner is not None:
        chosen = custom_partitioner.partition(topic, key, metadata)
        if chosen < 0:
            raise ValueError(f"partitioner returned negative partition {chosen}")
        return chosen
    if key is not None and not partitioner_ignore_keys:
        return partition_for_key(key, metadata.num_partitions)
    if built_in is None:
        return UNKNOWN_PARTITION
    return built_in.current_partition(metadata)
