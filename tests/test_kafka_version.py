"""One Kafka release at a time: the scenario's ``cluster.kafka_version`` reaches every place
where Kafka 4.0 and 4.1 behave differently, and nothing else changes with it."""

from __future__ import annotations

import pytest

from simkafka.kafka_version import KAFKA_RELEASES, MODELLED_RELEASE, behaviour
from simkafka.model.assignors.base import GroupSpec, MemberSubscription
from simkafka.model.assignors.server import UniformAssignor
from simkafka.model.topology import initial_topology
from simkafka.scenario import ScenarioError, parse_scenario
from simkafka.sim.workload import consumer_assignment

BASE = """\
name: t
cluster:
  brokers: 3
{version}topics:
  - name: orders
    partitions: 3
    replication.factor: 1
{segment}  - name: payments
    partitions: 4
    replication.factor: 1
consumer_groups:
  - group.id: g
    topics: [orders, payments]
    members: 3
    group.protocol: consumer
run:
  duration: 1s
"""


def scenario_text(version: str | None = None, segment: str | None = None) -> str:
    return BASE.format(
        version=f"  kafka_version: '{version}'\n" if version else "",
        segment=f"    segment.bytes: {segment}\n" if segment else "",
    )


def test_the_modelled_release_is_4_1_and_the_default_everywhere() -> None:
    assert MODELLED_RELEASE == "4.1"
    assert KAFKA_RELEASES == ("4.0.0", "4.1")
    assert parse_scenario(scenario_text()).cluster.kafka_version == "4.1"
    assert UniformAssignor().release == "4.1"


def test_an_unknown_release_is_refused_at_its_line() -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(scenario_text(version="3.9"), "s.yaml")
    text = str(info.value)
    assert "s.yaml:4" in text and "kafka_version" in text and "4.0.0" in text and "4.1" in text
    with pytest.raises(ValueError, match="4.0.0, 4.1"):
        behaviour("3.9")


def test_segment_bytes_minimum_follows_the_release() -> None:
    # KAFKA-19080: 4.1 enforces 1 MiB at topic level; 4.0 took anything from 14 bytes.
    with pytest.raises(ScenarioError) as info:
        parse_scenario(scenario_text(segment="512KiB"), "s.yaml")
    text = str(info.value)
    assert "s.yaml:8" in text and "segment.bytes" in text and "1 MiB" in text.replace("1.0 MiB", "1 MiB")
    assert "kafka_version: 4.0.0" in text
    old = parse_scenario(scenario_text(version="4.0.0", segment="512KiB"))
    assert old.topics[0].segment_bytes == 512 * 1024
    assert parse_scenario(scenario_text(segment="1MiB")).topics[0].segment_bytes == 1024 * 1024


def test_the_simulator_passes_topic_ids_and_release_to_the_server_assignor() -> None:
    # Three members, topics orders (3) and payments (4): the homogeneous builder walks
    # topics in the HashSet<Uuid> order of the scenario's topic ids -- payments first with
    # seed 1 -- so the simulator's first assignment must be UniformAssignor's given those
    # ids, not the by-name one, for either release.
    for version in KAFKA_RELEASES:
        scenario = parse_scenario(scenario_text(version=version))
        ids = initial_topology(scenario).topic_ids
        group = scenario.consumer_groups[0]

        members = [f"g-{i}" for i in range(3)]
        topics = {t.name: t for t in scenario.topics}
        got = consumer_assignment(group, members, topics, ids, version)
        spec = GroupSpec(
            {"orders": 3, "payments": 4},
            {m: MemberSubscription(m, ("orders", "payments")) for m in members},
        )
        assert got == UniformAssignor(ids, release=version).assign(spec)
        assert got != UniformAssignor(release=version).assign(spec)
        assert got["g-0"][0].topic == "payments"


def test_zookeeper_mode_is_named_as_a_3x_placement_not_a_silent_choice() -> None:
    from simkafka.scenario import parse_scenario_with_warnings

    text = scenario_text().replace("  brokers: 3\n", "  brokers: 3\n  controller: zookeeper\n")
    scenario, warnings = parse_scenario_with_warnings(text, "s.yaml")
    assert scenario.cluster.controller == "zookeeper"
    message = " ".join(str(w) for w in warnings)
    assert "s.yaml:4" in message and "removed ZooKeeper mode" in message and "Kafka 4.1" in message
    _, none = parse_scenario_with_warnings(scenario_text(), "s.yaml")
    assert not [w for w in none if "ZooKeeper" in str(w)]


def test_validate_builds_the_log_config_of_the_scenarios_release() -> None:
    from simkafka.validate.from_scenario import log_config_of

    old = parse_scenario(scenario_text(version="4.0.0", segment="64KiB"))
    config = log_config_of(old.topics[0], old.cluster.kafka_version)
    assert (config.kafka_release, config.segment_size) == ("4.0.0", 64 * 1024)
    assert not config.kafka_behaviour.index_entry_per_batch
    new = parse_scenario(scenario_text(segment="2MiB"))
    config = log_config_of(new.topics[0], new.cluster.kafka_version)
    assert (config.kafka_release, config.segment_size) == ("4.1", 2 * 1024 * 1024)
    assert config.kafka_behaviour.index_entry_per_batch
