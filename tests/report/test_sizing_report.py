"""The sizing report of a plan: every file written, the recommendation and what the
next-cheaper candidate violates in the HTML, plan.json and candidates.parquet matching the
plan, a plan without a recommendation saying so, and a directory simkafka did not write
left alone."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import namedtuple
from pathlib import Path

import pandas as pd
import pytest
import yaml

from simkafka.analysis.planner import Case, plan
from simkafka.report.output_dir import MARKER, OutputRefused, png_software
from simkafka.report.sizing import (
    bounds_table,
    json_safe,
    next_cheaper_table,
    sizing_summary_table,
    uncertainty_table,
    write_sizing_report,
)
from simkafka.report.sizing_figures import (
    HEADROOM_CAP,
    pareto_front,
    partition_counts,
    utilisation_by_case,
)
from simkafka.scenario import Scenario

FILES = {"plan.json", "candidates.parquet", "sizing.html", "cost_headroom.png",
         "bound_by_brokers.png", "utilisation.png", "partitions.png"}


def _quickstart(**plan_fields) -> Scenario:
    data = yaml.safe_load(Path("scenarios/quickstart.yaml").read_text())
    # min.insync.replicas 1 and 2 cost the same; 1 comes first in the search (ties are
    # ordered by key) and misses the durability target, so the recommendation has a
    # next-cheaper candidate with a violated target
    data["plan"] = {"brokers": [3], "instance_types": ["m7g.xlarge"], "replication.factor": [3],
                    "min.insync.replicas": [1, 2], "survive": "none", "duration": "3s", "warmup": "1s",
                    **plan_fields}
    return Scenario.model_validate(data)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    # both plans measure the same one-partition probe: the second reads it from the cache
    return tmp_path_factory.mktemp("plan-cache") / "cache"


@pytest.fixture(scope="module")
def planned(cache):
    return plan(_quickstart(), cache=cache)


@pytest.fixture(scope="module")
def impossible(cache, planned):
    scenario = _quickstart(max_simulations=2)
    data = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["targets"]["p99_produce_latency"] = "1us"  # no cluster answers in a microsecond
    return plan(Scenario.model_validate(data), cache=cache)


@pytest.fixture(scope="module")
def report(planned, tmp_path_factory):
    directory = tmp_path_factory.mktemp("sizing") / "plan"
    return directory, write_sizing_report(planned, directory)


@pytest.fixture(scope="module")
def report_none(impossible, tmp_path_factory):
    directory = tmp_path_factory.mktemp("sizing") / "plan"
    return directory, write_sizing_report(impossible, directory)


def _html(directory: Path) -> str:
    # the figures are base64 text: left out so that a search of the text cannot hit them
    return re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", (directory / "sizing.html").read_text())


def test_the_plan_has_a_recommendation_and_a_failed_cheaper_candidate(planned):
    # the premise of the tests below
    rec = planned.recommendation
    assert rec is not None and rec.min_insync_replicas == 2
    cheaper = planned.next_cheaper()
    assert cheaper and cheaper[0].min_insync_replicas == 1
    assert planned.status(cheaper[0]) == "failed" and "durability" in planned.why_not(cheaper[0])


def test_every_file_is_written_and_recorded(report):
    directory, paths = report
    assert {p.name for p in paths} == FILES | {MARKER}
    marker = json.loads((directory / MARKER).read_text())
    assert marker["files"] == dict.fromkeys(sorted(FILES), "plan")
    for name in FILES:
        if name.endswith(".png"):
            assert (directory / name).read_bytes().startswith(b"\x89PNG")
            assert png_software(directory / name).startswith("simkafka ")
            assert png_software(directory / name).endswith(" plan")


def test_html_names_the_recommendation_its_cost_and_what_cheaper_violates(report, planned):
    directory, _ = report
    html = _html(directory)
    rec = planned.recommendation
    headline = re.search(r'<p class="recommendation">(.*?)</p>', html, re.S).group(1)
    assert f"{rec.brokers} x {rec.instance}" in headline
    assert f"${rec.cost.total:,.2f}" in headline
    for part in (rec.cost.instances, rec.cost.storage, rec.cost.transfer):
        assert f"${part:,.2f}" in headline
    # the next-cheaper section: the candidate and the target it missed, in one row
    section = html.split("<h2>Next-cheaper candidates and what each violates</h2>")[1].split("<h2>")[0]
    cheaper = planned.next_cheaper()[0]
    row = next(r for r in section.split("<tr>") if cheaper.key in r)
    assert "durability" in row and "failed" in row
    # the producers' settings under Kafka's names, and each figure embedded
    for setting in ("acks", "linger.ms", "batch.size", "compression.type"):
        assert f"checkout-service: {setting}" in html
    raw = (directory / "sizing.html").read_text()
    assert raw.count('src="data:image/png;base64,iVBOR') == 4
    assert "No candidate met the targets" not in html


def test_html_shows_the_binding_bound_and_the_partition_explanation(report, planned):
    html = _html(report[0])
    rec = planned.recommendation
    binding = rec.bounds.binding[0].resource
    assert re.search(rf"<b>Binding:</b> {re.escape(binding)}", html)
    explanation = planned.advice["orders"].explain(rec.brokers)
    assert explanation.split(";")[0] in html
    assert "as planned (stepped engine): met" in html
    for what_if in planned.what_ifs:
        assert f"<th>{what_if.name}</th>" in html


def test_plan_json_parses_strictly_and_names_the_recommendation(report, planned):
    def refuse(constant):  # NaN and Infinity are not JSON
        raise AssertionError(f"plan.json holds {constant}")

    data = json.loads((report[0] / "plan.json").read_text(), parse_constant=refuse)
    rec = planned.recommendation
    got = data["recommendation"]
    assert (got["instance"], got["brokers"], got["replication.factor"], got["min.insync.replicas"]) == (
        rec.instance, rec.brokers, rec.replication_factor, rec.min_insync_replicas)
    assert got["partitions"] == dict(rec.partitions)
    assert got["monthly_usd"] == pytest.approx(rec.monthly_usd, abs=0.01)
    assert data["next_cheaper"][0]["candidate"] == planned.next_cheaper()[0].key


def test_parquet_has_one_row_per_candidate(report, planned):
    frame = pd.read_parquet(report[0] / "candidates.parquet")
    assert list(frame["candidate"]) == [c.key for c in planned.candidates]
    assert list(frame["status"]) == [planned.status(c) for c in planned.candidates]


def test_summary_and_next_cheaper_tables(planned):
    summary = sizing_summary_table(planned)["value"]
    rec = planned.recommendation
    assert summary["instance type"].startswith(rec.instance)
    assert summary["brokers"] == str(rec.brokers)
    assert summary["partitions (orders)"] == str(dict(rec.partitions)["orders"])
    assert summary["min.insync.replicas"] == "2"
    assert summary["monthly cost"] == f"${rec.monthly_usd:,.2f}"
    assert summary["producer checkout-service: linger.ms"] == "5"
    assert summary["producer checkout-service: acks"] == "all"
    table = next_cheaper_table(planned)
    assert list(table["candidate"]) == [c.key for c in planned.next_cheaper()]
    assert (table["monthly_usd"] <= rec.monthly_usd).all()
    assert table["violates"].str.contains("durability").iloc[0]


def test_bounds_table_marks_the_binding_row_and_the_measured_broker(planned):
    rec = planned.recommendation
    table = bounds_table(planned, rec)
    assert list(table.index) == [r.resource for r in rec.bounds.rows]
    assert set(table.index[table["binding"] == "BINDING"]) == {r.resource for r in rec.bounds.binding}
    row = planned.cases[rec.key][0].row
    busiest = row["util_broker.nic_in"].removeprefix("b")
    assert table.loc[f"broker {busiest} NIC in", "simulated utilisation"] == (
        f"{100 * row['util.nic_in']:.1f}% (busiest)")
    others = [r for r in table.index if r.endswith(" NIC in") and r != f"broker {busiest} NIC in"]
    assert others and all(table.loc[r, "simulated utilisation"] == "" for r in others)


def test_no_recommendation_is_said_first_and_every_file_still_written(report_none, impossible):
    directory, paths = report_none
    assert impossible.recommendation is None
    assert {p.name for p in paths} == FILES | {MARKER}
    html = _html(directory)
    box = re.search(r'<p class="none">(.*?)</p>', html, re.S).group(1)
    assert "No candidate met the targets" in box and impossible.reason in box
    assert html.index('class="none"') < html.index("<h2>")
    section = html.split("<h2>The cheapest candidates and what they violate</h2>")[1].split("<h2>")[0]
    cheapest = impossible.candidates[0]
    row = next(r for r in section.split("<tr>") if cheapest.key in r)
    assert "p99 produce latency" in row
    assert json.loads((directory / "plan.json").read_text())["recommendation"] is None
    assert sizing_summary_table(impossible)["value"]["reason"] == impossible.reason


def test_a_directory_simkafka_did_not_write_is_refused(planned, tmp_path):
    mine = tmp_path / "notes.txt"
    mine.write_text("mine")
    with pytest.raises(OutputRefused, match="not a simkafka report"):
        write_sizing_report(planned, tmp_path)
    assert mine.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_previous_report_is_replaced(impossible, planned, tmp_path):
    directory = tmp_path / "plan"
    write_sizing_report(impossible, directory)
    assert "No candidate met the targets" in _html(directory)
    write_sizing_report(planned, directory)
    assert "No candidate met the targets" not in _html(directory)
    assert json.loads((directory / "plan.json").read_text())["recommendation"] is not None


MissProbability = namedtuple("MissProbability", "target misses samples probability low high")


def test_uncertainty_table_and_section(planned, tmp_path):
    key = planned.recommendation.key
    with_mc = dataclasses.replace(planned, samples=40, uncertainty={
        key: (MissProbability("p99 produce latency", 3, 40, 0.075, 0.026, 0.199),
              MissProbability("any target", 4, 40, 0.1, 0.04, 0.23))})
    table = uncertainty_table(with_mc)
    assert list(table["target"]) == ["p99 produce latency", "any target"]
    assert table["probability of a miss"].iloc[0] == "7.5%"
    assert table["95% interval"].iloc[0] == "2.6% .. 19.9%"
    write_sizing_report(with_mc, tmp_path / "mc")
    html = _html(tmp_path / "mc")
    assert "probability of missing each target" in html and "2.6% .. 19.9%" in html
    write_sizing_report(planned, tmp_path / "no-mc")
    assert "probability of missing" not in _html(tmp_path / "no-mc")


def test_a_survive_case_is_drawn_beside_the_planned_run(planned):
    rec = planned.recommendation
    normal = planned.cases[rec.key][0]
    lost = Case("lose broker 1", "stepped", {**normal.row, "util.nic_in": 0.5}, normal.checks)
    with_survive = dataclasses.replace(planned, cases={**planned.cases, rec.key: [normal, lost]})
    table = utilisation_by_case(with_survive, rec)
    assert list(table.columns) == ["as planned", "lose broker 1"]
    assert table.loc["nic_in", "lose broker 1"] == 0.5
    assert table.loc["nic_in", "as planned"] == normal.row["util.nic_in"]


def test_partition_counts_beside_the_rules_of_thumb(planned):
    rec = planned.recommendation
    advice = planned.advice["orders"]
    counts = partition_counts(planned).loc["orders"]
    assert counts["derived"] == advice.derived
    assert counts["recommended"] == advice.for_brokers(rec.brokers) == dict(rec.partitions)["orders"]
    assert counts["max(T/p, T/c)"] == advice.rule_throughput
    assert counts["3x brokers"] == 3 * rec.brokers


def test_pareto_front():
    points = [(100.0, 2.0), (120.0, 1.5), (130.0, 4.0), (130.0, 3.0), (150.0, 4.0), (90.0, 1.0)]
    assert pareto_front(points, larger_is_better=True) == [(90.0, 1.0), (100.0, 2.0), (130.0, 4.0)]
    assert pareto_front(points, larger_is_better=False) == [(90.0, 1.0)]
    assert pareto_front([(1.0, HEADROOM_CAP)], larger_is_better=True) == [(1.0, HEADROOM_CAP)]


def test_json_safe():
    assert json_safe({"a": float("inf"), 1: (float("nan"), 2.5), "b": [True]}) == {
        "a": None, "1": [None, 2.5], "b": [True]}


def test_a_plan_without_candidates_still_writes_every_file(impossible, tmp_path):
    # every combination refused by the scenario's checks: nothing to draw, list or price
    empty = dataclasses.replace(impossible, candidates=(), cases={}, recommendation=None,
                                reason="no candidate: every combination of the plan was refused")
    paths = write_sizing_report(empty, tmp_path / "plan")
    assert {p.name for p in paths} == FILES | {MARKER}
    html = _html(tmp_path / "plan")
    assert "No candidate met the targets" in html and "There were no candidates" in html
    assert len(pd.read_parquet(tmp_path / "plan" / "candidates.parquet")) == 0
    assert next_cheaper_table(empty).empty


def test_a_cheaper_tie_that_met_is_not_shown_as_a_failure(planned):
    rec = planned.recommendation
    cheaper = planned.next_cheaper()[0]
    assert round(cheaper.monthly_usd, 2) == round(rec.monthly_usd, 2)  # min ISR costs nothing
    both_met = dataclasses.replace(planned, cases={**planned.cases, cheaper.key: planned.cases[rec.key]})
    violates = next_cheaper_table(both_met).set_index("candidate").loc[cheaper.key, "violates"]
    assert violates.startswith("nothing: it met every target too, at the same cost")


def test_text_from_the_scenario_and_the_plan_is_escaped(planned, tmp_path):
    write_sizing_report(dataclasses.replace(planned, notes=["<script>alert(1)</script>"]), tmp_path / "plan")
    html = _html(tmp_path / "plan")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
