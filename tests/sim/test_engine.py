"""The engine end to end: conservation, determinism, saturation and Kafka-shaped behaviour.

Runs are a few simulated seconds at modest rates so the whole file stays fast; each test
compares two runs that differ in one setting, the way an operator would reason.
"""

from __future__ import annotations

import textwrap

import pytest

from simkafka.model.partitioner import partition_for_key
from simkafka.model.types import TopicPartition
from simkafka.scenario import parse_scenario
from simkafka.sim.engine import simulate
from simkafka.sim.framing import goodput
from simkafka.sim.world import World

PAYLOAD = goodput(1500)  # payload per byte of line time at the default MTU

BASE = """
name: t
cluster:
  brokers: {brokers}
  racks: [a, b, c]
  hardware: {{nic: {nic}, disk_write: {disk_write}, page_cache: {page_cache}}}
topics:
  - {{name: events, partitions: {partitions}, replication.factor: {rf}, min.insync.replicas: {min_isr}}}
producers:
  - topic: events
    count: {producers}
    rate: {rate}
    message_size: {size}
    acks: "{acks}"
    linger.ms: {linger}
    batch.size: {batch}
    {keys}
consumer_groups:
  - group.id: readers
    topics: [events]
    members: {members}
    processing_time_per_record: {processing}
    partition.assignment.strategy: range
run: {{duration: {duration}, warmup: {warmup}, seed: {seed}, sample_interval: {interval}, engine: {engine}}}
"""

DEFAULTS = dict(
    brokers=3,
    nic="10Gbps",
    disk_write="500MB/s",
    page_cache="1GiB",
    partitions=6,
    rf=3,
    min_isr=2,
    producers=2,
    rate="4000 msg/s",
    size="1KiB",
    acks="all",
    linger=5,
    batch="16KiB",
    keys="",
    members=3,
    processing="0s",
    duration="4s",
    warmup="1s",
    seed=7,
    interval="0.5s",
    engine="events",
)


ENGINES = pytest.mark.parametrize("engine", ["events", "stepped", "flow"])


def scenario(**overrides):
    values = {**DEFAULTS, **overrides}
    return parse_scenario(textwrap.dedent(BASE.format(**values)), "test.yaml")


def run(**overrides):
    return simulate(scenario(**overrides))


@ENGINES
def test_conservation_and_steady_throughput(engine):
    result = run(engine=engine)
    c = result.conservation
    assert c["ok"], c
    assert c["created"] == c["acknowledged"] + c["in_accumulator"] + c["in_flight"] + sum(
        c["failed"].values()
    )
    assert c["acknowledged"] <= c["below_high_watermark"] <= c["appended_to_leaders"]
    group = c["groups"]["readers"]
    assert (
        group["consumed"]
        + group["fetched_not_polled"]
        + group["being_processed"]
        + group.get("fetch_in_transit", 0)
        + group["lag_not_fetched"]
        == group["below_high_watermark"]
    )
    assert result.summary["produce_msgs_per_s"] == pytest.approx(4000, rel=0.03)
    assert result.summary["consume_msgs_per_s.readers"] == pytest.approx(4000, rel=0.05)
    assert result.summary["failed_messages"] == 0


@ENGINES
def test_same_seed_same_run_different_seed_different_run(engine):
    poisson = "profile: {type: poisson}"
    a = run(engine=engine, keys=poisson, rate="3000 msg/s")
    b = run(engine=engine, keys=poisson, rate="3000 msg/s")
    assert a.summary == b.summary
    assert a.timeseries.equals(b.timeseries)
    c = run(engine=engine, seed=8, keys=poisson, rate="3000 msg/s")
    if engine == "flow":
        # a fluid model draws nothing: Poisson arrivals are their mean rate, the sticky
        # partitioner's choices their long-run even share, so the seed changes nothing
        assert a.timeseries.equals(c.timeseries)
        return
    # Poisson arrivals and the sticky partitioner's choices are drawn from the seed
    assert not a.timeseries.equals(c.timeseries)


