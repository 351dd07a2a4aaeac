"""Small immutable value types shared by Kafka's algorithms in :mod:`simkafka.model`.

They mirror the Java client's and controller's own value classes (``TopicPartition``,
``UsableBroker``/``BrokerMetadata``) so that a test can be written against Kafka's
test cases without translation.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True, slots=True)
class TopicPartition:
    """A partition of a topic, ordered like Kafka orders them (topic, then partition)."""

    topic: str
    partition: int
    # The engines key dicts by partition on every request: the hash is computed once, and
    # is the one the generated ``__hash__`` would give (that of the (topic, partition)
    # tuple), so dicts and sets of partitions behave exactly as before.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.topic, self.partition)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type, tuple[str, int]]:
        # str hashes differ between processes: a copy sent to another (a sweep's worker)
        # computes its own
        return (TopicPartition, (self.topic, self.partition))

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
