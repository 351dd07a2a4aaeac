"""Analytic capacity bounds (issue 12, item 1): exact values worked by hand from the
mechanism on small scenarios, the binding resource, idle consumers, monotonicity in the
broker count, and agreement with the AWS sizing equation."""

from __future__ import annotations

import math
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.analysis.bounds import (
    PARTITION_LIMITS,
    aws_sizing_bound,
    capacity_bounds,
)
from simkafka.scenario import parse_scenario
from simkafka.sim.accumulator import RECORD_BATCH_OVERHEAD, RecordAccumulator
from simkafka.sim.broker import INDEX_ENTRY_BYTES
from simkafka.sim.framing import goodput

H = 0.7

HAND = """
name: bounds
cluster:
  brokers: 3
  hardware: {nic: 1GB/s, disk_write: 500MB/s}
topics:
  - {name: t, replication.factor: 2, replica.assignment: "0:1,1:2,2:0"}
producers:
  - {topic: t, count: 2, rate: 100MB/s, message_size: 1KiB, batch.size: 16KiB}
consumer_groups:
  - {group.id: g, topics: [t], members: 5, processing_time_per_record: 0s}
costs:
  producer: {record_cpu: 1us}
  broker: {request_cpu: 50us, byte_cpu: 1ns, append_batch_cpu: 20us,
           append_record_cpu: 500ns, append_byte_cpu: 1ns,
           network_request_cpu: 10us, network_byte_cpu: 0.5ns}
  consumer: {record_cpu: 2us, byte_cpu: 1ns}
"""

ZERO_COSTS = """
costs:
  producer: {record_cpu: 0s}
  broker: {request_cpu: 0s, byte_cpu: 0s, append_batch_cpu: 0s, append_record_cpu: 0s,
           append_byte_cpu: 0s, network_request_cpu: 0s, network_byte_cpu: 0s}
  consumer: {record_cpu: 0s, byte_cpu: 0s}
"""


def full_batch(message: int = 1024, batch: int = 16384) -> tuple[int, float]:
    """(records, wire bytes) of a full uncompressed batch, as the producer fills it."""
    acc = RecordAccumulator(1, batch_size=batch, linger=0.005, compression_ratio=1.0,
                            message_bytes=message)
    m = acc.messages_per_batch
    return m, RECORD_BATCH_OVERHEAD + m * acc.record_bytes


def uniform(brokers: int, rf: int, per_broker: int = 1) -> str:
    """Partition p on brokers p, p+1, ... (mod brokers): every broker leads and follows alike."""
    parts = brokers * per_broker
    return ",".join(":".join(str((p + i) % brokers) for i in range(rf)) for p in range(parts))


def homogeneous(brokers: int, rf: int, groups: int, costs: str = ZERO_COSTS, per_broker: int = 1) -> str:
    consumers = "".join(
        f"\n  - {{group.id: g{i}, topics: [t], members: 1}}" for i in range(groups)
    )
    return textwrap.dedent(f"""
        name: homogeneous
        cluster:
          brokers: {brokers}
          hardware: {{nic: 1GB/s, disk_write: 300MB/s}}
        topics:
          - {{name: t, replica.assignment: "{uniform(brokers, rf, per_broker)}"}}
        producers:
          - {{topic: t, count: 2, rate: 100MB/s, message_size: 1KiB}}
        consumer_groups: {"[]" if not groups else ""}""") + consumers + "\n" + costs


