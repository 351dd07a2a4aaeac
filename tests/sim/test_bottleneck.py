"""Every resource is a bottleneck candidate, client hosts included, in both engines."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from simkafka.scenario import parse_scenario
from simkafka.sim.engine import simulate
from simkafka.sim.framing import goodput
from simkafka.sim.histogram import LatencyHistogram
from simkafka.sim.result import build_result, busiest_host_columns, producer_prefix

ENGINES = pytest.mark.parametrize("engine", ["events", "stepped"])

SCENARIO = """
name: clients
cluster:
  brokers: 3
  hardware: {{nic: 10Gbps, disk_write: 1GB/s, page_cache: 4GiB}}
  clients: {{nic: {client_nic}}}
topics:
  - {{name: events, partitions: 6, replication.factor: 1, min.insync.replicas: 1}}
producers:
  - name: writers
    topic: events
    count: {producers}
    rate: {rate}
    message_size: 10KiB
    acks: "1"
    linger.ms: 5
    batch.size: 256KiB
consumer_groups:
  - group.id: readers
    topics: [events]
    members: {members}
    processing_time_per_record: {processing}
run: {{duration: 6s, warmup: 2s, sample_interval: 0.5s, seed: 3, engine: {engine}}}
"""


def run(engine, *, client_nic="10Gbps", producers=2, rate="20MB/s", members=2, processing="0s"):
    text = SCENARIO.format(
        engine=engine,
        client_nic=client_nic,
        producers=producers,
        rate=rate,
        members=members,
        processing=processing,
    )
    return simulate(parse_scenario(textwrap.dedent(text), "clients.yaml"))


@ENGINES
def test_a_full_producer_nic_is_the_bottleneck(engine):
    # two producers with 100 Mbit/s (12.5 MB/s) each, offered 50 MB/s between them; four
    # consumers share what gets through (at most 2 of 6 partitions, 8.3 MB/s, each)
    r = run(engine, client_nic="100Mbps", rate="50MB/s", members=4)
    bottleneck = r.summary["bottleneck"]
    assert bottleneck.startswith("producer writers nic out ("), bottleneck
    assert " of 2, " in bottleneck
    # each NIC carries 12.5 MB/s of line time, 94 % of it payload (TCP/IP framing at MTU
    # 1500); the produce requests' and responses' headers take ~1 % of that
    payload = 2 * 12.5 * goodput(1500)
    assert r.summary["produce_MB_per_s"] == pytest.approx(payload, rel=0.02)
    steady = r.timeseries[r.timeseries.index > 2]
    assert steady["producer.writers.nic_out_util"].mean() > 0.95
    assert steady["producer.writers.nic_out_MB_per_s"].mean() == pytest.approx(payload, rel=0.02)
    # the backlog builds in the producers: blocked send() calls grow
    assert r.summary["sustainable"] is False
    assert "blocked_in_send" in r.summary["growing_queues"]


@ENGINES
def test_a_full_consumer_nic_is_the_bottleneck(engine):
    # four producers share 20 MB/s (40 % of their NICs); one consumer must take all 20 MB/s
    # through a 12.5 MB/s NIC
    r = run(engine, client_nic="100Mbps", producers=4, rate="20MB/s", members=1)
    bottleneck = r.summary["bottleneck"]
    assert bottleneck.startswith("consumer group readers nic in (readers-0 of 1, "), bottleneck
    steady = r.timeseries[r.timeseries.index > 2]
    assert steady["consumer.readers.nic_in_util"].mean() > 0.95
    assert steady["producer.writers.nic_out_util"].mean() < 0.6
    assert r.summary["sustainable"] is False
    assert "lag.readers" in r.summary["growing_queues"]


@ENGINES
def test_a_slow_consumer_names_its_busiest_member(engine):
    # 2000 msg/s over two members at 0.8 ms per record: each is ~80 % busy; one member at
    # 1.2 ms would not keep up. Here: one member's processing is the limit.
    r = run(engine, rate="2000 msg/s", members=1, processing="1ms")
    bottleneck = r.summary["bottleneck"]
    assert bottleneck.startswith("consumer group readers processing (readers-0 of 1, "), bottleneck
    assert r.timeseries["consumer.readers.cpu_util"].iloc[-1] > 0.95


@ENGINES
def test_client_columns_stay_bounded_for_many_clients(engine):
    r = run(engine, producers=40, members=30, rate="4MB/s")
    clients = [c for c in r.timeseries.columns if c.startswith(("producer.", "consumer."))]
    # a fixed set per group, not per host: a producer group's NIC, its two threads
    # (application, Sender) and its busiest connection, a consumer group's NIC and poll
    # thread
    assert len(clients) == 12 + 8
    assert r.summary["bottleneck"].startswith("none saturated")


def test_any_client_utilisation_column_is_a_candidate():
    # a client resource the engines do not model yet (a producer's send() CPU) is named as
    # soon as an engine writes its column
    scenario = parse_scenario(
        textwrap.dedent(
            SCENARIO.format(
                engine="events",
                client_nic="10Gbps",
                producers=2,
                rate="1MB/s",
                members=1,
                processing="0s",
            )
        ),
        "clients.yaml",
    )
    rows = []
    for t in np.arange(0.5, 6.01, 0.5):
        row = {"time": t, "b0.nic_in_util": 0.3, "under_replicated_partitions": 0}
        row |= busiest_host_columns(producer_prefix("writers"), "cpu", np.array([0.2, 0.97]))
        rows.append(row)
    ts = pd.DataFrame(rows).set_index("time")
    accounting = {"failed": {}, "ok": True}
    r = build_result(scenario, ts, LatencyHistogram(), LatencyHistogram(), [0], {}, accounting)
    assert r.summary["bottleneck"] == "producer writers cpu (writers-1 of 2, 97% busy)"
