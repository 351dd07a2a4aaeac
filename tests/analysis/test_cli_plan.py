"""``simkafka plan``: prints the recommendation, writes reports/<scenario>/plan/, exit 0;
no candidate -> the report says why, exit 1; bad plan input -> one clear message, exit 2."""

import json
import os

import pandas as pd
from click.testing import CliRunner

from simkafka.cli.main import main

PLANNED = """\
name: planned
cluster:
  brokers: 3
  racks: [az-a, az-b, az-c]
topics:
  - name: events
    partitions: 6
    replication.factor: 3
    min.insync.replicas: 2
    retention.ms: 1d
producers:
  - topic: events
    count: 3
    rate: 20MB/s
    message_size: 4KiB
consumer_groups:
  - group.id: readers
    topics: [events]
    members: 3
targets:
  p99_produce_latency: {latency}
plan:
  brokers: 3..4
  instance_types:
    - m7g.xlarge
    - {second}
  replication.factor: [3]
  min.insync.replicas: [2]
  survive: broker
  duration: 1s
  warmup: 0.25s
"""


def _plan(tmp_path, text, *args):
    path = tmp_path / "planned.yaml"
    path.write_text(text)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return CliRunner().invoke(main, ["plan", str(path), "--executor", "inprocess", *args])
    finally:
        os.chdir(cwd)


def test_plan_prints_the_recommendation_and_writes_the_sizing_report(tmp_path):
    result = _plan(tmp_path, PLANNED.format(latency="200ms", second="m6i.xlarge"))
    assert result.exit_code == 0, result.output
    directory = tmp_path / "reports" / "planned" / "plan"
    plan = json.loads((directory / "plan.json").read_text())
    rec = plan["recommendation"]
    assert rec["instance"] in result.output and f"${rec['monthly_usd']:,.2f}" in result.output
    # survive: broker -- the recommendation also met its targets with a broker offline
    assert [c["case"].split(" ")[0] for c in rec["cases"]] == ["as", "lose"] and all(c["met"] for c in rec["cases"])
    frame = pd.read_parquet(directory / "candidates.parquet")
    assert len(frame) == plan["candidates"] == 4
    assert (frame["status"] == "recommended").sum() == 1
    html = (directory / "sizing.html").read_text()
    assert rec["instance"] in html and "sizing.html" in result.output


def test_a_plan_no_candidate_meets_writes_why_and_exits_1(tmp_path):
    result = _plan(tmp_path, PLANNED.format(latency="1us", second="m6i.xlarge"))
    assert result.exit_code == 1, result.output
    assert "no candidate meets the targets" in result.output
    plan = json.loads((tmp_path / "reports" / "planned" / "plan" / "plan.json").read_text())
    assert plan["recommendation"] is None and plan["reason"]
    assert "p99 produce latency" in result.output  # the cheapest candidates and what they miss


def test_an_unknown_instance_type_is_named_with_its_line_and_exit_2(tmp_path):
    result = _plan(tmp_path, PLANNED.format(latency="200ms", second="m6i.xlarg"))
    assert result.exit_code == 2
    path = tmp_path / "planned.yaml"
    assert f"{path}:26:7: error: plan.instance_types[1]: unknown instance type 'm6i.xlarg'" in result.output
    assert "did you mean 'm6i.xlarge'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "reports").exists()


def test_a_bad_catalogue_file_is_refused_with_its_line(tmp_path):
    bad = tmp_path / "mine.yaml"
    bad.write_text("provider: aws\nregion: us-east-1\ninstances:\n  - name: x1\n    vcpu: -4\n")
    result = _plan(tmp_path, PLANNED.format(latency="200ms", second="m6i.xlarge"), "--catalogue", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:5:5: error: instances[0].vcpu" in result.output
    assert not (tmp_path / "reports").exists()
