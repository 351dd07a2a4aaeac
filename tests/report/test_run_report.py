"""What the run report prints and draws: no more digits than the histograms resolve, and
a throughput axis that does not turn noise into drama."""

from __future__ import annotations

import re

import pytest

from simkafka.log.loadgen import LatencyHistogram as LogEngineHistogram
from simkafka.report import run_report
from simkafka.report.numbers import LATENCY_DIGITS, resolved_digits, significant
from simkafka.report.run_report import (
    latency_table_ms,
    summary_table,
    target_table,
    target_table_text,
)
from simkafka.scenario import load_scenario, parse_scenario
from simkafka.sim.engine import simulate
from simkafka.sim.histogram import LatencyHistogram


@pytest.fixture(scope="module")
def result():
    scenario = load_scenario("scenarios/quickstart.yaml")
    return simulate(scenario.with_run(duration=0.6, warmup=0.2))


def test_the_engines_histograms_resolve_three_significant_digits():
    histogram = LatencyHistogram()
    assert 2 * histogram.relative_error == pytest.approx(0.0116, abs=1e-4)  # bucket width
    assert LATENCY_DIGITS == resolved_digits(histogram.relative_error) == 3
    assert resolved_digits(LatencyHistogram(buckets_per_decade=2000).relative_error) == 4
    # bench-log's histogram: 32 buckets per power of two, within 1.1 % -> the same 3
    assert resolved_digits(2 ** (1 / (2 * LogEngineHistogram.SUB_BUCKETS)) - 1) == 3


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0067220231, "0.00672"),
        (6.722023, "6.72"),
        (12.3456, "12.3"),
        (100.0, "100"),
        (1234.5, "1,230"),
        (9.996, "10.0"),
        (0.052349, "0.0523"),
        (0.0, "0"),
        (float("nan"), "-"),
    ],
)
def test_significant(value, text):
    assert significant(value) == text


def _digits(text: str) -> int:
    return len(re.sub(r"^0+", "", re.sub(r"[^0-9]", "", text)).rstrip("0") or "0")


def test_latency_tables_show_only_what_the_histogram_resolves(result):
    cells = latency_table_ms(result).to_numpy().ravel()
    assert all(_digits(cell) <= 3 for cell in cells), cells
    summary = summary_table(result)
    for key in ("p50_produce_latency_s", "p99_produce_latency_s", "p99_e2e_latency_s"):
        assert _digits(summary.loc[key, "value"]) <= 3, summary.loc[key, "value"]
    targets = target_table_text(
        target_table(result, {"p99_produce_latency": 0.02, "produce_throughput_msgs_per_s": 2e4})
    )
    assert _digits(targets.loc["p99 produce latency (ms)", "achieved"]) <= 3
    assert re.fullmatch(r"\d+", targets.loc["produce throughput (msgs/s)", "achieved"])


def test_throughput_axis_starts_at_zero(result, monkeypatch, tmp_path):
    drawn = []
    monkeypatch.setattr(run_report, "_save", lambda fig, path: drawn.append(fig))
    run_report.figure_throughput(result, tmp_path / "t.png")
    bottom, top = drawn[0].axes[0].get_ylim()
    produced = result.timeseries["produce_msgs_per_s"].max()
    assert bottom == 0 and produced < top < 1.5 * produced


UNSUSTAINABLE = """
name: followers
cluster:
  brokers: 3
  hardware: {nic: 400Mbps, disk_write: 1GB/s, page_cache: 8GiB}
  clients: {nic: 1Gbps}
topics:
  - {name: events, partitions: 6, replication.factor: 3, min.insync.replicas: 1}
producers:
  - {name: writers, topic: events, count: 2, rate: 60MB/s, message_size: 10KiB, acks: "1", batch.size: 256KiB}
consumer_groups:
  - {group.id: readers, topics: [events], members: 2}
run: {duration: 6s, warmup: 2s, sample_interval: 0.5s, seed: 3}
"""


def test_an_unsustainable_run_says_so_in_its_report(tmp_path):
    r = simulate(parse_scenario(UNSUSTAINABLE, "followers.yaml"))
    assert r.summary["sustainable"] is False
    verdict = r.summary["sustainability"]
    assert verdict.startswith("NOT SUSTAINABLE: replication lag grows")
    assert summary_table(r).loc["sustainability", "value"] == verdict
    run_report.write_run_report(r, tmp_path / "report", warmup=2.0)
    html = (tmp_path / "report" / "report.html").read_text()
    assert '<p class="bad"><b>Sustainability:</b> NOT SUSTAINABLE: replication lag grows' in html
    assert (tmp_path / "report" / "queues.png").exists()
    # clients are rows of the utilisation matrix beside the brokers
    matrix = run_report.utilisation_matrix(r, 2.0)
    assert list(matrix.index) == [
        "broker 0",
        "broker 1",
        "broker 2",
        "producer writers (busiest)",
        "consumer readers (busiest)",
    ]
    # 30 MB/s each of a 125 MB/s NIC
    assert matrix.loc["producer writers (busiest)", "nic_out"] == pytest.approx(0.25, abs=0.03)
    assert matrix.loc["consumer readers (busiest)"].isna()["disk_write"]


def test_a_sustainable_run_says_so_in_its_report(result, tmp_path):
    run_report.write_run_report(result, tmp_path / "report", warmup=0.2)
    html = (tmp_path / "report" / "report.html").read_text()
    assert "<b>Sustainability:</b>" in html
    assert "NOT SUSTAINABLE" not in html
