"""The producer's ``RecordAccumulator``, at batch granularity.

Messages are never objects here. Between two sender wake-ups a producer appends a
*quantity* of messages to each partition (numpy arrays over partitions); the accumulator
turns those quantities into ``ProducerBatch`` objects exactly where Kafka's would close
one: when the next record does not fit (``tryAppend`` fails and the batch is closed for
appends) -- or at once, when the records fill ``batch.size`` exactly (``isFull``). A batch
holding all the records that fit is not full yet: it waits for one more record, or for
``linger.ms``. Which batches the sender may take follows ``RecordAccumulator.ready`` /
``drain``:

* a partition is *sendable* when its first batch is closed (``deque.size() > 1`` or
  ``isFull``), or has waited ``linger.ms``;
* a broker (node) is *ready* when one of the partitions it leads is sendable and the
  connection has fewer than ``max.in.flight.requests.per.connection`` requests out;
* draining a ready node takes the first batch of **every** partition it leads -- full or
  not -- up to ``max.request.size``, starting where the previous drain stopped. That is
  why one ProduceRequest per broker carries many partitions.

Message counts are integers (a fractional remainder is carried per partition), so every
produced message is accounted for; bytes are uncompressed record bytes until the batch
closes, when the compression ratio and record-batch framing give its wire size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simkafka.model.partitioner import BatchShape
from simkafka.sim.storage import total_record_size

if TYPE_CHECKING:
    from simkafka.scenario import ProducerSpec

# DefaultRecordBatch.RECORD_BATCH_OVERHEAD: the v2 batch header.
RECORD_BATCH_OVERHEAD = 61
# A v2 record adds a length varint, attributes, timestamp and offset deltas, key and value
# lengths and a header count to its key and value: 7-9 bytes for small deltas.
RECORD_OVERHEAD = 8


@dataclass(slots=True)
class ProducerBatch:
    """One closed record batch for one partition."""

    partition: int
    messages: int
    record_bytes: int  # uncompressed key + value + per-record overhead
    wire_bytes: int  # what is sent and stored: compressed records + batch header
    first_append: float  # when its first message was appended
    last_append: float  # when its last message was appended
    attempts: int = 0
    # the producer's sequence number of its first record (assigned when the batch is first
    # drained, as Kafka's idempotent producer does) and the offset the leader appended it at
    first_seq: int = -1
    base_offset: int = -1


def kafka_batch_size(configured: float) -> int:
    """The batch size ``KafkaProducer`` hands its accumulator and partitioner:
    ``Math.max(1, batch.size)`` -- ``batch.size: 0`` disables batching (one record per
    batch) and must not reach ``BuiltInPartitioner``, which refuses a size below 1."""
    return max(1, int(configured))


def mean_record_overhead(records: int, key_bytes: int | None, value_bytes: int) -> float:
    """Mean framing bytes per record of a batch of ``records`` (``DefaultRecord.sizeInBytes``
    minus key and value; timestamp deltas under 64 ms take one byte)."""
    payload = (key_bytes or 0) + value_bytes
    return total_record_size(records, key_bytes, value_bytes) / records - payload


class RecordAccumulator:
    """Per-partition open batches and queues of closed ones for one producer instance."""

    @classmethod
    def of(cls, spec: ProducerSpec, num_partitions: int = 1, **kwargs: int) -> RecordAccumulator:
        """The accumulator of one instance of producer ``spec``: its ``batch.size``,
        ``linger.ms`` and compression, and its mean record -- the mean value size and, for
        keyed records, the longest key ``key-<count - 1>`` (every engine sizes alike)."""
        key_bytes = float(len(f"key-{(spec.keys.count or 1) - 1}")) if spec.keys.keyed else 0.0
        return cls(
            num_partitions,
            batch_size=int(spec.batch_size),
            linger=spec.linger,
            compression_ratio=spec.effective_compression_ratio,
            message_bytes=spec.message_size.mean,
            key_bytes=key_bytes,
            **kwargs,
        )

    @property
    def full_batch_wire_per_record(self) -> float:
        """Bytes a record takes on the wire and in the log in a full batch: its own,
        compressed, and its share of the batch header."""
        return self.record_bytes * self.compression_ratio + RECORD_BATCH_OVERHEAD / self.messages_per_batch

    def __init__(
        self,
        num_partitions: int,
        *,
        batch_size: int,
        linger: float,
        compression_ratio: float,
        message_bytes: float,
        key_bytes: float = 0.0,
        max_request_size: int = 1048576,
    ) -> None:
        self.num_partitions = num_partitions
        self.linger = linger
        self.compression_ratio = compression_ratio
        self.max_request_size = max_request_size
        # Kafka closes a batch when the *estimated compressed* size reaches batch.size
        # (batch.size 0 disables batching: one record per batch). A record's framing
        # (DefaultRecord.sizeInBytes) depends on its offset delta within the batch, so
        # the per-record overhead is the exact mean over a full batch, found by fixed point.
        overhead = float(RECORD_OVERHEAD)
        for _ in range(3):
            self.record_bytes = message_bytes + key_bytes + overhead
            per_batch = (max(batch_size, 1) - RECORD_BATCH_OVERHEAD) / (
                self.record_bytes * compression_ratio
            )
            self.messages_per_batch = max(1, int(per_batch)) if batch_size > 0 else 1
            overhead = mean_record_overhead(
                self.messages_per_batch,
                int(round(key_bytes)) if key_bytes else None,
                int(round(message_bytes)),
            )
        self.record_bytes = message_bytes + key_bytes + overhead
        # what the built-in partitioner needs to know of the batches (see BatchShape)
        filled = (
            RECORD_BATCH_OVERHEAD + self.messages_per_batch * self.record_bytes * compression_ratio
        )
        self.batch_shape = BatchShape(
            self.messages_per_batch,
            RECORD_BATCH_OVERHEAD,
            full_when_filled=batch_size <= 0 or filled >= batch_size,
        )
        # records an open batch takes without closing (one fewer when filling it closes it)
        self._fits_open = self.batch_shape.records_to_close - 1
        # appendedBytes per record: the growth of the batch's *estimated* (compressed) size
        self.appended_bytes = max(1, round(self.record_bytes * compression_ratio))
        n = num_partitions
        self.open_messages = np.zeros(n, dtype=np.int64)
        self.open_first = np.full(n, np.inf)
        self.open_last = np.zeros(n)
        self._carry = np.zeros(n)  # fractional messages not yet appended
        self.queues: list[deque[ProducerBatch]] = [deque() for _ in range(n)]
        self._queued = np.zeros(n, dtype=np.int64)
        self.queued_wire_bytes = (
            0  # closed batches waiting to be sent (counts against buffer.memory)
        )
        self.queued_messages = 0
        self._drain_index: dict[int, int] = {}
        self.appended_messages = 0
        # a retried batch waits retry.backoff.ms at the front of its deque, and holds the
        # partition back with it (RecordAccumulator.ready: "backingOff")
        self.backoff_until = np.full(n, -np.inf)
        # the latest of them: until a batch is retried, no backoff is tested per partition
        self._backoff_max = -np.inf

    # -- appending ------------------------------------------------------------------

    def append(self, messages: np.ndarray, start: float, end: float) -> None:
        """Append ``messages[p]`` messages to partition ``p``, arriving evenly over [start, end].

        Fractions are carried to the next call, so the integer total equals the sum of
        the fluid quantities to within one message per partition, forever.
        """
        want = self._carry + messages
        whole = np.floor(want).astype(np.int64)
        self._carry = want - whole
        touched = np.flatnonzero(whole)
        if touched.size == 0:
            return
        self.appended_messages += int(whole.sum())
        room = self._fits_open - self.open_messages[touched]
        span = max(end - start, 0.0)
        # The common case -- nothing fills up -- stays in numpy.
        fits = whole[touched] <= room
        simple = touched[fits]
        if simple.size:
            counts = whole[simple]
            first_needed = np.isinf(self.open_first[simple])
            # the first of n evenly spread arrivals in [start, end]
            first_time = start + span / counts
            self.open_first[simple] = np.where(first_needed, first_time, self.open_first[simple])
            self.open_messages[simple] += counts
            self.open_last[simple] = end
        for p in touched[~fits]:
            self._append_filling(int(p), int(whole[p]), start, span)

    def append_runs(self, runs: Sequence[tuple[int, int]], start: float, end: float) -> None:
        """``append`` for whole messages given as ``(partition, count)`` runs -- what the
        sticky partitioner produces: one or two partitions per call, so scalar updates beat
        array operations over every partition."""
        span = max(end - start, 0.0)
        fits = self._fits_open
        for p, count in runs:
            if count <= 0:
                continue
            self.appended_messages += count
            if int(self.open_messages[p]) + count <= fits:
                if self.open_first[p] == np.inf:
                    self.open_first[p] = start + span / count
                self.open_messages[p] += count
                self.open_last[p] = end
            else:
                self._append_filling(p, count, start, span)

    def _append_filling(self, p: int, count: int, start: float, span: float) -> None:
        per_message = span / count
        done = 0
        size = self.messages_per_batch
        while done < count:
            if self.open_messages[p] >= size:  # this record does not fit: close, open anew
                self._close(p)
            take = min(size - int(self.open_messages[p]), count - done)
            if not np.isfinite(self.open_first[p]):
                self.open_first[p] = start + per_message * (done + 1)
            done += take
            self.open_messages[p] += take
            self.open_last[p] = start + per_message * done
            if self.batch_shape.full_when_filled and self.open_messages[p] >= size:
                self._close(p)

    def _close(self, p: int) -> None:
        messages = int(self.open_messages[p])
        if messages == 0:
            return
        record_bytes = int(round(messages * self.record_bytes))
        wire = RECORD_BATCH_OVERHEAD + int(round(record_bytes * self.compression_ratio))
        self.queues[p].append(
            ProducerBatch(
                p, messages, record_bytes, wire, float(self.open_first[p]), float(self.open_last[p])
            )
        )
        self._queued[p] += 1
        self.queued_wire_bytes += wire
        self.queued_messages += messages
        self.open_messages[p] = 0
        self.open_first[p] = np.inf

    def last_batch_records(self, p: int) -> int | None:
        """Records in the last batch of partition ``p``'s deque, None when it is empty
        (for ``allBatchesFull``). A closed batch with none open after it is one that
        its records filled exactly: full."""
        if self.open_messages[p]:
            return int(self.open_messages[p])
        return self.messages_per_batch if self.queues[p] else None

    # -- readiness and draining -----------------------------------------------------------

    def sendable(self, now: float, exhausted: bool = False) -> np.ndarray:
        """Partitions whose first batch may be sent now: closed, or lingered long enough --
        or any batch at all while ``send()`` calls wait for ``buffer.memory``
        (``exhausted``: ``RecordAccumulator.ready`` sends at once when the pool has
        waiters, since only completed requests free memory)."""
        if exhausted:
            sendable = (self._queued > 0) | (self.open_messages > 0)
        else:
            lingered = (self.open_messages > 0) & (now - self.open_first >= self.linger - 1e-12)
            sendable = (self._queued > 0) | lingered
        if self._backoff_max > now:  # some partition still backs off
            sendable &= self.backoff_until <= now
        return sendable

    def next_backoff_expiry(self, after: float) -> float:
        """When the next partition's retry backoff ends, strictly after ``after`` (inf if none)."""
        if self._backoff_max <= after:
            return float("inf")
        later = self.backoff_until[self.backoff_until > after]
        return float(later.min()) if later.size else float("inf")

    def next_linger_expiry(self, after: float = -np.inf) -> float:
        """When the next open batch will have waited ``linger.ms``, strictly after ``after``
        (inf if none). Batches that lingered out already are sendable; if they still wait,
        it is for an in-flight slot, and a completing request wakes the Sender for that."""
        expiry = self.open_first + self.linger
        later = expiry[expiry > after]
        return float(later.min()) if later.size else float("inf")

    def has_data(self, partitions: np.ndarray) -> bool:
        return bool(((self._queued[partitions] > 0) | (self.open_messages[partitions] > 0)).any())

    def drain(self, partitions: Sequence[int], node: int, now: float) -> list[ProducerBatch]:
        """``drainBatchesForOneNode``: at most one batch per partition the node leads,
        rotating the start so no partition starves, bounded by ``max.request.size``."""
        n = len(partitions)
        if n == 0:
            return []
        start = self._drain_index.get(node, 0) % n
        backing_off = self._backoff_max > now
        batches: list[ProducerBatch] = []
        size = 0
        for i in range(n):
            p = partitions[(start + i) % n]
            if backing_off and self.backoff_until[p] > now:
                continue  # a retried batch is backing off at the front
            queue = self.queues[p]
            if not queue:
                if self.open_messages[p] == 0:
                    continue
                self._close(p)
            batch = queue[0]
            if batches and size + batch.wire_bytes > self.max_request_size:
                self._drain_index[node] = (start + i) % n
                return batches
            queue.popleft()
            self._queued[p] -= 1
            self.queued_wire_bytes -= batch.wire_bytes
            self.queued_messages -= batch.messages
            batches.append(batch)
            size += batch.wire_bytes
        # Kafka's updateDrainIndex leaves the index on the last partition visited.
        self._drain_index[node] = (start + n - 1) % n
        return batches

    def expire(
        self,
        partitions: Sequence[int],
        now: float,
        timeout: float,
        expired: list[ProducerBatch] | None = None,
    ) -> int:
        """``RecordAccumulator.expiredBatches`` for ``partitions``: drop the batches, closed
        or open, created (first append) ``timeout`` (``delivery.timeout.ms``) or more
        before ``now``, oldest first; returns the messages dropped (closed batches dropped
        are appended to ``expired`` when given)."""
        dropped = 0
        for p in partitions:
            queue = self.queues[p]
            while queue and now - queue[0].first_append >= timeout:
                batch = queue.popleft()
                self._queued[p] -= 1
                self.queued_wire_bytes -= batch.wire_bytes
                self.queued_messages -= batch.messages
                dropped += batch.messages
                if expired is not None:
                    expired.append(batch)
            if not queue and self.open_messages[p] and now - self.open_first[p] >= timeout:
                dropped += int(self.open_messages[p])
                self.open_messages[p] = 0
                self.open_first[p] = np.inf
        return dropped

    def reenqueue(
        self, batch: ProducerBatch, backoff_until: float = -np.inf, *, in_sequence: bool = False
    ) -> None:
        """A retried batch goes back to the *front* of its partition's queue, where it
        waits until ``backoff_until`` (``retry.backoff.ms`` after its failure). An
        idempotent producer's goes among the other retried ones in sequence order
        (``insertInSequenceOrder``); otherwise it is simply put first (``addFirst``), so
        with several requests in flight retries can reorder records."""
        batch.attempts += 1
        self.backoff_until[batch.partition] = max(self.backoff_until[batch.partition], backoff_until)
        self._backoff_max = max(self._backoff_max, float(self.backoff_until[batch.partition]))
        queue = self.queues[batch.partition]
        if in_sequence and batch.first_seq >= 0:
            i = 0
            while i < len(queue) and 0 <= queue[i].first_seq < batch.first_seq:
                i += 1
            queue.insert(i, batch)
        else:
            queue.appendleft(batch)
        self._queued[batch.partition] += 1
        self.queued_wire_bytes += batch.wire_bytes
        self.queued_messages += batch.messages

    # -- accounting -----------------------------------------------------------------------

    @property
    def buffered_messages(self) -> int:
        return self.queued_messages + int(self.open_messages.sum())

    @property
    def buffered_bytes(self) -> int:
        open_bytes = float(self.open_messages.sum()) * self.record_bytes * self.compression_ratio
        return self.queued_wire_bytes + int(open_bytes)

    def __repr__(self) -> str:
        return (
            f"<RecordAccumulator {self.num_partitions} partitions, {self.messages_per_batch} msgs/batch, "
            f"{self.buffered_messages} buffered>"
        )
