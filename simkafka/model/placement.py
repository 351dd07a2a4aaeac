"""Kafka's two replica placers, draw for draw.

* :func:`place_replicas_striped` -- the KRaft controller's
  ``org.apache.kafka.metadata.placement.StripedReplicaPlacer``: racks are striped
  round-robin from a random rack offset, brokers are taken round-robin inside a rack from
  a random per-rack offset, unfenced brokers first and fenced ones only when needed (never
  as leader). After as many partitions as there are unfenced brokers the rack and broker
  lists are reshuffled with ``Collections.shuffle``.
* :func:`assign_replicas_to_brokers` -- the ZooKeeper-era ``AdminUtils.assignReplicasToBrokers``
  (Scala ``kafka.admin.AdminUtils``, Java ``org.apache.kafka.admin.AdminUtils``): leaders
  round-robin from a random start index, followers at an increasing shift, and with racks
  a rack-alternated broker list plus the skip rule for racks/brokers already holding a
  replica.

Both take a :class:`~simkafka.model.java_random.JavaRandom` and consume it in exactly
Kafka's order, so the same seed gives the same layout Kafka would produce. One JDK detail
matters for that: ``StripedReplicaPlacer.RackList`` initialises (and reshuffles) its racks
by iterating a ``HashMap<Optional<String>, Rack>``, so the order of the random draws is the
HashMap's bucket order of the rack names; :func:`java_hashmap_order` reproduces it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

from simkafka.model.java_random import JavaRandom, collections_shuffle, to_int32
from simkafka.model.types import BrokerInfo

K = TypeVar("K", bound=Hashable)


class InvalidReplicationFactor(ValueError):
    """Kafka's ``InvalidReplicationFactorException``; ``str()`` is Kafka's message."""


class InvalidPartitions(ValueError):
    """Kafka's ``InvalidPartitionsException``; ``str()`` is Kafka's message."""


class AdminOperationError(ValueError):
    """Kafka's ``AdminOperationException`` (e.g. rack information on only some brokers)."""


# --------------------------------------------------------------------------------------
# The two JDK behaviours the placers depend on: String.hashCode/compareTo and HashMap order
# --------------------------------------------------------------------------------------


def java_string_hash(value: str) -> int:
    """``String.hashCode()``: ``s[0]*31^(n-1) + ... + s[n-1]`` over UTF-16 code units, as an int."""
    h = 0
    data = value.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return to_int32(h)


def _optional_string_hash(rack: str | None) -> int:
    # Optional.hashCode() is Objects.hashCode(value): 0 for Optional.empty().
    return 0 if rack is None else java_string_hash(rack)


def optional_string_key(rack: str | None) -> tuple[int, bytes]:
    """Sort key of ``OptionalStringComparator``: empty first, then ``String.compareTo``.

    ``compareTo`` compares UTF-16 code units, which big-endian UTF-16 bytes preserve
    (Python's own ``str`` order compares code points and differs above U+FFFF).
    """
    if rack is None:
        return (0, b"")
    return (1, rack.encode("utf-16-be", "surrogatepass"))


