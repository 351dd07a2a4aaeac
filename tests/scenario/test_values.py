"""Nonsense values and malformed shapes: refused with the file, line, field and range, never a traceback.

Every case here used to load (and fail or hang in the engines), or raised a Python
exception from the loader. Each is written into BASE at a known line, so the messages
must point at that line.
"""

from __future__ import annotations

import time

import pytest

from simkafka.scenario import ScenarioError, parse_scenario, parse_scenario_with_warnings
from simkafka.scenario.limits import MAX_BROKERS, MAX_CLIENTS, MAX_KEYS, MAX_PARTITIONS

BASE = """\
name: t
cluster:
  brokers: 3
  racks: [a, b, c]
  hardware:
    nic: 10Gbps
    disk_write: 500MB/s
    page_cache: 16GiB
topics:
  - name: orders
    partitions: 6
    replication.factor: 3
    min.insync.replicas: 2
producers:
  - topic: orders
    rate: 1000 msg/s
    message_size: 1KiB
    batch.size: 16384
consumer_groups:
  - group.id: g
    topics: [orders]
    members: 2
run:
  duration: 60s
"""
LINE = {"brokers": 3, "racks": 4, "nic": 6, "disk_write": 7, "page_cache": 8, "partitions": 11,
        "replication.factor": 12, "rate": 16, "message_size": 17, "batch.size": 18, "members": 22, "duration": 24}


def only_error(text: str):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    problems = info.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def edit(key: str, value: str) -> str:
    lines = BASE.splitlines(keepends=True)
    number = LINE[key]
    indent = lines[number - 1][: len(lines[number - 1]) - len(lines[number - 1].lstrip())]
    lines[number - 1] = f"{indent}{key}: {value}\n"
    return "".join(lines)


HARDWARE = ("cluster", "hardware")


@pytest.mark.parametrize(("key", "value", "path", "words"), [
    # bandwidths: zero, negative, NaN, infinite, bare numbers, overflowing
    ("nic", "0Gbps", (*HARDWARE, "nic"), "must be greater than 0"),
    ("disk_write", "-500MB/s", (*HARDWARE, "disk_write"), "must not be negative"),
    ("nic", ".nan", (*HARDWARE, "nic"), "needs a unit"),
    ("nic", ".inf", (*HARDWARE, "nic"), "needs a unit"),
    ("nic", "1e400Gbps", (*HARDWARE, "nic"), "finite"),
    ("nic", "100", (*HARDWARE, "nic"), "needs a unit"),
    ("disk_write", "1e999", (*HARDWARE, "disk_write"), "expected a rate"),  # YAML 1.1: a string
    # sizes
    ("page_cache", "-16GiB", (*HARDWARE, "page_cache"), "must not be negative"),
    ("page_cache", "0", (*HARDWARE, "page_cache"), "must be greater than 0"),
    ("page_cache", str(10**30), (*HARDWARE, "page_cache"), "64-bit long"),
    ("page_cache", "1e400GB", (*HARDWARE, "page_cache"), "finite"),
    ("batch.size", "64GiB", ("producers", 0, "batch.size"), "32-bit int"),
    ("message_size", ".nan", ("producers", 0, "message_size", "mean"), "finite"),
    # rates
    ("rate", "0", ("producers", 0, "rate"), "greater than 0"),
    ("rate", str(10**400), ("producers", 0, "rate"), "far beyond"),
    ("rate", ".inf", ("producers", 0, "rate"), "finite"),
    ("rate", "-5 msg/s", ("producers", 0, "rate"), "greater than 0"),
    ("rate", "-5MB/s", ("producers", 0, "rate"), "greater than 0"),
    # durations
    ("duration", "-1s", ("run", "duration"), "must not be negative"),
    ("duration", ".inf", ("run", "duration"), "finite"),
    ("duration", str(10**400), ("run", "duration"), "far beyond"),
    ("duration", "0", ("run", "duration"), "greater than 0"),
    # counts beyond their bounds
    ("brokers", str(2**31), ("cluster", "brokers"), f"between 1 and {MAX_BROKERS}"),
    ("brokers", "0", ("cluster", "brokers"), f"between 1 and {MAX_BROKERS}"),
    ("partitions", str(MAX_PARTITIONS + 1), ("topics", 0, "partitions"), "less than or equal"),
    ("replication.factor", str(2**15), ("topics", 0, "replication.factor"), "less than or equal"),
    ("members", str(MAX_CLIENTS + 1), ("consumer_groups", 0, "members"), "less than or equal"),
    # wrong shapes where the loader used to raise
    ("racks", "5", ("cluster", "racks"), "valid tuple"),
    ("racks", "{a: 1}", ("cluster", "racks"), "valid tuple"),
    ("brokers", "[]", ("cluster", "brokers"), "at least 1 item"),
    ("brokers", "true", ("cluster", "brokers"), "valid tuple"),
])
def test_nonsense_is_refused_at_its_line(key, value, path, words):
    started = time.perf_counter()
    p = only_error(edit(key, value))
    assert time.perf_counter() - started < 1.0
    assert p.path == path and p.line == LINE[key], str(p)
    assert words in p.message, str(p)


@pytest.mark.parametrize(("key", "value"), [("racks", "[]"), ("racks", "null"), ("racks", "a"), ("racks", "a,b")])
def test_rack_shorthands_that_are_fine(key, value):
    assert len(parse_scenario(edit(key, value)).cluster.brokers) == 3


def test_racks_that_are_not_names_are_reported_on_racks():
    p = only_error(edit("racks", "[[a], b]"))
    assert p.path == ("cluster", "racks", 0) and p.line == LINE["racks"]


