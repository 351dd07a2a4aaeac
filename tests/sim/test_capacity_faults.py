"""slow_disk and nic_degradation, played by both engines (simkafka.sim.degradation)."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from simkafka.scenario import ScenarioError, parse_scenario
from simkafka.scenario.faults import NicDegradation, SlowDisk
from simkafka.sim.degradation import CapacityChange, capacity_changes
from simkafka.sim.engine import simulate
from simkafka.sim.framing import goodput
from simkafka.sim.guards import RunRefused, check_engine_inputs
from simkafka.sim.world import World

ENGINES = ["events", "stepped"]
MB = 1e6

# One broker whose 1 Gbit/s NIC (117.7 MB/s of payload after framing) takes 50 MB/s of
# produce until, from 1.5 s to 3.5 s, it runs at a quarter of that: 29.4 MB/s, less than
# offered. One request in flight per producer keeps the acks as smooth as the bytes.
NIC_SCENARIO = """
name: slow-nic
cluster:
  brokers: 1
  hardware: {nic: 1Gbps, disk_write: 1GB/s, page_cache: 4GiB}
topics:
  - {name: events, partitions: 4, replication.factor: 1, min.insync.replicas: 1}
producers:
  - name: writers
    topic: events
    count: 2
    rate: 50MB/s
    message_size: 10KiB
    acks: "1"
    linger.ms: 5
    batch.size: 64KiB
    max.in.flight.requests.per.connection: 1
faults:
  - {type: nic_degradation, at: 1.5s, broker: 0, factor: 0.25, duration: 2s}
run: {duration: 5s, warmup: 0s, sample_interval: 0.25s, step: 2ms, seed: 3, engine: ENGINE}
"""
NIC_FULL = 1e9 / 8 * goodput(1500) / MB  # MB/s of payload through the whole NIC
NIC_SLOW = 0.25 * NIC_FULL

# Three brokers, every partition on each; broker 0's two log dirs (100 MB/s each) write at
# a tenth of that from 1.5 s to 4.5 s: 20 MB/s for the broker, less than the 40 MB/s
# offered. Its 32 MiB page cache lets 6.7 MB be dirty, filled within half a second; then
# its appends -- as leader and as follower -- wait for the disk, and with acks=all every
# partition's high watermark waits for broker 0's replica.
DISK_SCENARIO = """
name: slow-disk
cluster:
  brokers: 3
  hardware: {nic: 10Gbps, disk_write: 200MB/s, page_cache: 32MiB, log_dirs: 2}
topics:
  - {name: events, partitions: 6, replication.factor: 3, min.insync.replicas: 2}
producers:
  - name: writers
    topic: events
    count: 2
    rate: 40MB/s
    message_size: 10KiB
    acks: all
    linger.ms: 5
    batch.size: 64KiB
faults:
  - {type: slow_disk, at: 1.5s, broker: 0, factor: 0.1, duration: 3s}
run: {duration: 6s, warmup: 0s, sample_interval: 0.25s, step: 2ms, seed: 3, engine: ENGINE}
"""

# A group from earliest reads a 1 GB prefill, never in the page cache, from a disk that
# reads 100 MB/s -- a quarter of that from 1 s to 2.5 s.
READ_SCENARIO = """
name: slow-reads
cluster:
  brokers: 1
  hardware: {nic: 10Gbps, disk_write: 2GB/s, disk_read: 100MB/s, page_cache: 4GiB}
topics:
  - {name: events, partitions: 4, replication.factor: 1, prefill: 1GB}
producers:
  - {topic: events, rate: 1000 msg/s, message_size: 1KiB, acks: "1", batch.size: 64KiB}
consumer_groups:
  - {group.id: readers, topics: [events], members: 2, auto.offset.reset: earliest}
faults:
  - {type: slow_disk, at: 1s, broker: 0, factor: 0.25, duration: 1.5s}
run: {duration: 3.5s, warmup: 0s, sample_interval: 0.25s, step: 2ms, seed: 7, engine: ENGINE}
"""


def scenario(text: str, engine: str, name: str = "s.yaml"):
    return parse_scenario(textwrap.dedent(text).replace("ENGINE", engine), name)


_runs: dict[tuple[str, str], pd.DataFrame] = {}


def series(text: str, engine: str) -> pd.DataFrame:
    """The run's time series, each (scenario, engine) simulated once for the module."""
    key = (text, engine)
    if key not in _runs:
        result = simulate(scenario(text, engine))
        assert result.summary["faults_not_simulated"] == 0
        _runs[key] = result.timeseries
    return _runs[key]


