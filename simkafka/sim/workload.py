"""From the scenario's workload to what the engine's clients need, using Kafka's algorithms.

* ``key_weights``: the share of a producer's messages each partition receives. Keys are
  the strings ``key-0 .. key-(N-1)`` serialised as UTF-8 (``StringSerializer``), placed by
  the Java client's murmur2 partitioner; with a uniform (or sequential) key choice a
  partition's share is the number of keys that hash to it over N, with zipf it is the sum
  of the key probabilities. ``None`` means no keys: the built-in sticky partitioner.
* ``consumer_assignment``: what the group's assignor gives each member (by member id,
  so both engines -- and their consumer objects -- use it alike).
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

if TYPE_CHECKING:
    from simkafka.scenario import ConsumerGroupSpec, ProducerSpec, Topic


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