def test_int32_configs_name_kafkas_limit_in_the_keys_unit():
    p = only_error(BASE.replace("batch.size: 16384", "batch.size: 16384\n    request.timeout.ms: 30d"))
    assert p.path == ("producers", 0, "request.timeout.ms")
    assert "32-bit int of milliseconds" in p.message
    assert p.hint == "allowed range: <= 2147483647 ms (24.9 d)"


def test_kafkas_minus_one_means_unlimited_where_kafka_allows_it():
    s = parse_scenario(BASE.replace("min.insync.replicas: 2", "min.insync.replicas: 2\n    retention.ms: -1\n    retention.bytes: -1"))
    assert s.topics[0].retention == float("inf") and s.topics[0].retention_bytes == float("inf")
    p = only_error(BASE.replace("batch.size: 16384", "batch.size: 16384\n    linger.ms: -1"))
    assert p.path == ("producers", 0, "linger.ms") and p.hint == "allowed range: >= 0 ms"


def test_a_bare_bandwidth_says_how_to_write_it():
    p = only_error(edit("nic", "100"))
    assert p.hint == "write 100MB/s, or 100Gbps for a NIC"


def test_batch_larger_than_buffer_memory_is_an_error():
    p = only_error(BASE.replace("batch.size: 16384", "batch.size: 64MiB\n    buffer.memory: 32MiB"))
    assert p.path == ("producers", 0, "batch.size") and p.line == LINE["batch.size"]
    assert "BufferPool" in p.message


def test_a_message_larger_than_buffer_memory_is_an_error():
    p = only_error(BASE.replace("batch.size: 16384", "batch.size: 512\n    buffer.memory: 1000"))
    assert p.path == ("producers", 0, "message_size") and "RecordTooLargeException" in p.message


@pytest.mark.parametrize(("members", "idle", "strategy"), [(8, 2, "range"), (7, 1, "cooperative-sticky")])
def test_members_beyond_the_partitions_are_warned_idle(members, idle, strategy):
    text = edit("members", f"{members}\n    partition.assignment.strategy: {strategy}")
    _, warnings = parse_scenario_with_warnings(text, "s.yaml")
    (w,) = warnings
    assert w.path == ("consumer_groups", 0, "members") and w.line == LINE["members"]
    assert w.message.startswith(f"{idle} of the {members} members will sit idle")


def test_range_assignor_idles_members_per_topic():
    # two topics of 6 and 2 partitions: range deals each topic to the first members, so
    # the 8 partitions keep only 6 of 8 members busy; round robin keeps all 8
    text = BASE.replace("topics:\n  - name: orders", "topics:\n  - name: small\n    partitions: 2\n  - name: orders")
    text = text.replace("topics: [orders]\n    members: 2", "topics: [orders, small]\n    members: 8")
    _, warnings = parse_scenario_with_warnings(text, "s.yaml")
    assert [w.message.split(":")[0] for w in warnings] == ["2 of the 8 members will sit idle"]
    _, warnings = parse_scenario_with_warnings(
        text.replace("members: 8", "members: 8\n    partition.assignment.strategy: roundrobin"), "s.yaml"
    )
    assert warnings == []


def test_total_partitions_are_bounded_before_anything_is_built():
    text = BASE.replace("  - name: orders\n    partitions: 6", "  - name: big\n    partitions: 150000\n  - name: orders\n    partitions: 60000")
    p = only_error(text)
    assert p.path == ("topics",) and "210,000 partitions in all" in p.message


def test_samples_are_bounded():
    p = only_error(BASE.replace("duration: 60s", "duration: 60s\n  sample_interval: 1us"))
    assert p.path == ("run", "sample_interval") and "60,000,000 time-series rows" in p.message


def test_a_huge_broker_count_is_refused_instantly(check_text, tmp_path):
    started = time.perf_counter()
    status, output = check_text(edit("brokers", str(2**31)))
    assert time.perf_counter() - started < 1.0
    assert status == 2 and f"{tmp_path / 's.yaml'}:3:3: error: cluster.brokers:" in output
    assert f"between 1 and {MAX_BROKERS}" in output


@pytest.mark.parametrize(("key", "value", "where"), [
    ("nic", "0Gbps", ":6:"), ("disk_write", "-500MB/s", ":7:"), ("page_cache", "-16GiB", ":8:"),
    ("batch.size", "64GiB", ":18:"), ("nic", "100", ":6:"),
])
def test_cli_exit_2_with_file_and_line(check_text, tmp_path, key, value, where):
    status, output = check_text(edit(key, value))
    assert status == 2 and f"{tmp_path / 's.yaml'}{where}" in output


def test_key_counts_are_bounded():
    # the engines hash every distinct key once: 2**31 keys used to exhaust memory
    p = only_error(BASE.replace("batch.size: 16384", "batch.size: 16384\n    keys: {distribution: uniform, count: 2147483647}"))
    assert p.path == ("producers", 0, "keys", "count") and p.line == 19
    assert p.hint == f"allowed range: <= {MAX_KEYS}"


def test_two_producer_groups_under_one_name_are_refused_at_the_line():
    # the engines name a group's hosts "<name or topic>-<index>": two unnamed groups on one
    # topic would share hosts (found by the fuzzer as an engine error without a line)
    text = """name: dup
cluster: {brokers: 1}
topics: [{name: t}]
producers:
  - {topic: t, rate: 10 msg/s, message_size: 100B}
  - {topic: t, rate: 10 msg/s, message_size: 100B}
"""
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "dup.yaml")
    message = str(err.value)
    assert "dup.yaml:6:6: error: producers[1].topic: producers[0] and producers[1] are both called 't'" in message
    assert "give each producer group its own `name`" in message
