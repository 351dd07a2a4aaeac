"""Each broker's disk used (``b<id>.disk_used_GB``) in both engines: the replicas' log
bytes (leaders and followers, prefill included) in segments, with retention applied."""

import numpy as np
import pytest

from simkafka.scenario import parse_scenario
from simkafka.sim.engine import run_world, simulate
from simkafka.sim.probes import Probes
from simkafka.sim.stepped import SteppedWorld
from simkafka.sim.stepped_run import SteppedProbes, run_stepped
from simkafka.sim.world import World

SCENARIO = """\
name: disk
cluster:
  brokers: 3
  config: {{log.retention.check.interval.ms: 1000}}
topics:
  - name: events
    partitions: 6
    replication.factor: 3
    prefill: 30MB
    segment.bytes: 1MiB
    retention.ms: {retention}
producers:
  - topic: events
    rate: 20MB/s
    message_size: 1KiB
run: {{duration: 6s, warmup: 1s, engine: {engine}, sample_interval: 500ms}}
"""


def scenario(engine: str, retention: str = "7d"):
    return parse_scenario(SCENARIO.format(engine=engine, retention=retention))


def _events(retention: str = "7d"):
    world = World(scenario("events", retention))
    probes = Probes(world, world.scenario.run.sample_interval)
    run_world(world, probes)
    replica_bytes = np.array([b.logs[tp].end_position for b, tp in probes.disk._replicas], dtype=float)
    brokers = np.array([list(world.brokers).index(b.id) for b, _ in probes.disk._replicas])
    return probes, replica_bytes, brokers


def _stepped(retention: str = "7d"):
    world = SteppedWorld(scenario("stepped", retention))
    probes = SteppedProbes(world)
    run_stepped(world, probes)
    per_message = world.leo_bytes / world.leo
    replica_bytes = np.concatenate([world.leo_bytes, world.f_leo * per_message[world.f_part]])
    brokers = np.concatenate([world.leader, world.f_broker])
    return probes, replica_bytes, brokers


@pytest.mark.parametrize("play", [_events, _stepped], ids=["events", "stepped"])
def test_the_disk_column_is_the_replicas_log_bytes_and_their_indexes(play):
    probes, replica_bytes, brokers = play()
    sizes = probes.disk.sizes
    assert sizes.replicas == 18  # 6 partitions x 3 replicas: leaders and followers
    np.testing.assert_allclose(sizes.log_bytes(), replica_bytes, rtol=1e-12)
    # 1 MiB segments: every replica rolled (30 MB of prefill over 6 partitions is ~5 segments)
    assert (sizes.segments >= 5).all()
    frame = probes.frame()
    last = frame.iloc[-1]
    on_disk = np.bincount(brokers, weights=replica_bytes + sizes.index_bytes(), minlength=3)
    np.testing.assert_allclose([last[f"b{b}.disk_used_GB"] for b in range(3)], on_disk / 1e9, rtol=1e-12)
    # index entries: 20 bytes per index.interval.bytes (4 KiB) of batches, about 0.5 %
    assert 0.002 < sizes.index_bytes().sum() / replica_bytes.sum() < 0.006
    # the prefill is on disk from the first sample on and the disk fills with the run
    assert frame["b0.disk_used_GB"].iloc[0] >= 0.01
    assert frame["b0.disk_used_GB"].is_monotonic_increasing


@pytest.mark.parametrize("play", [_events, _stepped], ids=["events", "stepped"])
def test_retention_ms_keeps_the_disk_near_what_the_retention_holds(play):
    probes, replica_bytes, _ = play("2s")
    sizes = probes.disk.sizes
    assert sizes.deleted_segments.sum() > 0
    kept = sizes.log_bytes()
    # appended over the run; kept at most retention.ms plus a check interval of appends,
    # plus the segment that was not yet deletable
    assert (kept < replica_bytes).all()
    per_replica_rate = 20e6 / 6
    assert (kept <= per_replica_rate * 3.5 + 1024**2).all()
    # the prefill (written at t = 0) went at the first check after 2 s
    frame = probes.frame()
    assert frame["b0.disk_used_GB"].max() > frame["b0.disk_used_GB"].iloc[-1]


def test_the_summary_names_the_fullest_brokers_peak():
    result = simulate(scenario("stepped"))
    columns = [f"b{b}.disk_used_GB" for b in range(3)]
    assert result.summary["max_broker_disk_used_GB"] == pytest.approx(result.timeseries[columns].to_numpy().max())
    assert result.summary["max_broker_disk_used_GB"] > 0.03