def java_hashmap_order(keys: Iterable[K], hash_code: Callable[[K], int]) -> list[K]:
    """The iteration order of a default ``java.util.HashMap`` after putting ``keys`` in order.

    Mirrors ``HashMap.putVal``: 16 buckets, bucket ``(h ^ h >>> 16) & (n - 1)``, new keys
    appended to their bucket, doubling when the size exceeds 0.75 n, and
    ``treeifyBin``'s resize when a bucket reaches 9 keys in a table smaller than 64. A
    resize splits each bucket preserving order, so a bucket always lists its keys in
    insertion order. Approximation: a bucket that would really be treeified (9+ equal
    low-hash keys in a table of 64+) keeps insertion order; Kafka's order there depends
    on identity hash codes (``Optional`` is not ``Comparable``) and is not reproducible.
    """
    capacity = 16
    buckets: list[list[tuple[int, K]]] = [[] for _ in range(capacity)]
    seen: set[K] = set()
    size = 0

    def resize() -> None:
        nonlocal capacity, buckets
        capacity *= 2
        new: list[list[tuple[int, K]]] = [[] for _ in range(capacity)]
        for bucket in buckets:
            for entry in bucket:
                new[entry[0] & (capacity - 1)].append(entry)
        buckets = new

    for key in keys:
        if key in seen:
            continue
        seen.add(key)
        h = hash_code(key) & 0xFFFFFFFF
        h ^= h >> 16
        bucket = buckets[h & (capacity - 1)]
        bucket.append((h, key))
        if len(bucket) >= 9 and capacity < 64:  # treeifyBin -> resize()
            resize()
        size += 1
        if size > capacity * 3 // 4:
            resize()
    return [key for bucket in buckets for _, key in bucket]


# --------------------------------------------------------------------------------------
# StripedReplicaPlacer
# --------------------------------------------------------------------------------------


class BrokerList:
    """``StripedReplicaPlacer.BrokerList``: sorted broker ids iterated from a moving offset.

    Each iteration *epoch* returns every broker once, starting one position further
    than the previous epoch did; ``next`` returns -1 once the epoch is exhausted.
    """

    __slots__ = ("brokers", "epoch", "index", "offset")

    def __init__(self, brokers: Iterable[int] = ()) -> None:
        self.brokers: list[int] = list(brokers)
        self.index = 0
        self.offset = 0
        self.epoch = 0

    def add(self, broker: int) -> BrokerList:
        self.brokers.append(broker)
        return self

    def size(self) -> int:
        return len(self.brokers)

    def initialize(self, rng: JavaRandom) -> None:
        """Sort and draw the start offset -- no draw at all for an empty list."""
        if self.brokers:
            self.brokers.sort()
            self.offset = rng.next_int(len(self.brokers))

    def shuffle(self, rng: JavaRandom) -> None:
        collections_shuffle(self.brokers, rng)

    def next(self, epoch: int) -> int:
        if not self.brokers:
            return -1
        if self.epoch != epoch:
            self.epoch = epoch
            self.index = 0
            self.offset = (self.offset + 1) % len(self.brokers)
        if self.index >= len(self.brokers):
            return -1
        broker = self.brokers[(self.index + self.offset) % len(self.brokers)]
        self.index += 1
        return broker


class Rack:
    """``StripedReplicaPlacer.Rack``: separate fenced and unfenced broker lists."""

    __slots__ = ("fenced", "unfenced")

    def __init__(self) -> None:
        self.fenced = BrokerList()
        self.unfenced = BrokerList()

    def initialize(self, rng: JavaRandom) -> None:
        # Kafka initialises the fenced list first: its draw precedes the unfenced one.
        self.fenced.initialize(rng)
        self.unfenced.initialize(rng)

    def shuffle(self, rng: JavaRandom) -> None:
        self.fenced.shuffle(rng)
        self.unfenced.shuffle(rng)

    def next_unfenced(self, epoch: int) -> int:
        return self.unfenced.next(epoch)

    def next(self, epoch: int) -> int:
        result = self.unfenced.next(epoch)
        return result if result >= 0 else self.fenced.next(epoch)


def _check_positive(replication_factor: int) -> None:
    if replication_factor <= 0:
        raise InvalidReplicationFactor(
            f"Invalid replication factor {replication_factor}: the replication factor must be positive."
        )


def _check_some_unfenced(num_unfenced: int) -> None:
    if num_unfenced == 0:
        raise InvalidReplicationFactor("All brokers are currently fenced.")


def _check_enough_brokers(replication_factor: int, num_total: int) -> None:
    if replication_factor > num_total:
        raise InvalidReplicationFactor(
            f"The target replication factor of {replication_factor} cannot be reached because only "
            f"{num_total} broker(s) are registered."
        )


