"""``simkafka bench-log``: runs, prints its tables, cleans up, and refuses bad options with exit 2."""

import json
import os

import pytest
from click.testing import CliRunner

from simkafka.cli.main import main

TINY = [
    "--message-size",
    "100",
    "--batch-size",
    "1000",
    "--partitions",
    "2",
    "--bytes",
    "100KB",
    "--segment-bytes",
    "32KiB",
    "--raw-bytes",
    "64KiB",
    "--fetch-bytes",
    "4KiB",
    "--executor",
    "thread",
]


@pytest.fixture
def runner():
    return CliRunner()


def test_runs_prints_the_table_and_cleans_up(runner, tmp_path):
    result = runner.invoke(main, ["bench-log", str(tmp_path), *TINY])
    assert result.exit_code == 0, result.output
    out = result.output
    for row in ("raw write", "raw read", "append", "tail read", "cold read", ".timeindex"):
        assert row in out
    assert "vs raw" in out and "p99 ms" in out
    assert "read back in offset order" in out
    assert "Traceback" not in out
    assert os.listdir(tmp_path) == []  # no --keep: the run directory is gone


def test_keep_and_json(runner, tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    out = tmp_path / "r.json"
    result = runner.invoke(
        main,
        ["bench-log", str(data_dir), *TINY, "--keep", "--json", str(out), "--compression", "zstd"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["schema"] == "simkafka.bench-log/1"
    assert data["config"]["compression"] == "zstd"
    assert data["verification"]["ok"] is True
    kept = data["run_directory"]
    assert os.path.isdir(kept) and os.path.dirname(kept) == str(data_dir)
    logs = os.path.join(kept, "kafka-logs")
    assert sorted(d for d in os.listdir(logs) if d.startswith("bench-")) == ["bench-0", "bench-1"]
    on_disk = sum(
        os.path.getsize(os.path.join(logs, d, f))
        for d in ("bench-0", "bench-1")
        for f in os.listdir(os.path.join(logs, d))
        if f.endswith(".log")
    )
    assert on_disk == data["append"]["bytes"]


def test_warmup_batches_are_written_but_not_timed(runner, tmp_path):
    out = tmp_path / "r.json"
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    args = ["bench-log", str(data_dir), *TINY, "--warmup-batches", "3", "--json", str(out)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["config"]["warmup_batches"] == 3
    assert data["verification"]["ok"] is True
    batch = data["batch_bytes"]
    assert data["disk_usage"][".log"]["bytes"] == data["append"]["bytes"] + 2 * 3 * batch


def test_duration_default_unit_is_seconds(runner, tmp_path):
    args = [a for a in TINY]
    i = args.index("--bytes")
    args[i : i + 2] = ["--duration", "200ms"]
    result = runner.invoke(main, ["bench-log", str(tmp_path), *args, "--consumers", "0"])
    assert result.exit_code == 0, result.output
    assert "0.2s" in result.output
    assert "no consumers: nothing read back" in result.output


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--partitions", "0"], "--partitions must be a positive integer, got 0"),
        (["--producers", "3"], "--producers (3) must not exceed --partitions (2)"),
        (["--duration", "5s"], "give exactly one of --duration and --bytes"),
        (["--message-size", "lots"], "Invalid value for '--message-size'"),
        (["--compression", "brotli"], "Invalid value for '--compression'"),
        (["--flush-messages", "0"], "--flush-messages must be a positive integer"),
        (["--segment-bytes", "100"], "--segment-bytes (100) is smaller than one batch"),
        (["--json", "/nonexistent-dir/x.json"], "--json: directory"),
        (["--warmup-batches", "-1"], "Invalid value for '--warmup-batches'"),
    ],
)
def test_bad_options_exit_2_with_one_message(runner, tmp_path, extra, message):
    result = runner.invoke(main, ["bench-log", str(tmp_path), *TINY, *extra])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert os.listdir(tmp_path) == []


def test_a_missing_directory_is_created_and_only_the_run_inside_it_removed(runner, tmp_path):
    target = tmp_path / "new" / "bench"
    result = runner.invoke(main, ["bench-log", str(target), *TINY])
    assert result.exit_code == 0, result.output
    assert f"created {target}" in result.output
    assert target.is_dir() and os.listdir(target) == []


def test_a_refused_run_leaves_no_directory_it_made(runner, tmp_path):
    target = tmp_path / "new" / "bench"
    result = runner.invoke(main, ["bench-log", str(target), *TINY, "--partitions", "0"])
    assert result.exit_code == 2, result.output
    assert os.listdir(tmp_path) == []


def test_a_file_in_place_of_the_directory_is_refused(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("mine")
    result = runner.invoke(main, ["bench-log", str(blocker), *TINY])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert blocker.read_text() == "mine"


def test_json_never_overwrites_a_file_bench_log_did_not_write(runner, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    theirs = tmp_path / "results.json"
    theirs.write_text('{"mine": 1}')
    result = runner.invoke(main, ["bench-log", str(data), *TINY, "--json", str(theirs)])
    assert result.exit_code == 2 and "not written by simkafka" in result.output
    assert theirs.read_text() == '{"mine": 1}'
    ours = tmp_path / "ours.json"
    for _ in range(2):  # its own earlier output it replaces
        result = runner.invoke(main, ["bench-log", str(data), *TINY, "--json", str(ours)])
        assert result.exit_code == 0, result.output
    assert json.loads(ours.read_text())["schema"] == "simkafka.bench-log/1"


def test_latency_shows_only_the_digits_its_histogram_resolves(runner, tmp_path):
    import re

    result = runner.invoke(main, ["bench-log", str(tmp_path), *TINY])
    assert result.exit_code == 0, result.output
    table = result.output.split("latency per append")[1].split("└")[0]
    numbers = re.findall(r"\d[\d,]*\.?\d*", table.split("max ms", 1)[1])
    assert numbers
    for number in numbers:
        digits = re.sub(r"^0+", "", number.replace(",", "").replace(".", "")).rstrip("0")
        assert len(digits) <= 3, number
