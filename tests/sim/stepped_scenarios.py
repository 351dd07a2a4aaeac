"""A scenario the stepped engine's tests share: a small cluster that takes every path.

An offline broker, JBOD, ``flush.messages``, a topic's ``prefill``, keyed Poisson
producers with ``acks=all``, an ``acks=0`` producer and a ``rate: max`` one with a small
``buffer.memory``, two consumer groups, and capacity faults (a slow disk, a degraded
NIC); with ``group_faults`` a member of one group leaves and a member joins the other.
"""

from __future__ import annotations

import yaml

from simkafka.scenario import Scenario, parse_scenario

MIXED = """
name: mixed
cluster:
  brokers: 4
  offline_brokers: [3]
  hardware: {nic: 10Gbps, disk_write: 300MB/s, disk_read: 200MB/s, page_cache: 64MiB, log_dirs: 2}
topics:
  - {name: a, partitions: 8, replication.factor: 3, min.insync.replicas: 2, flush.messages: 50}
  - {name: b, partitions: 6, replication.factor: 2, min.insync.replicas: 1, prefill: 200MB}
producers:
  - {topic: a, count: 2, rate: 20MB/s, message_size: 2KiB, acks: all, profile: {type: poisson}, keys: {count: 1000}}
  - {name: b0, topic: b, count: 1, rate: 5000 msg/s, message_size: 512B, acks: "0"}
  - {name: bmax, topic: b, count: 1, rate: max, message_size: 1KiB, acks: "1", buffer.memory: 4MiB}
consumer_groups:
  - {group.id: g1, topics: [a, b], members: 3, auto.offset.reset: earliest}
  - {group.id: g2, topics: [b], members: 2}
faults:
  - {type: slow_disk, at: 0.2s, broker: 0, factor: 0.2, duration: 0.3s}
  - {type: nic_degradation, at: 0.3s, broker: 1, factor: 0.3, duration: 0.2s}
run: {duration: 0.6s, warmup: 0.1s, sample_interval: 0.1s, seed: 11, engine: stepped}
"""

# a member leaves one group, another joins the other: rebalances among the faults
GROUP_FAULTS = [
    {"type": "consumer_leave", "at": "0.3s", "group": "g1", "member": 1},
    {"type": "consumer_join", "at": "0.2s", "group": "g2", "count": 1},
]


def mixed_scenario(*, group_faults: bool = False) -> Scenario:
    """:data:`MIXED` over 0.6 s; with ``group_faults``, and the :data:`GROUP_FAULTS` too,
    over 0.8 s."""
    if not group_faults:
        return parse_scenario(MIXED, "mixed.yaml")
    spec = yaml.safe_load(MIXED)
    spec["faults"] += GROUP_FAULTS
    spec["run"]["duration"] = "0.8s"
    return parse_scenario(yaml.safe_dump(spec, sort_keys=False), "mixed.yaml")
