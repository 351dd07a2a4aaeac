"""``simkafka durability``: the matrix printed and its report written; bad input, a
scenario with nothing to replay and an output it may not write are one line and exit 2."""

from __future__ import annotations

import json
import os
import textwrap

from click.testing import CliRunner

from simkafka.cli.main import main

CRASH = """
name: crash
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 3, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: t, rate: 1MB/s, message_size: 1KiB, acks: all, linger.ms: 5}
faults:
  - {type: broker_crash, at: 1s, broker: 1}
run: {duration: 12s, warmup: 0.5s, sample_interval: 0.5s, seed: 7, engine: stepped}
"""
# two cells: idempotence off and on, under acks=all, min ISR 2, no unclean election
NARROW = ["--acks", "all", "--min-isr", "2", "--unclean", "false", "--executor", "inprocess"]


def _durability(tmp_path, text, *args):
    scenario = tmp_path / "crash.yaml"
    scenario.write_text(textwrap.dedent(text))
    cwd = os.getcwd()
    os.chdir(tmp_path)  # the default output is reports/<scenario>/durability/ under the working dir
    try:
        return CliRunner().invoke(main, ["durability", "crash.yaml", *args])
    finally:
        os.chdir(cwd)


def test_the_matrix_is_printed_and_the_report_written_for_a_stepped_scenario(tmp_path):
    result = _durability(tmp_path, CRASH, *NARROW)
    assert result.exit_code == 0, result.output
    assert "crash.yaml runs on the stepped engine; the matrix uses the events engine" in result.output
    assert "crash: durability matrix (seed 7)" in result.output
    rows = [line.split() for line in result.output.splitlines() if line.strip().startswith("all ")]
    # acks, idempotence, min ISR, unclean, lost, written twice: the retried batch the crash
    # left unanswered is written twice without idempotence only
    assert [row[:4] for row in rows] == [["all", "off", "2", "off"], ["all", "on", "2", "off"]]
    assert int(rows[0][5]) > 0 and rows[1][5] == "0"
    assert rows[0][4] == rows[1][4] == "0"
    directory = tmp_path / "reports" / "crash" / "durability"
    marker = json.loads((directory / ".simkafka-report").read_text())
    assert set(marker["files"]) == {"durability.html", "durability.json", "durability.parquet", "durability.png"}
    data = json.loads((directory / "durability.json").read_text())
    assert [c["written_twice"] for c in data["cells"]] == [int(rows[0][5]), 0]
    assert "report: reports/crash/durability/durability.html" in result.output


def test_a_bad_axis_value_exits_2_naming_the_option(tmp_path):
    for args, says in (
        (["--acks", "2,all"], "--acks 2,all: acks: '2' is not a value of acks (0, 1, all or -1)"),
        (["--min-isr", "0"], "--min-isr 0: min.insync.replicas: '0' is not a whole number of replicas"),
        (["--idempotence", "maybe"], "--idempotence maybe: enable.idempotence: 'maybe' is not true or false"),
    ):
        result = _durability(tmp_path, CRASH, *args)
        assert result.exit_code == 2
        assert result.output.strip().startswith(says), result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "reports").exists()


def test_a_bad_scenario_exits_2_with_file_line_and_field(tmp_path):
    result = _durability(tmp_path, CRASH.replace("acks: all", "acks: 2"), *NARROW)
    assert result.exit_code == 2
    assert "crash.yaml:7:" in result.output and "producers[0].acks" in result.output
    assert "Traceback" not in result.output


def test_nothing_to_replay_exits_2_before_any_run(tmp_path):
    result = _durability(tmp_path, CRASH.replace("{type: broker_crash, at: 1s, broker: 1}",
                                                 "{type: slow_disk, at: 1s, broker: 1, factor: 0.5}"))
    assert result.exit_code == 2
    assert "crash.yaml: scenario 'crash' has no broker or controller fault to replay" in result.output
    assert "would lose nothing and wait for nothing" in result.output
    assert "replaying" not in result.output and not (tmp_path / "reports").exists()


def test_an_output_directory_simkafka_did_not_write_is_refused_before_any_run(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    result = _durability(tmp_path, CRASH, *NARROW, "-o", "mine")
    assert result.exit_code == 2
    assert "mine: is not empty and is not a simkafka report" in result.output
    assert "replaying" not in result.output
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
