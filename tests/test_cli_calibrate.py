"""``simkafka calibrate``: a table, a profile file marked as its own, and never a file it
did not write."""

import pytest
from click.testing import CliRunner

import simkafka.validate.calibration as calibration_package
from simkafka.cli.main import main
from simkafka.scenario import load_scenario
from simkafka.scenario.costs import default_costs
from simkafka.validate.calibration import PROFILE_MARKER, Calibration


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One real `calibrate --quick -o` run, shared by the tests."""
    out = tmp_path_factory.mktemp("cal") / "mine.costs.yaml"
    result = CliRunner().invoke(main, ["calibrate", "--quick", "-o", str(out), "--dir", str(out.parent)])
    return result, out


def test_quick_run_prints_the_table_and_writes_a_loadable_profile(quick_run):
    result, out = quick_run
    assert result.exit_code == 0, result.output
    for cost in ("broker.fsync", "broker.recovery_byte_cpu", "producer.record_cpu", "codecs.gzip.compress_cpu"):
        assert cost in result.output
    assert "not measured" in result.output and f"wrote {out}" in result.output
    assert out.read_text().startswith(PROFILE_MARKER)
    scenario = out.parent / "s.yaml"
    scenario.write_text(
        "name: t\ncluster: {brokers: 1}\ntopics: [{name: a}]\n"
        "producers: [{topic: a, rate: 10 msg/s, message_size: 1KiB}]\ncosts: mine.costs.yaml\n"
    )
    assert load_scenario(scenario).costs.source.startswith("simkafka calibrate --quick")


def test_it_overwrites_a_profile_it_wrote(quick_run, monkeypatch):
    result, out = quick_run
    assert result.exit_code == 0
    earlier = out.read_text()
    # this test is about the file, not the figures: the shipped profile stands in for them
    calibrated = Calibration(default_costs(), [], 1.0)
    monkeypatch.setattr(calibration_package, "calibrate", lambda *a, **k: calibrated)
    again = CliRunner().invoke(main, ["calibrate", "-o", str(out)])
    assert again.exit_code == 0, again.output
    assert out.read_text() != earlier and out.read_text().startswith(PROFILE_MARKER)


def test_it_refuses_to_overwrite_a_file_it_did_not_write(tmp_path, monkeypatch):
    theirs = tmp_path / "costs.yaml"
    theirs.write_text("broker: {fsync: 1ms}\n")

    def must_not_run(*args, **kwargs):
        raise AssertionError("measured before refusing the output")

    monkeypatch.setattr(calibration_package, "calibrate", must_not_run)
    result = CliRunner().invoke(main, ["calibrate", "--quick", "-o", str(theirs)])
    assert result.exit_code == 2
    assert "was not written by simkafka" in result.output and "Traceback" not in result.output
    assert theirs.read_text() == "broker: {fsync: 1ms}\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dir", "/no/such/dir"], "--dir: /no/such/dir is not a directory"),
        (["-o", "/no/such/dir/p.yaml"], "-o: directory /no/such/dir does not exist"),
    ],
)
def test_bad_options_exit_2_before_measuring(args, message, monkeypatch):
    monkeypatch.setattr(calibration_package, "calibrate", lambda *a, **k: 1 / 0)
    result = CliRunner().invoke(main, ["calibrate", "--quick", *args])
    assert result.exit_code == 2 and message in result.output
