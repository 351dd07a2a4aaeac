"""The flow engine's request shape (:mod:`simkafka.sim.flow_latency`): the Sender's drain,
the connection's limits and the queue for its channel, each mechanism on its own.

Every expectation is computed from the formula's inputs as the world holds them (each
flow's rate, the batch and stint sizes, linger.ms, the round trip), not from figures
read off a run."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from simkafka.scenario import parse_scenario
from simkafka.sim.engine import simulate
from simkafka.sim.flow import FlowWorld

SCENARIO = """
name: flow-requests
cluster:
  brokers: {brokers}
  hardware: {{nic: 25Gbps, disk_write: 2GB/s, page_cache: 16GiB, cpu_cores: 16}}
  network: {{client_latency: {client_latency}}}
topics:
  - {{name: events, partitions: {partitions}, replication.factor: 1, min.insync.replicas: 1}}
producers:
  - topic: events
    count: 1
    rate: {rate}
    message_size: 1KiB
    acks: "1"
    linger.ms: {linger}
    max.in.flight.requests.per.connection: {in_flight}
    {keys}
run: {{duration: 1s, engine: flow}}
"""
KEYED = "keys: {distribution: uniform, count: 100000}"


def world(brokers=1, partitions=1, rate="100 msg/s", linger=0, keyed=True, in_flight=5,
          client_latency="0.2ms") -> FlowWorld:
    text = SCENARIO.format(brokers=brokers, partitions=partitions, rate=rate, linger=linger,
                           in_flight=in_flight, keys=KEYED if keyed else "",
                           client_latency=client_latency)
    w = FlowWorld(parse_scenario(textwrap.dedent(text), source="test.yaml"))
    w.solve(np.ones(w.N))
    return w


def requests_per_s(w: FlowWorld) -> float:
    return float(w.shape.requests_per_s.sum())


def test_at_a_low_rate_without_linger_every_record_is_a_request_of_its_own():
    w = world(partitions=4, rate="100 msg/s", linger=0)
    assert w.rate_k.sum() == pytest.approx(100.0)
    np.testing.assert_allclose(w.shape.msgs_per_batch, 1.0)
    np.testing.assert_allclose(w.shape.msgs_per_request, 1.0)
    assert requests_per_s(w) == pytest.approx(100.0)


def test_a_keyed_connection_drains_once_its_first_batch_lingered_out_and_takes_every_partitions():
    linger = 0.005
    shapes = []
    for partitions in (1, 4, 16):
        w = world(partitions=partitions, rate="2000 msg/s", linger=5)
        rate_p = w.rate_k  # one instance, one broker: every flow on the one connection
        rate_c = rate_p.sum()
        # a request a first record's wait (1 / rate_c) plus linger.ms
        assert requests_per_s(w) == pytest.approx(1.0 / (1.0 / rate_c + linger))
        # each partition's batch holds what it received in the cycle, at least one record
        cycle = 1.0 / rate_c + linger
        np.testing.assert_allclose(w.shape.msgs_per_batch, np.maximum(rate_p * cycle, 1.0))
        batches_per_request = float((w.rate_k / w.shape.msgs_per_batch).sum()) / requests_per_s(w)
        assert batches_per_request == pytest.approx(np.minimum(rate_p * cycle, 1.0).sum())
        shapes.append((batches_per_request, float(w.shape.msgs_per_request[0])))
    # the same records a request, spread over more partitions: more, smaller batches
    assert shapes[0][0] == pytest.approx(1.0)
    assert shapes[0][0] < shapes[1][0] < shapes[2][0]
    assert shapes[0][1] == pytest.approx(shapes[2][1])


def test_a_keyed_partition_filling_its_batch_before_linger_sets_the_cycle():
    w = world(partitions=1, rate="20000 msg/s", linger=100)
    full = w.full_batch[0]
    rate = float(w.rate_k.sum())
    assert full - 1 < rate * 0.1  # the batch fills long before linger.ms
    assert requests_per_s(w) == pytest.approx(rate / full)
    assert w.shape.msgs_per_batch[0] == pytest.approx(full)
    assert w.shape.batch_wait[0] == pytest.approx((full - 1) / rate)


def test_unkeyed_leftover_batches_ride_along_with_the_next_stint_to_their_broker():
    linger = 0.005
    w = world(brokers=4, partitions=8, rate="40000 msg/s", linger=5, keyed=False)
    full, stint = w.full_batch[0], w.stint[0]
    whole = math.floor(stint / full)
    assert stint > whole * full  # each stint leaves a leftover batch
    rate = float(w.rate_k.sum())
    stints_per_conn = rate / w.B / stint
    # the leftover goes alone unless a stint lands on its broker and fills a batch first
    alone = math.exp(-stints_per_conn * (linger - full / rate))
    assert requests_per_s(w) == pytest.approx(w.B * stints_per_conn * (whole + alone))
    batches = float((w.rate_k / w.shape.msgs_per_batch).sum())
    assert batches == pytest.approx(w.B * stints_per_conn * (whole + 1))
    assert requests_per_s(w) < batches
    # the longer the linger, the more leftovers ride along
    longer = world(brokers=4, partitions=8, rate="40000 msg/s", linger=50, keyed=False)
    assert requests_per_s(longer) < requests_per_s(w)


@pytest.mark.parametrize("in_flight", [1, 2])
def test_requests_are_bounded_by_the_in_flight_limit_over_the_round_trip(in_flight):
    w = world(partitions=4, rate="50000 msg/s", linger=0, in_flight=in_flight, client_latency="5ms")
    trip = 2 * w.client_latency
    # the service of a request as large as the window leaves them (the channel's time)
    service = float(w.shape.channel_busy_per_msg[0] * w.shape.msgs_per_request[0])
    assert requests_per_s(w) == pytest.approx(in_flight / (trip + service), rel=1e-3)
    # ... and so is the throughput: requests at most one full batch per partition each
    full_request = w.full_batch[0] * w.P
    assert float(w.rate_k.sum()) == pytest.approx(requests_per_s(w) * full_request, rel=1e-3)
    assert float(w.rate_k.sum()) < 50000
    # the records wait for the next request: longer than the drain's cycle (none)
    assert w.shape.batch_wait.min() > 0.0


def test_near_periodic_keyed_requests_barely_queue_and_a_stints_burst_waits_behind_itself():
    keyed = world(partitions=4, rate="2000 msg/s", linger=5)
    service = float(keyed.shape.channel_busy_per_msg[0] * keyed.shape.msgs_per_request[0])
    queue = keyed.shape.produce_base[0] - 2 * keyed.client_latency - service
    rho = requests_per_s(keyed) * service
    assert 0 <= queue < rho * service / (2 * (1 - rho))  # less than Poisson arrivals would wait
    sticky = world(brokers=1, partitions=4, rate="40000 msg/s", linger=5, keyed=False)
    service = float(sticky.shape.channel_busy_per_msg[0] * sticky.shape.msgs_per_request[0])
    queue = sticky.shape.produce_base[0] - 2 * sticky.client_latency - service
    gap = sticky.full_batch[0] / float(sticky.rate_k.sum())  # a full batch's fill
    if service > gap:  # the second request of a burst waits for the first
        assert queue > 0.0


def test_leftover_batches_that_linger_out_alone_keep_their_share_of_the_histogram():
    linger = 0.005
    w = world(brokers=4, partitions=8, rate="40000 msg/s", linger=5, keyed=False)
    alone = float(w.shape.remainder[0] * w.shape.remainder_own[0])
    assert 0.0 < alone < 0.1
    # intervals so short that a flow has a record in a few of them only: the leftovers'
    # few records must still come out at their share, not be rounded away
    dt, steps = 2e-5, 5000
    for _ in range(steps):
        w.latency.record(dt)
    histogram = w.latency.produce
    assert abs(histogram.total - float(w.rate_k.sum()) * dt * steps) <= w.K
    # they wait linger.ms; only leftovers (some taken along late) wait that long
    assert histogram.percentile(100 * (1 - 0.8 * alone)) >= linger
    leftovers = float(w.shape.remainder[0])
    assert histogram.percentile(100 * (1 - 1.25 * leftovers)) < linger


def test_a_cluster_without_producers_records_no_latency():
    text = """
    name: idle
    cluster: {brokers: 3}
    topics:
      - {name: t, partitions: 6, replication.factor: 3}
    producers: []
    consumer_groups:
      - {group.id: g, topics: [t], members: 2}
    run: {duration: 2s, warmup: 0.5s, engine: flow}
    """
    w = FlowWorld(parse_scenario(textwrap.dedent(text), source="test.yaml"))
    w.solve(np.ones(w.N))
    w.advance(1.0)
    assert w.latency.produce.total == 0 and w.latency.e2e.total == 0
    assert w.shape.requests_per_s.sum() == 0


# one member behind one partition: it processes 2 ms a record, about 500 a second
ONE_SLOW_MEMBER = """
name: one-slow-member
cluster:
  brokers: 1
  hardware: {{nic: 10Gbps, disk_write: 1GB/s, page_cache: 8GiB}}
