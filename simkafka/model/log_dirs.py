"""Which of a broker's ``log.dirs`` a new replica goes to (``LogManager.nextLogDirs``).

Kafka creates a partition's log in the live log directory holding the fewest partitions,
ties broken by the order of ``log.dirs``; it does not look at sizes or bandwidth, so a
broker whose partitions carry unequal traffic can fill one disk while another idles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from simkafka.model.types import TopicPartition


def place_in_log_dirs(
    replicas: Iterable[tuple[int, TopicPartition]], dir_counts: Mapping[int, int]
) -> dict[tuple[int, TopicPartition], int]:
    """The log directory (index into the broker's ``log.dirs``) of each (broker,
    partition) replica, created in the order given, on brokers with ``dir_counts[broker]``
    directories."""
    logs_in_dir = {broker: [0] * count for broker, count in dir_counts.items()}
    placed: dict[tuple[int, TopicPartition], int] = {}
    for broker, tp in replicas:
        counts = logs_in_dir[broker]
        chosen = min(range(len(counts)), key=lambda d: (counts[d], d))
        counts[chosen] += 1
        placed[(broker, tp)] = chosen
    return placed
