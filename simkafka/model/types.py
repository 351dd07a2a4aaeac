"""Small immutable value types shared by Kafka's algorithms in :mod:`simkafka.model`.

They mirror the Java client's and controller's own value classes (``TopicPartition``,
``UsableBroker``/``BrokerMetadata``) so that a test can be written against Kafka's
test cases without translation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class TopicPartition(NamedTuple):
    """A partition of a topic, ordered like Kafka orders them (topic, then partition).

    A named tuple: the engines key dicts by partition on every request, and a tuple's
    hash and equality are the interpreter's own (no Python-level ``__hash__`` or
    ``__eq__`` call per look-up); the hash is that of ``(topic, partition)``.
    """

    topic: str
    partition: int

    def __str__(self) -> str:  # Kafka prints "topic-0"
        return f"{self.topic}-{self.partition}"


@dataclass(frozen=True, slots=True)
class BrokerInfo:
    """A broker as the replica placer sees it: id, optional rack, and whether it is fenced.

    Fenced brokers (KRaft) are only used for placement when there are not enough
    unfenced ones, and then last -- exactly as ``StripedReplicaPlacer`` does.
    """

    id: int
    rack: str | None = None
    fenced: bool = False