def mean(ts: pd.DataFrame, column: str, start: float, end: float) -> float:
    """Mean of ``column`` over the samples of (start, end]."""
    window = ts[(ts.index > start + 1e-9) & (ts.index <= end + 1e-9)]
    assert len(window) >= 1
    return float(window[column].mean())


@pytest.mark.parametrize("engine", ENGINES)
def test_a_degraded_nic_carries_its_degraded_capacity_then_all_of_it(engine):
    ts = series(NIC_SCENARIO, engine)
    assert mean(ts, "b0.nic_in_MB_per_s", 0.0, 1.5) == pytest.approx(50, rel=0.01)
    # the first sample of the window holds the step where the change falls (stepped)
    assert mean(ts, "b0.nic_in_MB_per_s", 1.75, 3.5) == pytest.approx(NIC_SLOW, rel=0.005)
    assert mean(ts, "b0.nic_in_util", 1.75, 3.5) == pytest.approx(1.0, abs=0.01)
    # produce acks: the NIC's payload less the requests' headers
    assert mean(ts, "produce_MB_per_s", 1.5, 3.5) == pytest.approx(NIC_SLOW, rel=0.02)
    # restored: the producers' backlog crosses at the whole NIC's capacity ...
    assert mean(ts, "b0.nic_in_MB_per_s", 3.5, 4.0) == pytest.approx(NIC_FULL, rel=0.01)
    # ... and once it is through, the offered rate again
    assert mean(ts, "produce_MB_per_s", 4.5, 5.0) == pytest.approx(50, rel=0.01)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_slow_disk_throttles_acks_all_produce_to_its_bandwidth(engine):
    ts = series(DISK_SCENARIO, engine)
    assert mean(ts, "produce_MB_per_s", 0.0, 1.5) == pytest.approx(40, rel=0.01)
    assert mean(ts, "b0.disk_write_MB_per_s", 2.0, 4.5) == pytest.approx(20, rel=0.005)
    assert mean(ts, "b0.disk_write_util", 2.0, 4.5) == pytest.approx(1.0, abs=0.01)
    # the other brokers' disks are not slow: they write what broker 0 lets through
    assert mean(ts, "b1.disk_write_MB_per_s", 2.0, 4.5) == pytest.approx(20, rel=0.03)
    assert mean(ts, "produce_MB_per_s", 2.0, 4.5) == pytest.approx(20, rel=0.03)
    # restored: the dirty pages are written back at the whole disk's 200 MB/s, then 40 MB/s
    assert mean(ts, "b0.disk_write_MB_per_s", 4.5, 4.75) == pytest.approx(200, rel=0.01)
    assert mean(ts, "produce_MB_per_s", 5.0, 6.0) == pytest.approx(40, rel=0.01)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_slow_disk_reads_a_lagging_group_at_its_degraded_bandwidth(engine):
    ts = series(READ_SCENARIO, engine)
    # the disk is the consumers' bottleneck throughout, at a quarter of its bandwidth in
    # the window (a fetch's round trip leaves the events engine's disk a little idle)
    assert mean(ts, "b0.disk_read_util", 1.0, 2.5) == pytest.approx(1.0, abs=0.04)
    assert mean(ts, "b0.disk_read_MB_per_s", 1.0, 2.5) == pytest.approx(25, rel=0.04)
    assert mean(ts, "b0.disk_read_MB_per_s", 2.5, 3.5) > 85
    assert mean(ts, "consume_MB_per_s.readers", 1.0, 2.5) < 25.5

@pytest.mark.parametrize("text", [NIC_SCENARIO, DISK_SCENARIO], ids=["nic", "disk"])
def test_the_engines_agree_during_and_after_the_window(text):
    events, stepped = series(text, "events"), series(text, "stepped")
    windows = {NIC_SCENARIO: [(1.5, 3.5), (4.5, 5.0)], DISK_SCENARIO: [(2.0, 4.5), (5.0, 6.0)]}
    for start, end in windows[text]:
        assert mean(events, "produce_MB_per_s", start, end) == pytest.approx(
            mean(stepped, "produce_MB_per_s", start, end), rel=0.05
        ), (start, end)


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_same_time_series(engine):
    again = simulate(scenario(NIC_SCENARIO, engine)).timeseries
    pd.testing.assert_frame_equal(series(NIC_SCENARIO, engine), again, check_exact=True)