@ENGINES
def test_acks_all_is_slower_than_acks_1_and_acks_0(engine):
    all_ = run(engine=engine, acks="all").summary["p50_produce_latency_s"]
    one = run(engine=engine, acks="1").summary["p50_produce_latency_s"]
    zero = run(engine=engine, acks="0").summary["p50_produce_latency_s"]
    assert all_ > one > zero


@ENGINES
def test_longer_linger_makes_bigger_batches_and_fewer_requests(engine):
    short = run(engine=engine, linger=0, batch="256KiB")
    long = run(engine=engine, linger=50, batch="256KiB")
    assert long.summary["produce_requests_per_s"] < short.summary["produce_requests_per_s"] / 5
    per_batch = lambda r: r.summary["produce_msgs_per_s"] / r.summary["produce_requests_per_s"]  # noqa: E731
    assert per_batch(long) > 5 * per_batch(short)


@ENGINES
def test_end_to_end_latency_contains_the_whole_linger_spread(engine):
    # batches closed by linger.ms: their first message waited 20 ms, their last none.
    # A consumer can only see a message after the producer's request reached the
    # leader and the ISR, so the end-to-end percentiles are at least the produce ones
    # (less the produce response's own trip) and the slowest reach the full linger.
    result = run(engine=engine, linger=20, batch="1MiB", rate="2000 msg/s")
    latency = result.latency
    produce, e2e = latency.loc["produce"], latency.loc["end_to_end"]
    for q in ("p50", "p99"):
        assert e2e[q] >= 0.95 * produce[q], (q, e2e[q], produce[q])
    assert e2e["p99"] > 0.020  # s: a whole linger plus the replication round trip


@ENGINES
def test_replication_multiplies_broker_ingress_and_disk_writes(engine):
    def totals(rf, min_isr):
        r = run(engine=engine, rf=rf, min_isr=min_isr, members=1, rate="8000 msg/s")
        steady = r.timeseries[r.timeseries.index > 1]
        nic_in = sum(steady[f"b{b}.nic_in_MB_per_s"].mean() for b in range(3))
        disk = sum(steady[f"b{b}.disk_write_MB_per_s"].mean() for b in range(3))
        return nic_in, disk, r.summary["produce_MB_per_s"]

    in1, disk1, produced1 = totals(1, 1)
    in3, disk3, produced3 = totals(3, 2)
    assert produced1 == pytest.approx(produced3, rel=0.05)
    assert in3 / in1 == pytest.approx(3.0, rel=0.1)
    assert disk3 / disk1 == pytest.approx(3.0, rel=0.15)


@ENGINES
def test_consumer_parallelism_grows_with_partitions_up_to_the_members(engine):
    # each record takes 1 ms: one member can process 1000 msg/s
    rates = {}
    for partitions in (1, 2, 3, 6):
        r = run(
            engine=engine,
            partitions=partitions,
            rf=1,
            min_isr=1,
            members=3,
            processing="1ms",
            rate="6000 msg/s",
        )
        rates[partitions] = r.summary["consume_msgs_per_s.readers"]
    assert rates[1] == pytest.approx(1000, rel=0.1)
    assert rates[2] == pytest.approx(2000, rel=0.1)
    assert rates[3] == pytest.approx(3000, rel=0.1)
    assert rates[6] == pytest.approx(3000, rel=0.1)  # capped by the three members