class RackList:
    """``StripedReplicaPlacer.RackList``: the state the placer carries across partitions.

    Construction consumes the random stream in Kafka's order: for every rack in
    ``HashMap`` order one draw for its fenced list (if non-empty) then one for its
    unfenced list (if non-empty), then one draw for the rack offset. It knows nothing of a
    topic's existing partitions: Kafka 4.0 and 4.1 place partitions added by
    ``CreatePartitions`` exactly like those of a new topic (continuing from the existing
    ones was proposed in KAFKA-14437, apache/kafka#12943, and never merged).

    Kept Kafka quirk: ``BrokerList.next`` resets only when the epoch *changes*, and the
    reshuffle resets the rack list's epoch to 0, so a broker list last used in epoch 0 and
    skipped since still counts as exhausted -- its rack then offers a fenced broker, or
    nothing, although an unfenced one is free.
    """

    def __init__(self, rng: JavaRandom, brokers: Iterable[BrokerInfo]) -> None:
        self._rng = rng
        self._racks: dict[str | None, Rack] = {}
        self.rack_names: list[str | None] = []
        total = unfenced = 0
        for broker in brokers:
            rack = self._racks.get(broker.rack)
            if rack is None:
                rack = self._racks[broker.rack] = Rack()
                self.rack_names.append(broker.rack)
            if broker.fenced:
                rack.fenced.add(broker.id)
            else:
                unfenced += 1
                rack.unfenced.add(broker.id)
            total += 1
        self._hash_order = java_hashmap_order(self.rack_names, _optional_string_hash)
        for name in self._hash_order:
            self._racks[name].initialize(rng)
        self.rack_names.sort(key=optional_string_key)
        self.num_total_brokers = total
        self.num_unfenced_brokers = unfenced
        self.epoch = 0
        self.offset = rng.next_int(len(self.rack_names)) if self.rack_names else 0

    def rack(self, name: str | None) -> Rack:
        return self._racks[name]

    def place(self, replication_factor: int) -> list[int]:
        """Replicas of the next partition: leader from the first rack with an unfenced broker."""
        _check_positive(replication_factor)
        _check_enough_brokers(replication_factor, self.num_total_brokers)
        _check_some_unfenced(self.num_unfenced_brokers)
        # After one placement per unfenced broker, reshuffle to avoid repeating the same
        # sets (but never with a single unfenced broker, which would loop forever).
        if self.epoch == self.num_unfenced_brokers and self.num_unfenced_brokers > 1:
            self._shuffle()
            self.epoch = 0
        if self.offset == len(self.rack_names):
            self.offset = 0
        names, racks, epoch = self.rack_names, self._racks, self.epoch
        replicas: list[int] = []
        first_rack = self.offset
        misses = 0
        while True:
            result = racks[names[first_rack]].next_unfenced(epoch)
            if result >= 0:
                replicas.append(result)
                break
            first_rack = (first_rack + 1) % len(names)
            misses = self._check_progress(misses)
        rack_index = self.offset
        for _ in range(1, replication_factor):
            result = -1
            misses = 0
            while result < 0:
                if rack_index == first_rack:
                    first_rack = -1  # the leader's rack was already visited for this pass
                else:
                    result = racks[names[rack_index]].next(epoch)
                rack_index = (rack_index + 1) % len(names)
                misses = self._check_progress(misses)
            replicas.append(result)
        self.epoch += 1
        self.offset += 1
        return replicas

    def _check_progress(self, misses: int) -> int:
        """Guard the rack loops: Kafka's would spin forever once every rack is exhausted."""
        misses += 1
        if misses > 2 * len(self.rack_names) + 1:
            raise RuntimeError("StripedReplicaPlacer found no broker in any rack for this epoch")
        return misses

    def _shuffle(self) -> None:
        collections_shuffle(self.rack_names, self._rng)
        for name in self._hash_order:
            self._racks[name].shuffle(self._rng)