topics:
  - {{name: orders, partitions: 1, replication.factor: 1, min.insync.replicas: 1}}
producers:
  - {{topic: orders, count: 1, rate: {rate}, message_size: 1KiB, acks: "1"{profile}}}
consumer_groups:
  - {{group.id: slow, topics: [orders], members: 1, processing_time_per_record: 2ms}}
run: {{duration: {duration}, warmup: {warmup}, engine: {engine}}}
"""


def one_slow_member(engine: str, rate: str, duration: str, warmup: str, profile: str = ""):
    text = ONE_SLOW_MEMBER.format(engine=engine, rate=rate, duration=duration, warmup=warmup, profile=profile)
    return simulate(parse_scenario(textwrap.dedent(text), source="t.yaml"))


@pytest.mark.parametrize("engine", ["flow", "stepped"])
def test_a_record_behind_a_growing_backlog_waits_its_age_first_in_first_out(engine):
    """The flow engine's end-to-end latency holds the backlog's wait, as the stepped
    engine's (which reads the processed records' creation times) does. The events
    engine's records count at the end of their poll, whose size there follows its fetch
    timing: its median is 1.05 s here (the backlog's 0.88 s and part of a poll)."""
    result = one_slow_member(engine, "600 msg/s", "8s", "2s")
    consumed = result.summary["consume_msgs_per_s.slow"]
    assert consumed == pytest.approx(500, rel=0.01)  # 2 ms a record (and a little poll())
    # the backlog grows by a - c a second; the record processed at t joined it when the
    # high watermark was at what is processed now: it waited t (1 - c / a). Processed at
    # an even pace over the 2-8 s window, the median record is the one at 5 s, the 99th
    # percentile's at 7.94 s
    assert result.latency.loc["end_to_end", "p50"] == pytest.approx(5.0 * (1.0 - consumed / 600.0), rel=0.03)
    assert result.latency.loc["end_to_end", "p99"] == pytest.approx(7.94 * (1.0 - consumed / 600.0), rel=0.03)


def test_a_backlog_filled_at_a_surge_is_drained_in_the_order_it_came():
    """900 msg/s for 4 s into a member that processes 500 a second, then 180: the backlog
    drains at 500 a second through records that came at 900 -- its oldest gets older
    while it drains, which a wait read off the current rates (180 a second: "falling")
    would not say. The stepped engine reads each processed record's creation time."""

    def e2e(engine: str) -> list[float]:
        result = one_slow_member(engine, "900 msg/s", "10s", "1s",
                                 profile=", profile: {type: step, steps: [{at: 4s, factor: 0.2}]}")
        return [float(result.latency.loc["end_to_end", q]) for q in ("p50", "p99")]

    stepped, flow = e2e("stepped"), e2e("flow")
    assert stepped[1] > 2.5  # the last of the surge's records waited seconds
    assert flow[0] == pytest.approx(stepped[0], rel=0.05)
    assert flow[1] == pytest.approx(stepped[1], rel=0.05)
