"""The Java clients' CPU costs, as both engines charge them.

A ``KafkaProducer`` has two threads that matter for throughput:

* the **application thread** calling ``send()``: serialisation, the partitioner and the
  append to the open batch (``producer.record_cpu`` per record), and -- since the
  ``MemoryRecordsBuilder`` compresses as records are appended -- the codec's
  ``compress_cpu`` per uncompressed byte. It can hand the accumulator at most
  ``1 / send_cpu`` records a second, however many the application would like to send;
* the **Sender thread**, one per instance: per ProduceRequest ``request_cpu``, per batch
  ``batch_cpu`` (closing it, writing the header), per byte ``byte_cpu`` (CRC32C of the
  closed batch and the copy to the socket), and per record ``ack_record_cpu`` when its
  batch is acknowledged (its future and callback, run on the Sender thread). The
  acknowledgement's work is charged with the pass that sends the batch: the thread's total
  time per record, which is what bounds it, is the same. It is a serial resource: while it
  is busy nothing is drained, so the batches waiting for it fill up (as in Kafka).

A consumer's ``poll()`` runs on the application's own thread, serial with its processing:
per record ``consumer.record_cpu``, per byte fetched ``consumer.byte_cpu``, and
``decompress_cpu`` per uncompressed byte when the batches are compressed.

The engines charge these as arithmetic on "free at" times (events) or as seconds per
step (stepped), never as an event per record.
"""

from __future__ import annotations

from simkafka.scenario import Scenario
from simkafka.scenario.costs import CostProfile
from simkafka.scenario.workload import DEFAULT_COMPRESSION_RATIO

# How far behind its offered schedule an application thread may fall before what it
# offers is counted as beyond it: a burst the thread works off within this time is sent
# (its send() calls just return later); a thread offered more than it can do for longer
# falls this far behind and the excess is not sent (``cpu_limited``). A couple of steps of
# the stepped engine, so both engines absorb the same rounding.
SEND_BACKLOG = 0.002


def thread_take(
    free_at: float, start: float, end: float, per_item: float, slack: float
) -> tuple[float, float]:
    """(how many items a serial thread busy until ``free_at`` can start over [start, end],
    allowed to run ``slack`` seconds past ``end``; when it starts) -- ``inf`` items for a
    free thread. The caller takes a whole number ``n`` of them and sets the thread free at
    ``begin + n * per_item``."""
    begin = max(free_at, start)
    if per_item <= 0:
        return float("inf"), begin
    return max(0.0, (end + slack - begin) / per_item), begin


def producer_send_cpu(costs: CostProfile, compression_type: str, record_bytes: float) -> float:
    """Seconds of the application thread per record ``send()`` hands the accumulator:
    ``record_cpu`` plus compressing its ``record_bytes`` uncompressed bytes."""
    codec = costs.codecs.of(compression_type)
    compress = codec.compress_cpu * record_bytes if codec is not None else 0.0
    return costs.producer.record_cpu + compress


def sender_cpu(
    costs: CostProfile, requests: float, batches: float, wire_bytes: float, records: float = 0.0
) -> float:
    """Seconds of the Sender thread to close and send ``batches`` batches of ``wire_bytes``
    bytes in all, in ``requests`` ProduceRequests, and to acknowledge their ``records``."""
    p = costs.producer
    return (
        requests * p.request_cpu
        + batches * p.batch_cpu
        + wire_bytes * p.byte_cpu
        + records * p.ack_record_cpu
    )


def consumer_poll_cpu(
    costs: CostProfile,
    compression_type: str,
    records: float,
    wire_bytes: float,
    record_bytes: float,
) -> float:
    """Seconds of the poll thread for ``records`` records fetched as ``wire_bytes`` bytes,
    ``record_bytes`` of them once decompressed."""
    codec = costs.codecs.of(compression_type)
    decompress = codec.decompress_cpu * record_bytes if codec is not None else 0.0
    c = costs.consumer
    return records * c.record_cpu + wire_bytes * c.byte_cpu + decompress


def max_rate_sender_bound(
    costs: CostProfile,
    records_per_batch: float,
    batch_wire_bytes: float,
    batches_per_request: float = 1.0,
) -> float:
    """Records a second one Sender thread can move when every request carries
    ``batches_per_request`` full batches (the bound a sender-bound producer reaches)."""
    per_request = sender_cpu(
        costs,
        1.0,
        batches_per_request,
        batches_per_request * batch_wire_bytes,
        batches_per_request * records_per_batch,
    )
    return (
        batches_per_request * records_per_batch / per_request if per_request > 0 else float("inf")
    )


def topic_compression(scenario: Scenario) -> dict[str, tuple[str, float]]:
    """Per topic, the codec its consumers decompress and the compressed / uncompressed
    ratio of its data: the topic's ``compression.type``, or with ``producer`` (the
    default) the codec of the first producer writing to it."""
    out: dict[str, tuple[str, float]] = {}
    for topic in scenario.topics:
        writers = [p for p in scenario.producers if p.topic == topic.name]
        codec = writers[0].compression_type if writers else "none"
        ratio = writers[0].effective_compression_ratio if writers else 1.0
        if topic.compression_type in ("none", "uncompressed"):
            codec, ratio = "none", 1.0
        elif topic.compression_type != "producer":
            codec = topic.compression_type
            ratio = ratio if ratio < 1.0 else DEFAULT_COMPRESSION_RATIO[codec]
        out[topic.name] = (codec, ratio)
    return out
