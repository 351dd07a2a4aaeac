"""The durability report: every file written and recorded, the figure's grid is the matrix,
refused cells stay refused in every file, and a directory simkafka did not write is refused."""

from __future__ import annotations

import json
import math
import textwrap

import pandas as pd
import pytest

from simkafka.analysis.durability import DurabilityAxes, durability_matrix
from simkafka.report.durability import (
    FILES,
    matrix_grid,
    plot_durability_matrix,
    write_durability_report,
)
from simkafka.report.output_dir import MARKER, OutputRefused, png_software
from simkafka.scenario import parse_scenario

CRASH = """
name: crash
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 3, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: t, rate: 500KB/s, message_size: 1KiB, acks: all, linger.ms: 20}
faults:
  - {type: broker_crash, at: 1s, broker: 1}
run: {duration: 12s, warmup: 0.5s, sample_interval: 0.5s, seed: 7}
"""


@pytest.fixture(scope="module")
def matrix():
    scenario = parse_scenario(textwrap.dedent(CRASH), "crash.yaml")
    axes = DurabilityAxes(acks=("1", "all"), idempotence=(False, True), min_insync_replicas=(2,),
                          unclean=(False, True))
    return durability_matrix(scenario, axes, executor="inprocess")


@pytest.fixture(scope="module")
def report(matrix, tmp_path_factory):
    directory = tmp_path_factory.mktemp("durability") / "out"
    return directory, write_durability_report(matrix, directory)


def test_every_file_is_written_and_recorded_as_the_durability_commands(report):
    directory, paths = report
    assert {p.name for p in paths} == {*FILES, MARKER}
    marker = json.loads((directory / MARKER).read_text())
    assert marker["files"] == dict.fromkeys(sorted(FILES), "durability")
    assert png_software(directory / "durability.png").endswith(" durability")


def test_json_and_parquet_hold_the_matrix_with_refused_cells_as_missing(report, matrix):
    directory, _ = report

    def refuse(constant):  # NaN and Infinity are not JSON
        raise ValueError(constant)

    data = json.loads((directory / "durability.json").read_text(), parse_constant=refuse)
    assert data == json.loads(json.dumps(matrix.to_dict()))
    refused = [c for c in data["cells"] if not c["valid"]]
    assert [(c["acks"], c["enable.idempotence"]) for c in refused] == [("1", True), ("1", True)]
    assert all(c["written_twice"] is None for c in refused)
    pd.testing.assert_frame_equal(pd.read_parquet(directory / "durability.parquet"), matrix.frame)


def test_the_figure_grid_is_the_matrix_rows_acks_by_idempotence_columns_min_isr_by_unclean(matrix):
    grid = matrix_grid(matrix, "no_leader_partition_s")
    assert list(grid.index) == ["acks=1 idempotence=off", "acks=1 idempotence=on", "acks=all idempotence=off",
                                "acks=all idempotence=on"]
    assert list(grid.columns) == ["min ISR 2 unclean off", "min ISR 2 unclean on"]
    for row in matrix.frame.to_dict(orient="records"):
        r = f"acks={row['acks']} idempotence={'on' if row['enable.idempotence'] else 'off'}"
        c = f"min ISR 2 unclean {'on' if row['unclean.leader.election.enable'] else 'off'}"
        if row["valid"]:
            assert grid.loc[r, c] == row["no_leader_partition_s"] > 0
        else:
            assert math.isnan(grid.loc[r, c])


def test_html_names_the_scenario_the_faults_and_every_cell(report, matrix):
    directory, _ = report
    html = (directory / "durability.html").read_text()
    assert "Durability matrix: crash" in html and "broker_crash at 1s" in html
    assert html.count("Must set acks to all") == 2  # one per refused cell, in the table
    assert html.count("<tr") == 1 + len(matrix.frame)  # the header and one row per cell
    assert "data:image/png;base64," in html


def test_a_directory_simkafka_did_not_write_is_refused_and_left_alone(matrix, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputRefused, match="not a simkafka report"):
        write_durability_report(matrix, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_the_heat_map_of_one_measure_shows_the_grid_and_marks_refused_cells(matrix):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = matrix_grid(matrix, "no_leader_partition_s")
    ax = plot_durability_matrix(matrix, "no_leader_partition_s")
    try:
        (image,) = ax.get_images()
        shown = image.get_array()
        for r in range(grid.shape[0]):
            for c in range(grid.shape[1]):
                value = grid.iat[r, c]
                assert bool(shown.mask[r, c]) == math.isnan(value)
                if not math.isnan(value):
                    assert shown[r, c] == value
        texts = [t.get_text() for t in ax.texts]
        assert texts.count("refused") == int(grid.isna().to_numpy().sum()) == 2
        assert [t.get_text() for t in ax.get_yticklabels()] == list(grid.index)
        assert ax.get_title() == "partition-seconds without a leader"
    finally:
        plt.close(ax.figure)
    ax = plot_durability_matrix(matrix, "produce_msgs_per_s", title="throughput")
    try:
        assert ax.get_title() == "throughput"
    finally:
        plt.close(ax.figure)
