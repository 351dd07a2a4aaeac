"""The cost profile: a scenario writes only the costs it changes, the rest is the shipped one's."""

from __future__ import annotations

from pathlib import Path

import pytest

from simkafka.report.run_report import cost_table
from simkafka.scenario import load_scenario
from simkafka.scenario.costs import CostProfile, default_cost_data, default_costs
from simkafka.scenario.errors import ScenarioError
from simkafka.scenario.loader import parse_scenario

QUICKSTART = Path(__file__).resolve().parents[2] / "scenarios" / "quickstart.yaml"


def _with(extra: str):
    return parse_scenario(QUICKSTART.read_text() + "\n" + extra, "s.yaml")


def test_a_scenario_without_costs_charges_the_shipped_profile():
    assert load_scenario(QUICKSTART).costs == default_costs()


def test_a_changed_cost_replaces_only_itself_and_the_source_says_so():
    scenario = _with("costs:\n  broker: {fsync: 7ms}\n")
    costs = scenario.costs
    assert costs.broker.fsync == pytest.approx(0.007)
    assert costs.broker.append_batch_cpu == default_costs().broker.append_batch_cpu
    assert costs.producer == default_costs().producer
    assert "with the scenario's changes" in costs.source


def test_every_cost_of_the_shipped_profile_is_written_out():
    # the engines read every field: a profile missing one must not load silently
    data = default_cost_data()
    for section in ("producer", "broker", "consumer", "codecs"):
        assert set(data[section]) == set(CostProfile.model_fields[section].annotation.model_fields)


def test_an_unknown_cost_is_refused_with_its_line():
    with pytest.raises(ScenarioError) as caught:
        _with("costs:\n  broker:\n    fsnyc: 7ms\n")
    problem = caught.value.problems[0]
    assert problem.path == ("costs", "broker", "fsnyc")
    assert problem.line is not None and "unknown key" in problem.message


def test_the_old_broker_cost_keys_say_where_they_moved():
    text = QUICKSTART.read_text().replace("cluster:\n", "cluster:\n  config:\n    request_cpu_cost: 40us\n", 1)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "s.yaml")
    assert "costs: {broker: {request_cpu" in str(caught.value)


def test_the_report_lists_the_costs_a_run_charged():
    scenario = _with("costs:\n  broker: {fsync: 7ms}\n")
    table = cost_table(scenario.model_dump(mode="json", by_alias=True)["costs"])
    assert table.loc["broker.fsync", "value"] == "7ms"
    assert table.loc["codecs.zstd.decompress_cpu", "value"]
    fields = CostProfile.model_fields
    per_section = [len(fields[s].annotation.model_fields) for s in ("producer", "broker", "consumer")]
    assert len(table) == sum(per_section) + 2 * 4  # every client and broker cost, two per codec
