"""The durability target against the placement: losses every acknowledged write survives."""

from __future__ import annotations

import pytest

from simkafka.model.topology import initial_topology
from simkafka.report.durability import tolerated_failures
from simkafka.report.run_report import target_table
from simkafka.scenario import load_scenario, parse_scenario


def _scenario(racks: str, rf: int, min_isr: int, acks: str, brokers: int = 3):
    return parse_scenario(
        f"""
name: d
cluster: {{brokers: {brokers}{", racks: " + racks if racks else ""}}}
topics:
  - {{name: t, partitions: 12, replication.factor: {rf}, min.insync.replicas: {min_isr}}}
producers:
  - {{topic: t, rate: 100 msg/s, message_size: 100B, acks: "{acks}", enable.idempotence: false}}
"""
    )


@pytest.mark.parametrize(
    ("racks", "rf", "min_isr", "acks", "domain", "expected"),
    [
        ("[a, b, c]", 3, 2, "all", "rack", 1),  # any two ISR members are in two racks
        ("[a, b, c]", 3, 2, "all", "broker", 1),
        ("[a, b, c]", 3, 3, "all", "broker", 2),
        ("[a, b]", 3, 2, "all", "rack", 0),  # three replicas in two racks: two share one
        ("[a, b]", 3, 2, "all", "broker", 1),
        ("", 1, 1, "all", "broker", 0),  # RF 1 survives no loss, whatever `failures` says
        ("[a, b, c]", 3, 2, "1", "broker", 0),  # acks=1: only the leader surely has it
        ("[a, b, c]", 3, 2, "0", "broker", -1),
    ],
)
def test_tolerated_failures(racks, rf, min_isr, acks, domain, expected):
    scenario = _scenario(racks, rf, min_isr, acks)
    assert tolerated_failures(scenario, initial_topology(scenario), domain) == expected


def test_the_quickstart_target_row(tmp_path):
    scenario = load_scenario("scenarios/quickstart.yaml")
    tolerated = tolerated_failures(scenario, initial_topology(scenario), "rack")

    class Result:
        summary: dict = {}

    targets = {"durability": {"failures": 1, "domain": "rack"}, "durability_tolerated": tolerated}
    row = target_table(Result(), targets).loc["durability (rack losses survived)"]
    assert (row["goal"], row["achieved"], bool(row["met"])) == (1, 1, True)
    targets["durability"] = {"failures": 2, "domain": "rack"}
    assert not target_table(Result(), targets).loc["durability (rack losses survived)", "met"]
