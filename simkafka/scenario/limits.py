"""The bounds a scenario's numbers must keep, with where each comes from.

Kafka's own limits come first: a config Kafka declares as an ``INT`` in its ``ConfigDef``
cannot exceed 2^31 - 1 (``batch.size``, ``message.max.bytes``, ``segment.bytes``,
``session.timeout.ms`` ...), one declared ``LONG`` not 2^63 - 1, and a replication factor
travels as an int16 in CreateTopics. Where Kafka has no limit the simulator sets one: it
holds state per broker, partition replica and client, so counts are bounded here --
checked by the schema before anything is built -- and a larger system is refused with
the limit named rather than left to exhaust memory.
"""

from __future__ import annotations

#: Kafka ``Type.INT`` configs (Java int).
INT32_MAX = 2**31 - 1
#: Kafka ``Type.LONG`` configs (Java long).
INT64_MAX = 2**63 - 1
#: CreateTopics carries the replication factor as an int16.
INT16_MAX = 2**15 - 1

#: Brokers in one cluster. The largest production clusters run a few hundred brokers.
MAX_BROKERS = 1_000
#: Partitions of one topic, and of all topics together. Kafka's guidance for ZooKeeper
#: clusters was 200,000 partitions per cluster; KRaft goes further, but every partition
#: replica is simulated, so the simulator stops here.
MAX_PARTITIONS = 200_000
#: Partition replicas (partitions x replication factor) over all topics.
MAX_REPLICAS = 600_000
#: Producer instances (``count``) or consumer group members, each a host of its own.
MAX_CLIENTS = 10_000
#: CPU cores of one broker machine, and threads of one broker thread pool.
MAX_CORES = 1_024
MAX_THREADS = 1_024
#: Samples of the time series (run.duration / run.sample_interval), preallocated.
MAX_SAMPLES = 1_000_000
#: Distinct record keys of one producer: the engines hash every key once (murmur2, as
#: Kafka's partitioner) to learn which partition it lands on.
MAX_KEYS = 1_000_000