def test_hand_worked_three_brokers() -> None:
    b = capacity_bounds(parse_scenario(HAND))
    m, batch = full_batch()
    third = 1 / 3  # each partition takes a third of what is produced
    nic = 1e9 * goodput(1500)
    # every broker leads one partition and follows another
    assert b.row("broker 0 NIC in").load_per_byte == pytest.approx(2 * third)
    assert b.row("broker 1 NIC in").max_throughput == pytest.approx(H * nic / (2 * third))
    # out: one consumer group and one follower read what it leads
    assert b.row("broker 2 NIC out").max_throughput == pytest.approx(H * nic / (2 * third))
    # disk: two replicas, each batch with an index entry (16 KiB batches > 4096 B interval)
    per_byte = 2 * third * (1 + INDEX_ENTRY_BYTES / batch)
    assert b.row("broker 0 disk write").max_throughput == pytest.approx(H * 500e6 / per_byte)
    # handler: bytes of produce + fetches, the leader's appends, one request per batch
    # (the producer writes one partition on each broker)
    batches = third / batch
    append = batches * (20e-6 + m * 0.5e-6 + batch * 1e-9)
    handler = (third + 2 * third) * 1e-9 + append + batches * 50e-6
    assert b.row("broker 1 handler CPU").max_throughput == pytest.approx(H * 8 / handler)
    # network threads (3, Kafka's default): the same bytes and requests, their own costs
    network = (third + 2 * third) * 0.5e-9 + batches * 10e-6
    assert b.row("broker 2 network threads").max_throughput == pytest.approx(H * 3 / network)
    busiest = b.rows[[r.resource.startswith("append t-") for r in b.rows].index(True)]
    assert busiest.max_throughput == pytest.approx(H * 1 / append)
    # consumers: 3 of 5 members get a partition; each record costs processing + poll
    group = b.row("group g members")
    assert group.capacity == 3
    per_record = 2e-6 + (batch / m) * 1e-9
    assert group.max_throughput == pytest.approx(H * 3 / (m / batch * per_record))
    assert b.row("producer t[0] send() threads").max_throughput == pytest.approx(
        H * 2 / (m / batch * 1e-6))  # two instances, a thread each
    # the disks bind, all three alike
    assert {r.resource for r in b.binding} == {f"broker {i} disk write" for i in range(3)}
    assert b.bound == pytest.approx(H * 500e6 / per_byte)
    assert "BINDING" in repr(b) and "disk capacity for retention not checked" in repr(b)


def test_idle_consumers_reported() -> None:
    b = capacity_bounds(parse_scenario(HAND))
    assert b.idle_consumers == {"g": 2}
    assert "g: 2 idle member(s)" in repr(b)
    assert capacity_bounds(parse_scenario(HAND.replace("members: 5", "members: 3"))).idle_consumers == {}


def test_slow_consumer_group_binds() -> None:
    text = HAND.replace("processing_time_per_record: 0s", "processing_time_per_record: 1ms")
    b = capacity_bounds(parse_scenario(text))
    assert [r.resource for r in b.binding] == ["group g members"]
    m, batch = full_batch()
    per_record = 1e-3 + 2e-6 + (batch / m) * 1e-9
    assert b.bound == pytest.approx(H * 3 / (m / batch * per_record))


def test_jbod_dirs_each_bound_by_their_own_disk() -> None:
    text = textwrap.dedent("""
        name: jbod
        cluster:
          brokers: 1
          hardware:
            log_dirs: [{disk_write: 100MB/s, disk_read: 1GB/s}, {disk_write: 400MB/s, disk_read: 1GB/s}]
        topics: [{name: t, partitions: 2}]
        producers: [{topic: t, rate: 10MB/s, message_size: 1KiB}]
    """)
    b = capacity_bounds(parse_scenario(text), index=False)
    # Kafka puts the second log in the emptier dir: one partition, half the bytes, each
    assert b.row("broker 0 dir 0 write").max_throughput == pytest.approx(H * 100e6 / 0.5)
    assert b.row("broker 0 dir 1 write").max_throughput == pytest.approx(H * 400e6 / 0.5)
    assert [r.resource for r in b.binding] == ["broker 0 dir 0 write"]


def test_zookeeper_replica_limit_binds_when_exceeded() -> None:
    per_broker, _ = PARTITION_LIMITS["zookeeper"]
    assert per_broker is not None
    text = textwrap.dedent(f"""
        name: many
        cluster: {{brokers: 1, controller: zookeeper}}
        topics: [{{name: t, partitions: {per_broker + 1}}}]
        producers: [{{topic: t, rate: 10MB/s, message_size: 1KiB}}]
    """)
    b = capacity_bounds(parse_scenario(text))
    assert b.bound == 0.0
    assert [r.resource for r in b.binding] == ["replicas per broker (zookeeper)"]
    ok = capacity_bounds(parse_scenario(text.replace(str(per_broker + 1), str(per_broker))))
    assert ok.row("replicas per broker (zookeeper)").max_throughput == math.inf


