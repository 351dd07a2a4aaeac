"""The stepped engine plays every membership fault, beside a capacity fault, and conserves."""

from __future__ import annotations

from simkafka.scenario import parse_scenario
from simkafka.sim.engine import simulate

SCENARIO = """
name: group-faults
cluster:
  brokers: 1
topics:
  - {name: events, partitions: 4, replication.factor: 1, min.insync.replicas: 1}
producers:
  - {topic: events, rate: 2000 msg/s, message_size: 1KiB}
consumer_groups:
  - {group.id: readers, topics: [events], members: 2, processing_time_per_record: 10us}
faults:
  - {type: consumer_join, at: 0.2s, group: readers, count: 2}
  - {type: consumer_leave, at: 0.4s, group: readers, member: 3}
  - {type: consumer_slow, at: 0.5s, group: readers, member: 0, factor: 20, duration: 0.2s}
  - {type: rolling_restart, at: 0.6s, group: readers, pace: 0.1s, downtime: 0.1s}
  - {type: slow_disk, at: 0.5s, broker: 0, factor: 0.5, duration: 0.2s}
run: {duration: 1s, sample_interval: 0.25s, engine: stepped, step: 1ms}
"""


def test_the_stepped_engine_plays_membership_faults():
    result = simulate(parse_scenario(SCENARIO))
    assert result.summary["faults_not_simulated"] == 0
    # the join starts a rebalance the leave and the restarts fold into (members hear of it
    # at their next heartbeat, 3 s on: after this 1 s run)
    assert list(result.rebalances.reason) == ["member readers-2 joined"]
    assert result.conservation["ok"] is True
