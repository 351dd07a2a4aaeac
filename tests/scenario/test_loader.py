"""The scenario loader: Kafka names and defaults, units, and a clear error for every bad input."""

import math
import textwrap

import pytest
from pydantic import ValidationError

from simkafka.scenario import (
    ScenarioError,
    load_scenario,
    parse_scenario,
    parse_scenario_with_warnings,
)

BASE = """\
name: t
cluster:
  brokers: 3
  racks: [a, b, c]
topics:
  - name: orders
    partitions: 6
    replication.factor: 3
    min.insync.replicas: 2
producers:
  - topic: orders
    rate: 1000 msg/s
    message_size: 1KiB
consumer_groups:
  - group.id: g
    topics: [orders]
    members: 2
"""


def problems(text: str):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(textwrap.dedent(text), "s.yaml")
    return info.value.problems


def only_problem(text: str):
    found = problems(text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_kafka_defaults_when_omitted():
    s = parse_scenario(BASE)
    producer, group, topic = s.producers[0], s.consumer_groups[0], s.topics[0]
    # Kafka >= 3.0 producer defaults; linger.ms 5 since 4.0 (KIP-1030)
    assert producer.acks == "all"
    assert producer.enable_idempotence is True
    assert producer.batch_size == 16384
    assert producer.linger == pytest.approx(0.005)
    assert producer.max_in_flight_requests_per_connection == 5
    assert producer.request_timeout == pytest.approx(30.0)
    assert producer.delivery_timeout == pytest.approx(120.0)
    # consumer defaults: range then cooperative-sticky, 45 s session timeout (KIP-735)
    assert group.partition_assignment_strategy == ("range", "cooperative-sticky")
    assert group.assignor == "range"
    assert group.session_timeout == pytest.approx(45.0)
    assert group.heartbeat_interval == pytest.approx(3.0)
    assert group.max_poll_records == 500
    assert group.fetch_max_wait == pytest.approx(0.5)
    # topic defaults
    assert topic.retention == pytest.approx(7 * 86400)
    assert math.isinf(topic.retention_bytes)
    assert topic.segment_bytes == 2**30
    assert topic.cleanup_policy == ("delete",)
    assert topic.unclean_leader_election_enable is False
    assert s.cluster.controller == "kraft"
    assert s.cluster.config.replica_lag_time_max == pytest.approx(30.0)


def test_broker_count_deals_racks_round_robin():
    s = parse_scenario(BASE.replace("brokers: 3", "brokers: 5"))
    assert [(b.id, b.rack) for b in s.cluster.brokers] == [(0, "a"), (1, "b"), (2, "c"), (3, "a"), (4, "b")]


def test_units_and_kafka_list_syntax():
    s = parse_scenario(
        BASE.replace("min.insync.replicas: 2", "min.insync.replicas: 2\n    retention.ms: 3d\n    cleanup.policy: compact,delete")
        .replace("message_size: 1KiB", "message_size: 1KiB\n    linger.ms: 20\n    acks: 1")
        .replace("members: 2", "members: 2\n    partition.assignment.strategy: org.apache.kafka.clients.consumer.StickyAssignor,range")
    )
    assert s.topics[0].retention == pytest.approx(3 * 86400)
    assert s.topics[0].cleanup_policy == ("compact", "delete")
    assert s.producers[0].linger == pytest.approx(0.020)
    assert s.producers[0].acks == "1"
    assert s.consumer_groups[0].partition_assignment_strategy == ("sticky", "range")


def test_scenario_is_immutable():
    s = parse_scenario(BASE)
    with pytest.raises(ValidationError):
        s.topics[0].partitions = 12  # type: ignore[misc]


def test_explicit_assignment_sets_sizes():
    s = parse_scenario(BASE.replace("    partitions: 6\n    replication.factor: 3\n", '    replica.assignment: "0:1,1:2,2:0"\n')
                       .replace("min.insync.replicas: 2", "min.insync.replicas: 1"))
    assert s.topics[0].partitions == 3
    assert s.topics[0].replication_factor == 2
    assert s.topics[0].replica_assignment == ((0, 1), (1, 2), (2, 0))


def test_unknown_key_names_line_and_closest_key():
    p = only_problem(BASE.replace("replication.factor: 3", "replication.factr: 3").replace("min.insync.replicas: 2", "min.insync.replicas: 1"))
    assert (p.source, p.line, p.path) == ("s.yaml", 8, ("topics", 0, "replication.factr"))
    assert p.hint == "did you mean 'replication.factor'?"
    assert "s.yaml:8:5" in str(p)


def test_unknown_top_level_section():
    p = only_problem(BASE + "consumers: []\n")
    assert p.path == ("consumers",) and p.message == "unknown key"
    assert p.line == 18


def test_bad_unit_names_field_and_value():
    p = only_problem(BASE.replace("racks: [a, b, c]", "racks: [a, b, c]\n  hardware:\n    nic: 10Gbsp"))
    assert p.path == ("cluster", "hardware", "nic") and p.line == 6
    assert "10Gbsp" in p.message


def test_out_of_range_shows_what_was_written_and_the_range():
    p = only_problem(BASE.replace("message_size: 1KiB", "message_size: 1KiB\n    linger.ms: -5"))
    assert p.path == ("producers", 0, "linger.ms")
    assert "(got -5)" in p.message and p.hint == "allowed range: >= 0 ms"


def test_bad_literal_suggests():
    p = only_problem(BASE.replace("message_size: 1KiB", "message_size: 1KiB\n    acks: al"))
    assert p.hint == "did you mean 'all'?"


def test_fault_type_typo_and_missing_field():
    found = problems(BASE + "faults:\n  - {type: broker_crsh, at: 10s, broker: 1}\n  - {type: broker_crash, at: 10s}\n")
    assert [p.path for p in found] == [("faults", 0), ("faults", 1, "broker")]
    assert found[0].hint == "did you mean 'broker_crash'?"
    assert found[1].message == "required key is missing"


def test_fault_unknown_key_hint_uses_that_fault_type():
    found = problems(BASE + "faults:\n  - {type: slow_disk, at: 10s, broker: 1, factr: 0.5}\n")
    assert [(p.path, p.hint) for p in found] == [
        (("faults", 0, "factor"), None),
        (("faults", 0, "factr"), "did you mean 'factor'?"),
    ]


@pytest.mark.parametrize(
    ("edit", "path", "words"),
    [
        (("replication.factor: 3", "replication.factor: 4"), ("topics", 0, "replication.factor"), "larger than the 3 broker"),
        (("min.insync.replicas: 2", "min.insync.replicas: 4"), ("topics", 0, "min.insync.replicas"), "above the replication factor"),
        (("topic: orders", "topic: order"), ("producers", 0, "topic"), "not defined"),
        (("topics: [orders]", "topics: [ordrs]"), ("consumer_groups", 0, "topics", 0), "not defined"),
        (("members: 2", "members: 2\n    heartbeat.interval.ms: 50000"), ("consumer_groups", 0, "heartbeat.interval.ms"), "lower than"),
        (("members: 2", "members: 2\n    session.timeout.ms: 5000\n    heartbeat.interval.ms: 1000"), ("consumer_groups", 0, "session.timeout.ms"), "INVALID_SESSION_TIMEOUT"),
        (("message_size: 1KiB", "message_size: 1KiB\n    enable.idempotence: true\n    acks: 1"), ("producers", 0, "acks"), "idempotent"),
        (("message_size: 1KiB", "message_size: 2MiB"), ("producers", 0, "message_size"), "RecordTooLargeException"),
    ],
)
def test_contradictions(edit, path, words):
    p = only_problem(BASE.replace(*edit))
    assert p.path == path
    assert words in p.message
    assert p.line is not None


def test_implicit_idempotence_is_disabled_not_an_error():
    # Kafka >= 3.2: acks=1 without an explicit enable.idempotence silently disables it
    s = parse_scenario(BASE.replace("message_size: 1KiB", "message_size: 1KiB\n    acks: 1"))
    assert s.producers[0].idempotent is False


def test_fault_contradictions():
    found = problems(BASE + "faults:\n  - {type: broker_crash, at: 10s, broker: 7}\n"
                            "  - {type: broker_restart, at: 20s, broker: 2}\n"
                            "  - {type: consumer_crash, at: 5s, group: g, member: 2}\n"
                            "  - {type: network_partition, at: 5s, between: [[a], [d]]}\n")
    assert [(p.path, p.line) for p in found] == [
        (("faults", 0, "broker"), 19), (("faults", 1, "broker"), 20), (("faults", 2, "member"), 21),
        (("faults", 3, "between", 1, 0), 22),
    ]


def test_rack_durability_that_cannot_be_met():
    # a target is a goal: the scenario loads, with a warning saying why it cannot be met
    _, warnings = parse_scenario_with_warnings(
        BASE.replace("racks: [a, b, c]", "racks: [a]") + "targets:\n  durability: {failures: 1, domain: rack}\n"
    )
    (p,) = warnings
    assert p.path == ("targets", "durability", "failures")
    assert "cannot survive 1 rack failure" in p.message


def test_zookeeper_mode_refuses_partial_racks():
    text = BASE.replace("  brokers: 3\n  racks: [a, b, c]\n", "  controller: zookeeper\n  brokers:\n    - {id: 0, rack: a}\n    - {id: 1}\n    - {id: 2, rack: b}\n")
    p = only_problem(text)
    assert "Not all brokers have rack information" in p.message


def test_warnings_do_not_fail():
    _, warnings = parse_scenario_with_warnings(BASE.replace("min.insync.replicas: 2", "min.insync.replicas: 3"), "s.yaml")
    assert [w.path for w in warnings] == [("topics", 0, "min.insync.replicas")]


def test_yaml_syntax_error_has_line():
    p = only_problem(BASE.replace("members: 2", "members: [2"))
    assert p.line is not None and "not valid YAML" in p.message


def test_duplicate_keys_are_errors():
    p = only_problem(BASE.replace("partitions: 6", "partitions: 6\n    partitions: 12"))
    assert "appears twice" in p.message and p.line == 8


def test_yaml_is_loaded_safely():
    # a python object tag must not be constructed
    p = only_problem(BASE.replace("name: t", "name: !!python/object/apply:os.system ['echo hi']"))
    assert "not valid YAML" in p.message


def test_missing_file_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert "no such file" in str(info.value)


def test_resolved_dump_round_trips():
    import yaml

    s = parse_scenario(BASE)
    again = parse_scenario(yaml.safe_dump(s.model_dump(mode="json")))
    assert again == s


def test_rack_failure_and_controller_failover_faults():
    s = parse_scenario(BASE + "faults:\n  - {type: rack_failure, at: 10s, rack: b, duration: 30s}\n"
                              "  - {type: controller_failover, at: 50s}\n")
    assert [f.type for f in s.faults] == ["rack_failure", "controller_failover"]
    assert s.faults[0].rack == "b" and s.faults[0].duration == 30.0
    found = problems(BASE + "faults:\n  - {type: rack_failure, at: 10s, rack: bb}\n"
                            "  - {type: rack_failure, at: 20s, rack: a}\n"
                            "  - {type: rack_failure, at: 30s, rack: a}\n"
                            "  - {type: broker_restart, at: 40s, broker: 0}\n")
    assert [(p.path, p.line, p.message) for p in found] == [
        (("faults", 0, "rack"), 19, "rack 'bb' does not exist"),
        (("faults", 2, "rack"), 21, "every broker of rack 'a' is already down at 30.000 s"),
    ]
    assert found[0].hint == "did you mean 'b'?"
