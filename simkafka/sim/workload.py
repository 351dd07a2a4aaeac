"""From the scenario's workload to what the engine's clients need, using Kafka's algorithms.

* ``key_weights`` (from :mod:`simkafka.model.keys`, pure, so the planner's bounds use the
  same function): the share of a producer's messages each partition receives.
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
from simkafka.model.keys import KEY_CHUNK, key_bytes, key_probabilities, key_weights
from simkafka.model.types import TopicPartition
from simkafka.sim.accumulator import RecordAccumulator

__all__ = [
    "KEY_CHUNK",
    "consumer_assignment",
    "key_bytes",
    "key_probabilities",
    "key_weights",
    "prefill_by_partition",
    "prefill_per_partition",
]

if TYPE_CHECKING:
    from simkafka.scenario import ConsumerGroupSpec, ProducerSpec, Scenario, Topic


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
    wire = RecordAccumulator.of(spec).full_batch_wire_per_record
    messages = int(topic.prefill / topic.partitions / wire)
    return messages, int(round(messages * wire))


def prefill_by_partition(
    scenario: Scenario, topic_start: Mapping[str, int], partitions: int
) -> tuple[np.ndarray, np.ndarray]:
    """(messages, bytes) of every partition's prefill, partitions numbered from each
    topic's ``topic_start`` (the engines' partition arrays)."""
    messages = np.zeros(partitions, dtype=np.int64)
    nbytes = np.zeros(partitions)
    for topic in scenario.topics:
        count, size = prefill_per_partition(topic, scenario.producers)
        if count:
            start = topic_start[topic.name]
            messages[start : start + topic.partitions] = count
            nbytes[start : start + topic.partitions] = size
    return messages, nbytes


def prefilled_messages(scenario: Scenario) -> int:
    """Messages in all topics' prefills, over every partition."""
    return sum(
        prefill_per_partition(t, scenario.producers)[0] * t.partitions for t in scenario.topics
    )

