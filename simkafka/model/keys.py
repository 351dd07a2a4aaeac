"""The share of a producer's messages each partition receives, by its keys.

Keys are the strings ``key-0 .. key-(N-1)`` serialised as UTF-8 (``StringSerializer``),
placed by the Java client's murmur2 partitioner; with a uniform (or sequential) key choice
a partition's share is the number of keys that hash to it over N, with zipf it is the sum
of the key probabilities. ``None`` means no keys: the built-in sticky partitioner. Pure,
so both engines and the planner's bounds use the same function.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from simkafka.model.partitioner import partitions_for_keys

if TYPE_CHECKING:
    from simkafka.scenario import ProducerSpec

__all__ = ["KEY_CHUNK", "key_bytes", "key_probabilities", "key_weights", "share_of_keys_kept"]


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


def share_of_keys_kept(before: int, after: int) -> float:
    """The share of uniformly hashed keys that stay in the same partition when a topic
    goes from ``before`` to ``after`` partitions: ``h % before == h % after`` holds for
    exactly ``min(before, after)`` of every ``lcm(before, after)`` consecutive hash values,
    so ``min / lcm`` of the keys keep their partition (half when doubling, one in seven
    from 6 to 7) and the rest move -- and lose their order with the records already written."""
    if before < 1 or after < 1:
        raise ValueError("partition counts must be >= 1")
    return min(before, after) / math.lcm(before, after)
