"""The stepped engine has no group coordinator: membership faults are counted as not simulated."""

from __future__ import annotations

import pytest

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


def test_the_stepped_engine_counts_membership_faults_as_not_simulated():
    result = simulate(parse_scenario(SCENARIO))
    # the four membership faults; the slow disk is played
    assert result.summary["faults_not_simulated"] == 4
    # and the run goes on as if they had not happened: the group keeps up with the producer
    assert result.summary["consume_msgs_per_s.readers"] == pytest.approx(2000, rel=0.02)
