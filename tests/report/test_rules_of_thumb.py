"""The planner's answer beside the rules of thumb: the table's numbers are the library's
rules for that plan, and the figure draws them."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from simkafka.analysis.bounds import aws_sizing_bound  # noqa: E402
from simkafka.analysis.hardware import broker_hardware  # noqa: E402
from simkafka.analysis.planner import plan  # noqa: E402
from simkafka.report.plots import plot_plan_vs_rules, rules_of_thumb_table  # noqa: E402
from simkafka.scenario import Scenario  # noqa: E402


def _quickstart(**plan_fields) -> Scenario:
    data = yaml.safe_load(Path("scenarios/quickstart.yaml").read_text())
    data["plan"] = {"brokers": [3, 4], "instance_types": ["m7g.xlarge"], "replication.factor": [3],
                    "min.insync.replicas": [2], "survive": "none", "duration": "1s", "warmup": "0.25s",
                    "max_simulations": 4, **plan_fields}
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def planned():
    return plan(_quickstart())


def test_the_table_holds_the_librarys_rules_for_the_recommendation(planned):
    rec = planned.recommendation
    assert rec is not None
    table = rules_of_thumb_table(planned).set_index(["setting", "rule"])
    advice = planned.advice["orders"]
    assert table.loc[("partitions: orders", "max(T/p, T/c)"), "rule of thumb"] == advice.rule_throughput
    per_broker = 3 if rec.brokers <= 6 else 2
    assert table.loc[("partitions: orders", f"{per_broker}x brokers"), "rule of thumb"] == per_broker * rec.brokers
    assert (table.xs("partitions: orders")["planner"] == dict(rec.partitions)["orders"]).all()
    brokers = table.xs("brokers").iloc[0]
    assert brokers["planner"] == rec.brokers
    assert brokers["rule of thumb"] == planned.rule_of_thumb_brokers()
    assert table.loc[("replication.factor", "RF 3"), "rule of thumb"] == 3
    assert table.loc[("min.insync.replicas", "min ISR 2"), "planner"] == rec.min_insync_replicas


def test_the_broker_rule_is_the_aws_equation_on_the_recommended_instance(planned):
    rec = planned.recommendation
    hw = broker_hardware(planned.offers[rec.instance].instance)
    groups = len(planned.scenario.consumer_groups)
    n = planned.rule_of_thumb_brokers()
    assert n >= rec.replication_factor

    def bound(b: int) -> float:
        return aws_sizing_bound(b, hw.disk_write, hw.egress, rec.replication_factor, groups, planned.spec.ceiling)

    assert bound(n) >= planned.required
    assert n == rec.replication_factor or bound(n - 1) < planned.required


def test_the_figure_draws_the_planner_beside_each_rule(planned):
    fig, ax = plt.subplots()
    assert plot_plan_vs_rules(planned, ax=ax) is ax
    table = rules_of_thumb_table(planned)
    drawn = table[table["setting"].isin(["partitions: orders", "brokers"])]
    # a bar for the planner and one per rule, per setting
    assert len(ax.patches) == len(drawn) + drawn["setting"].nunique()
    heights = sorted(int(p.get_height()) for p in ax.patches)
    assert heights == sorted([*drawn["rule of thumb"], *drawn.drop_duplicates("setting")["planner"]])
    labels = ax.get_legend_handles_labels()[1]
    assert "planner" in labels and "max(T/p, T/c)" in labels
    plt.close(fig)


def test_no_recommendation_is_refused_with_the_planners_reason():
    scenario = _quickstart(max_simulations=1)
    data = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["targets"]["p99_produce_latency"] = "1us"  # no cluster answers in a microsecond
    impossible = plan(Scenario.model_validate(data))
    assert impossible.recommendation is None
    with pytest.raises(ValueError, match="no recommendation"):
        rules_of_thumb_table(impossible)
