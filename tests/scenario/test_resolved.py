"""``simkafka check --resolved``: every default filled in, quantities as a person writes them,
and the output loads back to an equal scenario.

It used to print bare floats (``nic: 1250000000.0``, ``rate: 2.09715e+07 B/s``, the
latter not even loading back to the same rate) and to fail on some accepted inputs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.cli.main import main
from simkafka.scenario import load_scenario, parse_scenario

LIBRARY = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))

ODD = """\
name: odd.scenario_1
description: "Ünïcode, quotes ' and \\" and: colons"
cluster:
  controller: zookeeper
  brokers:
    - {id: 0, rack: a, nic: 25Gbps, page_cache: 1.5GiB}
    - {id: 7, rack: b, disk_write: 333.3MB/s, cpu_cores: 3}
    - {id: 3, rack: c, nic_in: 1Gbit/s, nic_out: 800Mbps}
  hardware: {nic: 1.25GB/s, disk_read: 1.5GiB/s, page_cache: 1000000007}
  network: {rack_latency: 0.1ms, cross_rack_latency: 0.6ms, client_latency: 1.5us}
  clients: {nic: 3Gbps, rack: a}
  config:
    replica.fetch.wait.max.ms: 0.5
    leader.imbalance.check.interval.seconds: 1.5h
topics:
  - name: t1
    replica.assignment: "0:7,7:3,3:0"
    retention.ms: -1
    retention.bytes: 10GiB
    cleanup.policy: compact,delete
    segment.ms: 1d
  - {name: t2, partitions: 5, retention.bytes: -1, retention.ms: 36h}
producers:
  - topic: t1
    count: 2
    rate: 20MiB/s
    message_size: {distribution: lognormal, mean: 700B, stddev: 0.5KiB, min: 10, max: 1MB}
    keys: {distribution: zipf, count: 1000, exponent: 1.1}
    acks: 1
    linger.ms: 0.25
    batch.size: 48KiB
    compression.type: zstd
    compression_ratio: 0.3333
    profile: {type: burst, every: 10min, duration: 7.5s, factor: 2.5}
  - topic: t2
    rate: 1234.5678
    message_size: 100
    profile: {type: step, steps: [{at: 0.5s, factor: 0}, {at: 1m, factor: 3}]}
consumer_groups:
  - group.id: g
    topics: t1,t2
    members: 3
    processing_time_per_record: 3.3us
    partition.assignment.strategy: org.apache.kafka.clients.consumer.RoundRobinAssignor
    session.timeout.ms: 10s
faults:
  - {type: network_partition, at: 30s, between: [[a], [b, 3]], duration: 2.5s}
  - {type: slow_disk, at: 1m, broker: 7, factor: 0.1}
run: {duration: 2h, warmup: 90s, sample_interval: 2.5s, engine: stepped, step: 0.1ms, seed: 9007199254740993}
targets:
  produce_throughput: 1Gbps
  p99_produce_latency: 0.25s
  max_consumer_lag: 100
  durability: {failures: 1, domain: rack}
"""


def resolved_text(path: Path) -> str:
    """What ``check --resolved`` prints on stdout (warnings go to stderr)."""
    result = CliRunner().invoke(main, ["check", "--resolved", str(path)])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def odd(tmp_path) -> Path:
    path = tmp_path / "odd.yaml"
    path.write_text(ODD, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_library_resolves_to_an_equal_scenario(tmp_path, path):
    again = tmp_path / "resolved.yaml"
    again.write_text(resolved_text(path))
    assert load_scenario(again) == load_scenario(path)


def test_odd_inputs_resolve_to_an_equal_scenario(odd):
    assert parse_scenario(resolved_text(odd)) == parse_scenario(ODD)


def test_quantities_are_printed_with_units(odd):
    output = resolved_text(odd)
    data = yaml.safe_load(output)
    cluster = data["cluster"]
    assert cluster["hardware"]["nic"] == "10Gbps"
    assert cluster["hardware"]["disk_read"] == "1.5GiB/s"
    assert cluster["hardware"]["page_cache"] == "1000000007B"
    assert cluster["brokers"][0]["page_cache"] == "1.5GiB"
    assert cluster["network"] == {
        "rack_latency": "100us",
        "cross_rack_latency": "600us",
        "client_latency": "1.5us",
        "mtu": 1500,
    }
    assert cluster["config"]["leader.imbalance.check.interval.seconds"] == "1.5h"
    assert cluster["config"]["replica.fetch.wait.max.ms"] == 0.5  # Kafka's *.ms keys stay in ms
    assert data["producers"][0]["rate"] == "20MiB/s"
    assert data["producers"][1]["rate"] == "1234.5678 msg/s"
    assert data["producers"][0]["message_size"]["mean"] == "700B"
    assert data["producers"][0]["linger.ms"] == 0.25
    assert data["producers"][0]["enable.idempotence"] is False  # acks=1 disables it (Kafka >= 3.2)
    assert data["topics"][0]["retention.ms"] == -1 and data["topics"][1]["retention.bytes"] == -1
    assert data["run"]["duration"] == "2h" and data["run"]["step"] == "100us"
    assert data["targets"]["produce_throughput"] == "125MB/s"
    assert re.search(r"\d[eE][+-]?\d", output) is None  # no 2.09715e+07


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=2**31 - 1, allow_nan=False))
def test_kafka_ms_settings_print_back_exactly(ms):
    text = f"name: t\ncluster: {{brokers: 1}}\ntopics: [{{name: a}}]\nproducers:\n" \
           f"  - {{topic: a, rate: 1 msg/s, message_size: 1B, linger.ms: {ms!r}, request.timeout.ms: {ms!r}}}\n"
    scenario = parse_scenario(text)
    assert parse_scenario(yaml.safe_dump(scenario.model_dump(mode="json"))) == scenario