def test_the_events_engine_scales_and_restores_the_hosts_exactly():
    world = World(scenario(DISK_SCENARIO, "events"))
    broker = world.brokers[0]
    built = [world.network.capacity(h) for h in [broker.host, *broker.disk_hosts]]
    built_dirs = broker.dir_bandwidth
    assert built_dirs == ((100e6, 500e6), (100e6, 500e6))  # disk_read defaults to 1 GB/s
    world.env.run(until=2.0)
    assert [world.network.capacity(h) for h in broker.disk_hosts] == [
        (500e6 * 0.1, 100e6 * 0.1)
    ] * 2  # (egress = read, ingress = write)
    assert world.network.capacity(broker.host) == built[0]  # the NIC is not slow
    # an fsync (flush.messages) writes at the slow disk's bandwidth too
    assert broker.dir_bandwidth == ((100e6 * 0.1, 500e6 * 0.1),) * 2
    assert world.network.capacity("b1.disk") == (500e6, 100e6)
    world.env.run(until=4.6)
    assert [world.network.capacity(h) for h in [broker.host, *broker.disk_hosts]] == built
    assert broker.dir_bandwidth == built_dirs


def test_small_transfers_through_a_degraded_nic_take_its_degraded_capacity():
    # requests and acks below SMALL_TRANSFER bypass the flow network: their serialisation
    # time at the slower end must follow the fault too
    world = World(scenario(NIC_SCENARIO, "events"))
    env = world.env
    latency = world.network.latency(world.producers[0].host, "b0")

    def serialisation() -> float:
        start = env.now
        env.run(until=world.transfer(world.producers[0].host, "b0", 4000))
        return env.now - start - latency

    env.run(until=1.0)
    whole = serialisation()
    env.run(until=2.0)
    assert serialisation() == pytest.approx(4 * whole, rel=1e-9)
    env.run(until=4.0)
    assert serialisation() == pytest.approx(whole, rel=1e-9)


def test_overlapping_faults_multiply_and_end_exactly_restored():
    faults = [
        SlowDisk(type="slow_disk", at=1.0, broker=0, factor=0.5, duration=4.0),
        SlowDisk(type="slow_disk", at=3.0, broker=0, factor=0.3, duration=4.0),
        NicDegradation(type="nic_degradation", at=3.0, broker=2, factor=0.1, duration=None),
        NicDegradation(type="nic_degradation", at=2.0, broker=0, factor=0.7, duration=1.0),
        SlowDisk(type="slow_disk", at=20.0, broker=1, factor=0.5, duration=1.0),  # after the end
    ]
    assert capacity_changes(faults, until=10.0) == [
        CapacityChange(1.0, 0, 0.5, 1.0),
        CapacityChange(2.0, 0, 0.5, 0.7),
        CapacityChange(3.0, 0, 0.5 * 0.3, 1.0),  # the NIC's restore and the disk's second
        CapacityChange(3.0, 2, 1.0, 0.1),
        CapacityChange(5.0, 0, 0.3, 1.0),
        CapacityChange(7.0, 0, 1.0, 1.0),  # exactly whole again, not 0.5 * 0.3 / 0.5 / 0.3
    ]
    # a fault ending where another of the same factor starts changes nothing
    back_to_back = [
        SlowDisk(type="slow_disk", at=1.0, broker=0, factor=0.5, duration=1.0),
        SlowDisk(type="slow_disk", at=2.0, broker=0, factor=0.5, duration=1.0),
    ]
    assert capacity_changes(back_to_back) == [
        CapacityChange(1.0, 0, 0.5, 1.0),
        CapacityChange(3.0, 0, 1.0, 1.0),
    ]


def test_capacity_faults_are_not_counted_as_not_simulated():
    text = NIC_SCENARIO.replace(
        "faults:\n", "faults:\n  - {type: broker_crash, at: 10s, broker: 0}\n"
    ).replace("duration: 5s", "duration: 0.5s")
    # the events engine plays every fault; the stepped one has no control plane
    assert simulate(scenario(text, "events")).summary["faults_not_simulated"] == 0
    assert simulate(scenario(text, "stepped")).summary["faults_not_simulated"] == 1


def test_a_fault_on_a_broker_that_does_not_exist_is_refused():
    text = NIC_SCENARIO.replace("broker: 0, factor", "broker: 4, factor")
    with pytest.raises(ScenarioError) as info:
        scenario(text, "events", "slow.yaml")
    [problem] = info.value.problems
    assert (problem.source, problem.line, problem.path) == ("slow.yaml", 19, ("faults", 0, "broker"))
    assert problem.message == "broker 4 does not exist" and problem.hint == "brokers are [0]"
    # a scenario built in code, past the loader, is refused by the engines
    built = scenario(NIC_SCENARIO, "events")
    fault = built.faults[0].model_copy(update={"broker": 4, "factor": 0.0})
    with pytest.raises(RunRefused, match=r"faults\[0\]\.broker: broker 4 does not exist; "
                                         r"faults\[0\]\.factor must be in \(0, 1\] \(got 0\.0\)"):
        check_engine_inputs(built.model_copy(update={"faults": (fault,)}))
