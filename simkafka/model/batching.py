"""Where a producer's unkeyed records go, batch by batch: the built-in sticky partitioner
(KIP-794) or the ``RoundRobinPartitioner``, followed record by record through the
accumulator's batching and the Sender's drain.

:func:`batch_unkeyed_records` plays a stream of equal-size, keyless records through one
partitioner and returns every batch the accumulator built: which partition it went to,
which records it holds, its size, when it was opened and when the Sender took it. It is
the record-by-record picture a learner needs to see why KIP-794 makes batches large; the
engines place records in bulk (:meth:`~simkafka.model.partitioner.BuiltInPartitioner.place_batched_records`)
to the same rules.

The accumulator, as ``RecordAccumulator.append`` does it: a record is appended to its
partition's open batch when it fits in ``batch.size`` bytes, otherwise the open batch is
closed (full) and the record opens a new one, whose size counts the batch header. The
sticky partitioner is told the appended bytes with ``enableSwitch = allBatchesFull`` (every
batch in the partition's deque closed, or none left), so it switches partition only after
``batch.size`` bytes went to the current one; a switch that was deferred because the
open batch was not yet full happens once the Sender has drained it. The Sender, as
``RecordAccumulator.ready`` decides: a closed batch is sent at once, an open one once it
waited ``linger.ms``. Pure: no clock of its own, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from simkafka.model.partitioner import (
    BuiltInPartitioner,
    RandomSource,
    RoundRobinPartitioner,
    TopicMetadata,
)

__all__ = ["RECORD_BATCH_OVERHEAD", "Batch", "batch_unkeyed_records"]

#: ``DefaultRecordBatch.RECORD_BATCH_OVERHEAD``: the v2 batch header, in bytes.
RECORD_BATCH_OVERHEAD = 61


@dataclass(frozen=True, slots=True)
class Batch:
    """One batch the accumulator built: records ``first_record .. last_record`` of the
    stream (by arrival order; a partition's batch holds consecutive records of *that
    partition*), ``size`` bytes with the header, open from ``opened_ms`` until the Sender
    took it at ``sent_ms``."""

    partition: int
    records: tuple[int, ...]
    size: int
    opened_ms: float
    sent_ms: float
    closed_full: bool


@dataclass
class _Open:
    partition: int
    records: list[int]
    size: int
    opened_ms: float
    closed_ms: float | None = None

    @property
    def closed(self) -> bool:
        return self.closed_ms is not None


def batch_unkeyed_records(
    arrivals_ms: Sequence[float],
    record_bytes: int,
    num_partitions: int,
    *,
    batch_size: int = 16384,
    linger_ms: float = 5.0,
    partitioner: str = "sticky",
    rng: RandomSource | None = None,
) -> list[Batch]:
    """The batches a producer builds for keyless records of ``record_bytes`` each
    (serialised size in the batch) arriving at ``arrivals_ms`` (non-decreasing), on a topic
    of ``num_partitions`` partitions that all have a leader.

    ``partitioner`` is ``"sticky"`` (the built-in partitioner, ``rng`` draws its switches
    as Kafka's ``ThreadLocalRandom`` does; adaptive partitioning is off, as with one idle
    broker per partition) or ``"round-robin"`` (``RoundRobinPartitioner``, Kafka 4.x).
    Returns the batches in the order the Sender took them; still open ones at the end are
    sent at their linger deadline."""
    if record_bytes < 1 or num_partitions < 1 or batch_size < 1:
        raise ValueError("record_bytes, num_partitions and batch_size must be >= 1")
    if partitioner not in ("sticky", "round-robin"):
        raise ValueError(f"partitioner is 'sticky' or 'round-robin' (got {partitioner!r})")
    metadata = TopicMetadata.all_available(num_partitions)
    sticky = None
    round_robin = None
    if partitioner == "sticky":
        if rng is None:
            raise ValueError("the sticky partitioner needs rng")
        sticky = BuiltInPartitioner("topic", batch_size, rng)
    else:
        round_robin = RoundRobinPartitioner()
    deques: dict[int, list[_Open]] = {p: [] for p in range(num_partitions)}
    sent: list[Batch] = []

    def send(batch: _Open, at: float) -> None:
        deques[batch.partition].remove(batch)
        sent.append(Batch(batch.partition, tuple(batch.records), batch.size, batch.opened_ms, at, batch.closed))

    def drain(now: float) -> None:
        ready = [(b.closed_ms if b.closed_ms is not None else b.opened_ms + linger_ms, p, b)
                 for p in range(num_partitions) for b in deques[p]
                 if b.closed or b.opened_ms + linger_ms <= now]
        for at, _p, batch in sorted(ready, key=lambda r: (r[0], r[1])):
            send(batch, at)

    def fits(p: int) -> bool:
        queue = deques[p]
        return bool(queue) and not queue[-1].closed and queue[-1].size + record_bytes <= batch_size

    def all_full(p: int) -> bool:
        queue = deques[p]
        return not queue or queue[-1].closed or queue[-1].size >= batch_size

    previous = float("-inf")
    for index, now in enumerate(arrivals_ms):
        if now < previous:
            raise ValueError("arrivals_ms must not decrease")
        previous = now
        drain(now)
        if sticky is not None:
            p = sticky.current_partition(metadata)
            if sticky.produced_bytes >= batch_size and all_full(p):
                sticky.update_partition_info(0, metadata, enable_switch=True)  # the deferred switch
                p = sticky.current_partition(metadata)
        else:
            assert round_robin is not None
            p = round_robin.partition_record("topic", None, metadata, lambda q: not fits(q))
        if fits(p):
            deques[p][-1].records.append(index)
            deques[p][-1].size += record_bytes
            appended = record_bytes
        else:
            if deques[p]:
                deques[p][-1].closed_ms = now
            deques[p].append(_Open(p, [index], RECORD_BATCH_OVERHEAD + record_bytes, now))
            appended = RECORD_BATCH_OVERHEAD + record_bytes
        if deques[p][-1].size >= batch_size:
            deques[p][-1].closed_ms = now
        if sticky is not None:
            sticky.update_partition_info(appended, metadata, enable_switch=all_full(p))
    drain(float("inf"))
    return sent
