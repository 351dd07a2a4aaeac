"""Bytes a partition's log takes per message: its own batches' headers, as in Kafka.

A record batch carries a 61-byte header, so a log holds ``record + 61 / records per
batch`` bytes a message, and how many records a batch holds depends on the partition:
the Sender drains a leader's connection as soon as one of its batches is ready and then
takes the first batch of every partition it leads, ready or not
(``RecordAccumulator.drainBatchesForOneNode``), and a hot key's partition fills fuller
batches than a cold one's. The events engine plays both record by record; the flow and
stepped engines must put the same bytes on each partition's disk.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from simkafka.scenario import parse_scenario
from simkafka.sim.engine import run_world
from simkafka.sim.flow import FlowWorld
from simkafka.sim.flow_run import FlowProbes, run_flow
from simkafka.sim.probes import Probes
from simkafka.sim.stepped import SteppedWorld
from simkafka.sim.stepped_run import SteppedProbes, run_stepped
from simkafka.sim.world import World

# small records, so that the batch header is a large part of a message's bytes; linger-bound
# batches of a few records each, eight partitions on one leader
KEYED = """
name: batch-bytes
cluster:
  brokers: 1
  hardware: {{nic: 10Gbps, disk_write: 1GB/s, page_cache: 8GiB}}
topics:
  - {{name: events, partitions: 8, replication.factor: 1, min.insync.replicas: 1}}
producers:
  - topic: events
    count: 1
    rate: {rate}
    message_size: 20B
    keys: {keys}
    acks: "1"
    linger.ms: 10
run: {{duration: 2s, warmup: 0.5s, sample_interval: 0.5s, engine: {engine}, step: 0.1ms}}
"""


def keyed(engine: str, rate: str = "2000 msg/s", keys: str = "{distribution: uniform, count: 10000}"):
    return parse_scenario(textwrap.dedent(KEYED.format(engine=engine, rate=rate, keys=keys)), "t.yaml")


def per_partition_bytes_per_message(engine: str, **overrides) -> np.ndarray:
    scenario = keyed(engine, **overrides)
    if engine == "events":
        world = World(scenario)
        run_world(world, Probes(world, scenario.run.sample_interval))
        logs = [world.brokers[0].logs[tp] for tp in sorted(world.brokers[0].logs, key=lambda tp: tp.partition)]
        return np.array([log.end_position / log.log_end_offset for log in logs])
    if engine == "stepped":
        stepped = SteppedWorld(scenario)
        run_stepped(stepped, SteppedProbes(stepped))
        return stepped.leo_bytes / stepped.leo
    flow = FlowWorld(scenario)
    run_flow(flow, FlowProbes(flow))
    return flow.leo_bytes / flow.leo


def test_flow_batches_to_one_leader_are_drained_together_as_in_the_events_engine():
    # 250 msg/s into each of 8 partitions: a batch lingering alone would hold 1 + 250 x
    # 10 ms = 3.5 records; drained with the others whenever one of them is ready, about 2.6
    events = per_partition_bytes_per_message("events")
    flow = per_partition_bytes_per_message("flow")
    alone = 20 + 61 / 3.5  # about: the record's bytes and a lingering batch's header share
    assert flow.mean() > alone * 1.05
    assert flow == pytest.approx(events, rel=0.03)


def test_a_hot_partition_fills_fuller_batches_in_every_engine():
    zipf = "{distribution: zipf, count: 1000, exponent: 1.2}"
    events = per_partition_bytes_per_message("events", keys=zipf)
    # a hot key's partition carries the header over more records than a cold one's
    assert events.max() - events.min() > 5
    for engine in ("stepped", "flow"):
        assert per_partition_bytes_per_message(engine, keys=zipf) == pytest.approx(events, rel=0.03), engine
