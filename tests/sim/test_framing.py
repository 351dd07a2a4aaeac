"""TCP/IP and Ethernet framing on the NICs (issue 11): line time per packet, in both engines."""

from __future__ import annotations

import textwrap

import pytest

from simkafka.scenario import parse_scenario
from simkafka.sim.accumulator import RECORD_BATCH_OVERHEAD, RecordAccumulator
from simkafka.sim.engine import simulate
from simkafka.sim.framing import goodput, line_bytes, mss

BASE = """
name: framing
cluster:
  brokers: 1
  hardware: {{nic: 10Gbps, disk_write: 2GB/s, page_cache: 4GiB}}
  clients: {{nic: 1Gbps}}
  network: {{mtu: {mtu}}}
topics:
  - {{name: events, partitions: 1, replication.factor: 1}}
producers:
  - topic: events
    rate: max
    message_size: 1KiB
    acks: "1"
    linger.ms: 5
    batch.size: 256KiB
costs:
  producer: {{record_cpu: 0.1us, request_cpu: 1us, batch_cpu: 1us, byte_cpu: 0ns}}
run: {{duration: 1.5s, warmup: 0.5s, seed: 7, sample_interval: 0.25s, engine: {engine}}}
"""


def test_the_familiar_figures():
    assert mss(1500) == 1448
    assert line_bytes(1448, 1500) == 1538
    assert line_bytes(1449, 1500) == 1449 + 2 * 90
    assert goodput(1500) * 1e9 / 1e6 == pytest.approx(941.5, abs=0.1)  # Mbit/s on 1 GbE


@pytest.mark.parametrize("mtu", [1500, 9000])
def test_a_nic_carries_its_line_rate_less_framing(mtu):
    results = {}
    for engine in ("events", "stepped"):
        s = parse_scenario(textwrap.dedent(BASE.format(engine=engine, mtu=mtu)), "framing.yaml")
        results[engine] = simulate(s)
    spec = s.producers[0]
    acc = RecordAccumulator(
        1,
        batch_size=int(spec.batch_size),
        linger=spec.linger,
        compression_ratio=1.0,
        message_bytes=spec.message_size.mean,
    )
    wire = acc.record_bytes + RECORD_BATCH_OVERHEAD / acc.messages_per_batch
    # the producer's 1 GbE NIC binds: its line time, less framing, in payload
    expected = 125e6 * goodput(mtu) / wire
    rates = {e: r.summary["produce_msgs_per_s"] for e, r in results.items()}
    for engine, r in results.items():
        assert rates[engine] == pytest.approx(expected, rel=0.03), (rates, expected)
        assert r.timeseries["producer.events.nic_out_util"].iloc[2:].mean() > 0.97
        assert "producer events nic out" in r.summary["bottleneck"], r.summary["bottleneck"]
    assert rates["events"] == pytest.approx(rates["stepped"], rel=0.05)