def test_headroom_must_be_a_fraction() -> None:
    with pytest.raises(ValueError, match="headroom"):
        capacity_bounds(parse_scenario(HAND), headroom=1.5)


@pytest.mark.parametrize(("brokers", "rf", "groups"), [(3, 3, 1), (6, 3, 2), (4, 2, 3), (5, 1, 1), (3, 2, 0)])
def test_agrees_with_the_aws_equation(brokers: int, rf: int, groups: int) -> None:
    b = capacity_bounds(parse_scenario(homogeneous(brokers, rf, groups)), H, framing=False, index=False)
    if groups == 0:
        # with no consumers the equation's network term (r - 1) forgets the NIC in,
        # which carries r copies: the bound is the lesser of NIC in and the disk
        assert b.bound == pytest.approx(min(H * 1e9 * brokers / rf, H * 300e6 * brokers / rf))
        return
    assert b.bound == pytest.approx(aws_sizing_bound(brokers, 300e6, 1e9, rf, groups, H))


def test_agrees_with_the_aws_equation_with_framing_and_index_on_both() -> None:
    _, batch = full_batch()
    b = capacity_bounds(parse_scenario(homogeneous(6, 3, 8)), H)
    expected = aws_sizing_bound(6, 300e6 / (1 + INDEX_ENTRY_BYTES / batch), 1e9 * goodput(1500), 3, 8, H)
    assert b.bound == pytest.approx(expected)
    assert {r.resource for r in b.binding} == {f"broker {i} NIC out" for i in range(6)}


def test_aws_equation_itself() -> None:
    # 3 brokers of 250 MB/s storage and 1.25 GB/s network, RF 3, 2 groups
    assert aws_sizing_bound(3, 250e6, 1.25e9, 3, 2) == pytest.approx(250e6)
    assert aws_sizing_bound(3, 1e9, 1.25e9, 3, 2) == pytest.approx(1.25e9 * 3 / 4)
    assert aws_sizing_bound(1, 1e9, 1e9, 1, 0) == pytest.approx(1e9)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 8), st.integers(1, 4))
def test_more_brokers_never_lower_the_bound(brokers: int, more: int) -> None:
    rf = min(2, brokers)
    default = ""  # the shipped cost profile: CPU rows are real
    small = capacity_bounds(parse_scenario(homogeneous(brokers, rf, 2, default, per_broker=2)))
    large = capacity_bounds(parse_scenario(homogeneous(brokers + more, rf, 2, default, per_broker=2)))
    assert large.bound >= small.bound * (1 - 1e-9)


# -- the formulas bounds.py restates (it may not import the simulator's log-reaching modules)


def test_safe_against_the_simulator_where_the_append_lock_binds() -> None:
    # tests/sim/test_broker_limits.py's one-partition case: the serial append binds at
    # 1 / (500 us + 2 us a record + 2 ns a byte) batches a second; at full utilisation
    # the bound names it, gives its exact figure, and the simulator does not beat it
    from simkafka.sim.engine import simulate

    text = textwrap.dedent("""
        name: limits
        cluster:
          brokers: 1
          hardware: {nic: 10Gbps, disk_write: 2GB/s, page_cache: 8GiB}
        topics: [{name: t, partitions: 1}]
        producers:
          - {topic: t, count: 2, rate: 80MB/s, message_size: 1KiB, acks: "1", linger.ms: 5,
             batch.size: 16KiB, buffer.memory: 512KiB}
        costs:
          broker: {append_batch_cpu: 500us, append_record_cpu: 2us, append_byte_cpu: 2ns}
        run: {duration: 1.5s, warmup: 0.5s, seed: 3, sample_interval: 0.5s, engine: events}
    """)
    scenario = parse_scenario(text)
    b = capacity_bounds(scenario, headroom=1.0)
    m, batch = full_batch()
    assert [r.resource for r in b.binding] == ["append t-0 (busiest partition)"]
    assert b.bound == pytest.approx(batch / (500e-6 + m * 2e-6 + batch * 2e-9))
    measured = simulate(scenario).summary["produce_MB_per_s"] * 1e6
    assert 0.9 * b.bound < measured <= b.bound * 1.01


