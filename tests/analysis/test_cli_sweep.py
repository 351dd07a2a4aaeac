"""``simkafka sweep``: writes points.parquet in its own directory, resumes, exit 2 on bad input."""

import json
import os

import pandas as pd
from click.testing import CliRunner

from simkafka.cli.main import main


def _sweep(tmp_path, tiny_file, *args):
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(tmp_path)  # the default output is reports/<scenario>/sweep/ under the working dir
    try:
        return runner.invoke(main, ["sweep", str(tiny_file), *args])
    finally:
        os.chdir(cwd)


def test_sweep_writes_parquet_and_resumes_from_its_cache(tmp_path, tiny_file):
    args = ["--param", "cluster.brokers=1..2", "--param", "topics.events.partitions=3,6"]
    result = _sweep(tmp_path, tiny_file, *args, "--workers", "2")
    assert result.exit_code == 0, result.output
    directory = tmp_path / "reports" / "tiny" / "sweep"
    frame = pd.read_parquet(directory / "points.parquet")
    assert frame[["cluster.brokers", "topics.events.partitions"]].values.tolist() == [
        [1, 3], [1, 6], [2, 3], [2, 6]
    ]
    assert "tiny: 4 points" in result.output and "points.parquet" in result.output
    marker = json.loads((directory / ".simkafka-report").read_text())
    assert marker["files"] == {"cache.jsonl": "sweep", "points.parquet": "sweep"}
    cached = (directory / "cache.jsonl").read_text().splitlines()
    assert len(cached) == 1 + 4  # the header and one line per point
    # again, in-process: every point from the cache, the same frame, nothing appended
    again = _sweep(tmp_path, tiny_file, *args, "--executor", "inprocess")
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(pd.read_parquet(directory / "points.parquet"), frame)
    assert (directory / "cache.jsonl").read_text().splitlines() == cached


def test_bad_param_exits_2_with_the_param_named(tmp_path, tiny_file):
    result = _sweep(tmp_path, tiny_file, "--param", "topics.events.partitions=12..6")
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"{tiny_file}: --param topics.events.partitions=12..6: the range 12..6 is empty "
        "(a..b needs a <= b)"
    )
    bad_value = _sweep(tmp_path, tiny_file, "--param", "producers.writers.acks=2")
    assert bad_value.exit_code == 2
    assert "--param producers.writers.acks=2: error: producers[0].acks:" in bad_value.output
    assert "Traceback" not in bad_value.output
    assert not (tmp_path / "reports").exists()  # nothing written for a refused sweep


def test_scheduler_without_dask_and_a_foreign_directory_exit_2(tmp_path, tiny_file):
    result = _sweep(
        tmp_path, tiny_file, "--param", "cluster.brokers=1", "--scheduler", "tcp://127.0.0.1:8786"
    )
    assert result.exit_code == 2
    assert "a scheduler address is for --executor dask" in result.output
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    refused = _sweep(tmp_path, tiny_file, "--param", "cluster.brokers=1", "-o", str(mine))
    assert refused.exit_code == 2
    assert "is not a simkafka report" in refused.output
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_run_and_sweep_share_the_scenarios_report_directory(tmp_path, tiny_file):
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert runner.invoke(main, ["run", str(tiny_file)]).exit_code == 0
        swept = runner.invoke(main, ["sweep", str(tiny_file), "-p", "cluster.brokers=1", "--executor", "inprocess"])
        assert swept.exit_code == 0, swept.output
        # the run report is replaced; the sweep directory inside it is kept whole
        again = runner.invoke(main, ["run", str(tiny_file)])
        assert again.exit_code == 0, again.output
    finally:
        os.chdir(cwd)
    report = tmp_path / "reports" / "tiny"
    assert (report / "summary.json").is_file()
    assert (report / "sweep" / "points.parquet").is_file()
    assert len((report / "sweep" / "cache.jsonl").read_text().splitlines()) == 2


def test_a_points_warnings_are_shown_once_with_the_point(tmp_path, tiny_file):
    result = _sweep(tmp_path, tiny_file, "-p", "cluster.controller=kraft,zookeeper", "-p", "cluster.brokers=1..2",
                    "--executor", "inprocess")
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if "removed ZooKeeper mode" in line]
    assert len(warned) == 1
    assert warned[0].startswith("--param cluster.controller=zookeeper --param cluster.brokers=1: warning: "
                                "cluster.controller:")
    assert "    (and at 1 more point(s))" in result.output.splitlines()
