"""The command line: thin, exit status 2 and no traceback on bad input, nothing half-written."""

import json

import pytest
from click.testing import CliRunner

from simkafka.cli.main import main


@pytest.fixture
def runner():
    return CliRunner()


def test_check_ok(runner):
    result = runner.invoke(main, ["check", "scenarios/quickstart.yaml"])
    assert result.exit_code == 0, result.output
    assert "quickstart" in result.output


def test_check_bad_file_exit_2_without_traceback(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: x\ncluster: {brokers: 3}\ntopics:\n  - {name: t, replication.factor: 5}\n"
    )
    result = runner.invoke(main, ["check", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:4:" in result.output
    assert "replication factor 5 is larger than the 3 broker(s)" in result.output
    assert "Traceback" not in result.output


def test_check_missing_file(runner, tmp_path):
    result = runner.invoke(main, ["check", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_resolved_output_loads_again(runner, tmp_path):
    result = runner.invoke(main, ["check", "--resolved", "scenarios/quickstart.yaml"])
    assert result.exit_code == 0
    again = tmp_path / "resolved.yaml"
    again.write_text(result.output)
    assert runner.invoke(main, ["check", str(again)]).exit_code == 0


def test_schema_is_json_schema_with_kafka_names(runner):
    result = runner.invoke(main, ["schema"])
    schema = json.loads(result.output)
    topic = schema["$defs"]["Topic"]["properties"]
    assert "replication.factor" in topic and "min.insync.replicas" in topic
    assert schema["$defs"]["Topic"]["additionalProperties"] is False


def test_describe_prints_kafka_topics_format_and_writes_figure(runner, tmp_path):
    figure = tmp_path / "placement.png"
    result = runner.invoke(main, ["describe", "scenarios/quickstart.yaml", "--figure", str(figure)])
    assert result.exit_code == 0, result.output
    assert "Topic: orders\tTopicId: " in result.output
    assert (
        "PartitionCount: 6\tReplicationFactor: 3\tConfigs: min.insync.replicas=2,retention.ms=259200000"
        in result.output
    )
    assert "\tTopic: orders\tPartition: 0\tLeader: " in result.output
    assert figure.stat().st_size > 10_000
    assert not list(tmp_path.glob("*.tmp.png"))


def test_describe_bad_scenario_writes_nothing(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncluster: {brokers: 1}\ntopics: []\n")
    figure = tmp_path / "fig.png"
    result = runner.invoke(main, ["describe", str(bad), "--figure", str(figure)])
    assert result.exit_code == 2
    assert not figure.exists()


def test_import_omb_is_registered_on_the_main_command(runner):
    result = runner.invoke(main, ["import", "omb", "--help"])
    assert result.exit_code == 0, result.output
    assert "WORKLOAD" in result.output and "DRIVER" in result.output


def test_version_names_the_kafka_release_simkafka_models(runner):
    from importlib.metadata import version

    from simkafka.kafka_version import MODELLED_RELEASE

    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"simkafka {version('simkafka')} (models Apache Kafka {MODELLED_RELEASE})\n"
    )


def test_run_writes_the_report_and_prints_the_summary(runner, tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(
        main, ["run", "scenarios/quickstart.yaml", "--duration", "1.5s", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "produce_msgs_per_s" in result.output and "latency (ms)" in result.output
    # a run without faults prints what it always printed: no delivery or fault tables
    assert "delivery (per topic)" not in result.output and "not simulated" not in result.output
    assert "leader elections" not in result.output  # the fault figures' table
    summary = json.loads((out / "summary.json").read_text())
    assert summary["summary"]["conservation_ok"] is True
    for name in (
        "report.html",
        "timeseries.parquet",
        "throughput.png",
        "latency.png",
        "lag.png",
        "utilisation.png",
    ):
        assert (out / name).stat().st_size > 0, name
    html = (out / "report.html").read_text()
    assert "bottleneck" in html.lower() and "<img" in html
    # which Kafka the run reproduced, in the data and on the page
    assert summary["versions"]["kafka"] == "4.1"
    assert "modelling Apache Kafka 4.1" in html


def test_run_bad_override_exits_2_and_writes_nothing(runner, tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(
        main, ["run", "scenarios/quickstart.yaml", "--duration", "5 parsecs", "-o", str(out)]
    )
    assert result.exit_code == 2
    assert "--duration" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_run_with_the_stepped_engine_writes_the_same_report(runner, tmp_path):
    out = tmp_path / "report"
    result = runner.invoke(
        main,
        [
            "run",
            "scenarios/quickstart.yaml",
            "--duration",
            "2s",
            "--engine",
            "stepped",
            "--step",
            "2ms",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert (
        summary["summary"]["engine"] == "stepped" and summary["summary"]["conservation_ok"] is True
    )
    assert abs(summary["summary"]["produce_msgs_per_s"] - 20000.0) < 400
    assert (out / "report.html").stat().st_size > 0


@pytest.mark.parametrize("step", ["0s", "2s", "fast"])
def test_run_bad_step_exits_2_and_writes_nothing(runner, tmp_path, step):
    out = tmp_path / "report"
    result = runner.invoke(
        main,
        ["run", "scenarios/quickstart.yaml", "--engine", "stepped", "--step", step, "-o", str(out)],
    )
    assert result.exit_code == 2
    assert "--step" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_run_reports_the_throughput_target(runner, tmp_path):
    result = runner.invoke(
        main, ["run", "scenarios/quickstart.yaml", "--duration", "1.2s", "-o", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    line = next(
        x for x in result.output.splitlines() if x.startswith("produce throughput (msgs/s)")
    )
    goal, achieved, met = line.split()[3:]
    assert float(goal) == 20000.0 and abs(float(achieved) - 20000.0) < 200 and met == "True"
    # the durability target (one rack) is in the table too, judged on the configuration
    line = next(x for x in result.output.splitlines() if x.startswith("durability"))
    assert "survive 1 rack failure" in line and line.split()[-2:] == ["yes", "True"]


CRASH_AND_SLOW_DISK = """
name: crash-and-slow-disk
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 3, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: t, rate: 1MB/s, message_size: 1KiB, acks: all, linger.ms: 5}
faults:
  - {type: broker_crash, at: 0.4s, broker: 1}
  - {type: slow_disk, at: 0.5s, broker: 0, factor: 0.5}
run: {duration: 1s, warmup: 0.2s, sample_interval: 0.25s, seed: 7}
"""


@pytest.mark.parametrize("engine", ["events", "stepped"])
def test_run_warns_of_exactly_the_faults_the_engine_does_not_play(runner, tmp_path, engine):
    scenario = tmp_path / "faults.yaml"
    scenario.write_text(CRASH_AND_SLOW_DISK)
    out = tmp_path / "r"
    result = runner.invoke(main, ["run", str(scenario), "--engine", engine, "-o", str(out)])
    assert result.exit_code == 0, result.output
    # the warning before the run counts what the engine's summary counts after it
    not_simulated = json.loads((out / "summary.json").read_text())["summary"]["faults_not_simulated"]
    if engine == "stepped":
        assert not_simulated >= 1  # no control plane: the crash is not played
        assert "broker_crash at 0.4s" in result.output and "--engine events" in result.output
    if not_simulated:
        assert f"warning: {not_simulated} of the 2 fault(s) in {scenario} are not simulated by the {engine} engine" in result.output
        assert "faults not simulated" in result.output  # in the fault figures after the run too
    else:
        assert "not simulated" not in result.output


def test_run_with_a_crash_prints_the_delivery_table_and_the_fault_figures(runner, tmp_path):
    scenario = tmp_path / "crash.yaml"
    # broker 1 crashes at 0.4s; fenced one session (9 s) after its last heartbeat
    scenario.write_text(
        CRASH_AND_SLOW_DISK.replace("  - {type: slow_disk, at: 0.5s, broker: 0, factor: 0.5}\n", "")
        .replace("duration: 1s", "duration: 11s")
    )
    out = tmp_path / "r"
    result = runner.invoke(main, ["run", str(scenario), "-o", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())["summary"]
    assert summary["delivery_checked"] is True and summary["acknowledged_lost"] == 0
    lines = result.output.splitlines()
    assert "delivery (per topic)" in lines
    table = lines[lines.index("delivery (per topic)"):]
    header = next(x for x in table if x.startswith("┃"))
    row = next(x for x in table if x.startswith("│ t "))
    cells = dict(zip([c.strip() for c in header.strip().strip("┃").split("┃")],
                     [c.strip() for c in row.strip().strip("│").split("│")], strict=True))
    delivery = (out / "delivery.csv").read_text().splitlines()
    assert delivery[0].startswith("topic,sent,acknowledged,")
    sent = int(delivery[1].split(",")[1])
    assert int(cells["sent"]) == sent > 0 and int(cells["lost"]) == 0
    assert "delivery: every acknowledged message is in the log" in lines
    elections = next(x for x in lines if x.startswith("│ leader elections "))
    assert int(elections.split("│")[2]) == summary["leader_elections"] > 0


def test_unwritable_output_paths_get_one_line_and_exit_2(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(
        main, ["describe", "scenarios/quickstart.yaml", "--figure", str(blocker / "x.png")]
    )
    assert result.exit_code == 2 and "cannot write the placement figure" in result.output
    result = runner.invoke(
        main, ["run", "scenarios/quickstart.yaml", "--duration", "0.3s", "-o", str(blocker / "r")]
    )
    assert result.exit_code == 2 and "cannot write the report" in result.output
    assert "Traceback" not in result.output


# ---- the user's files: never deleted, never overwritten --------------------------------


def _scenario_copy(directory, name=None):
    text = open("scenarios/quickstart.yaml", encoding="utf-8").read()
    if name is not None:
        text = text.replace("name: quickstart", f"name: {json.dumps(name)}")
    path = directory / "quickstart.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_run_into_the_working_directory_is_refused_and_deletes_nothing(
    runner, tmp_path, monkeypatch
):
    scenario = _scenario_copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["run", str(scenario), "--duration", "0.3s", "-o", "."])
    assert result.exit_code == 2, result.output
    assert "not a simkafka report" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quickstart.yaml"]


def test_run_into_a_directory_of_the_users_files_is_refused_before_simulating(
    runner, tmp_path, monkeypatch
):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")

    def never(*args, **kwargs):
        raise AssertionError("simulated although the output will be refused")

    monkeypatch.setattr("simkafka.sim.engine.simulate", never)
    result = runner.invoke(main, ["run", "scenarios/quickstart.yaml", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "not a simkafka report" in result.output
    assert (out / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_run_keeps_the_figure_describe_wrote_and_replaces_its_own_report(
    runner, tmp_path, monkeypatch
):
    scenario = _scenario_copy(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(main, ["describe", str(scenario)]).exit_code == 0
    figure = tmp_path / "reports" / "quickstart" / "placement.png"
    drawn = figure.read_bytes()
    for _ in range(2):  # the second run replaces the first one's report
        result = runner.invoke(main, ["run", str(scenario), "--duration", "0.3s"])
        assert result.exit_code == 0, result.output
    report = tmp_path / "reports" / "quickstart"
    assert figure.read_bytes() == drawn
    assert (report / "summary.json").exists() and (report / "report.html").exists()
    assert oct(report.stat().st_mode & 0o777) == oct(0o777 & ~_umask())
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["quickstart"]


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("name", ["../../escaped", "a/b", "..", "/tmp/abs", "x" * 300])
def test_scenario_names_never_lead_outside_reports(runner, tmp_path, monkeypatch, name):
    work = tmp_path / "deep" / "work"
    work.mkdir(parents=True)
    scenario = _scenario_copy(work, name=name)
    monkeypatch.chdir(work)
    for command in (["run", str(scenario), "--duration", "0.3s"], ["describe", str(scenario)]):
        result = runner.invoke(main, command)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["deep", "quickstart.yaml", "work"]


def test_describe_figure_never_overwrites_a_file_simkafka_did_not_write(runner, tmp_path):
    theirs = tmp_path / "holiday.png"
    theirs.write_bytes(b"\x89PNG\r\n\x1a\nnot ours")
    result = runner.invoke(main, ["describe", "scenarios/quickstart.yaml", "--figure", str(theirs)])
    assert result.exit_code == 2 and "not written by simkafka" in result.output
    assert theirs.read_bytes() == b"\x89PNG\r\n\x1a\nnot ours"
    ours = tmp_path / "placement.png"
    for _ in range(2):  # its own figure it replaces
        result = runner.invoke(
            main, ["describe", "scenarios/quickstart.yaml", "--figure", str(ours)]
        )
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["holiday.png", "placement.png"]


def test_schema_output_never_overwrites_a_file_simkafka_did_not_write(runner, tmp_path):
    theirs = tmp_path / "schema.json"
    theirs.write_text('{"mine": true}')
    result = runner.invoke(main, ["schema", "-o", str(theirs)])
    assert result.exit_code == 2 and "not written by simkafka" in result.output
    assert theirs.read_text() == '{"mine": true}'
    ours = tmp_path / "scenario.schema.json"
    for _ in range(2):
        assert runner.invoke(main, ["schema", "-o", str(ours)]).exit_code == 0
    written = json.loads(ours.read_text())
    assert "Topic" in written["$defs"] and "simkafka schema" in written["$comment"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.schema.json", "schema.json"]


# ---- Ctrl-C: one line, exit status 130, nothing half-written ----------------------------


def test_ctrl_c_during_a_run_exits_130_with_one_line_and_writes_nothing(
    runner, tmp_path, monkeypatch
):
    def interrupted_simulation(scenario, progress=None, steps=100):
        progress(0.1, scenario.run.duration)
        raise KeyboardInterrupt

    monkeypatch.setattr("simkafka.sim.engine.simulate", interrupted_simulation)
    out = tmp_path / "r"
    result = runner.invoke(main, ["run", "scenarios/quickstart.yaml", "-o", str(out)])
    assert result.exit_code == 130, result.output
    assert result.output.splitlines()[-1] == "interrupted"
    assert "Traceback" not in result.output and "Aborted" not in result.output
    assert list(tmp_path.iterdir()) == []


# A shell reports 130 for both: exit status 130, and death by SIGINT (how CPython ends
# when a KeyboardInterrupt reached its top level; then its traceback would be printed).
INTERRUPTED = (130, -2)


def _spawn(args, cwd):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONUNBUFFERED": "1"}
    # what the installed `simkafka` console script runs
    script = "import sys; from simkafka.cli.entry import main; sys.exit(main())"
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigint_during_start_up_exits_130_without_traceback(tmp_path):
    import signal
    import time
    from pathlib import Path

    scenario = Path("scenarios/quickstart.yaml").resolve()
    process = _spawn(["run", str(scenario), "-o", str(tmp_path / "r")], tmp_path)
    time.sleep(0.3)  # the interpreter is up; click, rich, pydantic, numpy are loading
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()  # no-op once it has exited
    assert process.returncode in INTERRUPTED, stderr
    assert "Traceback" not in stderr and stderr.splitlines()[-1] == "interrupted"
    assert list(tmp_path.iterdir()) == []


def test_sigint_during_a_run_exits_130_and_leaves_no_report_or_temporary_dir(tmp_path):
    import signal
    import threading
    import time
    from pathlib import Path

    scenario = Path("scenarios/quickstart.yaml").resolve()
    process = _spawn(["run", str(scenario), "-o", str(tmp_path / "r")], tmp_path)
    watchdog = threading.Timer(120, process.kill)  # bounds the blocking readline below
    watchdog.start()
    try:
        first = process.stderr.readline()  # "simulating quickstart: started" (a pipe)
        assert "simulating quickstart" in first, first
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        watchdog.cancel()
        process.kill()  # no-op once it has exited
    assert process.returncode in INTERRUPTED, stderr
    assert "Traceback" not in stderr and stderr.splitlines()[-1] == "interrupted"
    assert list(tmp_path.iterdir()) == []


def test_step_without_the_stepped_engine_is_an_error_that_says_how_to_fix_it(runner, tmp_path):
    out = tmp_path / "r"
    result = runner.invoke(
        main, ["run", "scenarios/quickstart.yaml", "--step", "2ms", "-o", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert "--engine stepped" in result.output and "run.engine: stepped" in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_step_with_a_scenario_that_runs_the_stepped_engine_is_taken(runner, tmp_path):
    scenario = tmp_path / "stepped.yaml"
    text = open("scenarios/quickstart.yaml", encoding="utf-8").read()
    scenario.write_text(text.replace("  seed: 42\n", "  seed: 42\n  engine: stepped\n"))
    out = tmp_path / "r"
    result = runner.invoke(
        main, ["run", str(scenario), "--step", "5ms", "--duration", "1s", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["summary"]["engine"] == "stepped"
    assert summary["resolved_scenario"]["run"]["step"] in (0.005, "5ms")


@pytest.mark.parametrize("seed", ["-1", "-100"])
def test_command_line_overrides_are_validated_like_the_file(runner, tmp_path, seed):
    out = tmp_path / "r"
    result = runner.invoke(
        main,
        ["run", "scenarios/quickstart.yaml", "--seed", seed, "--duration", "0.3s", "-o", str(out)],
    )
    assert result.exit_code == 2, result.output
    assert "--seed" in result.output and "Traceback" not in result.output
    assert not out.exists()


# 60 MB/s into RF 3 on 50 MB/s broker NICs: the followers fall behind (acks=1 hides it)
UNSUSTAINABLE = """
name: followers
cluster:
  brokers: 3
  hardware: {nic: 400Mbps}
topics:
  - {name: events, partitions: 6, replication.factor: 3, min.insync.replicas: 1}
producers:
  - {name: writers, topic: events, count: 2, rate: 60MB/s, message_size: 10KiB, acks: "1", batch.size: 256KiB}
run: {duration: 6s, warmup: 2s, sample_interval: 0.5s, seed: 3}
"""


def test_run_prints_when_a_run_is_not_sustainable(runner, tmp_path):
    scenario = tmp_path / "followers.yaml"
    scenario.write_text(UNSUSTAINABLE)
    out = tmp_path / "report"
    result = runner.invoke(main, ["run", str(scenario), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "NOT SUSTAINABLE: replication lag grows" in result.output
    summary = json.loads((out / "summary.json").read_text())["summary"]
    assert summary["sustainable"] is False
    assert summary["growing_queues"]["replication_lag_MB"] > 20
