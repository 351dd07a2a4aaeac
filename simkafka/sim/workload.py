"""From the scenario's workload to what the engine's clients need, using Kafka's algorithms.

* ``key_weights``: the share of a producer's messages each partition receives. Keys are
  the strings ``key-0 .. key-(N-1)`` serialised as UTF-8 (``StringSerializer``), placed by
  the Java client's murmur2 partitioner; with a uniform (or sequential) key choice a
  partition's share is the number of keys that hash to it over N, with zipf it is the sum
  of the key probabilities. ``None`` means no keys: the built-in sticky partitioner.
* ``consumer_assignment``: what the group's assignor gives each member (by member id,
  so both engines -- and their consumer objects -- use it alike).
* ``prefill_per_partition``: the messages and bytes a topic's ``prefill`` puts in each
  of its partitions before the run, in the batches its first producer writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from simkafka.kafka_version import MODELLED_RELEASE, KafkaRelease
from simkafka.model.assignors import (
    GroupSpec,
    MemberSubscription,
    classic_assignor,
    server_assignor,
)
from simkafka.model.types import TopicPartition
from simkafka.sim.accumulator import RECORD_BATCH_OVERHEAD, RecordAccumulator

if TYPE_CHECKING:
    from simkafka.scenario import ConsumerGroupSpec, ProducerSpec, Scenario, Topic


KEY_CHUNK = 1 << 18  # keys hashed at once: memory stays bounded whatever keys.count is


def key_bytes(count: int, start: int = 0) -> list[bytes]:
    return [f"key-{i}".encode() for i in range(start, count)]


def _key_chunk_weights(spec: ProducerSpec, start: int, stop: int) -> np.ndarray:
    """Unnormalised probabilities of keys ``start .. stop-1``."""
    if spec.keys.distribution == "zipf":
        return np.arange(start + 1, stop + 1, dtype=float) ** -spec.keys.exponent
    return np.ones(stop - start)


def key_probabilities(spec: ProducerSpec) -> np.ndarray:
    count = spec.keys.count or 1
    weights = _key_chunk_weights(spec, 0, count)
    return weights / weights.sum()


def key_weights(spec: ProducerSpec, num_partitions: int) -> np.ndarray | None:
    """Per-partition share of the producer's messages, or None for the sticky partitioner."""
    if spec.partitioner_class is not None:  # RoundRobinPartitioner ignores keys
        return np.full(num_partitions, 1.0 / num_partitions)
    if not spec.keys.keyed or spec.partitioner_ignore_keys:
        return None
    from simkafka.model.partitioner import partitions_for_keys

    # key by key in chunks: ten million keys cost time (see sim/budget.py), not gigabytes
    count = spec.keys.count or 1
    totals = np.zeros(num_partitions)
    for start in range(0, count, KEY_CHUNK):
        stop = min(count, start + KEY_CHUNK)
        partitions = np.asarray(partitions_for_keys(key_bytes(stop, start), num_partitions))
        totals += np.bincount(
            partitions, weights=_key_chunk_weights(spec, start, stop), minlength=num_partitions
        )
    return totals / totals.sum()


def consumer_assignment(
    group: ConsumerGroupSpec,
    member_ids: Sequence[str],
    topics: Mapping[str, Topic],
    topic_ids: Mapping[str, str],
    release: KafkaRelease = MODELLED_RELEASE,
) -> dict[str, list[TopicPartition]]:
    """The group's first assignment, computed by the group's own assignor.

    ``topic_ids`` are the topics' Kafka ``Uuid``s (the server-side ``uniform`` assignor
    walks topics in ``HashSet<Uuid>`` order); ``release`` is ``cluster.kafka_version``.
    """
    subscriptions = {m: MemberSubscription(m, tuple(group.topics)) for m in member_ids}
    spec = GroupSpec({t: topics[t].partitions for t in group.topics}, subscriptions)
    if group.group_protocol == "consumer":
        # the coordinator walks topics by id, so the scenario's topic ids matter
        assignor = server_assignor(group.group_remote_assignor, topic_ids, release)
    else:
        assignor = classic_assignor(group.assignor)
    assignment = assignor.assign(spec)
    return {m: sorted(assignment.get(m, [])) for m in member_ids}


def prefill_per_partition(topic: Topic, producers: Sequence[ProducerSpec]) -> tuple[int, int]:
    """(messages, bytes) each partition of ``topic`` holds at the start of the run: its
    ``prefill`` spread evenly, as full batches of the first producer writing to it (its
    message size, keys and compression); (0, 0) without a prefill or a producer."""
    writers = [p for p in producers if p.topic == topic.name]
    if not topic.prefill or not writers:
        return 0, 0
    spec = writers[0]
    acc = RecordAccumulator(
        1,
        batch_size=int(spec.batch_size),
        linger=spec.linger,
        compression_ratio=spec.effective_compression_ratio,
        message_bytes=spec.message_size.mean,
        key_bytes=float(len(f"key-{(spec.keys.count or 1) - 1}")) if spec.keys.keyed else 0.0,
    )
    wire = acc.record_bytes * acc.compression_ratio + RECORD_BATCH_OVERHEAD / acc.messages_per_batch
    messages = int(topic.prefill / topic.partitions / wire)
    return messages, int(round(messages * wire))


def prefilled_messages(scenario: Scenario) -> int:
    """Messages in all topics' prefills, over every partition."""
    return sum(
        prefill_per_partition(t, scenario.producers)[0] * t.partitions for t in scenario.topics
    )
