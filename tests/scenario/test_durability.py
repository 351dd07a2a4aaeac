"""The durability target: one pure verdict per configuration, the same in ``check`` and in the report.

It used to be checked for some shapes (too few racks) and not others: a topic with
replication factor 1 passed ``failures: 2``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from simkafka.report.run_report import target_table
from simkafka.scenario import parse_scenario, parse_scenario_with_warnings
from simkafka.scenario.durability import durability_gaps
from simkafka.sim.result import RunResult

BASE = """\
name: t
cluster:
  brokers: 6
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
targets:
  durability: {failures: 1, domain: rack}
"""


def gaps(text: str):
    return [(g.path, g.reason) for g in durability_gaps(parse_scenario(text))]


def test_a_sound_configuration_has_no_gap():
    assert gaps(BASE) == []
    assert gaps(BASE.replace("failures: 1, domain: rack", "failures: 1, domain: broker")) == []


@pytest.mark.parametrize(("edit", "failures", "path", "words"), [
    # the case that used to pass: RF 1 cannot survive 2 broker failures
    (("replication.factor: 3\n    min.insync.replicas: 2", "replication.factor: 1"), 2,
     ("topics", 0, "replication.factor"), "replication factor 1 cannot survive 2 broker"),
    (("min.insync.replicas: 2", "min.insync.replicas: 1"), 1,
     ("topics", 0, "min.insync.replicas"), "acknowledged (acks=all) write may be on only 1 replica"),
    (("min.insync.replicas: 2", "min.insync.replicas: 2\n    unclean.leader.election.enable: true"), 1,
     ("topics", 0, "unclean.leader.election.enable"), "out-of-sync replica"),
    (("message_size: 1KiB", "message_size: 1KiB\n    acks: 1"), 1, ("producers", 0, "acks"), "acks=1"),
])
def test_each_rule(edit, failures, path, words):
    text = BASE.replace(*edit).replace("failures: 1, domain: rack", f"failures: {failures}, domain: broker")
    found = gaps(text)
    assert [p for p, _ in found] == [path], found
    assert words in found[0][1]


def test_rack_domain_needs_replicas_spread_over_racks():
    # an explicit assignment keeping both replicas of partition 1 in rack a (brokers 0 and 3)
    text = BASE.replace("    partitions: 6\n    replication.factor: 3\n    min.insync.replicas: 2\n",
                        '    replica.assignment: "0:1,0:3"\n    min.insync.replicas: 2\n')
    found = gaps(text)
    assert ("topics", 0, "replica.assignment") in [p for p, _ in found]
    assert any("replicas in only 1 rack" in reason for _, reason in found)


def test_too_few_racks_or_brokers_is_a_gap_of_the_cluster():
    assert gaps(BASE.replace("racks: [a, b, c]", "racks: [a]"))[0][0] == ("targets", "durability", "failures")
    text = BASE.replace("failures: 1, domain: rack", "failures: 6, domain: broker")
    assert gaps(text) == [(("targets", "durability", "failures"), "cannot survive 6 broker failure(s) with 6 broker(s)")]


def test_check_reports_gaps_as_warnings_at_their_lines(check_text, tmp_path):
    text = BASE.replace("replication.factor: 3\n    min.insync.replicas: 2", "replication.factor: 1").replace(
        "failures: 1, domain: rack", "failures: 2, domain: broker")
    _, warnings = parse_scenario_with_warnings(text, "s.yaml")
    assert [(w.path, w.line, w.warning) for w in warnings] == [(("topics", 0, "replication.factor"), 8, True)]
    status, output = check_text(text)
    assert status == 0 and f"{tmp_path / 's.yaml'}:8:5: warning: topics[0].replication.factor:" in output


def _result_of(text: str) -> RunResult:
    scenario = parse_scenario(text)
    return RunResult(scenario_name="t", seed=1, summary={}, timeseries=pd.DataFrame(), latency=pd.DataFrame(),
                     conservation={}, resolved_scenario=scenario.model_dump(mode="json", by_alias=True))


def test_the_report_target_table_has_a_durability_row():
    met = target_table(_result_of(BASE), {"durability": {"failures": 1, "domain": "rack"}})
    row = met.loc["durability"]
    assert row["goal"].startswith("survive 1 rack failure") and row["achieved"] == "yes" and row["met"]
    unmet_text = BASE.replace("min.insync.replicas: 2", "min.insync.replicas: 1")
    unmet = target_table(_result_of(unmet_text), {"durability": {"failures": 1, "domain": "rack"}})
    assert not unmet.loc["durability", "met"]
    assert unmet.loc["durability", "achieved"].startswith("no: topic 'orders': with min.insync.replicas=1")