@ENGINES
def test_slow_consumer_shows_growing_lag(engine):
    r = run(engine=engine, members=1, processing="1ms", rate="3000 msg/s")
    assert r.summary["bottleneck"].startswith("consumer group readers processing")
    lag = r.timeseries["lag.readers"]
    assert lag.iloc[-1] > lag.iloc[len(lag) // 2] > lag.iloc[1] > 0
    assert r.conservation["ok"]


@ENGINES
def test_nic_bound_throughput_matches_the_analytic_bound(engine):
    # one broker, RF 1, 400 Mbit/s ingress = 50 MB/s; producers offer twice that
    r = run(
        engine=engine,
        brokers=1,
        rf=1,
        min_isr=1,
        nic="400Mbps",
        rate="100MB/s",
        size="10KiB",
        batch="1MiB",
        members=1,
        acks="1",
        producers=2,
        duration="6s",
        warmup="2s",
    )
    bound = 50e6 * PAYLOAD  # the NIC's line rate less TCP/IP and Ethernet framing
    assert r.summary["produce_MB_per_s"] * 1e6 == pytest.approx(bound, rel=0.05)
    assert r.summary["bottleneck"].startswith("broker 0 nic in")


@ENGINES
def test_disk_bound_throughput_matches_the_disk_and_writers_are_throttled(engine):
    r = run(
        engine=engine,
        brokers=1,
        rf=1,
        min_isr=1,
        disk_write="40MB/s",
        page_cache="100MB",
        rate="80MB/s",
        size="10KiB",
        batch="1MiB",
        members=1,
        acks="1",
        duration="10s",
        warmup="5s",
    )
    assert r.summary["produce_MB_per_s"] * 1e6 == pytest.approx(40e6, rel=0.05)
    assert r.summary["bottleneck"].startswith("broker 0 disk write")


def test_cost_grows_with_bytes_not_messages():
    def events(size, rate):
        world = World(scenario(size=size, rate=rate, batch="64KiB", duration="3s"))
        world.env.run(until=3)
        return next(world.env._eid)

    big = events("2KiB", "4000 msg/s")
    small = events("1KiB", "8000 msg/s")
    assert small < 1.3 * big


@ENGINES
def test_above_the_bound_latency_and_backlog_grow_instead_of_throughput(engine):
    # offered 100 MB/s to a 50 MB/s NIC: throughput stays at the bound, the backlog of
    # blocked send() calls and the produce latency (counted from send()) keep growing
    r = run(
        engine=engine,
        brokers=1,
        rf=1,
        min_isr=1,
        nic="400Mbps",
        rate="100MB/s",
        size="10KiB",
        batch="1MiB",
        members=1,
        acks="1",
        producers=2,
        duration="8s",
        warmup="2s",
    )
    ts = r.timeseries
    assert ts["produce_MB_per_s"].loc[2.5:].mean() * 1e6 == pytest.approx(50e6 * PAYLOAD, rel=0.05)
    blocked = ts["blocked_in_send"]
    assert blocked.loc[8.0] > blocked.loc[6.0] > blocked.loc[4.0] > blocked.loc[2.0] > 0
    latency = ts["produce_latency_p50_ms"]
    assert latency.loc[7.5:].mean() > 1.5 * latency.loc[2.5:4.0].mean()
    assert r.conservation["ok"] and r.conservation["blocked_in_send"] > 0


def test_small_requests_count_towards_nic_utilisation_and_cross_rack_traffic():
    # 200-byte messages, batch.size 0-ish: every request is below the max-min threshold
    world = World(scenario(size="100B", batch="1KiB", rate="2000 msg/s", duration="2s"))
    world.env.run(until=2)
    assert world.small_cross_rack_bytes > 0
    for broker in world.brokers.values():
        nic = world.network.host_counters(broker.host)
        sent = nic.bytes_sent + world.small_bytes_sent[broker.host]
        busy = nic.egress_busy_time + world.small_busy_out[broker.host]
        # busy time is the bytes' line time on the 10 Gb/s NIC, wherever they went: at
        # least their payload over the framing's goodput, and each small transfer pays
        # its packets' headers whole (90 B a packet, none below 100 B of payload)
        line_rate = 10e9 / 8
        assert sent / line_rate / PAYLOAD < busy < 2 * sent / line_rate


def test_a_partition_whose_records_were_returned_moves_to_the_end_of_the_fetch_order():
    # SubscriptionState.movePartitionToEnd: one key, so only its partition ever has data
    s = scenario(
        brokers=1,
        rf=1,
        min_isr=1,
        partitions=2,
        members=1,
        rate="500 msg/s",
        duration="1s",
        warmup="0.5s",
        keys="keys: {distribution: uniform, count: 1}",
    )
    world = World(s)
    world.env.run(until=1)
    member = world.groups["readers"][0]
    busy = TopicPartition("events", partition_for_key(b"key-0", 2))
    idle = TopicPartition("events", 1 - busy.partition)
    assert member.consumed[busy] > 300 and member.consumed[idle] == 0
    assert member.fetch_order == [idle, busy]
