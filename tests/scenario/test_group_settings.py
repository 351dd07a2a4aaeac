"""A consumer group's delivery, static membership, isolation and commit settings, the KIP-848
coordinator's broker configs, and the checks Kafka itself makes on them."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from simkafka.cli.main import main
from simkafka.scenario import ScenarioError, parse_scenario, parse_scenario_with_warnings

BASE = """\
name: t
cluster:
  brokers: 3
topics:
  - name: orders
    partitions: 6
consumer_groups:
  - group.id: g
    topics: [orders]
    members: 2
"""
GROUP_LINE = BASE.count("\n") + 1  # the first line added under the group


def with_group(*lines: str, cluster: str = "") -> str:
    text = BASE + "".join(f"    {line}\n" for line in lines)
    return text.replace("  brokers: 3\n", f"  brokers: 3\n{cluster}") if cluster else text


def the_problem(text: str):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    (problem,) = info.value.problems
    return problem


def the_warnings(text: str) -> list:
    _, warnings = parse_scenario_with_warnings(text, "s.yaml")
    return warnings


# ---- defaults and Kafka's names ----------------------------------------------------------


def test_defaults_when_omitted():
    s = parse_scenario(BASE)
    group, config = s.consumer_groups[0], s.cluster.config
    assert group.delivery == "at-least-once"
    assert group.group_instance_id is None and not group.static_membership
    assert group.instance_id(0) is None
    assert group.isolation_level == "read_uncommitted"  # ConsumerConfig's default
    assert group.enable_auto_commit is True
    assert group.commit_interval == pytest.approx(0.1)  # Streams under exactly_once_v2
    # GroupCoordinatorConfig (Kafka 4.x)
    assert config.group_consumer_session_timeout == pytest.approx(45.0)
    assert config.group_consumer_min_session_timeout == pytest.approx(45.0)
    assert config.group_consumer_max_session_timeout == pytest.approx(60.0)
    assert config.group_consumer_heartbeat_interval == pytest.approx(5.0)
    assert config.group_consumer_min_heartbeat_interval == pytest.approx(5.0)
    assert config.group_consumer_max_heartbeat_interval == pytest.approx(15.0)


def test_kafka_names_set_the_fields():
    s = parse_scenario(with_group(
        "delivery: at-most-once", "group.instance.id: billing.app_1", "isolation.level: read_committed",
        "commit.interval.ms: 250", "enable.auto.commit: false",
    ))
    group = s.consumer_groups[0]
    assert group.delivery == "at-most-once"
    assert group.static_membership
    assert [group.instance_id(i) for i in (0, 1, 12)] == ["billing.app_1-0", "billing.app_1-1", "billing.app_1-12"]
    assert group.isolation_level == "read_committed"
    assert group.commit_interval == pytest.approx(0.25)  # a bare number in a *.ms key is ms
    assert group.enable_auto_commit is False


def test_the_coordinators_settings_by_kafka_name():
    cluster = ("  config:\n    group.consumer.session.timeout.ms: 50s\n"
               "    group.consumer.heartbeat.interval.ms: 7000\n"
               "    group.consumer.max.session.timeout.ms: 90000\n"
               "    group.consumer.min.heartbeat.interval.ms: 2000\n")
    config = parse_scenario(with_group(cluster=cluster)).cluster.config
    assert config.group_consumer_session_timeout == pytest.approx(50.0)
    assert config.group_consumer_heartbeat_interval == pytest.approx(7.0)
    assert config.group_consumer_max_session_timeout == pytest.approx(90.0)
    assert config.group_consumer_min_heartbeat_interval == pytest.approx(2.0)


@pytest.mark.parametrize(("written", "kafka_name"), [
    ("isolation_level: read_committed", "isolation.level"),
    ("group_instance_id: app", "group.instance.id"),
    ("commit_interval: 100", "commit.interval.ms"),
])
def test_the_python_names_are_not_keys(written, kafka_name):
    p = the_problem(with_group(written))
    assert p.path == ("consumer_groups", 0, written.split(":")[0])
    assert p.line == GROUP_LINE
    assert "unknown key" in p.message and kafka_name in (p.hint or "")


@pytest.mark.parametrize(("line", "key"), [
    ("delivery: exactly-twice", "delivery"),
    ("isolation.level: READ_COMMITTED", "isolation.level"),
    ("commit.interval.ms: -5", "commit.interval.ms"),
    ("group.instance.id: 'app/1'", "group.instance.id"),
    ("group.instance.id: ''", "group.instance.id"),
    (f"group.instance.id: {'a' * 245}", "group.instance.id"),
])
def test_bad_values_name_file_line_and_field(line, key):
    p = the_problem(with_group(line))
    assert (p.source, p.line, p.path) == ("s.yaml", GROUP_LINE, ("consumer_groups", 0, key))
    assert f"s.yaml:{GROUP_LINE}" in str(p) and f"consumer_groups[0].{key}" in str(p)


def test_the_longest_instance_id_prefix_leaves_room_for_every_member_index():
    # Kafka's limit is 249 characters for the whole id; "-9999" is the longest suffix
    group = parse_scenario(with_group(f"group.instance.id: {'a' * 244}")).consumer_groups[0]
    assert len(group.instance_id(9_999)) == 249


# ---- delivery: exactly-once -----------------------------------------------------------------


def test_exactly_once_reads_committed_and_commits_in_the_transaction():
    group = parse_scenario(with_group("delivery: exactly-once")).consumer_groups[0]
    assert group.isolation_level == "read_committed"
    assert group.enable_auto_commit is False


def test_exactly_once_with_read_uncommitted_written_is_an_error():
    p = the_problem(with_group("delivery: exactly-once", "isolation.level: read_uncommitted"))
    assert p.path == ("consumer_groups", 0, "isolation.level") and p.line == GROUP_LINE + 1
    assert "read_committed" in p.message


def test_exactly_once_with_auto_commit_written_is_a_warning():
    (w,) = the_warnings(with_group("delivery: exactly-once", "enable.auto.commit: true"))
    assert w.path == ("consumer_groups", 0, "enable.auto.commit") and w.line == GROUP_LINE + 1
    assert "sendOffsetsToTransaction" in w.message


def test_commit_interval_outside_exactly_once_is_ignored_with_a_warning():
    (w,) = the_warnings(with_group("commit.interval.ms: 1s"))
    assert w.path == ("consumer_groups", 0, "commit.interval.ms")
    assert "ignored" in w.message and "at-least-once" in w.message
    assert the_warnings(with_group("delivery: exactly-once", "commit.interval.ms: 1s")) == []


# ---- what Kafka refuses -----------------------------------------------------------------------


@pytest.mark.parametrize(("session", "refused"), [(5999, True), (6000, False), (1_800_000, False),
                                                   (1_800_001, True)])
def test_classic_session_timeout_within_the_brokers_bounds_inclusive(session, refused):
    text = with_group(f"session.timeout.ms: {session}", "heartbeat.interval.ms: 1000")
    if not refused:
        parse_scenario(text)
        return
    p = the_problem(text)
    assert p.path == ("consumer_groups", 0, "session.timeout.ms") and p.line == GROUP_LINE
    assert "INVALID_SESSION_TIMEOUT" in p.message


def test_classic_heartbeat_must_be_below_the_session_timeout():
    p = the_problem(with_group("session.timeout.ms: 10s", "heartbeat.interval.ms: 10s"))
    assert p.path == ("consumer_groups", 0, "heartbeat.interval.ms") and p.line == GROUP_LINE + 1
    assert "Heartbeat must be set lower than the session timeout" in p.message


@pytest.mark.parametrize("line", [
    "session.timeout.ms: 10000", "heartbeat.interval.ms: 1000", "partition.assignment.strategy: range",
])
def test_kip_848_refuses_the_settings_its_coordinator_decides(line):
    p = the_problem(with_group("group.protocol: consumer", line))
    key = line.split(":")[0]
    assert p.path == ("consumer_groups", 0, key) and p.line == GROUP_LINE + 1
    assert p.message.startswith(f"{key} cannot be set when group.protocol=CONSUMER")


def test_kip_848_groups_take_the_coordinators_timeouts_not_the_classic_bounds():
    # session.timeout.ms's default (45 s) is below this group.min.session.timeout.ms, which
    # bounds classic groups only: a KIP-848 group's timeouts are the coordinator's
    s = parse_scenario(with_group("group.protocol: consumer",
                                  cluster="  config: {group.min.session.timeout.ms: 60000}\n"))
    group = s.consumer_groups[0]
    assert group.effective_session_timeout(s.cluster.config) == pytest.approx(45.0)
    assert group.effective_heartbeat_interval(s.cluster.config) == pytest.approx(5.0)


def test_classic_groups_keep_their_own_timeouts():
    s = parse_scenario(with_group("session.timeout.ms: 10s", "heartbeat.interval.ms: 2s"))
    group = s.consumer_groups[0]
    assert group.effective_session_timeout(s.cluster.config) == pytest.approx(10.0)
    assert group.effective_heartbeat_interval(s.cluster.config) == pytest.approx(2.0)


def test_classic_refuses_a_remote_assignor():
    p = the_problem(with_group("group.remote.assignor: range"))
    assert p.path == ("consumer_groups", 0, "group.remote.assignor") and p.line == GROUP_LINE
    assert "cannot be set when group.protocol=CLASSIC" in p.message


@pytest.mark.parametrize(("config", "key", "words"), [
    ("group.consumer.heartbeat.interval.ms: 20000", "group.consumer.heartbeat.interval.ms",
     "less than or equal to group.consumer.max.heartbeat.interval.ms"),
    ("group.consumer.heartbeat.interval.ms: 4000", "group.consumer.heartbeat.interval.ms",
     "greater than or equal to group.consumer.min.heartbeat.interval.ms"),
    ("group.consumer.session.timeout.ms: 30000", "group.consumer.session.timeout.ms",
     "greater than or equal to group.consumer.min.session.timeout.ms"),
    ("group.consumer.session.timeout.ms: 61000", "group.consumer.session.timeout.ms",
     "less than or equal to group.consumer.max.session.timeout.ms"),
    ("group.consumer.max.session.timeout.ms: 40000", "group.consumer.max.session.timeout.ms",
     "greater than or equal to group.consumer.min.session.timeout.ms"),
])
def test_the_broker_refuses_coordinator_settings_out_of_their_bounds(config, key, words):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(with_group(cluster=f"  config:\n    {config}\n"), "s.yaml")
    (named,) = [p for p in info.value.problems if p.path == ("cluster", "config", key)]
    assert named.line == 5
    assert words in named.message and "refuses to start" in named.message


def test_the_heartbeat_interval_must_be_below_the_coordinators_session_timeout():
    cluster = ("  config:\n    group.consumer.min.session.timeout.ms: 5000\n"
               "    group.consumer.session.timeout.ms: 5000\n")
    p = the_problem(with_group(cluster=cluster))
    assert p.path == ("cluster", "config", "group.consumer.heartbeat.interval.ms")
    assert "less than group.consumer.session.timeout.ms" in p.message


# ---- the resolved scenario ----------------------------------------------------------------------


def test_resolved_groups_load_back_equal_and_without_findings(tmp_path):
    text = with_group("group.protocol: consumer", "delivery: exactly-once", "group.instance.id: app",
                      "processing_time_per_record: 1ms") + (
        "  - group.id: h\n    topics: [orders]\n    members: 1\n    delivery: at-most-once\n"
        "faults:\n  - {type: consumer_join, at: 1s, group: g}\n"
        "  - {type: rolling_restart, at: 2s, group: h, pace: 1s}\n"
        "  - {type: consumer_slow, at: 2s, group: g, member: 2, factor: 2.5, duration: 1s}\n"
        "  - {type: consumer_leave, at: 3s, group: g, member: 0}\n"
        "run: {duration: 10s}\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["check", "--resolved", str(path)])
    assert result.exit_code == 0, result.output
    resolved = yaml.safe_load(result.stdout)
    assert resolved["consumer_groups"][0]["isolation.level"] == "read_committed"
    again, warnings = parse_scenario_with_warnings(result.stdout)
    assert again == parse_scenario(text)
    assert warnings == []
