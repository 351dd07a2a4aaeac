"""What appending a batch to a partition's log costs, under that partition's lock.

Kafka appends to one partition's log serially: ``UnifiedLog.append`` takes the log's
lock for the whole of ``LogValidator`` (on a leader) and ``LogSegment.append``, so one
partition's throughput is bounded by ``1 / append time per batch`` however many handler
threads and disks the broker has. Both engines charge these times from the cost profile
(``costs.broker`` and ``costs.codecs``):

* a **leader** validates every batch a producer sends: per batch (header, offsets,
  segment append), per record (``LogValidator`` iterates the records) and per byte
  (CRC32C). A compressed batch is decompressed to iterate its records (per uncompressed
  byte, the producer's codec); when the topic's ``compression.type`` names another codec
  than the producer's, the records are also recompressed with it
  (``LogValidator.buildRecordsAndAssignOffsets``).
* a **follower** appends what its fetcher got without validating it
  (``appendAsFollower``): per batch and per byte only.

The page-cache write the append ends in is not part of these times: it is the dirty-page
and write-back model's (``broker.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simkafka.scenario.costs import BrokerCosts, Codecs

UNCOMPRESSED = ("none", "uncompressed")


def stored_codec(producer_codec: str, topic_codec: str) -> str:
    """The codec a leader writes: the producer's unless the topic's ``compression.type``
    names one (``producer`` keeps the producer's; ``uncompressed`` stores none)."""
    if topic_codec == "producer":
        return producer_codec
    return "none" if topic_codec in UNCOMPRESSED else topic_codec


@dataclass(frozen=True, slots=True)
class AppendCost:
    """Seconds under a partition's lock: ``batch + records * record + bytes * byte +
    uncompressed_bytes * codec`` (``codec`` is the decompression and recompression a
    leader does per uncompressed byte, 0 without compression)."""

    batch: float
    record: float
    byte: float
    codec: float = 0.0

    def of(self, batches: float, records: float, wire_bytes: float, record_bytes: float) -> float:
        return (
            batches * self.batch
            + records * self.record
            + wire_bytes * self.byte
            + record_bytes * self.codec
        )


def leader_append_cost(
    costs: BrokerCosts, codecs: Codecs, producer_codec: str, topic_codec: str
) -> AppendCost:
    """A leader's append of a producer's batches (``LogValidator`` + ``LogSegment.append``)."""
    codec = 0.0
    source = codecs.of(producer_codec)
    if source is not None:
        codec += source.decompress_cpu  # validation iterates the records
    target_name = stored_codec(producer_codec, topic_codec)
    if target_name != producer_codec and target_name not in UNCOMPRESSED:
        target = codecs.of(target_name)
        if target is not None:
            codec += target.compress_cpu
    return AppendCost(costs.append_batch_cpu, costs.append_record_cpu, costs.append_byte_cpu, codec)


def follower_append_cost(costs: BrokerCosts) -> AppendCost:
    """A follower's append of fetched batches (no validation, no recompression)."""
    return AppendCost(costs.append_batch_cpu, 0.0, costs.append_byte_cpu)