def place_replicas_striped(
    brokers: Sequence[BrokerInfo],
    num_partitions: int,
    replication_factor: int,
    rng: JavaRandom,
) -> list[list[int]]:
    """``StripedReplicaPlacer.place``: replica lists for ``num_partitions`` new partitions.

    New partitions of an existing topic (``kafka-topics.sh --alter --partitions``) are
    placed the same way, from fresh draws, without looking at the topic's other partitions.

    The rack list is built (consuming random draws) before the checks, and the checks run
    in Kafka's order: positive replication factor, some unfenced broker, enough brokers.
    """
    rack_list = RackList(rng, brokers)
    _check_positive(replication_factor)
    _check_some_unfenced(rack_list.num_unfenced_brokers)
    _check_enough_brokers(replication_factor, rack_list.num_total_brokers)
    return [rack_list.place(replication_factor) for _ in range(num_partitions)]


# --------------------------------------------------------------------------------------
# AdminUtils.assignReplicasToBrokers (ZooKeeper era, also used by the reassignment tool)
# --------------------------------------------------------------------------------------


def replica_index(
    first_replica_index: int, second_replica_shift: int, replica: int, n_brokers: int
) -> int:
    """``AdminUtils.replicaIndex``: follower ``replica`` at the shift, never the leader's slot."""
    shift = 1 + (second_replica_shift + replica) % (n_brokers - 1)
    return (first_replica_index + shift) % n_brokers


def rack_alternated_broker_list(broker_racks: Mapping[int, str]) -> list[int]:
    """``AdminUtils.getRackAlternatedBrokerList``: one broker per rack in turn.

    Racks in ``String`` order, brokers ascending within a rack: rack1 {0, 1}, rack2 {3}
    gives 0, 3, 1.
    """
    by_rack: dict[str, list[int]] = {}
    for broker, rack in broker_racks.items():
        by_rack.setdefault(rack, []).append(broker)
    racks = sorted(by_rack, key=lambda r: r.encode("utf-16-be", "surrogatepass"))
    queues = [sorted(by_rack[r]) for r in racks]
    result: list[int] = []
    depth = 0
    while len(result) < len(broker_racks):
        result.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    return result


def assign_replicas_to_brokers(
    brokers: Sequence[BrokerInfo],
    num_partitions: int,
    replication_factor: int,
    *,
    fixed_start_index: int = -1,
    start_partition_id: int = -1,
    rng: JavaRandom | None = None,
) -> dict[int, list[int]]:
    """``AdminUtils.assignReplicasToBrokers``: partition id -> replica list.

    Rack-unaware when no broker has a rack, rack-aware when all have one, Kafka's
    ``AdminOperationException`` when only some do. Without ``fixed_start_index`` the start
    index and then the replica shift are drawn with ``nextInt(#brokers)``, in that order.
    Brokers are used in the order given (Kafka's callers pass them sorted by id).
    """
    if num_partitions <= 0:
        raise InvalidPartitions("Number of partitions must be larger than 0.")
    if replication_factor <= 0:
        raise InvalidReplicationFactor("Replication factor must be larger than 0.")
    if replication_factor > len(brokers):
        raise InvalidReplicationFactor(
            f"Replication factor: {replication_factor} larger than available brokers: {len(brokers)}."
        )
    if fixed_start_index < 0 and rng is None:
        raise ValueError("a JavaRandom is needed unless fixed_start_index >= 0")
    if all(b.rack is None for b in brokers):
        ids = [b.id for b in brokers]
        return _assign_rack_unaware(
            num_partitions, replication_factor, ids, fixed_start_index, start_partition_id, rng
        )
    if any(b.rack is None for b in brokers):
        raise AdminOperationError(
            "Not all brokers have rack information for replica rack aware assignment."
        )
    broker_racks = {b.id: b.rack for b in brokers if b.rack is not None}
    return _assign_rack_aware(
        num_partitions, replication_factor, broker_racks, fixed_start_index, start_partition_id, rng
    )