def test_disk_space_holds_retention_at_rf() -> None:
    # 3 brokers, each holding 2 of 3 partitions: 2/3 of the produced bytes for retention.ms
    day = HAND.replace('replica.assignment: "0:1,1:2,2:0"}', 'replica.assignment: "0:1,1:2,2:0", retention.ms: 86400000}')
    b = capacity_bounds(parse_scenario(day), disk_bytes=1e12)
    assert b.row("broker 0 disk space").max_throughput == pytest.approx(H * 1e12 / (2 / 3 * 86400))
    assert "retention not checked" not in repr(b)
    # retention.bytes caps each replica: 100 GB each fits in 0.7 TB whatever the rate
    capped = day.replace("retention.ms: 86400000", "retention.ms: 86400000, retention.bytes: 100000000000")
    assert capacity_bounds(parse_scenario(capped), disk_bytes=1e12).row(
        "broker 1 disk space").max_throughput == math.inf
    # ... but not 400 GB each: the two fill 0.7 TB before either reaches 400 GB
    big = capped.replace("100000000000", "400000000000")
    one_full = capacity_bounds(parse_scenario(big), disk_bytes=1e12).row("broker 2 disk space")
    assert one_full.max_throughput == pytest.approx(H * 1e12 / (2 / 3 * 86400))
    # kept forever: any throughput fills the disk
    forever = HAND.replace('replica.assignment: "0:1,1:2,2:0"}', 'replica.assignment: "0:1,1:2,2:0", retention.ms: -1}')
    assert capacity_bounds(parse_scenario(forever), disk_bytes=1e12).bound == 0.0


def test_retention_throughput_piecewise() -> None:
    from simkafka.analysis.bounds import retention_throughput

    # a = 1 and 3 bytes per produced byte/s, capped at 10 and 60: 4T until T = 10, then 10 + 3T
    assert retention_throughput([(1.0, 10.0), (3.0, 60.0)], 20.0) == pytest.approx(5.0)
    assert retention_throughput([(1.0, 10.0), (3.0, 60.0)], 55.0) == pytest.approx(15.0)
    assert retention_throughput([(1.0, 10.0), (3.0, 60.0)], 69.0) == pytest.approx(59 / 3)
    assert retention_throughput([(1.0, 10.0), (3.0, 60.0)], 71.0) == math.inf
    assert retention_throughput([(math.inf, 30.0), (1.0, math.inf)], 20.0) == 0.0
    assert retention_throughput([(math.inf, 30.0), (1.0, math.inf)], 50.0) == pytest.approx(20.0)


def test_heterogeneous_topics_and_racks_follow_the_placement() -> None:
    # two topics of different RF and rate over racks, placed by KRaft's striped placer:
    # every broker's NIC in is what it leads plus what it follows, at each topic's share
    from simkafka.model.topology import initial_topology

    text = textwrap.dedent("""
        name: racks
        cluster: {brokers: 6, racks: [a, b, c]}
        topics:
          - {name: big, partitions: 4, replication.factor: 3}
          - {name: small, partitions: 5, replication.factor: 1}
        producers:
          - {topic: big, rate: 300MB/s, message_size: 1KiB}
          - {topic: small, rate: 100MB/s, message_size: 1KiB}
        consumer_groups:
          - {group.id: g, topics: [big, small], members: 20}
    """)
    scenario = parse_scenario(text)
    b = capacity_bounds(scenario)
    share = {"big": 0.75 / 4, "small": 0.25 / 5}  # same message and batch size: bytes split 3:1
    nic_in = dict.fromkeys(range(6), 0.0)
    nic_out = dict.fromkeys(range(6), 0.0)
    for tp, reg in initial_topology(scenario).partitions.items():
        for broker in reg.replicas:
            nic_in[broker] += share[tp.topic]
        nic_out[reg.leader] += share[tp.topic] * (1 + len(reg.replicas) - 1)
    for broker in range(6):
        assert b.row(f"broker {broker} NIC in").load_per_byte == pytest.approx(nic_in[broker])
        assert b.row(f"broker {broker} NIC out").load_per_byte == pytest.approx(nic_out[broker])
    assert b.idle_consumers == {"g": 11}
