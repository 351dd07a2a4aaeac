"""``cluster.offline_brokers``: brokers of the cluster, each once, and one left running."""

from __future__ import annotations

import textwrap

import pytest

from simkafka.scenario import ScenarioError, parse_scenario


def _problems(offline: str, faults: str = ""):
    text = textwrap.dedent(f"""\
    name: t
    cluster:
      brokers: 3
      offline_brokers: {offline}
    topics:
      - {{name: t, partitions: 3, replication.factor: 2}}
    """) + faults
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    return info.value.problems


def test_an_offline_broker_must_be_in_the_cluster():
    (p,) = _problems("[0, 5]")
    assert p.path == ("cluster", "offline_brokers", 1) and p.line == 4
    assert "broker 5 is not in the cluster" in p.message and "[0, 1, 2]" in p.hint


def test_offline_brokers_are_distinct():
    (p,) = _problems("[1, 1]")
    assert p.path == ("cluster", "offline_brokers") and p.line == 4
    assert "[1] listed more than once" in p.message


def test_one_broker_must_stay_up():
    (p,) = _problems("0, 1, 2")
    assert p.path == ("cluster", "offline_brokers")
    assert "every broker of the cluster is offline" in p.message


def test_a_fault_cannot_crash_a_broker_that_is_offline():
    faults = "faults:\n  - {type: broker_crash, at: 1s, broker: 2}\n"
    (p,) = _problems("[2]", faults)
    assert p.path == ("faults", 0, "broker") and "already down" in p.message


def test_offline_brokers_as_a_kafka_style_list():
    text = "name: t\ncluster: {brokers: 3, offline_brokers: '2, 0'}\ntopics: [{name: t}]\n"
    assert parse_scenario(text, "s.yaml").cluster.offline_brokers == (2, 0)
    assert parse_scenario(text, "s.yaml").cluster.up_broker_ids == (1,)