def _starts(n: int, fixed_start_index: int, rng: JavaRandom | None) -> tuple[int, int]:
    if fixed_start_index >= 0:
        return fixed_start_index, fixed_start_index
    assert rng is not None
    start_index = rng.next_int(n)
    return start_index, rng.next_int(n)


def _assign_rack_unaware(
    num_partitions: int,
    replication_factor: int,
    broker_ids: Sequence[int],
    fixed_start_index: int,
    start_partition_id: int,
    rng: JavaRandom | None,
) -> dict[int, list[int]]:
    n = len(broker_ids)
    start_index, next_replica_shift = _starts(n, fixed_start_index, rng)
    partition = max(0, start_partition_id)
    result: dict[int, list[int]] = {}
    for _ in range(num_partitions):
        # Every full round of leaders moves the followers one step further away.
        if partition > 0 and partition % n == 0:
            next_replica_shift += 1
        first = (partition + start_index) % n
        replicas = [broker_ids[first]]
        replicas.extend(
            broker_ids[replica_index(first, next_replica_shift, j, n)]
            for j in range(replication_factor - 1)
        )
        result[partition] = replicas
        partition += 1
    return result


def _assign_rack_aware(
    num_partitions: int,
    replication_factor: int,
    broker_racks: Mapping[int, str],
    fixed_start_index: int,
    start_partition_id: int,
    rng: JavaRandom | None,
) -> dict[int, list[int]]:
    num_racks = len(set(broker_racks.values()))
    arranged = rack_alternated_broker_list(broker_racks)
    n = len(arranged)
    start_index, next_replica_shift = _starts(n, fixed_start_index, rng)
    partition = max(0, start_partition_id)
    result: dict[int, list[int]] = {}
    for _ in range(num_partitions):
        if partition > 0 and partition % n == 0:
            next_replica_shift += 1
        first = (partition + start_index) % n
        leader = arranged[first]
        replicas = [leader]
        racks_with_replicas = {broker_racks[leader]}
        brokers_with_replicas = {leader}
        k = 0
        for _ in range(replication_factor - 1):
            while True:
                broker = arranged[replica_index(first, next_replica_shift * num_racks, k, n)]
                rack = broker_racks[broker]
                k += 1
                # Skip a broker whose rack already has a replica while some rack has none,
                # or that already has a replica while some broker has none.
                if (rack not in racks_with_replicas or len(racks_with_replicas) == num_racks) and (
                    broker not in brokers_with_replicas or len(brokers_with_replicas) == n
                ):
                    replicas.append(broker)
                    racks_with_replicas.add(rack)
                    brokers_with_replicas.add(broker)
                    break
        result[partition] = replicas
        partition += 1
    return result


# --------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------


def placement_summary(
    assignment: Sequence[Sequence[int]] | Mapping[int, Sequence[int]],
    brokers: Sequence[BrokerInfo] = (),
) -> dict[str, dict[int, int]]:
    """Replicas and preferred leaders per broker, and distinct racks per partition.

    Accepts either placer's output. Brokers listed in ``brokers`` appear with zero
    counts even when they received nothing; ``racks_per_partition`` needs their racks.
    """
    items = assignment.items() if isinstance(assignment, Mapping) else enumerate(assignment)
    rack_of = {b.id: b.rack for b in brokers}
    replicas = {b.id: 0 for b in brokers}
    leaders = {b.id: 0 for b in brokers}
    racks_per_partition: dict[int, int] = {}
    for partition, replica_list in items:
        if replica_list:
            leaders[replica_list[0]] = leaders.get(replica_list[0], 0) + 1
        for broker in replica_list:
            replicas[broker] = replicas.get(broker, 0) + 1
        racks_per_partition[partition] = len({rack_of.get(b) for b in replica_list})
    return {"replicas": replicas, "leaders": leaders, "racks_per_partition": racks_per_partition}
