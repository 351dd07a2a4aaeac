"""``simkafka validate``: a verdict per quantity, no recommendation from one noisy sample,
no nonsense options, and never over a file it did not write."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from simkafka.cli.main import main
from simkafka.cli.validate import MAX_DISK_SPREAD_PCT, disk_advice, verdict

SMALL = ["--batches", "40", "--records-per-batch", "5"]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.mark.parametrize(
    "option",
    [
        ["--batches", "0"],
        ["--batches", "-3"],
        ["--records-per-batch", "0"],
        ["--message-size", "-1"],
        ["--key-bytes", "-1"],
        ["--key-count", "0"],
        ["--interval-ms", "-100"],
        ["--retention-check-interval-ms", "0"],
        ["--batches", "3000000000"],
    ],
)
def test_zero_negative_and_out_of_range_numbers_exit_2(runner, tmp_path, option):
    result = runner.invoke(main, ["validate", "--dir", str(tmp_path), *option])
    assert result.exit_code == 2, result.output
    assert option[0] in result.output and "inf" not in result.output.split()
    assert list(tmp_path.iterdir()) == []


def test_max_bytes_must_be_positive(runner, tmp_path):
    result = runner.invoke(
        main, ["validate", "scenarios/quickstart.yaml", "--dir", str(tmp_path), "--max-bytes", "0"]
    )
    assert result.exit_code == 2 and "--max-bytes must be positive" in result.output


def _row(quantity, error, kind="approx", basis="b"):
    return {"quantity": quantity, "error %": error, "kind": kind, "basis": basis}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (_row("segments", 0.0, "exact"), ("agrees", True)),
        (_row("segments", 50.0, "exact"), ("DISAGREES", False)),
        (_row("allocated bytes on disk", 0.4), ("within ±1%", True)),
        (_row("allocated bytes on disk", 3.0), ("off (tolerance ±1%)", False)),
        (_row("append MB/s", -20.0), ("within ±25%", True)),
        (_row("append MB/s", 2400.0), ("off (tolerance ±25%)", False)),
        (_row("append MB/s", 2400.0, basis="scenario hardware"), ("n/a: other hardware", None)),
        (_row("append MB/s", float("inf")), ("off", False)),
        (_row("append MB/s", None), ("-", None)),
    ],
)
def test_every_quantity_gets_a_verdict(row, expected):
    assert verdict(row) == expected


def test_a_disk_speed_is_recommended_only_from_agreeing_samples():
    one = disk_advice([800e6])
    assert "1 sample(s)" in one and "too noisy to recommend" in one and "disk_write:" not in one
    noisy = disk_advice([300e6, 800e6, 500e6, 820e6, 790e6])
    assert "spread 66%" in noisy and "too noisy to recommend" in noisy
    steady = disk_advice([800e6, 810e6, 790e6, 805e6, 795e6])
    assert f"within {MAX_DISK_SPREAD_PCT:g}%" not in steady
    assert "median 800 MB/s of 5 sample(s)" in steady
    assert "cluster.hardware.disk_write: 800MB/s" in steady


def test_the_table_has_a_verdict_column(runner, tmp_path):
    result = runner.invoke(main, ["validate", "--dir", str(tmp_path), *SMALL])
    assert result.exit_code == 0, result.output
    assert "verdict" in result.output and "agrees" in result.output
    assert "n/a: other" in result.output  # this machine is not the scenario's hardware


def test_json_never_overwrites_a_file_simkafka_did_not_write(runner, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    theirs = tmp_path / "results.json"
    theirs.write_text('{"mine": 1}')
    result = runner.invoke(main, ["validate", "--dir", str(work), *SMALL, "--json", str(theirs)])
    assert result.exit_code == 2 and "not written by simkafka" in result.output
    assert theirs.read_text() == '{"mine": 1}'
    ours = tmp_path / "ours.json"
    for _ in range(2):
        result = runner.invoke(main, ["validate", "--dir", str(work), *SMALL, "--json", str(ours)])
        assert result.exit_code == 0, result.output
    data = json.loads(ours.read_text())
    assert data["generated_by"] == "simkafka validate" and data["table"]
